"""The marketplace model as SQL: sellers, their (seller, marketplace) units, seller orders and every table.

:class:`Spec` holds the arguments; :func:`sellers_sql`, :func:`units_sql` and :func:`orders_view_sql`
build the three stages every table reads (two small tables and one view with a row per order),
and :func:`table_sql` the ``SELECT`` of each canonical table over them. The figures come from
:mod:`cxops.synth.calibration` (what each one is and where it comes from); the storylines of
:mod:`cxops.synth.stories` enter as overrides of the seller and unit stages and as quality shifts by
unit and day.

The order of events is built in, so the data pass their own contract: purchase < confirmation <
first scan < delivery; purchase <= ship-by <= deliver-by; feedback, claims, returns after the event
they are about; a reply after the message; a cancelled order has no shipment; nothing after the data
cut (the end of the last day in every marketplace, i.e. the next local midnight in the westernmost
one) — unconfirmed packages have no row yet, later scans, deliveries, replies, decisions and removals
are null, later feedback, claims, returns, messages and violations are absent.

Instants are epoch seconds (DOUBLE) until the output, which writes UTC ``TIMESTAMP`` values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from cxops.canonical.marketplaces import BUILTIN_MARKETPLACES
from cxops.synth import calendars as cal
from cxops.synth.calibration import value
from cxops.synth.draws import inverse_cdf, lit, logit, lognormal, normal, pick, sigmoid, u
from cxops.synth.stories import DIMENSIONS, Story

#: Marketplaces in code order (``mp`` columns hold the position in this tuple).
MARKETPLACES: tuple[str, ...] = tuple(value("marketplace_mix"))
_ORDER_PREFIX = {"US": "111", "CA": "701", "DE": "302", "UK": "203", "FR": "404", "JP": "503"}
_LANG = {"US": 0, "CA": 0, "UK": 0, "DE": 1, "FR": 2, "JP": 3}
_CARRIERS = {
    "US": ("UPS", "USPS", "FedEx", "OnTrac"),
    "CA": ("Canada Post", "Purolator", "UPS", "Canpar"),
    "DE": ("DHL", "Hermes", "DPD", "GLS"),
    "UK": ("Royal Mail", "Evri", "DPD", "Parcelforce"),
    "FR": ("Colissimo", "Chronopost", "Mondial Relay", "DPD"),
    "JP": ("Yamato", "Sagawa", "Japan Post", "Seino"),
}
_CROSS_BORDER_CARRIERS = ("YunExpress", "Yanwen", "4PX", "Cainiao")
_AFN_CARRIER = "Marketplace Logistics"
_SECOND_MP = {"US": "CA", "CA": "US", "DE": "UK", "UK": "DE", "FR": "DE", "JP": "US"}
_NAME_A = ("Blue", "North", "Bright", "Golden", "Swift", "Green", "Silver", "Sunny", "Urban", "Maple")
_NAME_A += ("Alpine", "Coral", "Harbor", "Nova", "Pine", "Lotus", "Cedar", "Orbit", "River", "Summit")
_NAME_B = ("Goods", "Trading", "Supply", "Home", "Gear", "Works", "Outfitters", "Direct", "Store")
_NAME_B += ("Market", "Labs", "Depot", "Living", "Essentials", "Crafts")
_NAME_CN = ("Shenzhen", "Guangzhou", "Yiwu", "Ningbo", "Hangzhou", "Xiamen", "Dongguan", "Suzhou")
_COMMENTS = (  # by language (en, de, fr, ja) and rating 1..5
    ("Never arrived, very disappointed.", "Item was damaged and late.", "It's okay.")
    + ("Good product, arrived on time.", "Excellent seller, fast delivery!"),
    ("Nie angekommen.", "Ware beschädigt und verspätet.", "In Ordnung.", "Gutes Produkt, pünktlich.")
    + ("Top Verkäufer, schnelle Lieferung!",),
    ("Jamais reçu.", "Article abîmé et en retard.", "Correct.", "Bon produit, livré à temps.")
    + ("Vendeur excellent, livraison rapide !",),
    ("届きませんでした。", "商品が破損していました。", "普通です。", "良い商品でした。時間通りに届きました。")
    + ("素晴らしい対応、迅速な配送でした！",),
)
_DAY = 86400
#: A package's columns (``j`` = 0 or 1: the order's first or second package) in the generator's queries
#: of shipments and of delivery attempts, from the order row's per-package draws.
PACKAGE_COLUMNS = """CASE WHEN j = 0 THEN conf1 ELSE conf2 END AS conf,
       CASE WHEN j = 0 THEN tracked1 ELSE tracked2 END AS tracked,
       CASE WHEN j = 0 THEN scanned1 ELSE scanned2 END AS scanned,
       CASE WHEN j = 0 THEN scan1 ELSE scan2 END AS scan,
       CASE WHEN j = 0 THEN lost1 ELSE lost2 END AS lost_pkg,
       CASE WHEN j = 0 THEN deliv1 ELSE deliv2 END AS deliv_pkg"""


@dataclass(frozen=True)
class Spec:
    """What to generate.

    Attributes
    ----------
    seed : int
    sellers : int
        Number of sellers (``S0001`` …); about 6 % also sell on a second marketplace.
    days : int
        Days of data, ending on ``end`` (marketplace-local days).
    end : date
    orders_per_seller : float
        Mean seller orders per seller over the period, storyline sellers apart (sizes are lognormal
        with Olist's spread; the expected total is ``sellers × orders_per_seller``).
    stories : tuple of Story
        Storylines (those whose seller number exceeds ``sellers`` are dropped).
    order_width : int
        Digits of the order number in order ids (at least the digits of the number of orders).
    deadlines : bool
        Also model the deadline inputs (contract v2, :mod:`cxops.synth.deadlines`): handling-time
        settings that change mid-history and a slow SKU, which then set the orders' ship-by dates,
        and late confirmations of parcels the carrier scanned in time (:data:`EARLY_SCAN_SHARE`).
    """

    seed: int
    sellers: int
    days: int
    end: date
    orders_per_seller: float
    stories: tuple[Story, ...] = ()
    order_width: int = 7
    deadlines: bool = False

    @property
    def start(self) -> date:
        return self.end - timedelta(days=self.days - 1)

    @property
    def active_stories(self) -> tuple[Story, ...]:
        return tuple(s for s in self.stories if s.seller <= self.sellers)

    @property
    def id_width(self) -> int:
        return max(4, len(str(self.sellers)))

    def seller_id(self, number: int) -> str:
        return f"S{number:0{self.id_width}d}"

    @property
    def cut(self) -> int:
        """The data cut: UTC epoch seconds of the first instant after ``end`` in every marketplace."""
        nxt = self.end + timedelta(days=1)
        return max(cal.local_midnight_utc(BUILTIN_MARKETPLACES[m][0], nxt) for m in MARKETPLACES)

    @property
    def local0(self) -> int:
        """Local epoch seconds of 00:00 on day 0."""
        return cal.epoch_day(self.start) * _DAY

    def to_utc(self, code: str, local: str, days_before: int = 3, days_after: int = 120) -> str:
        return cal.to_utc_sql(
            code,
            local,
            list(MARKETPLACES),
            self.start - timedelta(days=days_before),
            self.end + timedelta(days=days_after),
        )

    def to_local(self, code: str, utc: str) -> str:
        first, last = self.start - timedelta(days=60), self.end + timedelta(days=120)
        return cal.to_local_sql(code, utc, list(MARKETPLACES), first, last)


def _case_mp(code: str, values: dict[str, object]) -> str:
    """``CASE code WHEN 0 THEN values[MARKETPLACES[0]] …`` (values are SQL text or numbers)."""
    parts = " ".join(f"WHEN {k} THEN {values[m]!s}" for k, m in enumerate(MARKETPLACES))
    return f"(CASE {code} {parts} END)"


def _mp_id(code: str) -> str:
    return _case_mp(code, {m: lit(m) for m in MARKETPLACES})


def _secs(days: str) -> str:
    return f"(({days}) * {_DAY})"


def _hours(h: str) -> str:
    return f"(({h}) * 3600.0)"


def _tilt(b: float, z: str) -> str:
    """``exp(-b z - b²/2)``: a rate's factor for quality ``z``, 1 on average over the population (z is
    standard normal), so an Olist share stays the population's mean while better sellers do better."""
    return f"exp({-b!r} * {z} - {b * b / 2!r})"


