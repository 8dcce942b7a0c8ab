"""``cxops diagnose`` rendered: plain sentences, Rich tables and a JSON-ready dict.

Takes a :class:`cxops.service.diagnose.Diagnosis` (read by attribute; renderers import no use case).
Every text is a ``diagnose.*`` message of the catalogs (English and Chinese).

The headline of a dimension names the fewest top-ranked groups that together cause at least
:data:`HEADLINE_SHARE` of the defects (at most :data:`HEADLINE_MAX` of them), their cumulative share, and the
rate the seller would have without all of them — the Pareto's ``cum_share`` and
``value_without_top`` at that rank: "3 SKUs (A, B, C) cause 70% of the late shipments; without them
the rate would be 0.9% (now 4.1%)".
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from rich.table import Table

from cxops.report.format import (
    criterion_name,
    criterion_threshold,
    format_count,
    format_percent,
    is_null,
)
from cxops.report.i18n import Translator, get_translator

#: A headline names the fewest top groups causing at least this share of the defects (a fraction) ...
HEADLINE_SHARE = 0.5
#: ... but never more than this many groups (then "the top 5 cause X %", with how many there are).
HEADLINE_MAX = 5
#: Decimals of a rate (``0.92%``) and of a share (``70%``) in sentences and tables.
RATE_DECIMALS, SHARE_DECIMALS = 2, 0


def _tr(lang: str | Translator) -> Translator:
    return lang if isinstance(lang, Translator) else get_translator(lang)


def group_label(dimension: str, group: Any, tr: Translator) -> str:
    """A group's display name: the weekday in the language, ``(no carrier: not shipped)`` for none."""
    if is_null(group):
        return tr(f"diagnose.none.{dimension}")
    if dimension == "weekday":
        return tr.maybe(f"diagnose.weekday.{group}") or str(group)
    if dimension == "channel":
        return tr.channel(group)
    return str(group)


def _rate(v: Any, tr: Translator) -> str:
    return format_percent(v, RATE_DECIMALS, lang=tr)


def headline(
    finding,
    dimension: str,
    *,
    lang: str | Translator = "en",
    headline_share: float = HEADLINE_SHARE,
    headline_max: int = HEADLINE_MAX,
) -> str | None:
    """The sentence of one dimension of a finding (see the module docstring); ``None`` without defects
    or when every record is in one group (nothing to compare)."""
    tr = _tr(lang)
    g = finding.dimension(dimension)
    if finding.defects == 0 or finding.group_counts.get(dimension, 0) < 2:
        return None  # nothing to compare: no defects, or every record in one group
    top = g[g["rank"] <= headline_max].sort_values("rank")
    reached = top[top["cum_share"] >= headline_share - 1e-12]
    row = reached.iloc[0] if len(reached) else top.iloc[-1]
    k = int(row["rank"])
    names = tr.join(group_label(dimension, x, tr) for x in top[top["rank"] <= k]["group"])
    unit = tr(f"diagnose.unit.{finding.target.metric}")
    share = format_percent(row["cum_share"], SHARE_DECIMALS, lang=tr)
    cause = tr.plural(f"diagnose.cause.{dimension}", k, names=names, share=share, unit=unit)
    without = row["value_without_top"]
    if is_null(without):
        rest = tr.plural("diagnose.without_none", k)
    elif without == finding.value or (without > finding.value) != finding.higher_is_better:
        # no better without them: they hold as large a part of the volume as of the defects
        volume = format_percent(row["cum_records"] / finding.records, SHARE_DECIMALS, lang=tr)
        rest = tr.plural(
            "diagnose.proportional",
            k,
            volume=volume,
            records=tr(f"diagnose.records.{finding.target.metric}"),
            rate=_rate(without, tr),
            now=_rate(finding.value, tr),
        )
    else:
        rest = tr.plural("diagnose.without", k, rate=_rate(without, tr), now=_rate(finding.value, tr))
    groups = finding.group_counts.get(dimension, 0)
    if k < groups and row["cum_share"] < headline_share:  # spread out: say how many groups there are
        cause = tr("diagnose.spread", cause=cause, groups=format_count(groups, lang=tr))
    text = tr("diagnose.headline", cause=cause, rest=rest)
    return text[0].upper() + text[1:]


def finding_title(finding, *, lang: str | Translator = "en") -> str:
    """``Late shipment rate (30 days, seller-fulfilled): 50.00% (5 late shipments of 10) — near its bar``."""
    tr = _tr(lang)
    t = finding.target
    row = {"metric": t.metric, "window_days": t.window_days, "channel": t.channel}
    return tr(
        "diagnose.finding",
        name=criterion_name(row, lang=tr),
        value=_rate(finding.value, tr),
        defects=format_count(finding.defects, lang=tr),
        records=format_count(finding.records, lang=tr),
        unit=tr(f"diagnose.unit.{t.metric}"),
        status=tr(f"diagnose.status.{finding.status}"),
    )


def bar_lines(finding, *, lang: str | Translator = "en") -> list[str]:
    """One line per criterion of the policy on the window: section, bar and result."""
    tr = _tr(lang)
    t = finding.target
    out = []
    for c in finding.criteria:
        row = {**c, "metric": t.metric}
        out.append(
            tr(
                "diagnose.bar",
                section=tr.section(c["section"]),
                threshold=criterion_threshold(row, lang=tr),
                result=tr.result(c["result"]),
            )
        )
    return out


