"""Scripted seller storylines: a layer of per-seller overrides on top of the generator.

A :class:`Story` gives one seller (by number: seller 70 is ``S0070``) a marketplace, a volume, a
registration date, a quality score and, on top of them, *episodes* (the quality of some dimensions
shifted for a span of days, with linear ramps) and *scripted violations*. Everything else about the
seller — its orders, their timing, deadlines, shipments, ratings, claims — comes from the same model
and calibration as every other seller, so a story only says what is special about the seller.
Story sellers sell on one marketplace and get no random violations.

Days are counted back from the last day of data (``days_before_end = 0`` is the last day), so a story
keeps its shape whatever the end date; a story whose seller number exceeds the number of sellers is
left out, and episodes or violations before the first day of data are clipped or dropped.

:data:`DEMO_STORIES` are the storylines of ``cxops demo`` (300 sellers over two years ending
2026-10-31, evaluated monthly with the ``customer-excellence`` pack). Each names the lifecycle state
the evaluation right after the data should give it (``expect``); a test runs the evaluation and
checks every one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Quality dimensions (in this order in the generator).
DIMENSIONS = ("ship", "cx", "track", "deliv", "resp")
#: The quality score of a seller who meets every bar of the demo program comfortably.
STAR = 3.2
#: ``orders_per_seller`` of the demo population around the storylines (about 158,000 orders for the
#: 287 other sellers over two years; the storylines add about 208,000).
DEMO_ORDERS_PER_SELLER = 550.0


@dataclass(frozen=True)
class Episode:
    """A span of days during which quality scores are shifted.

    Attributes
    ----------
    dimensions : tuple of str
        Among :data:`DIMENSIONS` (``ship``: hand-over on time; ``cx``: ratings, claims, cancellations,
        returns; ``track``: tracking ids and carrier scans; ``deliv``: on-time delivery and lost parcels;
        ``resp``: buyer-message response time).
    days_before_end : int
        First day of the episode (the ramp starts there).
    days : int or None
        Length in days; ``None`` lasts to the end of the data.
    shift : float
        Change of the quality score (standard deviations of the seller population; negative is worse).
    ramp : int
        Days over which the shift builds up at the start and fades at the end.
    """

    dimensions: tuple[str, ...]
    days_before_end: int
    days: int | None
    shift: float
    ramp: int = 7


@dataclass(frozen=True)
class ScriptedViolation:
    """A policy violation reported on a given day (local time of day drawn by the generator)."""

    days_before_end: int
    kind: str
    severity: str = "medium"
    is_warning: bool = False


@dataclass(frozen=True)
class Story:
    """One scripted seller.

    Attributes
    ----------
    seller : int
        Seller number (1-based): the seller id is ``S`` followed by it, zero-padded.
    name : str
        Short name of the storyline.
    marketplace : str
        The seller's only marketplace.
    expect : str
        Lifecycle state expected at the evaluation right after the data (demo program).
    description : str
    orders_per_day : float
        Expected orders a day at the middle of the period (before weekday and season shape).
    growth : float
        Change of ln(volume) per year.
    registered_days_before_end : int
    quality : float
        Quality score of every dimension (the population is standard normal).
    quality_by_dimension : dict
        Overrides of ``quality`` for some dimensions.
    afn_share : float
        Share of orders fulfilled by the marketplace.
    feedback_share : float
        Share of orders that get seller feedback (the population's is 1–5 %; 3 % gives a large seller
        the 30 ratings in 90 days the demo program needs to judge satisfaction).
    episodes : tuple of Episode
    violations : tuple of ScriptedViolation
    """

    seller: int
    name: str
    marketplace: str
    expect: str
    description: str
    orders_per_day: float = 30.0
    growth: float = 0.0
    registered_days_before_end: int = 1500
    quality: float = STAR
    quality_by_dimension: dict[str, float] = field(default_factory=dict)
    afn_share: float = 0.2
    feedback_share: float = 0.03
    episodes: tuple[Episode, ...] = ()
    violations: tuple[ScriptedViolation, ...] = ()

    def z(self, dimension: str) -> float:
        """The base quality score of ``dimension``."""
        return self.quality_by_dimension.get(dimension, self.quality)


_ALL = DIMENSIONS
_ODR = ("cx", "ship", "deliv")  # what drives order defects: ratings and claims, late and lost parcels

DEMO_STORIES: tuple[Story, ...] = (
    Story(12, "star", "DE", "enrolled", "meets every bar throughout: enrolled from its first evaluation"),
    Story(
        25,
        "improver",
        "US",
        "enrolled",
        "an average seller who improves every dimension from 11 months before the end and is enrolled",
        quality=-0.3,
        episodes=(Episode(_ALL, 330, None, STAR + 0.3, ramp=60),),
    ),
    Story(
        33,
        "ip_complaint",
        "JP",
        "removed",
        "an enrolled star with a valid IP complaint 20 days before the end: removed at the last evaluation",
        violations=(ScriptedViolation(20, "ip_complaint", "high"),),
    ),
    Story(
        47,
        "warnings",
        "UK",
        "recovering",
        "an enrolled star who gets three account-health warnings within 65 days, removed at the "
        "evaluation after the third; stable again once the first one is 180 days old (35 days before the "
        "end), so recovering (45 stable days needed)",
        violations=(
            ScriptedViolation(215, "listing_policy", is_warning=True),
            ScriptedViolation(180, "restricted_product", is_warning=True),
            ScriptedViolation(150, "other", is_warning=True),
        ),
    ),
    Story(
        58,
        "at_risk",
        "FR",
        "at_risk",
        "an enrolled star whose order defect rate jumps in the last month: over the removal bar at one "
        "evaluation, so at risk (warned), not yet removed",
        episodes=(Episode(_ODR, 30, None, -5.0, ramp=2),),
    ),
    Story(
        70,
        "tracking_slip",
        "US",
        "enrolled",
        "an enrolled star whose valid tracking rate falls below 95 % for about 45 days a year before the "
        "end: removed, recovers for 45 days, re-admitted",
        episodes=(Episode(("track",), 395, 45, -5.5, ramp=5),),
    ),
    Story(
        80,
        "removed_odr",
        "US",
        "removed",
        "an enrolled star whose order defect rate rises for good 10 months before the end: at risk at one "
        "evaluation, removed at the next, never stable long enough to recover",
        episodes=(Episode(_ODR, 300, None, -4.5, ramp=10),),
    ),
    Story(
        91,
        "young_star",
        "JP",
        "not_eligible",
        "excellent and large, but registered 130 days before the end: tenure below 180 days",
        orders_per_day=30.0,
        registered_days_before_end=130,
    ),
    Story(
        104,
        "grower",
        "CA",
        "enrolled",
        "an excellent seller whose volume grows about elevenfold over two years and crosses the volume bar "
        "in the last months",
        orders_per_day=7.0,
        growth=1.2,
    ),
    Story(
        120,
        "odr_recovered",
        "DE",
        "enrolled",
        "an enrolled star whose order defect rate is high for about 75 days 14 months before the end: "
        "removed, recovers and is re-admitted",
        episodes=(Episode(_ODR, 430, 75, -4.5, ramp=10),),
    ),
    Story(
        140,
        "late_shipper",
        "DE",
        "candidate",
        "large and otherwise excellent, but hands parcels to the carrier late: eligible, not admitted",
        quality_by_dimension={"ship": -0.5},
    ),
    Story(
        150,
        "small_ip",
        "UK",
        "not_eligible",
        "a small seller with an IP complaint: below the volume bar, so outside the program anyway",
        orders_per_day=0.8,
        quality=0.0,
        violations=(ScriptedViolation(300, "ip_complaint", "high"),),
    ),
    Story(
        160,
        "small_warnings",
        "FR",
        "not_eligible",
        "a small seller with three warnings within 100 days: below the volume bar",
        orders_per_day=0.8,
        quality=0.0,
        violations=(
            ScriptedViolation(400, "listing_policy", is_warning=True),
            ScriptedViolation(350, "restricted_product", is_warning=True),
            ScriptedViolation(300, "other", is_warning=True),
        ),
    ),
)
