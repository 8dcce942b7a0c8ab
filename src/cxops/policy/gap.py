"""Exact "how far from flipping" arithmetic for criteria on integer counts.

The *gap* of a criterion is the smallest signed change ``k`` of the tested integer quantity that flips
the comparison ``x op threshold``:

- for a rate tested on its value, ``x`` is the numerator and the denominator stays the same, so the
  comparison is ``(n + k) / d op t``. For a defect rate below its bar, ``k > 0`` is the number of
  additional defective orders that would cross it ("2 more defective orders would take it above 0.6 %"); for a
  defect rate above its bar, ``k < 0`` is how many fewer defective orders (at the same volume) would
  pass. For an on-time rate below its bar (``>=``), ``k > 0`` is how many more on-time units (out of
  the same units) are needed; ``0 <= n + k <= d``.
- for a count (or a numerator/denominator test), ``x`` is the count itself and ``x + k >= 0``.

The threshold is taken as the exact decimal it was written as (``0.006`` is 3/500) and compared with
integer arithmetic, so strict and inclusive operators behave exactly at the threshold. No flip
possible (e.g. ``rate < 0`` can never hold) or operator ``==`` gives ``None`` (``pandas.NA`` in
arrays).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

#: Thresholds are turned into fractions with at most this denominator (exact for ≤ 9 decimals).
MAX_THRESHOLD_DENOMINATOR = 10**9


def threshold_fraction(threshold: float) -> tuple[int, int]:
    """The threshold as the exact decimal it was written as, ``(p, q)`` with ``q > 0``.

    >>> threshold_fraction(0.006)
    (3, 500)
    """
    f = Fraction(repr(float(threshold))).limit_denominator(MAX_THRESHOLD_DENOMINATOR)
    return f.numerator, f.denominator


def integer_gap(
    x: np.ndarray,
    bound_num: np.ndarray,
    bound_den: np.ndarray,
    operator: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> np.ndarray:
    """Vectorised gap of ``x op B`` with ``B = bound_num / bound_den``.

    Parameters
    ----------
    x : ndarray of int64, shape (n,)
        Current integer quantity.
    bound_num, bound_den : ndarray of int64, shape (n,)
        The bound as a fraction; ``bound_den > 0``.
    operator : ndarray of str, shape (n,)
        One of ``<``, ``<=``, ``>``, ``>=``, ``==`` per row.
    lo, hi : ndarray of float, shape (n,)
        Range ``x + k`` must stay in (``hi`` may be ``inf``).

    Returns
    -------
    ndarray of float, shape (n,)
        The signed gap ``k`` (an integer value), ``nan`` where no flip is possible or the operator is
        ``==``.
    """
    x = np.asarray(x, dtype=np.int64)
    num = np.asarray(bound_num, dtype=np.int64)
    den = np.asarray(bound_den, dtype=np.int64)
    op = np.asarray(operator, dtype=object)
    floor_b = num // den
    ceil_b = -((-num) // den)
    scaled = x * den  # x op B  <=>  x*den op num
    lt, le, gt, ge = scaled < num, scaled <= num, scaled > num, scaled >= num
    # Target x+k: the nearest integer on the other side of B.
    target = np.select(
        [
            (op == "<") & lt,
            (op == "<") & ~lt,
            (op == "<=") & le,
            (op == "<=") & ~le,
            (op == ">") & gt,
            (op == ">") & ~gt,
            (op == ">=") & ge,
            (op == ">=") & ~ge,
        ],
        [ceil_b, ceil_b - 1, floor_b + 1, floor_b, floor_b, floor_b + 1, ceil_b - 1, ceil_b],
        default=0,
    ).astype(np.float64)
    valid = np.isin(op, ["<", "<=", ">", ">="]) & (target >= lo) & (target <= hi)
    return np.where(valid, target - x, np.nan)


def numerator_gap(numerator: int, denominator: int, operator: str, threshold: float) -> int | None:
    """Signed change of the numerator, at the same denominator, that flips ``n / d op threshold``.

    Parameters
    ----------
    numerator, denominator : int
        Counts of the rate; ``0 <= numerator <= denominator``, ``denominator > 0``.
    operator : {"<", "<=", ">", ">="}
    threshold : float
        The rate bar as a fraction (0.006 = 0.6 %).

    Returns
    -------
    int or None
        ``k`` such that ``(n + k) / d`` is on the other side of the threshold and ``|k|`` is
        smallest; ``None`` when no ``0 <= n + k <= d`` flips it, or for ``==``.

    Raises
    ------
    ValueError
        If the denominator is not positive or the numerator is outside ``[0, denominator]``.

    Examples
    --------
    4 defective orders of 1000 pass ``> 0.006`` (no breach); 3 more would breach it:

    >>> numerator_gap(4, 1000, ">", 0.006)
    3
    >>> numerator_gap(940, 1000, ">=", 0.95)
    10
    """
    if denominator <= 0 or not 0 <= numerator <= denominator:
        raise ValueError(
            f"need 0 <= numerator <= denominator and denominator > 0, got {numerator}/{denominator}"
        )
    p, q = threshold_fraction(threshold)
    k = integer_gap(
        np.array([numerator]),
        np.array([p * denominator]),
        np.array([q]),
        np.array([operator], dtype=object),
        np.array([0.0]),
        np.array([float(denominator)]),
    )[0]
    return None if np.isnan(k) else int(k)


def count_gap(count: int, operator: str, threshold: float) -> int | None:
    """Signed change of a non-negative count that flips ``count op threshold``.

    >>> count_gap(4, "<=", 3)
    -1
    >>> count_gap(80, ">=", 100)
    20
    """
    if count < 0:
        raise ValueError(f"count must be non-negative, got {count}")
    p, q = threshold_fraction(threshold)
    k = integer_gap(
        np.array([count]),
        np.array([p]),
        np.array([q]),
        np.array([operator], dtype=object),
        np.array([0.0]),
        np.array([np.inf]),
    )[0]
    return None if np.isnan(k) else int(k)