def _clip(x: str, lo: float, hi: float) -> str:
    return f"least(greatest({x}, {lo!r}), {hi!r})"


def ts(seconds: str) -> str:
    """An epoch-seconds expression as a UTC ``TIMESTAMP`` (rounded to the second)."""
    return f"epoch_ms((round({seconds}))::BIGINT * 1000)"


# ------------------------------------------------------------------------------------------ sellers


def _stories_values(spec: Spec) -> str:
    """The storyline overrides as a VALUES table (empty when there are none)."""
    cols = "i, sno, mp, rate, growth, reg_day, afn, fb, " + ", ".join(f"z_{d}" for d in DIMENSIONS)
    rows = []
    for k, s in enumerate(spec.active_stories):
        z = ", ".join(f"{s.z(d)!r}" for d in DIMENSIONS)
        reg = spec.days - 1 - s.registered_days_before_end
        rows.append(
            f"({s.seller - 1}, {k}, {MARKETPLACES.index(s.marketplace)}, {float(s.orders_per_day)!r}, "
            f"{float(s.growth)!r}, {reg}, {float(s.afn_share)!r}, {float(s.feedback_share)!r}, {z})"
        )
    if not rows:
        names = cols.split(", ")
        typed = [f"NULL::BIGINT AS {c}" for c in names[:3]] + [f"NULL::DOUBLE AS {c}" for c in names[3:]]
        return f"(SELECT {', '.join(typed)} WHERE false)"
    return f"(SELECT * FROM (VALUES {', '.join(rows)}) t({cols}))"


def sellers_sql(spec: Spec) -> str:
    """One row per seller: marketplace, origin, category, name, size, registration, quality."""
    seed, n, days = spec.seed, spec.sellers, spec.days
    us = lambda k: u(seed, "i", 400 + k)  # noqa: E731
    ns = lambda k: normal(seed, "i", 400 + k)  # noqa: E731
    mix = value("marketplace_mix")
    sd = float(value("log_orders_sd"))
    mu = math.log(spec.orders_per_seller / days) - sd * sd / 2
    cats = value("categories")
    cross = value("cross_border_share")
    cn_p = _case_mp("mp0", {m: cross.get(m, cross["other"]) for m in MARKETPLACES})
    before_lo, before_hi = value("registered_before_days")
    g_mean, g_sd = value("growth_per_year")
    lo2, hi2 = value("second_marketplace_size")
    second_of = _case_mp("mp", {m: MARKETPLACES.index(_SECOND_MP[m]) for m in MARKETPLACES})
    e = ", ".join(f"{ns(20 + 2 * k)} AS e_{d}" for k, d in enumerate(DIMENSIONS))
    zs = ", ".join(f"coalesce(st.z_{d}, 0.6 * g + 0.8 * e_{d}) AS z_{d}" for d in DIMENSIONS)
    names = (
        f"CASE WHEN cn THEN {_list(_NAME_CN)}[floor({us(5)} * {len(_NAME_CN)})::INT + 1] || ' ' ELSE '' END"
        f" || {_list(_NAME_A)}[floor({us(3)} * {len(_NAME_A)})::INT + 1] || ' '"
        f" || {_list(_NAME_B)}[floor({us(4)} * {len(_NAME_B)})::INT + 1]"
        " || CASE WHEN cn THEN ' Co., Ltd.' ELSE '' END"
    )
    return f"""
    WITH s0 AS (
        SELECT range AS i,
               {pick(us(0), list(mix.values()), list(range(len(mix))))} AS mp0,
               {pick(us(2), [c[2] for c in cats.values()], list(range(len(cats))))} AS cat,
               {mu!r} + {sd!r} * {ns(6)} AS log_rate,
               CASE WHEN {us(9)} < {value("registered_before_share")!r}
                    THEN -floor({before_lo} + {us(10)} * {before_hi - before_lo})
                    ELSE floor({us(11)} * greatest({days} - 20, 1)) END AS reg_day0,
               {g_mean!r} + {g_sd!r} * {ns(12)} AS growth0,
               {us(14)} < {value("second_marketplace_share")!r} AS second0,
               {lo2!r} + {us(15)} * {hi2 - lo2!r} AS second_frac,
               {ns(18)} AS g, {e},
               {value("quality_drift_sd")!r} * {ns(30)} AS drift0
        FROM range({int(n)})
    ), s1 AS (
        SELECT s0.*, st.sno,
               coalesce(st.mp, s0.mp0) AS mp,
               coalesce(ln(st.rate), s0.log_rate) AS lrate,
               coalesce(st.growth, s0.growth0) AS growth,
               coalesce(st.reg_day, s0.reg_day0) AS reg_day,
               st.afn AS story_afn, st.fb AS story_fb,
               CASE WHEN st.sno IS NULL THEN s0.drift0 ELSE 0.0 END AS drift,
               st.sno IS NULL AND s0.second0 AS second,
               {zs}
        FROM s0 LEFT JOIN {_stories_values(spec)} st ON st.i = s0.i
    ), s2 AS (
        SELECT *, {us(1)} < {cn_p} AS cn,
               least(greatest(round(4 + 2.5 * sqrt(exp(lrate) * 30.44 * 24)), 4), 600)::BIGINT AS catalog_size
        FROM s1
    )
    SELECT *, 'S' || lpad((i + 1)::VARCHAR, {spec.id_width}, '0') AS seller_id, {names} AS name,
           {second_of} AS second_mp,
           coalesce(sum(catalog_size) OVER (ORDER BY i ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
               AS catalog_start
    FROM s2
    ORDER BY i
    """


def _list(values) -> str:
    return "[" + ", ".join(lit(v) for v in values) + "]"


# ------------------------------------------------------------------------------------------ units


