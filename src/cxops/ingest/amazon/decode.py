"""Bytes of a downloaded Amazon report → text, with the charset rules of the field cases.

Rules, in order (cases C4, C5, C6 of ``field-cases.md``; the WHATWG Encoding Standard for the
byte-order-mark precedence and the ``iso-8859-1`` → ``windows-1252`` label mapping):

1. A gzip stream (``1f 8b``; report documents with ``compressionAlgorithm: GZIP``) is decompressed.
2. A byte-order mark wins over any declared charset: UTF-8 (``EF BB BF``, stripped: C6) or UTF-16.
3. A declared charset (the ``Content-Type`` of the report document; ``--charset``) is used strictly:
   ``Shift_JIS`` (and its aliases) is decoded as **cp932**, because Python's ``shift_jis`` fails on
   NEC/IBM extensions such as ``①`` (byte ``87 40``; C5b, saleweaver/python-amazon-sp-api #552);
   ``ISO-8859-1`` / ``Latin-1`` / ``US-ASCII`` are decoded as **cp1252**, so ``84``/``93`` become
   ``„``/``“`` and never C1 control characters (C5a, jlevers/selling-partner-api #512).
   Bytes invalid in the declared charset raise :class:`IngestError` with the byte offset.
4. Otherwise strict UTF-8 (valid UTF-8 is never read as Latin-1: C4), else the marketplace's legacy
   code page: cp932 for JP (Amazon JP documents are Shift_JIS), cp1252 elsewhere.

Lossy upstream encodings (a literal ``?`` where a character was, amzn/selling-partner-api-models
#2748) cannot be repaired: :func:`lossy_mask` flags them as data-quality warnings (C5c).
"""

from __future__ import annotations

import codecs
import gzip
import zlib
from dataclasses import dataclass

import pandas as pd

from cxops.ingest.files import IngestError

#: Declared charset labels → the Python codec used (C5).
CHARSET_ALIASES: dict[str, str] = {
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "s_jis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "ms932": "cp932",
    "cp932": "cp932",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "cp1252": "cp1252",
    "windows-1252": "cp1252",
    "utf-8": "utf-8",
    "utf8": "utf-8",
}

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))

#: Legacy fallback code page when the bytes are not UTF-8 and no charset is declared.
LEGACY_BY_MARKETPLACE = {"JP": "cp932"}
DEFAULT_LEGACY = "cp1252"


def _cp1252_undefined(err: UnicodeDecodeError):
    """cp1252 leaves 81 8D 8F 90 9D undefined; WHATWG maps them to U+0081 … (never fails)."""
    bad = err.object[err.start : err.end]
    return "".join(chr(b) for b in bad), err.end


codecs.register_error("cxops_cp1252", _cp1252_undefined)


@dataclass(frozen=True)
class Decoded:
    """Decoded text of one file.

    Attributes
    ----------
    text : str
        Without the byte-order mark.
    encoding : str
        The codec used (``utf-8``, ``cp1252``, ``cp932`` …).
    how : str
        ``bom``, ``declared``, ``utf-8`` or ``fallback`` (not valid UTF-8; legacy code page used).
    prefix : int
        Bytes before the text (the BOM), to turn character offsets into byte offsets.
    gzipped : bool
    """

    text: str
    encoding: str
    how: str
    prefix: int = 0
    gzipped: bool = False

    def byte_offset(self, char_offset: int) -> int:
        """Byte offset in the (decompressed) file of character ``char_offset`` of :attr:`text`."""
        return self.prefix + len(self.text[:char_offset].encode(self.encoding, errors="replace"))


def codec_for(charset: str) -> str:
    """The Python codec for a declared charset label (case-insensitive).

    Raises
    ------
    IngestError
        For a label Python does not know.
    """
    label = charset.strip().strip('"').lower()
    if label in CHARSET_ALIASES:
        return CHARSET_ALIASES[label]
    try:
        return codecs.lookup(label).name
    except LookupError:
        raise IngestError(f"unknown charset {charset!r} (e.g. UTF-8, Cp1252, Shift_JIS)") from None


def _strict(data: bytes, codec: str, file: str, why: str, prefix: int = 0) -> str:
    try:
        if codec == "cp1252":
            return data.decode("cp1252", errors="cxops_cp1252")
        return data.decode(codec)
    except UnicodeDecodeError as e:
        raise IngestError(
            f"{file}: {why} {codec}, but byte 0x{data[e.start]:02X} at offset {prefix + e.start} is not "
            f"valid {codec}; pass the right --charset"
        ) from None


def gunzip(data: bytes, file: str) -> tuple[bytes, bool]:
    """Decompress ``data`` if it is a gzip stream.

    Raises
    ------
    IngestError
        For a corrupt gzip stream.
    """
    if not data.startswith(b"\x1f\x8b"):
        return data, False
    try:
        return gzip.decompress(data), True
    except (OSError, EOFError, zlib.error) as e:
        raise IngestError(f"{file}: corrupt gzip data: {e}") from None


def decode_bytes(
    data: bytes, file: str, charset: str | None = None, marketplace: str | None = None
) -> Decoded:
    """Decode a report's bytes to text with the module's rules.

    Parameters
    ----------
    data : bytes
        File contents (gzip allowed).
    file : str
        Name used in error messages.
    charset : str, optional
        Declared charset (``--charset``).
    marketplace : str, optional
        Our marketplace id; picks the legacy fallback code page (cp932 for JP, cp1252 otherwise).

    Returns
    -------
    Decoded

    Raises
    ------
    IngestError
        Unknown charset, bytes invalid in the declared charset, corrupt gzip data.
    """
    data, gz = gunzip(data, file)
    for bom, codec in _BOMS:
        if data.startswith(bom):
            text = _strict(data[len(bom) :], codec, file, "byte-order mark says", len(bom))
            return Decoded(text, codec, "bom", len(bom), gz)
    if charset:
        try:
            codec = codec_for(charset)
        except IngestError as e:
            raise IngestError(f"{file}: {e}") from None
        return Decoded(
            _strict(data, codec, file, f"declared charset {charset!r} is"), codec, "declared", 0, gz
        )
    try:
        return Decoded(data.decode("utf-8"), "utf-8", "utf-8", 0, gz)
    except UnicodeDecodeError:
        pass
    legacy = LEGACY_BY_MARKETPLACE.get(marketplace or "", DEFAULT_LEGACY)
    if legacy != DEFAULT_LEGACY:
        try:
            return Decoded(data.decode(legacy), legacy, "fallback", 0, gz)
        except UnicodeDecodeError:
            pass
    return Decoded(data.decode("cp1252", errors="cxops_cp1252"), "cp1252", "fallback", 0, gz)


#: A ``?`` inside a word, or a run of ``?``: a character the upstream encoder could not represent.
LOSSY_PATTERN = r"(?:(?<=\w)\?(?=\w)|\?\?)"


def lossy_mask(values: pd.Series) -> pd.Series:
    """True where a text value looks like the output of a lossy encoder (C5c).

    ``"M?nchen"``, ``"??????"``; URLs (``…?id=1``) are not flagged. The value is kept as is.
    """
    txt = values.astype("string")
    hit = txt.str.contains(LOSSY_PATTERN, regex=True) & ~txt.str.contains("://", regex=False)
    return hit.fillna(False).astype(bool)
