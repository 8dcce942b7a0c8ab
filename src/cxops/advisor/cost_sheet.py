"""The seller's cost sheet for the cost trade-offs (:mod:`cxops.advisor.costs`).

A sheet is a TOML file, or a CSV file of ``field,value`` rows with dotted field names
(``rates.mfn_logistics_per_order,6.40``). It is laid key by key over the reference program's figures,
declared once in ``reference-costs.toml`` beside this module (source: ``program.md``, "Operations
around it" and "Benefits of enrolled sellers"), and validated as a whole: every problem is reported at
once, with the file, the field (and the CSV row) and the reason.

Money amounts are in the sheet's ``currency``; rates, shares and increases are fractions (0.10 = 10 %).
"""

from __future__ import annotations

import csv
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cxops.errors import InputError

#: The reference figures (the one declaration of the defaults).
REFERENCE = "reference-costs.toml"
#: How an assumption taken from the reference figures names its source.
REFERENCE_SOURCE = "reference-costs.toml (program.md)"

_Money = Field(default=None, ge=0, allow_inf_nan=False)
_Fraction = Field(ge=0, le=1, allow_inf_nan=False)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rates(_Strict):
    """The seller's own rates (``None``: not given — the money figures that need it are not computed)."""

    mfn_logistics_per_order: float | None = _Money
    return_handling_per_return: float | None = _Money
    storage_fees_per_month: float | None = _Money
    afn_fee_per_order: float | None = _Money
    afn_storage_per_order: float | None = _Money


class CarrierIntegrated(_Strict):
    logistics_increase: float = Field(ge=0, le=10, allow_inf_nan=False)
    valid_tracking_rate: float = _Fraction
    monthly_fee: float = Field(ge=0, allow_inf_nan=False)


class FreeReturnLabels(_Strict):
    return_handling_increase: float = Field(ge=0, le=10, allow_inf_nan=False)
    satisfaction_points: float = Field(ge=-100, le=100, allow_inf_nan=False)
    monthly_fee: float = Field(ge=0, allow_inf_nan=False)


class Afn(_Strict):
    share: float = _Fraction
    on_time_delivery_rate: float = _Fraction
    monthly_fee: float = Field(ge=0, allow_inf_nan=False)


class Options(_Strict):
    carrier_integrated: CarrierIntegrated
    free_return_labels: FreeReturnLabels
    afn: Afn


class Volumes(_Strict):
    """Monthly volumes that replace the measured ones (orders of each channel, returns)."""

    orders_mfn: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    orders_afn: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    returns: float | None = Field(default=None, ge=0, allow_inf_nan=False)


class CostSheet(_Strict):
    """A validated cost sheet (the reference figures with the seller's values laid over them).

    Attributes
    ----------
    currency : str
        ISO 4217 code of every money amount.
    rates : Rates
    options : Options
        The effect and price of each option (fractions; ``monthly_fee`` in money per month).
    volumes : Volumes
        Optional overrides of the measured monthly volumes.
    benefits : dict of str to str
        Incentive id of the policy → the monthly fee its tier discounts.
    source : str
        Where the sheet came from (``reference`` or the file's path).
    """

    currency: str = Field(min_length=3, max_length=3, pattern="^[A-Z]{3}$")
    rates: Rates = Rates()
    options: Options
    volumes: Volumes = Volumes()
    benefits: dict[str, Literal["storage_fees_per_month"]] = {}
    source: str = "reference"
    fields: tuple[str, ...] = ()

    def source_of(self, field: str) -> str:
        """Where a figure comes from: the sheet's file when it gives ``field``, else the reference."""
        return self.source if field in self.fields else REFERENCE_SOURCE

    def given(self) -> list[str]:
        """The rates the sheet gives (dotted names)."""
        return [f"rates.{k}" for k, v in self.rates.model_dump().items() if v is not None]