def units_sql(spec: Spec) -> str:
    """One row per (seller, marketplace): volume, activity, channel mix, habits and quality; and the
    number of orders with their offset (``o_off``) in the global order numbering."""
    seed, days = spec.seed, spec.days
    uu = lambda k: u(seed, "unit_id", 300 + k)  # noqa: E731
    nu = lambda k: normal(seed, "unit_id", 300 + k)  # noqa: E731
    none_share, afn_lo, afn_hi = value("afn_share")
    handling = value("handling_days")
    cut_hours, cut_shares = value("cutoff_hours")
    fb_lo, fb_hi = value("feedback_share")
    (msg_lo, msg_hi), _ = value("messages_per_order")
    carrier_names = carrier_list()
    mp_carriers = _case_mp(
        "mp_code",
        {m: f"[{', '.join(str(carrier_names.index(c)) for c in _CARRIERS[m])}]" for m in MARKETPLACES},
    )
    cross_codes = f"[{', '.join(str(carrier_names.index(c)) for c in _CROSS_BORDER_CARRIERS)}]"
    act = value("activation_days")
    z_unit = ", ".join(
        f"CASE WHEN k = 0 THEN z_{d} ELSE z_{d} + 0.3 * {nu(16 + 2 * j)} END AS z_{d}"
        for j, d in enumerate(DIMENSIONS)
    )
    churn = value("churn_share")
    mid = days / 2
    target = float((spec.sellers - len(spec.active_stories)) * spec.orders_per_seller)
    transit = value("transit_days")
    afn_promise = value("afn_promise_days")
    cats = value("categories")
    # marketplace constants on the unit row, so per-order expressions read a column, not a CASE
    mp_consts = ",\n               ".join(
        [
            f"{_mp_id('mp_code')} AS mp_id",
            f"{_case_mp('mp_code', {m: lit(_ORDER_PREFIX[m] + '-') for m in MARKETPLACES})} AS order_prefix",
            f"{_case_mp('mp_code', {m: lit(BUILTIN_MARKETPLACES[m][2]) for m in MARKETPLACES})} AS currency",
            f"{_case_mp('mp_code', value('fx'))}::DOUBLE AS fx",
            f"{_case_mp('mp_code', _LANG)} AS lang",
            f"CASE WHEN cross_border THEN {value('cross_border_promise_days')} "
            f"ELSE {_case_mp('mp_code', value('promise_business_days'))} END + promise_extra AS promise_mfn",
            f"{_case_mp('mp_code', {m: afn_promise.get(m, afn_promise['other']) for m in MARKETPLACES})} AS afn_days",
            f"CASE WHEN cross_border THEN {transit['cross_border']!r} "
            f"ELSE {_case_mp('mp_code', {m: transit[m] for m in MARKETPLACES})} END::DOUBLE AS transit_mfn",
            f"{_case_mp('mp_code', value('afn_transit_days'))}::DOUBLE AS transit_afn",
            "(CASE cat "
            + " ".join(f"WHEN {k} THEN {c[0]!r}" for k, c in enumerate(cats.values()))
            + " END)::DOUBLE"
            " AS cat_median",
        ]
    )
    return f"""
    WITH u0 AS (
        SELECT *, i * 2 + k AS unit_id
        FROM (SELECT s.*, unnest(range(1 + s.second::INT)) AS k FROM _sellers s)
    ), u1 AS (
        SELECT seller_id, i, unit_id, k, name, cn, cat, catalog_size, catalog_start, sno, story_afn, story_fb,
               CASE WHEN k = 0 THEN mp ELSE second_mp END AS mp_code,
               exp(lrate) * CASE WHEN k = 0 THEN 1.0 ELSE second_frac END AS rate,
               growth / 365.25 AS gamma,
               CASE WHEN k = 0 THEN reg_day
                    ELSE least(greatest(reg_day, 0) + floor({uu(26)} * greatest({days // 2}, 1)), {days - 1}) END
                    AS reg_day,
               drift, {z_unit}
        FROM u0
    ), u2 AS (
        SELECT *,
               greatest(0, reg_day + CASE WHEN sno IS NULL THEN floor({uu(27)} * {act}) ELSE 0 END)::BIGINT
                   AS active_from,
               CASE WHEN sno IS NULL AND {uu(28)} < {churn!r}
                    THEN floor({days // 2} + {uu(29)} * {days - days // 2})::BIGINT ELSE {days} END AS active_to,
               coalesce(story_afn, CASE WHEN {uu(0)} < {none_share!r} THEN 0.0
                                        ELSE {afn_lo!r} + {uu(1)} * {afn_hi - afn_lo!r} END) AS afn_share,
               CASE WHEN sno IS NOT NULL THEN 2 ELSE {pick(uu(2), handling, [1, 2, 3])} END AS handling,
               {pick(uu(3), cut_shares, cut_hours)} AS cutoff_hour,
               sno IS NOT NULL OR {uu(4)} < {value("weekend_workers_share")!r} AS weekend_worker,
               {uu(5)} < {value("auto_reply_share")!r} AS auto_reply,
               coalesce(story_fb, {fb_lo!r} + {uu(6)} * {fb_hi - fb_lo!r}) AS fb_rate,
               {msg_lo!r} + {uu(7)} * {msg_hi - msg_lo!r} AS msg_rate,
               sno IS NULL AND cn AND {uu(9)} < {value("cross_border_direct_share")!r} AS cross_border,
               sno IS NULL AND {uu(10)} < 0.1 AS early_confirmer,
               {uu(11)} < {value("free_returns_share")!r} AS free_returns,
               sno IS NOT NULL OR {uu(12)} < {value("premium_share")[1]!r} AS premium_mfn,
               {pick(uu(13), value("promise_extra_days"), [0, 1, 2])} AS promise_extra,
               {uu(8)} AS u_carrier{_deadline_unit_columns(spec, uu) if spec.deadlines else ""}
        FROM u1
    ), u3 AS (
        SELECT u2.*,
               CASE WHEN cross_border THEN {cross_codes}[floor(u_carrier * 4)::INT + 1]
                    ELSE {mp_carriers}[floor(u_carrier * 4)::INT + 1] END AS carrier,
               {mp_consts},
               a.cum AS w_a, b.cum AS w_b
        FROM u2 JOIN _days a ON a.d = least(u2.active_from, {days}) JOIN _days b ON b.d = u2.active_to
    ), u4 AS (
        SELECT *,
               CASE WHEN w_b <= w_a THEN 0.0
                    WHEN abs(gamma) < 1e-9 THEN rate * (w_b - w_a)
                    ELSE rate * (exp(gamma * (w_b - {mid!r})) - exp(gamma * (w_a - {mid!r}))) / gamma END
                   AS expected
        FROM u3
    ), u5 AS (
        -- the population's volume is scaled so its expected total is sellers x orders_per_seller
        -- (registrations during the period, churn and trends change it); a storyline's is its own
        SELECT *, floor(expected * CASE WHEN sno IS NOT NULL THEN 1.0 ELSE {target!r} / greatest(
                    sum(expected) FILTER (WHERE sno IS NULL) OVER (), 1e-9) END + {uu(14)})::BIGINT AS n_orders
        FROM u4
    )
    SELECT *,
           coalesce(sum(n_orders) OVER (ORDER BY unit_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
               AS o_off
    FROM u5
    ORDER BY unit_id
    """


def carrier_list() -> list[str]:
    """Carrier names; ``carrier`` columns hold positions in this list (0: the marketplace's own)."""
    names = [_AFN_CARRIER]
    for m in MARKETPLACES:
        names += [c for c in _CARRIERS[m] if c not in names]
    return names + list(_CROSS_BORDER_CARRIERS)


# ------------------------------------------------------------------------------------------ orders


def _episodes(spec: Spec, dim: str) -> str:
    """Quality shift of dimension ``dim`` by unit and day (0 where no story has an episode)."""
    branches = []
    for s in spec.active_stories:
        terms = []
        for e in s.episodes:
            if dim not in e.dimensions:
                continue
            d0 = spec.days - 1 - e.days_before_end
            up = f"least(1.0, greatest(0.0, (d - {d0} + 1) / {float(e.ramp)!r}))"
            if e.days is not None:
                down = f"least(1.0, greatest(0.0, ({d0 + e.days} - d) / {float(e.ramp)!r}))"
                up = f"least({up}, {down})"
            terms.append(f"{float(e.shift)!r} * {up}")
        if terms:
            branches.append(f"WHEN {(s.seller - 1) * 2} THEN {' + '.join(terms)}")
    return f"(CASE unit_id {' '.join(branches)} ELSE 0.0 END)" if branches else "0.0"


def _line(seed: int, j: str, product: str, p_cat: str) -> dict[str, str]:
    """Order line ``j`` as SQL: ``product`` (from the seller's catalogue, popular ones first), its
    category ``p_cat`` (from the column named ``product``), quantity ``qty`` and unit price ``price``
    in the marketplace currency (from the columns named ``product`` and ``p_cat``)."""
    idx = f"(o * 4 + {j})"
    cats = value("categories")
    other = " ".join(f"WHEN {k} THEN {c[0]!r}" for k, c in enumerate(cats.values()))
    median = f"(CASE WHEN {p_cat} = cat THEN cat_median ELSE CASE {p_cat} {other} END END)"
    raw = (
        f"{median} * exp({value('log_price_sd')!r} * {normal(seed, product, 502)}) * fx"
        f" * (1.0 + 0.03 * (2.0 * {u(seed, idx, 102)} - 1.0))"
    )
    jp = MARKETPLACES.index("JP")
    return {
        "product": f"(catalog_start + floor(catalog_size * pow({u(seed, idx, 100)}, 2.5))::BIGINT)",
        "p_cat": (
            f"(CASE WHEN {u(seed, product, 500)} < 0.85 THEN cat "
            f"ELSE {pick(u(seed, product, 501), [c[2] for c in cats.values()], list(range(len(cats))))} END)"
        ),
        "qty": pick(u(seed, idx, 101), value("units_per_seller_order"), [1, 2, 3, 4, 5, 6]),
        "raw": raw,
        "price": (
            f"round(CASE WHEN mp_code = {jp} THEN greatest(10.0, round(raw_price / 10.0) * 10.0)"
            " ELSE greatest(0.99, ceil(raw_price) - 0.01) END, 2)"
        ),
    }