def sentences(
    diagnosis, *, lang: str | Translator = "en", headline_share=HEADLINE_SHARE, headline_max=HEADLINE_MAX
) -> list[str]:
    """The plain-language summary: per finding its title, bars and one headline per dimension."""
    tr = _tr(lang)
    lines = [
        tr(
            "diagnose.title",
            seller=diagnosis.seller_id,
            date=tr.day(diagnosis.as_of),
            policy=diagnosis.policy,
        )
    ]
    if not diagnosis.findings:
        lines.append(
            tr("diagnose.nothing", date=tr.day(diagnosis.as_of), near=format_percent(diagnosis.near, 0))
        )
        return lines
    for f in diagnosis.findings:
        lines.append("")
        lines.append(finding_title(f, lang=tr))
        lines.extend("  " + b for b in bar_lines(f, lang=tr))
        if f.defects == 0:
            lines.append("  " + tr("diagnose.no_defects", unit=tr(f"diagnose.unit.{f.target.metric}")))
            continue
        for d in f.dimensions:
            h = headline(f, d, lang=tr, headline_share=headline_share, headline_max=headline_max)
            if h:
                lines.append(
                    "  " + tr("diagnose.dimension_line", dimension=tr(f"diagnose.dimension.{d}"), text=h)
                )
    lines.append("")
    lines.append(tr("diagnose.near_rule", near=format_percent(diagnosis.near, 0, lang=tr)))
    for key in diagnosis.unavailable:
        lines.append(tr(f"diagnose.unavailable.{key}"))
    return lines


def page_rows(finding, dimension: str, offset: int, limit: int | None) -> pd.DataFrame:
    """The rows of the page (ranks ``offset + 1 .. offset + limit``) of one dimension."""
    g = finding.dimension(dimension)
    g = g[g["rank"] > offset]
    if limit is not None:
        g = g[g["rank"] <= offset + limit]
    return g


def pareto_tables(diagnosis, *, lang: str | Translator = "en") -> list[tuple[str, Table, str | None]]:
    """``(title, table, more)`` per finding and dimension: the page of groups as a Rich table, and
    where more groups exist, how to see them."""
    tr = _tr(lang)
    out = []
    cols = ("rank", "group", "defects", "records", "share", "cum_share", "without", "without_top")
    for f in diagnosis.findings:
        for d in f.dimensions:
            rows = page_rows(f, d, diagnosis.offset, diagnosis.limit)
            table = Table(title=f"{finding_title(f, lang=tr)} — {tr(f'diagnose.dimension.{d}')}")
            for c in cols:
                table.add_column(tr(f"diagnose.col.{c}"), justify="left" if c == "group" else "right")
            for r in rows.to_dict("records"):
                table.add_row(
                    str(r["rank"]),
                    group_label(d, r["group"], tr),
                    format_count(r["defects"], lang=tr),
                    format_count(r["records"], lang=tr),
                    format_percent(r["share"], SHARE_DECIMALS, lang=tr),
                    format_percent(r["cum_share"], SHARE_DECIMALS, lang=tr),
                    _rate(r["value_without"], tr),
                    _rate(r["value_without_top"], tr),
                )
            groups = f.group_counts.get(d, 0)
            more = None
            last = int(rows["rank"].max()) if len(rows) else diagnosis.offset
            if last < groups:
                more = tr("diagnose.more", first=diagnosis.offset + 1, last=last, groups=groups, next=last)
            out.append((tr(f"diagnose.dimension.{d}"), table, more))
    return out


def _plain(v: Any) -> Any:
    if is_null(v):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def diagnosis_dict(
    diagnosis, *, lang: str | Translator = "en", headline_share=HEADLINE_SHARE, headline_max=HEADLINE_MAX
) -> dict:
    """JSON-ready: the findings with their criteria, counts, sentences and the page of groups per
    dimension (rates and shares are fractions; ``value_without``: the metric without the group)."""
    tr = _tr(lang)
    findings = []
    for f in diagnosis.findings:
        t = f.target
        dims = {}
        for d in f.dimensions:
            rows = page_rows(f, d, diagnosis.offset, diagnosis.limit)
            dims[d] = {
                "groups": f.group_counts.get(d, 0),
                "headline": headline(f, d, lang=tr, headline_share=headline_share, headline_max=headline_max),
                "items": [
                    {k: _plain(v) for k, v in r.items() if k not in ("dimension", "groups")}
                    | {"label": group_label(d, r["group"], tr)}
                    for r in rows.to_dict("records")
                ],
            }
        findings.append(
            {
                "marketplace_id": t.marketplace_id,
                "metric": t.metric,
                "window_days": t.window_days,
                "channel": t.channel,
                "window_start": t.first_day.isoformat(),
                "window_end": t.as_of.isoformat(),
                "status": f.status,
                "title": finding_title(f, lang=tr),
                "criteria": [{k: _plain(v) for k, v in c.items()} for c in f.criteria],
                "value": f.value,
                "numerator": f.numerator,
                "denominator": f.denominator,
                "defects": f.defects,
                "records": f.records,
                "higher_is_better": f.higher_is_better,
                "dimensions": dims,
            }
        )
    return {
        "seller_id": diagnosis.seller_id,
        "as_of": diagnosis.as_of.isoformat(),
        "policy": diagnosis.policy,
        "near": diagnosis.near,
        "offset": diagnosis.offset,
        "limit": diagnosis.limit,
        "judged": [{k: _plain(v) for k, v in j.items()} for j in diagnosis.judged],
        "findings": findings,
        "unavailable": dict(diagnosis.unavailable),
        "summary": sentences(diagnosis, lang=tr, headline_share=headline_share, headline_max=headline_max),
    }
