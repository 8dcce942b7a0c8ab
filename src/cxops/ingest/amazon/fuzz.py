"""Fuzz targets for the Amazon readers (used by the hypothesis tests and by an atheris harness).

The property: for any bytes, reading a report ends in exactly one of

* a successful import whose accounting holds (rows read = loaded + quarantined for every entry;
  every non-blank data line of a flat file is read; the warehouse holds exactly the rows inserted), or
* an :class:`~cxops.ingest.files.IngestError` (a ``ValueError``) naming the file, with nothing written.

Any other exception is a bug. Run the coverage-guided harness (needs ``pip install atheris``; CI runs the
hypothesis tests in ``tests/test_amazon_fuzz.py`` instead)::

    python -m cxops.ingest.amazon.fuzz -atheris_runs=20000        # parse phase of every reader
    python -m cxops.ingest.amazon.fuzz --write -atheris_runs=500  # full imports into DuckDB
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from cxops.canonical.marketplaces import BUILTIN_MARKETPLACES
from cxops.ingest.amazon import detect
from cxops.ingest.amazon.common import Context
from cxops.ingest.amazon.importer import import_amazon, read_all
from cxops.ingest.amazon.outcome import AmazonImportReport
from cxops.ingest.amazon.tsv import is_blank, split_lines
from cxops.warehouse import connect

_AO = "\t".join(
    "amazon-order-id purchase-date last-updated-date order-status fulfillment-channel sales-channel sku "
    "quantity item-price".split()
)
_RANGE = {"reportingDateFrom": "2024-05-01T00:00Z", "reportingDateTo": "2024-05-30T23:59Z"}

#: name -> (file suffix, report type, bytes): small valid documents of every reader.
SEEDS: dict[str, tuple[str, str | None, bytes]] = {
    "all_orders": (
        ".txt",
        detect.ALL_ORDERS,
        (
            _AO + "\n"
            "111-1\t2024-05-01T10:00:00+00:00\t2024-05-02T10:00:00+00:00\tShipped\tMerchant\tAmazon.com\tA\t1\t9.99\n"
            '111-2\t2024-05-01 10:00:00\t\tCancelled\tAmazon\tAmazon.com\tB "x\t0\t\n'
            "111-2\t2024-05-01 10:00:00\t\tCancelled\tAmazon\tAmazon.com\tC\t2\t4,50\n"
        ).encode(),
    ),
    "orders_api": (
        ".json",
        detect.ORDERS_API,
        json.dumps(
            {
                "payload": {
                    "Orders": [
                        {
                            "AmazonOrderId": "111-1",
                            "PurchaseDate": "2024-05-01T10:00:00Z",
                            "LastUpdateDate": "2024-05-02T10:00:00Z",
                            "OrderStatus": "Canceled",
                            "FulfillmentChannel": "MFN",
                            "MarketplaceId": "ATVPDKIKX0DER",
                            "LatestShipDate": "2024-05-03T06:59:59Z",
                            "LatestDeliveryDate": "2024-05-08T06:59:59Z",
                            "NumberOfItemsShipped": 1,
                            "OrderTotal": {"CurrencyCode": "USD", "Amount": "9.99"},
                            "IsBusinessOrder": False,
                        }
                    ]
                }
            }
        ).encode(),
    ),
    "fba_shipments": (
        ".txt",
        detect.FBA_SHIPMENTS,
        b"amazon-order-id\tshipment-id\tshipment-date\tcarrier\ttracking-number\tquantity-shipped\n"
        b"111-1\tS1\t2024-05-02T10:00:00+00:00\tUPS\t1Z\t1\n111-1\tS1\t2024-05-02T10:00:00+00:00\tUPS\t1Z\t2\n",
    ),
    "returns": (
        ".txt",
        detect.RETURNS,
        b"Order ID\tReturn request date\tAmazon RMA ID\tReturn Reason\tLabel to be paid by\n"
        b"111-1\t2024-05-10\tR1\tDEFECTIVE\tSeller\n111-1\t15-May-2024\tR2\tUNWANTED\tCustomer\n",
    ),
    "feedback": (
        ".txt",
        detect.FEEDBACK,
        "Datum\tBewertung\tKommentar\tIhre Antwort\tTransaktionsnummer\tE-Mail des Bewertenden\n"
        "05.04.24\t2\t„Super“ M?nchen\t\t028-1\tb@example.invalid\n".encode("cp1252"),
    ),
    "account_health": (
        ".json",
        detect.ACCOUNT_HEALTH,
        json.dumps(
            {
                "accountStatuses": [{"marketplaceId": "ATVPDKIKX0DER", "status": "NORMAL"}],
                "performanceMetrics": [
                    {
                        "marketplaceId": "ATVPDKIKX0DER",
                        "orderDefectRate": {
                            "mfn": {
                                "reportingDateRange": _RANGE,
                                "orderCount": 100,
                                "orderWithDefects": {"count": 1},
                                "negativeFeedback": {"count": 1},
                                "rate": 0.01,
                            }
                        },
                        "lateShipmentRateList": [
                            {"reportingDateRange": _RANGE, "orderCount": 10, "defectsCount": 1}
                        ],
                        "accountHealthRating": {
                            "ahrStatus": "GREAT",
                            "ahrScore": 250,
                            "reportingDateRange": _RANGE,
                        },
                        "warningStates": {"x": {"status": "GOOD"}},
                        "listingPolicyViolations": {"reportingDateRange": _RANGE, "defectsCount": 0},
                    }
                ],
            }
        ).encode(),
    ),
    "cancelled": (".json", None, b'{"processingStatus": "CANCELLED"}'),
}

#: Byte strings that tend to break parsers of these formats.
TOKENS = [
    b'"',
    b"\t",
    b"\n",
    b"\r",
    b"\r\n",
    b"\xef\xbb\xbf",
    b"\x00",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"?",
    b"\x84",
    b"\x87\x40",
    b"\xff\xfe",
    b"9999-99-99",
    b"-1",
    b"1e309",
    b"NaN",
    b"null",
    b"true",
    b"{}",
    b"[]",
    b"2024-02-30T25:61:00+99:00",
    b"13/13/13",
    b"Non-Amazon",
    b"Cancelled",
    b"\xe3\x81",
    b'""',
    b"\\u0000",
]
MARKETPLACES = ("US", "DE", "JP", "UK")
_ZONES = {mp: v[0] for mp, v in BUILTIN_MARKETPLACES.items()}
CHARSETS = (None, None, None, "Shift_JIS", "Cp1252", "UTF-8")


def mutate(data: bytes, edits: list[tuple[int, int, int, bytes]]) -> bytes:
    """Apply ``(op, position, length, payload)`` edits: 0 flip, 1 insert, 2 delete, 3 truncate,
    4 duplicate a span, 5 insert a :data:`TOKENS` entry."""
    b = bytearray(data)
    for op, pos, n, payload in edits:
        p = pos % (len(b) + 1)
        if op == 0 and b:
            b[p % len(b)] ^= (n % 255) + 1
        elif op == 1:
            b[p:p] = payload
        elif op == 2:
            del b[p : p + n % 64]
        elif op == 3:
            del b[p:]
        elif op == 4:
            b[p:p] = b[p : p + n % 256]
        else:
            b[p:p] = TOKENS[n % len(TOKENS)]
    return bytes(b)


def _data_lines(data: bytes, charset: str | None, marketplace: str) -> int | None:
    """Non-blank lines after the header, minus repeated headers (independent of the splitter)."""
    from cxops.ingest.amazon.decode import decode_bytes

    lines = [s for s in split_lines(decode_bytes(data, "x", charset, marketplace).text) if not is_blank(s)]
    return sum(1 for s in lines[1:] if s != lines[0]) if lines else None


def _check_error(e: ValueError, path: Path) -> str:
    if str(path) not in str(e):
        raise AssertionError(f"error without the file name: {e!r}")
    return "error"


def check(
    data: bytes,
    suffix: str = ".txt",
    marketplace: str = "US",
    report_type: str | None = None,
    charset: str | None = None,
    write: bool = False,
) -> str:
    """Import ``data`` as one file; ``"ok"``, ``"no_data"`` or ``"error"`` — else raise.

    Parameters
    ----------
    write : bool
        Full import into an in-memory DuckDB warehouse (slower); otherwise the read/map/validate phase.

    Raises
    ------
    AssertionError
        When an invariant fails or an error does not name the file.
    Exception
        Anything other than a ``ValueError`` escaping the importer (a bug).
    """
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"report{suffix}"
        path.write_bytes(data)
        report = AmazonImportReport(source="amazon")
        if not write:
            ctx = Context("S1", marketplace, _ZONES, charset)
            try:
                mapped = read_all([path], ctx, report, report_type)
            except ValueError as e:
                return _check_error(e, path)
            for m in mapped:
                assert m.rows_read == m.rows_loaded + len(m.quarantined), m.table
            _check_lines(data, charset, marketplace, report, [(m.table, m.rows_read) for m in mapped])
            return "no_data" if report.no_data_files else "ok"
        wh = connect("memory")
        try:
            rep = import_amazon(wh, "S1", marketplace, [path], report_type=report_type, charset=charset)
        except ValueError as e:
            assert not wh.tables_present(), "a failed import wrote tables"
            return _check_error(e, path)
        for e in rep.entries:
            assert e.rows_read == e.rows_loaded + e.rows_quarantined
        for t in {e.table for e in rep.entries}:
            stored = int(wh.execute(wh.table(t).count()))
            assert stored == sum(e.inserted for e in rep.entries if e.table == t), t
        _check_lines(data, charset, marketplace, rep, [(e.table, e.rows_read) for e in rep.entries])
        wh.close()
        return "no_data" if rep.no_data_files else "ok"


PRIMARY = {
    detect.ALL_ORDERS: "orders",
    detect.FBA_SHIPMENTS: "shipments",
    detect.RETURNS: "returns",
    detect.FEEDBACK: "feedback",
}


def _check_lines(data, charset, marketplace, report, reads) -> None:
    """Every data line of a flat file is read by its primary table (nothing silently dropped)."""
    loaded = [f for f in report.files if f.status == "loaded"]
    if len(loaded) != 1 or loaded[0].report_type not in PRIMARY:
        return
    table = PRIMARY[loaded[0].report_type]
    n = _data_lines(data, charset, marketplace)
    got = sum(r for t, r in reads if t == table)
    assert n == got, f"{table}: {got} rows read, {n} data lines in the file"


def _atheris_main(argv: list[str]) -> None:  # pragma: no cover - needs atheris
    try:
        import atheris
    except ImportError:
        sys.exit("atheris is not installed (pip install atheris); CI uses tests/test_amazon_fuzz.py")
    import importlib

    # Re-import the readers with coverage instrumentation (only this package: instrumenting pandas
    # too takes many minutes).
    for name in [m for m in sys.modules if m.startswith("cxops.ingest.amazon")]:
        del sys.modules[name]
    with atheris.instrument_imports(include=["cxops.ingest.amazon"]):
        fz = importlib.import_module("cxops.ingest.amazon.fuzz")
    write = "--write" in argv
    argv = [a for a in argv if a != "--write"]
    names = sorted(fz.SEEDS)

    def one(buf: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(buf)
        suffix, rtype, seed = fz.SEEDS[names[fdp.ConsumeIntInRange(0, len(names) - 1)]]
        mp = MARKETPLACES[fdp.ConsumeIntInRange(0, len(MARKETPLACES) - 1)]
        cs = CHARSETS[fdp.ConsumeIntInRange(0, len(CHARSETS) - 1)]
        forced = rtype if fdp.ConsumeBool() else None
        if fdp.ConsumeBool():
            data = fdp.ConsumeBytes(fdp.remaining_bytes())
        else:
            edits = [
                (
                    fdp.ConsumeIntInRange(0, 5),
                    fdp.ConsumeIntInRange(0, 4096),
                    fdp.ConsumeIntInRange(0, 255),
                    fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 8)),
                )
                for _ in range(fdp.ConsumeIntInRange(0, 6))
            ]
            data = fz.mutate(seed, edits)
        fz.check(data, suffix, mp, forced, cs, write=write)

    atheris.Setup(argv, one)
    atheris.Fuzz()


if __name__ == "__main__":  # pragma: no cover
    _atheris_main(sys.argv)