def _lines_sql(seed: int, source: str, js: list[str], when: str | None = None) -> str:
    """``source`` with, for each line ``j`` in ``js``, columns ``product_j``, ``p_cat_j``, ``qty_j`` and
    ``price_j`` (staged subqueries, so each expression is written once). Lines after the first are
    computed only where the order has them; ``when`` restricts every line to rows where it holds."""
    lines = {j: _line(seed, j, f"product_{j}", f"p_cat_{j}") for j in js}

    def guarded(j: str, expr: str) -> str:
        cond = when or (f"n_lines > {j}" if j.isdigit() and j != "0" else None)
        return f"CASE WHEN {cond} THEN {expr} END" if cond else expr

    sql = source
    for key in ("product", "p_cat", "qty", "raw"):
        cols = ", ".join(f"{guarded(j, lines[j][key])} AS {key}_{j}" for j in js)
        sql = f"(SELECT *, {cols} FROM {sql})"
    cols = ", ".join(
        f"{guarded(j, lines[j]['price'].replace('raw_price', f'raw_{j}'))} AS price_{j}" for j in js
    )
    return f"(SELECT *, {cols} FROM {sql})"


#: Columns of the order view the tables read (materialised one chunk of sellers at a time).
CORE_COLUMNS = (
    "seller_id", "order_id", "o", "unit_id", "mp_code", "marketplace_id", "p_s", "afn", "ship_s", "prom_s",
    "units", "order_total", "category_code", "premium_mfn", "n_lines", "catalog_start", "catalog_size", "cat",
    "cat_median", "fx", "currency", "lang", "product_0", "qty_0", "price_0",
    "cross_border", "carrier", "conf1", "conf2", "tracked1", "tracked2", "scanned1", "scanned2", "scan1",
    "scan2", "lost1", "lost2", "deliv1", "deliv2", "units1", "split", "cancel_kind", "experience", "fb_rate",
    "zt_cx", "lost", "deliv", "free_returns", "msg_rate", "zt_resp", "weekend_worker", "auto_reply",
)  # fmt: skip


def ship_pairs(deadlines: bool = False) -> list[tuple[int, int]]:
    """(kind, count) pairs the ship-by lookup needs: MFN handling days, AFN next calendar day."""
    most = 3 + (SLOW_SKU_EXTRA_DAYS if deadlines else 0)
    return [(cal.HANDLING, n) for n in range(1, most + 1)] + [(cal.CALENDAR, 1)]


#: Handling-time settings (``spec.deadlines``): share of sellers whose default grows by a day mid-history,
#: share with one slow SKU (their second most popular product) and its extra business days, and share
#: with a holiday-mode closure planned after the data ends (its first day after the end, and length).
HANDLING_CHANGE_SHARE = 0.10
SLOW_SKU_SHARE = 0.15
SLOW_SKU_EXTRA_DAYS = 2
CLOSURE_SHARE = 0.05
EARLY_SCAN_SHARE = 0.3
CLOSURE_AFTER_DAYS = (20, 50)
CLOSURE_DAYS = (5, 14)


def _deadline_unit_columns(spec: Spec, uu) -> str:
    """Unit columns of the handling-time settings and the planned closure (scripted sellers keep a
    constant default and no closure, so their storylines do not change): ``ht_from`` (day the
    settings start), ``ht_day`` (day the default grows by one, or null), ``slow_sku``,
    ``closure_from``/``closure_len`` (days after day 0, or null)."""
    days = spec.days
    lo, hi = CLOSURE_AFTER_DAYS
    dlo, dhi = CLOSURE_DAYS
    return f""",
               greatest(reg_day, 0) AS ht_from,
               CASE WHEN sno IS NULL AND {days} - greatest(reg_day, 0) >= 3 AND {uu(60)} < {HANDLING_CHANGE_SHARE!r}
                    THEN (greatest(reg_day, 0) + 1 + floor({uu(61)} * ({days} - greatest(reg_day, 0) - 2)))::BIGINT
               END AS ht_day,
               sno IS NULL AND catalog_size >= 2 AND {uu(62)} < {SLOW_SKU_SHARE!r} AS slow_sku,
               CASE WHEN sno IS NULL AND {uu(63)} < {CLOSURE_SHARE!r}
                    THEN ({days} - 1 + {lo} + floor({uu(64)} * {hi - lo + 1}))::BIGINT END AS closure_from,
               ({dlo} + floor({uu(65)} * {dhi - dlo + 1}))::BIGINT AS closure_len"""


def _scan_before_late_confirmation(seed: int, scan: str) -> str:
    """``scan`` (the first package's acceptance scan), except that for :data:`EARLY_SCAN_SHARE` of the
    MFN orders confirmed late the carrier scanned the parcel in the hours before the deadline: the
    seller handed it over in time and confirmed it in the system late (what a "shipped" basis of
    *any* signal forgives; ``cxops compare-shipped`` lists them). The delivery is not moved."""
    return (
        f"CASE WHEN NOT afn AND late1 AND {u(seed, 'o', 216)} < {EARLY_SCAN_SHARE!r} "
        f"THEN greatest(p_s + 600.0, ship_s - 3600.0 * (1.0 + 8.0 * {u(seed, 'o', 217)})) ELSE {scan} END"
    )


def _handling_in_force(seed: int) -> str:
    """SQL of an MFN order's handling days under the settings in force when it was placed: the
    seller's default (one more from ``ht_day`` on), or the slow SKU's when one of its lines is that
    SKU (the largest over the lines, as :mod:`cxops.ingest.deadlines` takes it). The lines' products
    are the draws of :func:`_line` (computed here early, as the ship-by join needs them)."""
    slow = " OR ".join(
        f"({'n_lines > ' + str(j) + ' AND ' if j else ''}"
        f"catalog_start + floor(catalog_size * pow({u(seed, f'(o * 4 + {j})', 100)}, 2.5))::BIGINT"
        " = catalog_start + 1)"
        for j in range(3)
    )
    return (
        f"CASE WHEN slow_sku AND ({slow}) THEN handling + {SLOW_SKU_EXTRA_DAYS} "
        "ELSE handling + (ht_day IS NOT NULL AND d >= ht_day)::INT END"
    )


def due_pairs() -> list[tuple[int, int]]:
    """(kind, count) pairs the deliver-by lookup needs: MFN promises, AFN calendar days."""
    extra = range(len(value("promise_extra_days")))
    bases = {*value("promise_business_days").values(), value("cross_border_promise_days")}
    mfn = sorted({b + e for b in bases for e in extra})
    return [(cal.DELIVERY, n) for n in mfn] + [
        (cal.CALENDAR, n) for n in sorted(set(value("afn_promise_days").values()))
    ]