def reference_data() -> dict[str, Any]:
    """The reference figures as a nested dict (``reference-costs.toml``)."""
    return tomllib.loads(resources.files("cxops.advisor").joinpath(REFERENCE).read_text("utf-8"))


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _dotted(data: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for k, v in data.items():
        name = f"{prefix}{k}"
        out.extend(_dotted(v, name + ".") if isinstance(v, dict) else [name])
    return out


def _number(text: str) -> Any:
    s = text.strip()
    try:
        return float(s) if s else None
    except ValueError:
        return s


def _read_csv(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """A ``field,value`` CSV as a nested dict, and the row number of each field."""
    data: dict[str, Any] = {}
    rows: dict[str, int] = {}
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        for n, row in enumerate(reader, start=1):
            if not row or all(not c.strip() for c in row) or row[0].lstrip().startswith("#"):
                continue
            if n == 1 and [c.strip().lower() for c in row[:2]] == ["field", "value"]:
                continue
            if len(row) != 2:
                raise InputError(f"{path}, row {n}: expected two columns 'field,value', got {len(row)}")
            key, value = row[0].strip(), row[1]
            if key in rows:
                raise InputError(f"{path}, row {n}: field {key!r} given twice (first on row {rows[key]})")
            rows[key] = n
            node = data
            parts = key.split(".")
            for p in parts[:-1]:
                node = node.setdefault(p, {})
                if not isinstance(node, dict):
                    raise InputError(f"{path}, row {n}: field {key!r} is inside a value")
            node[parts[-1]] = (
                value.strip() if parts[-1] == "currency" or parts[0] == "benefits" else (_number(value))
            )
    return data, rows


def load_cost_sheet(path: str | Path | None = None) -> CostSheet:
    """The reference figures, with the sheet at ``path`` laid over them (``None``: the reference alone).

    Parameters
    ----------
    path : str or Path, optional
        A ``.toml`` file, or a ``.csv`` file of ``field,value`` rows (dotted fields).

    Raises
    ------
    InputError
        The file is missing or unreadable, is not TOML or CSV, or has unknown fields or bad values:
        every problem at once, each with the file, the field (CSV: and the row) and the reason.
    """
    if path is None:
        return CostSheet.model_validate(reference_data())
    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"cost sheet {path} not found", hint="give a .toml or .csv file (examples/costs.toml)"
        )
    rows: dict[str, int] = {}
    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(path.read_text("utf-8"))
        elif path.suffix.lower() == ".csv":
            data, rows = _read_csv(path)
        else:
            raise InputError(f"cost sheet {path}: name it .toml or .csv (the format is read from the name)")
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"cost sheet {path} is not valid TOML: {e}") from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"cost sheet {path} cannot be read: {e}") from None
    return cost_sheet_from(data, str(path), rows)


def cost_sheet_from(data: dict[str, Any], source: str, rows: dict[str, int] | None = None) -> CostSheet:
    """The reference figures with ``data`` (a nested dict, as a sheet file holds) laid over them.

    Parameters
    ----------
    data : dict
        E.g. ``{"currency": "EUR", "rates": {"mfn_logistics_per_order": 5.2}}``.
    source : str
        Where ``data`` comes from (a file name, ``request``), named in errors and assumptions.
    rows : dict, optional
        The CSV row of each dotted field, for errors.

    Raises
    ------
    InputError
        Unknown fields or bad values: every problem at once, each with the source, field and reason.
    """
    rows = rows or {}
    data = {k: v for k, v in data.items() if k not in ("source", "fields")}
    given = tuple(sorted(_dotted(data)))
    try:
        return CostSheet.model_validate(_merge(reference_data(), data) | {"source": source, "fields": given})
    except ValidationError as e:
        problems = []
        for err in e.errors():
            field = ".".join(str(p) for p in err["loc"])
            where = f", row {rows[field]}" if field in rows else ""
            reason = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
            got = "" if err["type"] == "extra_forbidden" else f" (got {err.get('input')!r})"
            problems.append(f"{source}{where}: {field}: {reason}{got}")
        raise InputError(
            "bad cost sheet:\n  " + "\n  ".join(problems), hint="see examples/costs.toml for every field"
        ) from None
