"""A straightforward pandas implementation of the metric catalog as of one day (Parquet → metrics).

Same semantics as ``cxops.metrics`` with default options; output like :mod:`handsql`.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

K = ["seller_id", "order_id"]
G = ["seller_id", "marketplace_id", "channel"]


def _read(d, t, cols=None):
    return pd.read_parquet(f"{d}/{t}.parquet", columns=cols)


def _local_day(ts: pd.Series, mp: pd.Series, zones: dict) -> pd.Series:
    out = pd.Series(pd.NaT, index=ts.index, dtype="datetime64[us]")
    for m, tz in zones.items():
        mask = (mp == m).to_numpy()
        if mask.any():
            loc = ts[mask].dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()
            out[mask] = loc.astype("datetime64[us]")
    return out


def compute(d: str, as_of: date) -> pd.DataFrame:
    D = pd.Timestamp(as_of)
    zones = dict(_read(d, "marketplaces")[["marketplace_id", "timezone"]].itertuples(index=False))

    def inwin(day, w):
        return (day >= D - pd.Timedelta(days=w - 1)) & (day <= D)

    o = _read(
        d,
        "orders",
        [
            "seller_id",
            "order_id",
            "marketplace_id",
            "fulfillment_channel",
            "purchased_at",
            "latest_ship_at",
            "latest_delivery_at",
            "units",
        ],
    )
    o["channel"] = o.pop("fulfillment_channel").str.lower()
    o["day"] = _local_day(o["purchased_at"], o["marketplace_id"], zones)
    s = _read(d, "sellers", ["seller_id", "marketplace_id", "registered_at"])
    s["reg_day"] = _local_day(s["registered_at"], s["marketplace_id"], zones)
    first = (
        o.groupby(["seller_id", "marketplace_id"], as_index=False)["day"]
        .min()
        .rename(columns={"day": "first_day"})
    )
    u = s[["seller_id", "marketplace_id", "reg_day"]].merge(
        first, how="outer", on=["seller_id", "marketplace_id"]
    )
    u["start_day"] = u[["reg_day", "first_day"]].min(axis=1)
    base = u[u["start_day"] <= D][["seller_id", "marketplace_id", "start_day"]]
    g1 = base[["seller_id", "marketplace_id"]].assign(channel="all")
    g3 = pd.concat([g1, g1.assign(channel="mfn"), g1.assign(channel="afn")], ignore_index=True)
    gm = g1.assign(channel="mfn")
    rows = []

    def emit(grid, facts, metric, w, num, den=None):
        j = grid.merge(facts, on=G, how="left") if facts is not None and len(facts) else grid.copy()
        n = j[num].fillna(0).astype(float) if num in j else pd.Series(0.0, index=j.index)
        r = j[["seller_id", "marketplace_id", "channel"]].copy()
        r["metric"], r["window_days"], r["numerator"] = metric, w, n.to_numpy()
        if den is None:
            r["denominator"] = np.nan
            r["value"] = r["numerator"]
        else:
            dd = j[den].fillna(0).astype(float) if den in j else pd.Series(0.0, index=j.index)
            r["denominator"] = dd.to_numpy()
            r["value"] = np.where(
                r["denominator"] > 0, r["numerator"] / r["denominator"].where(r["denominator"] > 0), np.nan
            )
        rows.append(r)

    def by_channel(df, aggs):
        per = df.groupby(G, as_index=False).agg(**aggs)
        tot = per.drop(columns="channel").groupby(["seller_id", "marketplace_id"], as_index=False).sum()
        return pd.concat([per, tot.assign(channel="all")], ignore_index=True)

    # order defects
    fb = _read(d, "feedback", ["seller_id", "order_id", "rating", "submitted_at", "removed_at", "is_shared"])
    cl = _read(d, "claims", ["seller_id", "order_id", "kind", "decision", "is_fraud"])
    counts = cl["decision"].isna() | ~cl["decision"].isin(["denied", "withdrawn", "reversed"])
    neg = fb[(fb.rating <= 2) & fb.removed_at.isna() & ~fb.is_shared.fillna(False)][K].drop_duplicates()
    az = cl[(cl.kind == "a_to_z") & counts][K].drop_duplicates()
    cb = cl[(cl.kind == "chargeback") & counts & ~cl.is_fraud.fillna(False)][K].drop_duplicates()
    ow = o[inwin(o.day, 60)][["seller_id", "order_id", "marketplace_id", "channel"]]
    for name, t in (("f_neg", neg), ("f_az", az), ("f_cb", cb)):
        ow = ow.merge(t.assign(**{name: 1}), on=K, how="left")
        ow[name] = ow[name].fillna(0)
    ow["f_def"] = ow[["f_neg", "f_az", "f_cb"]].max(axis=1)
    odr = by_channel(
        ow,
        dict(
            n=("order_id", "size"),
            d=("f_def", "sum"),
            neg=("f_neg", "sum"),
            az=("f_az", "sum"),
            cb=("f_cb", "sum"),
        ),
    )
    emit(g3, odr, "order_defect_rate", 60, "d", "n")
    emit(g3, odr, "negative_feedback_rate", 60, "neg", "n")
    emit(g3, odr, "a_to_z_claim_rate", 60, "az", "n")
    emit(g3, odr, "chargeback_rate", 60, "cb", "n")

    # shipments summary, cancellations
    sh = _read(
        d,
        "shipments",
        [
            "seller_id",
            "order_id",
            "confirmed_at",
            "carrier",
            "tracking_id",
            "first_scan_at",
            "delivered_at",
            "units",
        ],
    )
    sh["uu"] = (sh.confirmed_at.isna() & sh.delivered_at.isna()).astype(int)
    sh["ud"] = (sh.confirmed_at.isna() & sh.delivered_at.notna()).astype(int)
    ss = sh.groupby(K, as_index=False).agg(
        n_s=("order_id", "size"),
        n_uu=("uu", "sum"),
        n_ud=("ud", "sum"),
        first_conf=("confirmed_at", "min"),
        last_conf=("confirmed_at", "max"),
        conf_units=("units", "sum"),
    )
    ca = _read(
        d, "cancellations", ["seller_id", "order_id", "cancelled_at", "initiated_by", "via_buyer_request"]
    )
    om = o[o.channel == "mfn"].merge(ss, on=K, how="left").merge(ca, on=K, how="left")
    om["cbs"] = om.cancelled_at.notna() & (om.first_conf.isna() | (om.cancelled_at < om.first_conf))
    ls = om[om.latest_ship_at.notna()].copy()
    ls["day"] = _local_day(ls.latest_ship_at, ls.marketplace_id, zones)
    ls = ls[inwin(ls.day, 30)]
    clate = (ls.last_conf > ls.latest_ship_at).fillna(False)
    short = (ls.units.notna() & ls.conf_units.notna() & (ls.conf_units < ls.units)).fillna(False)
    unshipped = ls.n_s.isna() | (ls.n_uu.fillna(0) > 0) | short
    unknown = ~clate & ~unshipped & (ls.n_ud.fillna(0) > 0)
    ls["f_late"] = (clate | (unshipped & ~ls.cbs)).astype(int)
    ls = ls[~unknown & ~ls.cbs]
    for w in (10, 30):
        x = (
            ls[inwin(ls.day, w)]
            .groupby(G, as_index=False)
            .agg(n=("order_id", "size"), late=("f_late", "sum"))
        )
        emit(gm, x, "late_shipment_rate", w, "late", "n")
    pf = om[inwin(om.day, 7)].copy()
    pf["c"] = (
        pf.cbs
        & pf.initiated_by.isin(["seller", "system"])
        & ~pf.via_buyer_request.fillna(False).astype(bool)  # object after the left merge: ~ would be -1/-2
    ).astype(int)
    emit(
        gm,
        pf.groupby(G, as_index=False).agg(n=("order_id", "size"), c=("c", "sum")),
        "pre_fulfillment_cancel_rate",
        7,
        "c",
        "n",
    )

    # tracking and deliveries
    shp = sh.merge(o[K + ["marketplace_id", "channel", "latest_delivery_at"]], on=K)
    vt = shp[(shp.channel == "mfn") & shp.confirmed_at.notna()].copy()
    vt["day"] = _local_day(vt.confirmed_at, vt.marketplace_id, zones)
    vt = vt[inwin(vt.day, 30)]
    vt["v"] = (
        vt.tracking_id.notna()
        & (vt.tracking_id.fillna("").str.strip() != "")
        & vt.carrier.notna()
        & vt.first_scan_at.notna()
    ).astype(int)
    emit(
        gm,
        vt.groupby(G, as_index=False).agg(n=("order_id", "size"), v=("v", "sum")),
        "valid_tracking_rate",
        30,
        "v",
        "n",
    )
    dv = shp[shp.latest_delivery_at.notna()].copy()
    dv["day"] = _local_day(dv.latest_delivery_at, dv.marketplace_id, zones)
    dv = dv[inwin(dv.day, 30)]
    dday = _local_day(dv.delivered_at, dv.marketplace_id, zones)
    dv["f_d"] = dv.delivered_at.notna().astype(int)
    dv["f_ot"] = (dv.delivered_at.notna() & (dday <= dv.day)).astype(int)
    dv["f_od"] = (dv.delivered_at.isna() & dv.confirmed_at.notna()).astype(int)
    for w in (14, 30):
        x = by_channel(dv[inwin(dv.day, w)], dict(d=("f_d", "sum"), t=("f_ot", "sum"), od=("f_od", "sum")))
        emit(g3, x, "on_time_delivery_rate", w, "t", "d")
        emit(g3, x, "on_time_delivery_overdue", w, "od")

    # satisfaction
    f = fb[fb.removed_at.isna() & ~fb.is_shared.fillna(False)].merge(o[K + ["marketplace_id"]], on=K)
    f["day"] = _local_day(f.submitted_at, f.marketplace_id, zones)
    f = f[inwin(f.day, 90)].assign(channel="all", pts=lambda x: (x.rating - 1) * 25.0)
    emit(
        g1,
        f.groupby(G, as_index=False).agg(n=("order_id", "size"), pts=("pts", "sum")),
        "customer_satisfaction_index",
        90,
        "pts",
        "n",
    )

    # order counts
    for w in (30, 90):
        emit(g3, by_channel(o[inwin(o.day, w)], dict(n=("order_id", "size"))), "order_count", w, "n")

    # violations
    v = _read(d, "violations")
    v["day"] = _local_day(v.reported_at, v.marketplace_id, zones)
    v["channel"] = "all"
    v["w"] = v.is_warning.fillna(False).astype(int)
    v["ip"] = (v.kind == "ip_complaint").astype(int)
    v["mj"] = ((v.kind == "ip_complaint") | v.severity.isin(["high", "critical"])).astype(int)
    emit(g1, v[inwin(v.day, 180)].groupby(G, as_index=False)["w"].sum(), "account_health_warnings", 180, "w")
    emit(g1, v[inwin(v.day, 90)].groupby(G, as_index=False)["ip"].sum(), "ip_complaints", 90, "ip")
    emit(g1, v[inwin(v.day, 180)].groupby(G, as_index=False)["ip"].sum(), "ip_complaints", 180, "ip")
    emit(g1, v[inwin(v.day, 90)].groupby(G, as_index=False)["mj"].sum(), "major_violations", 90, "mj")

    # buyer messages
    m = _read(
        d,
        "buyer_messages",
        ["seller_id", "order_id", "marketplace_id", "received_at", "first_response_at", "no_response_needed"],
    )
    m = m[~m.no_response_needed.fillna(False)]
    m = m.merge(o[K + ["marketplace_id"]].rename(columns={"marketplace_id": "omp"}), on=K, how="left")
    smp = s.groupby("seller_id")["marketplace_id"].min().rename("smp")
    m = m.merge(smp, left_on="seller_id", right_index=True, how="left")
    m["marketplace_id"] = m.marketplace_id.fillna(m.omp).fillna(m.smp)
    secs = (m.first_response_at - m.received_at).dt.total_seconds()
    m["on_time"] = m.first_response_at.notna() & (secs <= 86400)
    m["hours"] = secs / 3600.0
    m["day"] = _local_day(m.received_at, m.marketplace_id, zones)
    resolved = m.first_response_at.where(m.on_time, m.received_at + pd.Timedelta(hours=24))
    m["rday"] = _local_day(resolved, m.marketplace_id, zones)
    m["fday"] = _local_day(m.first_response_at, m.marketplace_id, zones)
    m = m[inwin(m.day, 90) & (m.rday <= D)].assign(channel="all")
    m["late"] = (~m.on_time).astype(int)
    m["replied"] = (m.fday <= D).fillna(False)
    m["rh"] = m.hours.where(m.replied)
    x = m.groupby(G, as_index=False).agg(
        n=("late", "size"), late=("late", "sum"), replied=("replied", "sum"), med=("rh", "median")
    )
    emit(g1, x, "late_response_rate", 90, "late", "n")
    j = g1.merge(x, on=G, how="left")
    r = j[G].copy()
    r["metric"], r["window_days"], r["numerator"] = "median_first_response_hours", 90, np.nan
    r["denominator"] = j.replied.fillna(0).astype(float).to_numpy()
    r["value"] = j.med.where(r["denominator"] > 0).to_numpy()
    rows.append(r)
    t = base[["seller_id", "marketplace_id"]].assign(
        channel="all", metric="tenure_days", window_days=np.nan, numerator=np.nan, denominator=np.nan
    )
    t["value"] = (D - base.start_day).dt.days.astype(float).to_numpy()
    rows.append(t)
    return pd.concat(rows, ignore_index=True)