def orders_view_sql(spec: Spec) -> str:
    """One row per seller order with every draw and derived instant the tables need.

    Uniform draws are computed once, as columns (``r_*``), in the first stage; later stages use
    them by name, so a quantile table or a categorical pick does not recompute its draw per branch.
    Draws only some orders need (the second package, the AFN confirmation, a back-order) sit behind
    the condition that needs them.
    """
    seed, days = spec.seed, spec.days
    no = lambda k: normal(seed, "o", k)  # noqa: E731
    draws = {
        "r_s": 0, "r_hour": 1, "r_afn": 2, "r_lines": 3, "r_cancel": 4, "r_late1": 11, "r_frac": 12,
        "r_delay": 13, "r_split": 16, "r_units1": 17, "r_late2": 18, "r_conf2": 19,
        "r_t1": 22, "r_sc1": 23, "r_lost1": 26, "r_ld1": 27, "r_lb1": 30,
    }  # fmt: skip
    early = ("r_s", "r_hour", "r_afn", "r_lines")  # the draws the deadline joins need
    hour_mix = value("hour_bucket_mix")
    acc = [0.0]
    for share in hour_mix:
        acc.append(acc[-1] + share / sum(hour_mix))
    hours = inverse_cdf("r_hour", (acc, [3.0 * k for k in range(9)]))
    mu_l, sd_l = value("late_handover_seller_logit")
    zt = {d: f"(z_{d} + drift * (d / {float(days)!r} - 0.5) + {_episodes(spec, d)})" for d in DIMENSIONS}
    split = {k: v * value("cancel_share") for k, v in value("cancel_split").items()}
    units = " + ".join(f"CASE WHEN n_lines > {j} THEN qty_{j} ELSE 0 END" for j in range(3))
    total = " + ".join(f"CASE WHEN n_lines > {j} THEN qty_{j} * price_{j} ELSE 0.0 END" for j in range(3))
    pickup = value("pickup_hours")
    shares = value("split_share")
    lost = value("lost_share")
    late_on = value("late_delivery_share_if_handover_on_time")
    late_late = value("late_delivery_share_if_handover_late")
    p_miss = sigmoid(f"{logit(value('untracked_share'))!r} - 0.9 * zt_track")
    pick_med = (
        f"CASE WHEN afn THEN {pickup['AFN']!r} WHEN early_confirmer THEN {pickup['early']!r} "
        f"ELSE {pickup['MFN']!r} END"
    )
    pick_sd = "CASE WHEN afn OR early_confirmer THEN 0.5 ELSE 0.8 END"

    def package(j: int, conf: str, s: int, r: dict[str, str]) -> list[tuple[str, str]]:
        """Tracking, scan and delivery of package ``j`` confirmed at ``conf`` (normals from stream
        ``s``, uniforms ``r``): (column, SQL) pairs."""
        return [
            (f"tracked{j}", f"afn OR {r['t']} >= p_miss"),
            (f"scanned{j}", f"afn OR {r['sc']} >= {value('no_scan_share')!r} + 0.5 * p_miss"),
            (f"scan{j}", f"{conf} + 3600.0 * ({pick_med}) * exp(({pick_sd}) * {no(s + 2)})"),
            (
                f"lost{j}",
                f"{r['lost']} < {lost!r} * {_tilt(0.5, 'zt_deliv')} * CASE WHEN afn THEN 0.25 ELSE 1.0 END",
            ),
            (
                f"late_deliv{j}",
                f"{r['ld']} < CASE WHEN {conf} > ship_s THEN {late_late!r} ELSE {late_on!r} END"
                f" * {_tilt(0.4, 'zt_deliv')} * CASE WHEN afn THEN 0.2 ELSE 1.0 END",
            ),
            (f"transit{j}", f"transit_med * exp(0.45 * {no(s + 6)}) * {_DAY}"),
            (f"late_by{j}", f"{inverse_cdf(r['lb'], value('late_delivery_delay'))} * {_DAY}"),
        ]

    def delivered(j: int) -> str:
        return (
            f"CASE WHEN late_deliv{j} THEN greatest(prom_s + late_by{j}, scan{j} + 1800)"
            f" ELSE greatest(scan{j} + 1800, least(scan{j} + transit{j}, prom_s - 3600)) END"
        )

    pkg1 = package(
        1, "conf1", 22, {"t": "r_t1", "sc": "r_sc1", "lost": "r_lost1", "ld": "r_ld1", "lb": "r_lb1"}
    )
    deliv1 = delivered(1)
    if spec.deadlines:
        # the scan moves, the delivery stays where the confirmed hand-over put it
        pkg1 = [(c, sql) for c, sql in pkg1 if c != "scan1"] + [
            ("scan1_handover", dict(pkg1)["scan1"]),
            ("scan1", _scan_before_late_confirmation(seed, "scan1_handover")),
        ]
        deliv1 = deliv1.replace("scan1", "scan1_handover")
    r2 = {k: u(seed, "o", n) for k, n in (("t", 32), ("sc", 33), ("lost", 36), ("ld", 37), ("lb", 40))}
    pkg2 = package(2, "conf2", 32, r2)
    cols1 = ", ".join(f"{sql} AS {c}" for c, sql in pkg1)
    # the second package exists only for split orders: its draws are not computed for the others
    cols2 = ", ".join(f"CASE WHEN split THEN {sql} END AS {c}" for c, sql in pkg2)
    ship_key = cal.deadline_key(
        "mp_code", f"CASE WHEN afn THEN {cal.CALENDAR} ELSE {cal.HANDLING} END", "eff",
        f"CASE WHEN afn THEN 1 ELSE {'ht_eff' if spec.deadlines else 'handling'} END",
    )  # fmt: skip
    ht_eff = f",\n            {_handling_in_force(seed)} AS ht_eff" if spec.deadlines else ""
    due_key = cal.deadline_key(
        "mp_code", f"CASE WHEN afn THEN {cal.CALENDAR} ELSE {cal.DELIVERY} END",
        "CASE WHEN afn THEN eff ELSE ship_day END", "promise_n",
    )  # fmt: skip
    p_seller = f"{split['seller']!r} * {_tilt(0.5, 'zt_cx')}"
    cancel_at = [split["buyer"], split["buyer"] + split["system"]]
    cancel_at.append(cancel_at[-1] + split["unknown"])
    return f"""
    WITH o0 AS (
        SELECT *, o_off + r AS o FROM (SELECT un.*, unnest(range(un.n_orders)) AS r FROM _units un)
    ), o1 AS (
        SELECT *, {", ".join(f"{u(seed, 'o', k)} AS {name}" for name, k in draws.items() if name in early)}
        FROM o0
    ), o2 AS (
        SELECT *,
            CASE WHEN abs(gamma) < 1e-9 THEN w_a + r_s * (w_b - w_a)
                 ELSE w_a + ln(1.0 + r_s * (exp(gamma * (w_b - w_a)) - 1.0)) / gamma END AS s_cum
        FROM o1
    ), o3 AS (
        SELECT o2.*, least(wb.d0 + (o2.s_cum >= wb.next_cum)::INT, {days - 1}) AS d
        FROM o2 JOIN _wb wb ON wb.b = floor(o2.s_cum * {cal.BUCKETS})::BIGINT
    ), o4 AS (
        SELECT *,
            floor({hours} * 3600.0) AS sec,
            r_afn < afn_share AS afn,
            {pick("r_lines", value("products_per_seller_order"), [1, 2, 3])} AS n_lines
        FROM o3
    ), o5 AS (
        SELECT *,
            {spec.to_utc("mp_code", f"({spec.local0} + d * {_DAY} + sec)")} AS p_s,
            d + (sec >= 3600 * CASE WHEN afn THEN 12 ELSE cutoff_hour END)::INT AS eff,
            CASE WHEN afn THEN afn_days ELSE promise_mfn END AS promise_n{ht_eff}
        FROM o4
    ), o6 AS (
        SELECT o5.*, sb.day AS ship_day, sb.eod::DOUBLE AS ship_s
        FROM o5 JOIN _ship sb ON sb.key = {ship_key}
    ), o7 AS (
        SELECT o6.*, db.eod::DOUBLE AS prom_s
        FROM o6 JOIN _due db ON db.key = {due_key}
    ), o7b AS (
        SELECT *, {", ".join(f"{u(seed, 'o', k)} AS {name}" for name, k in draws.items() if name not in early)},
            {", ".join(f"{zt[d]} AS zt_{d}" for d in DIMENSIONS)}
        FROM o7
    ), o8 AS (
        SELECT *,
            CASE WHEN afn THEN {value("afn_late_share")!r}
                 ELSE {sigmoid(f"{mu_l!r} - {sd_l!r} * zt_ship")} END AS p_late,
            {p_seller} AS p_seller,
            {p_miss} AS p_miss,
            CASE WHEN afn THEN transit_afn ELSE transit_mfn END * exp(-0.15 * zt_deliv) AS transit_med,
            {units} AS units
        FROM {_lines_sql(seed, "o7b", ["0", "1", "2"])}
    ), o9 AS (
        SELECT *,
            CASE WHEN r_cancel < p_seller THEN 0
                 WHEN r_cancel < p_seller + {cancel_at[0]!r} THEN 1
                 WHEN r_cancel < p_seller + {cancel_at[1]!r} THEN 2
                 WHEN r_cancel < p_seller + {cancel_at[2]!r} THEN 3
            END AS cancel_kind,
            r_late1 < p_late AS late1,
            units >= 2 AND r_split < CASE WHEN afn THEN {shares["AFN"]!r} ELSE {shares["MFN"]!r} END AS split
        FROM o8
    ), o10 AS (
        SELECT *,
            CASE WHEN late1 THEN ship_s + greatest(120.0, {inverse_cdf("r_delay", value("late_handover_delay"))} * {_DAY})
                 WHEN afn THEN greatest(p_s + 600, least(p_s + {_hours(lognormal(repr(value("afn_confirm_hours")), 0.5, no(14)))},
                                                         ship_s - 3600))
                 ELSE p_s + greatest(600.0, {inverse_cdf("r_frac", value("handover_window_fraction"))} * (ship_s - p_s)) END
                AS conf1,
            CASE WHEN split THEN 1 + floor(r_units1 * (units - 1))::BIGINT ELSE units END AS units1
        FROM o9
    ), o11 AS (
        SELECT *,
            CASE WHEN NOT split THEN NULL
                 WHEN NOT afn AND (late1 OR r_late2 < 2 * p_late)
                 THEN greatest(conf1, ship_s) + {_secs(_clip(lognormal("1.0", 1.0, no(20)), 0.01, 20.0))}
                 ELSE conf1 + greatest(60.0, r_conf2 * greatest(0.0, ship_s - conf1)) END AS conf2
        FROM o10
    ), o12 AS (
        SELECT *, {cols1}, {cols2} FROM o11
    ), o13 AS (
        SELECT *, {deliv1} AS deliv1, CASE WHEN split THEN {delivered(2)} END AS deliv2 FROM o12
    ), o14 AS (
        SELECT *,
            cancel_kind IS NULL AND (lost1 OR (split AND lost2)) AS lost,
            CASE WHEN split THEN greatest(deliv1, deliv2) ELSE deliv1 END AS deliv
        FROM o13
    )
    SELECT *,
        CASE WHEN cancel_kind IS NOT NULL THEN CASE WHEN cancel_kind = 1 THEN 3 ELSE 2 END
             WHEN lost THEN 2 WHEN deliv > prom_s THEN 1 ELSE 0 END AS experience,
        mp_id AS marketplace_id,
        {_order_id(seed, spec.order_width)} AS order_id,
        p_cat_0 AS category_code,
        round({total}, 2) AS order_total
    FROM o14
    """


def _cancellation(seed: int) -> dict[str, str]:
    """SQL of ``cancel_s``, ``reason`` and ``via`` for cancelled orders (``cancel_kind`` 0..3:
    seller, buyer, system, unknown)."""
    uo = lambda k: u(seed, "o", k)  # noqa: E731
    no = lambda k: normal(seed, "o", k)  # noqa: E731
    after = value("seller_cancel_after_ship_by")
    buyer_reasons = ("'buyer_cancelled'", "'ordered_by_mistake'", "'found_cheaper'", "'changed_mind'")
    seller_reasons = ("'out_of_stock'", "'pricing_error'", "'buyer_cancelled'", "'address_issue'")
    return {
        "cancel_s": f"""CASE cancel_kind
            WHEN 0 THEN CASE WHEN {uo(5)} < {after!r} THEN ship_s + {_secs(lognormal("1.0", 0.8, no(6)))}
                             ELSE p_s + {_hours(_clip(lognormal("16.0", 1.0, no(6)), 0.2, 200.0))} END
            WHEN 1 THEN p_s + {_hours(_clip(lognormal("1.5", 1.3, no(6)), 0.05, 72.0))}
            WHEN 2 THEN CASE WHEN {uo(5)} < 0.5 THEN ship_s + {_secs(lognormal("3.0", 0.4, no(6)))}
                             ELSE p_s + {_hours(lognormal("3.0", 0.8, no(6)))} END
            ELSE p_s + {_hours(lognormal("20.0", 0.8, no(6)))} END""",
        # the seller's "buyer_cancelled" reason is the uniform's [0.7, 0.9) slice; half of those came
        # through the buyer's official request
        "reason": f"""CASE cancel_kind
            WHEN 0 THEN {pick(uo(8), (0.6, 0.1, 0.2, 0.1), seller_reasons)}
            WHEN 1 THEN {pick(uo(8), (1, 1, 1, 1), buyer_reasons)}
            WHEN 2 THEN CASE WHEN {uo(5)} < 0.5 THEN 'shipment_not_confirmed' ELSE 'payment_failed' END
        END""",
        "via": f"""CASE cancel_kind WHEN 1 THEN {uo(85)} < {value("buyer_cancel_via_request")!r}
                         WHEN 0 THEN {uo(8)} >= 0.7 AND {uo(8)} < 0.9 AND {uo(85)} < 0.5
                         ELSE false END""",
    }


def _rating_sql(seed: int) -> str:
    """A 1..5 rating from the Olist mix of the order's experience, tilted by the seller's z_cx."""
    t = value("rating_tilt")
    mixes = [value("review_mix_on_time"), value("review_mix_late"), value("review_mix_not_delivered")]
    mixes.append(mixes[0])  # buyer cancellation: rated like an on-time order
    w = []
    for k in range(5):
        mix = "CASE experience " + " ".join(f"WHEN {e} THEN {m[k]!r}" for e, m in enumerate(mixes)) + " END"
        w.append(f"({mix} * exp({t!r} * zt_cx * {k - 2}))")
    cum = [" + ".join(w[: k + 1]) for k in range(5)]
    draw = f"{u(seed, 'o', 45)} * ({cum[-1]})"
    return "CASE " + " ".join(f"WHEN {draw} < {cum[k]} THEN {k + 1}" for k in range(4)) + " ELSE 5 END"


def table_sql(name: str, spec: Spec) -> str:
    """The ``SELECT`` writing canonical table ``name`` (contract column order; instants UTC).

    Raises
    ------
    KeyError
        For a table the generator does not write.
    """
    seed, cut = spec.seed, spec.cut
    uo = lambda k: u(seed, "o", k)  # noqa: E731
    no = lambda k: normal(seed, "o", k)  # noqa: E731
    if name == "marketplaces":
        rows = ", ".join(
            "(" + ", ".join(lit(x) for x in (m, *BUILTIN_MARKETPLACES[m])) + ")" for m in MARKETPLACES
        )
        return f"SELECT * FROM (VALUES {rows}) t(marketplace_id, timezone, country, currency, weekend)"
    if name == "sellers":
        country = _case_mp("mp_code", {m: lit(BUILTIN_MARKETPLACES[m][1]) for m in MARKETPLACES})
        cats = _list(value("categories"))
        reg = spec.to_utc(
            "mp_code",
            f"({spec.local0} + reg_day * {_DAY} + floor(8 * 3600 + {u(seed, 'unit_id', 340)} * 12 * 3600))",
            3000,
        )
        return f"""
        SELECT seller_id, {_mp_id("mp_code")} AS marketplace_id, name, {ts(reg)} AS registered_at,
               {cats}[cat + 1] AS primary_category, CASE WHEN cn THEN 'CN' ELSE {country} END AS country
        FROM _units ORDER BY unit_id"""
    if name == "orders":
        business = value("business_share")
        jp = MARKETPLACES.index("JP")
        prem_afn, prem_mfn = value("premium_share")
        return f"""
        SELECT seller_id, order_id, marketplace_id, {ts("p_s")} AS purchased_at,
               CASE WHEN afn THEN 'AFN' ELSE 'MFN' END AS fulfillment_channel,
               {ts("ship_s")} AS latest_ship_at, {ts("prom_s")} AS latest_delivery_at, units::BIGINT AS units,
               order_total::DOUBLE AS order_total, currency,
               {_list(value("categories"))}[category_code + 1] AS category,
               CASE WHEN afn THEN {uo(9)} < {prem_afn!r} ELSE premium_mfn AND {uo(9)} < 0.5 END AS is_premium,
               {uo(10)} < CASE WHEN mp_code = {jp} THEN {business["JP"]!r} ELSE {business["other"]!r} END
                   AS is_business
        FROM _o"""
    if name == "order_items":
        # the first line was drawn for the order (its total); the others are drawn here
        rows = "(SELECT _o.*, unnest(range(_o.n_lines)) AS j FROM _o)"
        lines = _lines_sql(seed, rows, ["j"], when="j > 0")
        return f"""
        SELECT seller_id, order_id, (j + 1)::VARCHAR AS line_id,
               seller_id || '-' || (1000 + product - catalog_start)::VARCHAR AS sku,
               'B0' || (10000000 + product)::VARCHAR AS product_id,
               {_list(value("categories"))}[p_cat + 1] AS category, qty::BIGINT AS quantity,
               price::DOUBLE AS unit_price
        FROM (SELECT *, coalesce(product_j, product_0) AS product, coalesce(p_cat_j, category_code) AS p_cat,
                     coalesce(qty_j, qty_0) AS qty, coalesce(price_j, price_0) AS price
              FROM {lines})"""
    if name == "shipments":
        carriers = _list(carrier_list())
        null_p = value("untracked_no_carrier_share")
        carrier = (
            f"CASE WHEN afn THEN 0 WHEN cross_border OR {uo(80)} < 0.75 THEN carrier "
            f"ELSE {_case_mp('mp_code', {m: _carrier_codes(m) for m in MARKETPLACES})}[floor({uo(81)} * 4)::INT + 1] END"
        )
        return f"""
        SELECT seller_id, order_id, 'SH' || (o * 2 + j + 1)::VARCHAR AS shipment_id, {ts("conf")} AS confirmed_at,
               CASE WHEN NOT tracked AND u_null < {null_p!r} THEN NULL ELSE {carriers}[carrier_code + 1] END AS carrier,
               CASE WHEN tracked THEN (100000000000 + (o * 2 + j) * 97 + floor({uo(84)} * 97)::BIGINT)::VARCHAR END
                   AS tracking_id,
               CASE WHEN tracked AND scanned AND scan < {cut} THEN {ts("scan")} END AS first_scan_at,
               CASE WHEN tracked AND NOT lost_pkg AND deliv_pkg < {cut} THEN {ts("deliv_pkg")} END AS delivered_at,
               units_pkg::BIGINT AS units
        FROM (
            SELECT seller_id, order_id, o, j, {carrier} AS carrier_code,
                   {PACKAGE_COLUMNS},
                   CASE WHEN j = 0 THEN units1 ELSE units - units1 END AS units_pkg,
                   CASE WHEN j = 0 THEN {uo(82)} ELSE {uo(83)} END AS u_null, afn
            FROM (SELECT _o.*, unnest(range(1 + split::INT)) AS j FROM _o WHERE cancel_kind IS NULL)
        ) WHERE conf < {cut}"""
    if name == "cancellations":
        cx = _cancellation(seed)
        return f"""
        SELECT seller_id, order_id, {ts("cancel_s")} AS cancelled_at,
               ['seller', 'buyer', 'system', 'unknown'][cancel_kind + 1] AS initiated_by, reason,
               via AS via_buyer_request
        FROM (SELECT seller_id, order_id, cancel_kind,
                     {cx["cancel_s"]} AS cancel_s, {cx["reason"]} AS reason, {cx["via"]} AS via
              FROM _o WHERE cancel_kind IS NOT NULL)
        WHERE cancel_s < {cut}"""
    if name == "feedback":
        factor = value("feedback_bad_experience_factor")
        fac = "CASE experience " + " ".join(f"WHEN {k} THEN {f!r}" for k, f in enumerate(factor)) + " END"
        rm_bad_afn, rm_bad, rm_other = value("feedback_removed_share")
        comments = "[" + ", ".join(lit(c) for lang in _COMMENTS for c in lang) + "]"
        return f"""
        SELECT seller_id, order_id, rating::BIGINT AS rating, {ts("sub_s")} AS submitted_at,
               CASE WHEN removed AND rm_s < {cut} THEN {ts("rm_s")} END AS removed_at,
               {uo(52)} < {value("shared_feedback_share")!r} AS is_shared,
               CASE WHEN {uo(53)} < 0.55 THEN {comments}[lang * 5 + rating] END AS comment
        FROM (
            SELECT *,
                   {uo(48)} < CASE WHEN rating <= 2 AND afn AND experience IN (1, 2) THEN {rm_bad_afn!r}
                                   WHEN rating <= 2 THEN {rm_bad!r} ELSE {rm_other!r} END AS removed,
                   sub_s + {_secs(lognormal("4.0", 0.8, no(50)))} AS rm_s
            FROM (
                SELECT *, {_rating_sql(seed)} AS rating,
                       event_s + {_secs(_clip(lognormal("2.0", 0.8, no(46)), 0.05, 60.0))} AS sub_s
                FROM (SELECT *, CASE WHEN cancel_kind IS NOT NULL THEN ({_cancellation(seed)["cancel_s"]})
                                     WHEN lost THEN prom_s ELSE deliv END AS event_s
                      FROM _o WHERE {uo(44)} < least(0.9, fb_rate * {fac}))
            )
        ) WHERE sub_s < {cut}"""
    if name == "claims":
        base, on_time, late, lost = value("a_to_z_share")
        dec = value("claim_decisions")
        names = ("'granted'", "'denied'", "'withdrawn'", "'reversed'")
        p_az = (
            f"CASE WHEN lost THEN {lost!r} ELSE {base!r} * exp(-0.6 * zt_cx) * "
            f"CASE experience WHEN 0 THEN {on_time!r} WHEN 1 THEN {late!r} ELSE 0.0 END END"
            " * CASE WHEN afn THEN 0.3 ELSE 1.0 END"
        )
        p_cb = f"{value('chargeback_share')!r} * exp(-0.4 * zt_cx) * (experience <> 3)::INT"
        az = f"""
            SELECT seller_id, order_id, o, 'AZ' || o::VARCHAR AS claim_id, 'a_to_z' AS kind,
                   CASE WHEN lost THEN prom_s + {_secs(lognormal("5.0", 0.6, no(58)))}
                        ELSE deliv + {_secs(lognormal("6.0", 0.7, no(58)))} END AS filed_s,
                   {pick(uo(62), dec["a_to_z"], names)} AS decision0, {lognormal("5.0", 0.6, no(64))} AS takes,
                   false AS is_fraud
            FROM _o WHERE {uo(56)} < {p_az}"""
        cb = f"""
            SELECT seller_id, order_id, o, 'CB' || o::VARCHAR AS claim_id, 'chargeback' AS kind,
                   p_s + {_secs(lognormal("25.0", 0.5, no(60)))} AS filed_s,
                   {pick(uo(63), dec["chargeback"], names)} AS decision0, {lognormal("12.0", 0.5, no(66))} AS takes,
                   {uo(68)} < 0.25 AS is_fraud
            FROM _o WHERE {uo(57)} < {p_cb}"""
        return f"""
        SELECT seller_id, order_id, claim_id, kind, {ts("filed_s")} AS filed_at,
               CASE WHEN filed_s + takes * {_DAY} < {cut} THEN decision0 ELSE 'pending' END AS decision,
               CASE WHEN filed_s + takes * {_DAY} < {cut} THEN {ts(f"filed_s + takes * {_DAY}")} END AS decided_at,
               is_fraud
        FROM ({az} UNION ALL {cb}) WHERE filed_s < {cut}
        ORDER BY o, kind"""
    if name == "returns":
        rates = (
            "CASE category_code "
            + " ".join(f"WHEN {k} THEN {c[1]!r}" for k, c in enumerate(value("categories").values()))
            + " END"
        )
        fault_r = ("'defective'", "'damaged'", "'not_as_described'", "'wrong_item'")
        other_r = ("'no_longer_needed'", "'ordered_by_mistake'", "'better_price'", "'unwanted_gift'")
        return f"""
        SELECT seller_id, order_id, 'R' || o::VARCHAR AS return_id, {ts("req_s")} AS requested_at, reason,
               fault OR reason = 'arrived_late' AS is_seller_fault,
               fault OR reason = 'arrived_late' OR free_returns AS free_return_label
        FROM (
            SELECT seller_id, o, free_returns, order_id, fault,
                   deliv + {_secs(_clip(lognormal("6.0", 0.7, no(72)), 0.1, 60.0))} AS req_s,
                   CASE WHEN experience = 1 AND {uo(76)} < 0.3 THEN 'arrived_late'
                        WHEN fault THEN {pick(uo(75), (0.4, 0.25, 0.25, 0.1), fault_r)}
                        ELSE {pick(uo(75), (0.5, 0.2, 0.2, 0.1), other_r)} END AS reason
            FROM (SELECT *, {uo(74)} < {sigmoid("-0.8 - 0.6 * zt_cx")} AS fault FROM _o
                  WHERE experience IN (0, 1)
                    AND {uo(70)} < {rates} * exp(-0.25 * zt_cx) * CASE WHEN experience = 1 THEN 1.5 ELSE 1.0 END)
        ) WHERE req_s < {cut}"""
    if name == "buyer_messages":
        return _messages_sql(spec)
    if name == "violations":
        return _violations_sql(spec)
    raise KeyError(name)


def _carrier_codes(mp: str) -> str:
    names = carrier_list()
    return "[" + ", ".join(str(names.index(c)) for c in _CARRIERS[mp]) + "]"


def _order_id(seed: int, width: int) -> str:
    """Amazon-like ``PPP-NNNNNNN-RRRRRRR``: marketplace prefix, order number (``width`` digits, the
    first one 1), seven random digits. Built from numbers, not ``lpad`` (several times faster)."""
    rnd = f"(1000000 + floor({u(seed, 'o', 90)} * 9000000)::BIGINT)::VARCHAR"
    return f"(order_prefix || ({10 ** (width - 1)} + o + 1)::VARCHAR || '-' || {rnd})"


def _messages_sql(spec: Spec) -> str:
    seed, cut = spec.seed, spec.cut
    (_, factors) = value("messages_per_order")
    fac = "CASE experience " + " ".join(f"WHEN {k} THEN {f!r}" for k, f in enumerate(factors)) + " END"
    um = lambda k: u(seed, "(o * 4 + j)", 200 + k)  # noqa: E731
    nm = lambda k: normal(seed, "(o * 4 + j)", 200 + k)  # noqa: E731
    med, sd = value("response_hours")
    never = sigmoid(f"{logit(value('never_answered_share'))!r} - 0.8 * zt_resp")
    local = spec.to_local("mp_code", "rec_s")
    monday_utc = spec.to_utc("mp_code", f"((local_day + 7 - wd) * {_DAY} + 9 * 3600)", 90)
    return f"""
    SELECT seller_id, 'M' || (o * 4 + j)::VARCHAR AS message_id, {ts("rec_s")} AS received_at,
           CASE WHEN is_question THEN NULL ELSE order_id END AS order_id,
           CASE WHEN is_question THEN 'TQ' || (o * 4 + j)::VARCHAR ELSE 'TH' || o::VARCHAR END AS thread_id,
           CASE WHEN resp_s IS NOT NULL AND resp_s < {cut} THEN {ts("resp_s")} END AS first_response_at,
           no_need AS no_response_needed, auto_reply AS is_auto_reply, marketplace_id
    FROM (
        SELECT *,
               CASE WHEN {um(3)} < {never} OR (no_need AND {um(8)} < 0.7) THEN NULL
                    WHEN wd >= 5 AND NOT weekend_worker THEN ({monday_utc}) + {_hours(lognormal("2.0", 0.8, nm(6)))}
                    ELSE rec_s + {_hours(_clip(lognormal(f"{med!r} * exp(-0.5 * zt_resp)", sd, nm(4)), 0.02, 480.0))}
               END AS resp_s
        FROM (SELECT *, (local_day + 3) % 7 AS wd FROM (SELECT *, floor(({local}) / {_DAY})::BIGINT AS local_day FROM (
            SELECT *, {um(2)} < {value("no_response_needed_share")!r} AS no_need,
                   CASE WHEN is_question THEN p_s - {_secs(_clip(lognormal("1.0", 1.0, nm(0)), 0.01, 20.0))}
                        ELSE p_s + {_secs(_clip(lognormal("2.5", 1.0, nm(0)), 0.01, 40.0))} END AS rec_s
            FROM (
                SELECT *, j = n_msg AS is_question
                FROM (SELECT *, unnest(range(n_msg + n_q)) AS j
                      FROM (SELECT *, {_poisson3(u(seed, "o", 78), f"msg_rate * {fac}")} AS n_msg,
                                   ({u(seed, "o", 79)} < {value("presale_question_share")!r})::INT AS n_q
                            FROM _o))
            )
        )))
    ) WHERE rec_s < {cut} AND rec_s >= {cal.epoch_day(spec.start) * _DAY}
    """


def _poisson3(uniform: str, lam: str) -> str:
    """A Poisson(``lam``) draw capped at 3 (exact below the cap), by inverting the CDF."""
    e = f"exp(-({lam}))"
    return (
        f"(({uniform} >= {e})::INT + ({uniform} >= {e} * (1 + {lam}))::INT"
        f" + ({uniform} >= {e} * (1 + {lam} + ({lam}) * ({lam}) / 2))::INT)"
    )


def _violations_sql(spec: Spec) -> str:
    seed, days, cut = spec.seed, spec.days, spec.cut
    shares, kinds_p, sev_p = value("violations")
    kinds = ("ip_complaint", "listing_policy", "authenticity", "safety", "restricted_product")
    kinds += ("review_manipulation", "other")
    sevs = ("'low'", "'medium'", "'high'", "'critical'")
    uv = lambda k: u(seed, "(unit_id * 4 + j)", 600 + k)  # noqa: E731
    nv = lambda k: normal(seed, "(unit_id * 4 + j)", 600 + k)  # noqa: E731
    p = "CASE j WHEN 0 THEN {} WHEN 1 THEN {} ELSE {} END".format(*(repr(s) for s in shares))
    random_rows = f"""
        SELECT seller_id, mp_code, unit_id, j,
               'V' || (unit_id * 4 + j)::VARCHAR AS violation_id,
               {pick(uv(1), kinds_p, [lit(k) for k in kinds])} AS kind,
               {pick(uv(2), sev_p, sevs)} AS severity,
               active_from + floor({uv(4)} * ({days} - active_from)) AS day,
               floor({uv(5)} * {_DAY}) AS sec, {uv(3)} AS u_warn, {uv(6)} AS u_res, {nv(8)} AS n_res
        FROM (SELECT un.*, unnest(range(3)) AS j FROM _units un WHERE un.sno IS NULL AND un.active_from < {days})
        WHERE {uv(0)} < ({p}) * exp(-0.35 * z_cx)"""
    scripted = []
    for s in spec.active_stories:
        for k, v in enumerate(s.violations):
            day = days - 1 - v.days_before_end
            if day < 0:
                continue
            scripted.append(
                f"({(s.seller - 1) * 2}, {k}, {lit(v.kind)}, {lit(v.severity)}, {day}, {str(v.is_warning).lower()})"
            )
    story_rows = ""
    if scripted:
        story_rows = f"""
        UNION ALL
        SELECT un.seller_id, un.mp_code, un.unit_id, 3 + v.k AS j,
               'VS' || un.unit_id::VARCHAR || '-' || v.k::VARCHAR AS violation_id, v.kind, v.severity, v.day,
               floor({u(seed, "(un.unit_id * 16 + v.k)", 620)} * {_DAY}) AS sec,
               CASE WHEN v.warning THEN -1.0 ELSE 2.0 END AS u_warn,
               {u(seed, "(un.unit_id * 16 + v.k)", 621)} AS u_res, {normal(seed, "(un.unit_id * 16 + v.k)", 622)} AS n_res
        FROM (VALUES {", ".join(scripted)}) v(unit_id, k, kind, severity, day, warning)
        JOIN _units un ON un.unit_id = v.unit_id"""
    reported = spec.to_utc("mp_code", f"({spec.local0} + day * {_DAY} + sec)")
    return f"""
    SELECT seller_id, {_mp_id("mp_code")} AS marketplace_id, violation_id, kind, {ts("rep_s")} AS reported_at,
           severity,
           CASE WHEN u_warn < 0 THEN true WHEN u_warn > 1 OR kind = 'ip_complaint' THEN false
                ELSE u_warn < CASE WHEN severity IN ('low', 'medium') THEN 0.35 ELSE 0.15 END END AS is_warning,
           CASE WHEN u_res < 0.75 AND rep_s + res_days * {_DAY} < {cut} THEN {ts(f"rep_s + res_days * {_DAY}")} END
               AS resolved_at
    FROM (SELECT *, {reported} AS rep_s, 12.0 * exp(0.8 * n_res) AS res_days
          FROM ({random_rows} {story_rows}))
    WHERE rep_s < {cut}
    ORDER BY unit_id, j"""
