"""The lifecycle state machine applied to every seller at once (numpy arrays, no loop over sellers).

:mod:`cxops.lifecycle.machine` states the rules for one seller (:func:`~cxops.lifecycle.machine.step`,
:func:`~cxops.lifecycle.machine.day_step`); this module applies exactly those rules to all sellers of an
evaluation in array operations, and the daily recovery check to all removed / recovering sellers over
all days of a period at once (a running streak per seller from a cumulative maximum). The tests compare
it with the per-seller functions on generated histories.

Reasons are kept as references (key, evaluation, seller, which findings, numbers) while the replay runs
and turned into text and JSON params only at the end, by :meth:`Batch.render`, with the same functions
the per-seller machine uses — for every status row, or only for the rows someone will read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from cxops.lifecycle.decisions import (
    ADMISSION,
    ELIGIBILITY,
    MET,
    NOT_MET,
    Decisions,
)
from cxops.lifecycle.evaluation import _records, finding_from_row
from cxops.lifecycle.machine import LifecycleState, SellerState
from cxops.lifecycle.reasons import Reason, with_criteria
from cxops.policy.evaluate import KEYS, RESULT_COLUMNS
from cxops.policy.model import Policy

#: State codes: position in this tuple.
STATES = tuple(LifecycleState)
NE, CAND, ENR, AR, REM, REC = (STATES.index(s) for s in STATES)

#: Reason keys by code (the keys of :data:`cxops.lifecycle.reasons.LIFECYCLE_TEMPLATES`).
REASON_KEYS = (
    "new",
    "not_eligible",
    "admitted",
    "admission_not_met",
    "admission_insufficient",
    "remains_enrolled",
    "at_risk",
    "breach_cleared",
    "removed_breach",
    "removed_consecutive",
    "removed_ineligible",
    "recovering",
    "recovery_reset",
    "recovered",
    "standing_met",
    "standing_not_met",
    "standing_insufficient",
)
_K = {k: i for i, k in enumerate(REASON_KEYS)}
#: Keys whose params list criteria, and which findings: eligibility, admission or removal rules.
_FROM_ELIGIBILITY = {_K["not_eligible"], _K["removed_ineligible"]}
_FROM_ADMISSION = {
    _K["admission_not_met"],
    _K["admission_insufficient"],
    _K["standing_not_met"],
    _K["standing_insufficient"],
}
_FROM_RULES = {_K["at_risk"], _K["removed_breach"], _K["removed_consecutive"]}

_NAT = np.datetime64("NaT", "D")


def _day(d: date) -> np.datetime64:
    return np.datetime64(d, "D")


@dataclass
class _Refs:
    """Growable per-seller arrays."""

    state: np.ndarray
    since: np.ndarray
    counts: np.ndarray
    streak: np.ndarray
    reason: np.ndarray  # reason id (row of Batch._reasons)
    key: np.ndarray  # reason key code of that reason
    reval: np.ndarray  # evaluation whose findings that reason lists (-1: none)


class Batch:
    """Lifecycle states of all sellers, advanced one evaluation (or one recovery period) at a time.

    Parameters
    ----------
    policy : Policy
    initial : mapping, optional
        ``(seller_id, marketplace_id) -> SellerState`` to start from.
    keep : {"all", "latest"}
        Findings kept for rendering reasons: of every evaluation, or only those the current reasons
        and the latest evaluation need (bounded memory with millions of sellers).
    """

    def __init__(
        self, policy: Policy, initial: Mapping[tuple[str, str], SellerState] | None = None, keep: str = "all"
    ):
        self.policy = policy
        self.keep = keep
        self.rules = list(policy.removal.rules)
        self.consecutive = np.array([r.consecutive for r in self.rules], np.int64)
        self.standing = policy.lifecycle == "standing"
        self.stable = policy.recovery.stable_days
        self.lag = timedelta(days=policy.cadence.metrics_lag_days)
        self.sellers = np.zeros(0, object)
        self.markets = np.zeros(0, object)
        r = len(self.rules)
        self.s = _Refs(
            np.zeros(0, np.int8),
            np.zeros(0, "datetime64[D]"),
            np.zeros((0, r), np.int64),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
        )
        # reason table, one row per reason set: key code, evaluation, seller, rules mask, count, streak, day
        self._reason_cols: dict[str, list[np.ndarray]] = {k: [] for k in _REASON_FIELDS}
        self._n_reasons = 0
        self._reason_starts: list[int] = []
        self._findings: dict[int, pd.DataFrame] = {}  # evaluation number -> findings with a "sid"
        self._prerendered: dict[int, Reason] = {}
        self._events: list[pd.DataFrame] = []
        self.n_evaluations = 0
        self._last: tuple[pd.DataFrame, np.ndarray] | None = None
        if initial:
            self._seed(initial)

    # -- sellers ---------------------------------------------------------------------------------------

    def _lookup(
        self, sellers: np.ndarray, markets: np.ndarray, among: np.ndarray | None = None
    ) -> np.ndarray:
        """Global ids of ``(sellers, markets)`` keys, -1 where unknown (or not in ``among``, a subset of
        global ids). Keys are matched by factorising both sides together (hashing Python objects, no
        string building)."""
        known = np.arange(len(self.sellers)) if among is None else np.asarray(among, np.int64)
        if len(known) == 0 or len(sellers) == 0:
            return np.full(len(sellers), -1, np.int64)
        k_s, k_m = self.sellers[known], self.markets[known]
        q_s, q_m = np.asarray(sellers, object), np.asarray(markets, object)
        s_codes = pd.factorize(np.concatenate([k_s, q_s]))[0].astype(np.int64)
        m_codes = pd.factorize(np.concatenate([k_m, q_m]))[0].astype(np.int64)
        code = s_codes * (int(m_codes.max(initial=0)) + 1) + m_codes
        pos = pd.Index(code[: len(known)]).get_indexer(code[len(known) :])
        return np.where(pos >= 0, known[np.maximum(pos, 0)], -1)

    def _positions(self, sellers: np.ndarray, markets: np.ndarray, since: date | None) -> np.ndarray:
        """Global seller ids of these keys; unknown keys are added as ``not_eligible`` since ``since``."""
        sid = self._lookup(sellers, markets)
        new = np.flatnonzero(sid < 0)
        if len(new):
            start = len(self.sellers)
            sid[new] = np.arange(start, start + len(new))
            self.sellers = np.concatenate([self.sellers, np.asarray(sellers, object)[new]])
            self.markets = np.concatenate([self.markets, np.asarray(markets, object)[new]])
            k = len(new)
            self.s.state = np.concatenate([self.s.state, np.full(k, NE, np.int8)])
            self.s.since = np.concatenate([self.s.since, np.full(k, _day(since) if since else _NAT)])
            self.s.counts = np.concatenate([self.s.counts, np.zeros((k, len(self.rules)), np.int64)])
            self.s.streak = np.concatenate([self.s.streak, np.zeros(k, np.int64)])
            self.s.reason = np.concatenate([self.s.reason, self._add_reasons(np.full(k, _K["new"]))])
            self.s.key = np.concatenate([self.s.key, np.full(k, _K["new"], np.int64)])
            self.s.reval = np.concatenate([self.s.reval, np.full(k, -1, np.int64)])
        return sid

    def _seed(self, initial: Mapping[tuple[str, str], SellerState]) -> None:
        states = list(initial.values())
        sid = self._positions(
            np.array([s.seller_id for s in states], object),
            np.array([s.marketplace_id for s in states], object),
            None,
        )
        self.s.state[sid] = [STATES.index(s.state) for s in states]
        self.s.since[sid] = [_day(s.since) if s.since else _NAT for s in states]
        self.s.streak[sid] = [s.recovery_streak for s in states]
        for j, r in enumerate(self.rules):
            self.s.counts[sid, j] = [s.breach_counts.get(r.id, 0) for s in states]
        ids = self._add_reasons(np.zeros(len(states), np.int64))
        for i, s in zip(ids.tolist(), states, strict=True):
            self._prerendered[i] = s.reason or Reason("new")
        self.s.reason[sid] = ids
        self.s.key[sid] = [_K.get((s.reason or Reason("new")).key, 0) for s in states]

    # -- reasons ---------------------------------------------------------------------------------------

    def _add_reasons(self, key: np.ndarray, **fields: Any) -> np.ndarray:
        n = len(key)
        cols = {"key": key, **fields}
        for name, default in _REASON_FIELDS.items():
            value = cols.get(name, default)
            self._reason_cols[name].append(
                np.broadcast_to(np.asarray(value, dtype=_REASON_DTYPES[name]), n).copy()
            )
        ids = np.arange(self._n_reasons, self._n_reasons + n)
        self._reason_starts.append(self._n_reasons)
        self._n_reasons += n
        return ids

    def _reason_table(self, ids: np.ndarray | None = None) -> pd.DataFrame:
        """Rows ``ids`` (sorted, unique; default all) of the reason table, gathered chunk by chunk."""
        if ids is None:
            return pd.DataFrame(
                {k: np.concatenate(v) if v else np.zeros(0) for k, v in self._reason_cols.items()}
            )
        starts = np.asarray(self._reason_starts, np.int64)
        chunk = np.searchsorted(starts, ids, side="right") - 1
        cuts = np.flatnonzero(np.diff(chunk)) + 1
        out: dict[str, list[np.ndarray]] = {k: [] for k in self._reason_cols}
        for part in np.split(np.arange(len(ids)), cuts):
            if not len(part):
                continue
            c = int(chunk[part[0]])
            local = ids[part] - starts[c]
            for k, v in self._reason_cols.items():
                out[k].append(v[c][local])
        return pd.DataFrame(
            {k: np.concatenate(v) if v else np.zeros(0, _REASON_DTYPES[k]) for k, v in out.items()}, index=ids
        )

    # -- one evaluation --------------------------------------------------------------------------------

    def _same_keys(self, keys: pd.DataFrame) -> np.ndarray | None:
        """The seller ids of the previous evaluation when ``keys`` lists the same sellers in the same
        order (the usual case; compared column-wise, without Python objects)."""
        if self._last is None or len(self._last[0]) != len(keys):
            return None
        prev = self._last[0]
        for c in KEYS:
            if not keys[c].reset_index(drop=True).equals(prev[c]):
                return None
        return self._last[1]

    def evaluate(self, dec: Decisions, when: date) -> None:
        """Apply one evaluation (:func:`cxops.lifecycle.machine.step` for every seller in ``dec``)."""
        e = self.n_evaluations
        self.n_evaluations += 1
        if len(dec.keys) == 0:
            return
        sid = self._same_keys(dec.keys)
        if sid is None:
            sid = self._positions(
                dec.keys["seller_id"].to_numpy(object), dec.keys["marketplace_id"].to_numpy(object), when
            )
            self._last = (dec.keys[KEYS].reset_index(drop=True), sid)
        default_as_of = _day(when - self.lag)
        as_of = pd.to_datetime(pd.Series(dec.keys["as_of"]), errors="coerce").to_numpy("datetime64[D]")
        as_of = np.where(np.isnat(as_of), default_as_of, as_of)
        old = self.s.state[sid].copy()
        n, r = len(sid), len(self.rules)
        elig, adm, breached = dec.eligibility, dec.admission, dec.breached
        new = old.copy()
        key = np.full(n, -1, np.int64)  # -1: reason unchanged
        mask = np.zeros(n, np.int64)  # rules whose findings the reason lists
        count = np.zeros(n, np.int64)
        rule = np.full(n, -1, np.int64)  # deciding removal rule
        counts = self.s.counts[sid].copy()
        streak = self.s.streak[sid].copy()
        bits = np.int64(1) << np.arange(r, dtype=np.int64)

        if self.standing:
            judged = np.ones(n, bool)
            new = np.select([elig != MET, adm == MET, adm == NOT_MET], [NE, ENR, AR], CAND).astype(np.int8)
            key = np.select(
                [elig != MET, adm == MET, adm == NOT_MET],
                [_K["not_eligible"], _K["standing_met"], _K["standing_not_met"]],
                _K["standing_insufficient"],
            )
        else:
            entry = (old == NE) | (old == CAND)
            member = (old == ENR) | (old == AR)
            judged = entry | member
            # entry: eligibility, then admission
            e_new = np.select([elig != MET, adm == MET], [NE, ENR], CAND)
            e_key = np.select(
                [elig != MET, adm == MET, adm == NOT_MET],
                [_K["not_eligible"], _K["admitted"], _K["admission_not_met"]],
                _K["admission_insufficient"],
            )
            # members: consecutive breach counts per rule, removal, warning
            grown = np.where(breached, counts + 1, 0)
            removing = grown >= self.consecutive[None, :]
            any_removing, first_removing = _first_true(removing)
            any_breach, first_breach = _first_true(grown > 0)
            ineligible = elig != MET
            m_new = np.select([ineligible, any_removing, any_breach], [REM, REM, AR], ENR)
            consec_first = self.consecutive[np.maximum(first_removing, 0)] if r else np.zeros(n, np.int64)
            m_key = np.select(
                [ineligible, any_removing & (consec_first > 1), any_removing, any_breach, old == AR],
                [
                    _K["removed_ineligible"],
                    _K["removed_consecutive"],
                    _K["removed_breach"],
                    _K["at_risk"],
                    _K["breach_cleared"],
                ],
                _K["remains_enrolled"],
            )
            m_rule = np.select([ineligible, any_removing, any_breach], [-1, first_removing, first_breach], -1)
            m_mask = np.select(
                [ineligible, any_removing, any_breach],
                [0, (removing * bits).sum(axis=1) if r else 0, (np.int64(1) << np.maximum(first_breach, 0))],
                0,
            )
            m_count = np.where(
                any_breach & ~any_removing & ~ineligible,
                grown[np.arange(n), np.maximum(first_breach, 0)] if r else 0,
                0,
            )
            m_counts = np.where((any_breach & ~any_removing & ~ineligible)[:, None], grown, 0)
            new = np.select([entry, member], [e_new, m_new], old).astype(np.int8)
            key = np.select([entry, member], [e_key, m_key], -1)
            rule = np.where(member, m_rule, -1)
            mask = np.where(member, m_mask, 0)
            count = np.where(member, m_count, 0)
            counts = np.where(entry[:, None], 0, np.where(member[:, None], m_counts, counts))
            streak = np.where(judged, 0, streak)
            # at_risk lists every breached rule, removal the removing ones
            consec = np.where(rule >= 0, self.consecutive[np.maximum(rule, 0)] if r else 0, 0)
            rules_mask = np.where(key == _K["at_risk"], ((grown > 0) * bits).sum(axis=1) if r else 0, mask)
            self._set(sid, judged, new, key, when, e, count, consec, rules_mask, mask, streak, counts)
            self._record_events(sid, judged, old, new, key, when, as_of, e, dec, rule)
            return
        self._set(
            sid,
            judged,
            new,
            key,
            when,
            e,
            count,
            np.zeros(n, np.int64),
            np.zeros(n, np.int64),
            np.zeros(n, np.int64),
            streak,
            counts,
        )
        self._record_events(sid, judged, old, new, key, when, as_of, e, dec, rule)

    def _set(self, sid, judged, new, key, when, e, count, consec, rules_mask, mask, streak, counts) -> None:
        j = np.flatnonzero(judged)
        g = sid[j]
        old = self.s.state[g]
        changed = new[j] != old
        self.s.since[g] = np.where(changed | np.isnat(self.s.since[g]), _day(when), self.s.since[g])
        self.s.state[g] = new[j]
        self.s.counts[sid] = counts
        self.s.streak[sid] = streak
        self.s.reason[g] = self._add_reasons(
            key[j],
            evaluation=e,
            sid=g,
            rules=rules_mask[j],
            findings=mask[j],
            count=count[j],
            consecutive=consec[j],
        )
        self.s.key[g] = key[j]
        self.s.reval[g] = e

    def _record_events(self, sid, judged, old, new, key, when, as_of, e, dec, rule) -> None:
        j = np.flatnonzero(judged & (new != old))
        if not len(j):
            self._keep_findings(e, dec, sid)
            return
        g = sid[j]
        k = key[j]
        # the deciding finding: the first of eligibility / admission / the deciding rule
        part = np.select(
            [np.isin(k, list(_FROM_ELIGIBILITY)), np.isin(k, list(_FROM_ADMISSION)), rule[j] >= 0],
            [ELIGIBILITY, ADMISSION, rule[j]],
            -9,
        )
        f = dec.findings
        row = np.full(len(j), -1, np.int64)
        if len(f):
            # first finding row of each (seller, part), looked up with integer keys
            width = len(self.rules) + 3
            f_key = f["pos"].to_numpy(np.int64) * width + (f["part"].to_numpy(np.int64) + 2)
            uniq, first = np.unique(f_key, return_index=True)
            want = j.astype(np.int64) * width + (part + 2)
            at = np.clip(np.searchsorted(uniq, want), 0, len(uniq) - 1)
            hit = (uniq[at] == want) & (part != -9)
            row[hit] = first[at[hit]]
        found = _finding_columns(f, row)
        rule_ids = np.array([r.id for r in self.rules] + [None], object)
        found["rule_id"] = np.where(rule[j] >= 0, rule_ids[rule[j]], found["rule_id"])
        self._events.append(
            pd.DataFrame(
                {
                    "sid": g,
                    "date": _day(when),
                    "from_state": old[j],
                    "to_state": new[j],
                    "as_of": as_of[j],
                    "reason": self.s.reason[g],
                    **{c: pd.Series(v, dtype=object) for c, v in found.items()},
                }
            )
        )
        self._keep_findings(e, dec, sid)

    def _keep_findings(self, e: int, dec: Decisions, sid: np.ndarray) -> None:
        """Keep this evaluation's findings (for rendering reasons later); with ``keep="latest"``, keep
        of earlier evaluations only the rows of sellers whose current reason still lists them."""
        if self.keep == "latest":
            listing = np.isin(self.s.key, list(_FROM_ELIGIBILITY | _FROM_ADMISSION | _FROM_RULES))
            for old in list(self._findings):
                f = self._findings[old]
                if len(f):
                    fs = f["sid"].to_numpy(np.int64)
                    self._findings[old] = f[(self.s.reval[fs] == old) & listing[fs]]
        f = dec.findings
        self._findings[e] = f.assign(sid=sid[f["pos"].to_numpy(np.int64)]) if len(f) else f.assign(sid=[])

    # -- daily recovery check --------------------------------------------------------------------------

    def out_of_program(self) -> pd.DataFrame:
        """``seller_id, marketplace_id`` of the sellers currently removed or recovering."""
        m = (self.s.state == REM) | (self.s.state == REC)
        return pd.DataFrame({"seller_id": self.sellers[m], "marketplace_id": self.markets[m]})

    def recover(self, admission: pd.DataFrame, start: date, end: date) -> None:
        """Daily recovery check on days ``start..end`` (:func:`cxops.lifecycle.machine.day_step`).

        Parameters
        ----------
        admission : DataFrame
            ``seller_id, marketplace_id, day, admission_met``; a missing day counts as not met.
        """
        out = np.flatnonzero((self.s.state == REM) | (self.s.state == REC))
        if not len(out) or end < start:
            return
        n_days = (end - start).days + 1
        met = np.zeros((len(out), n_days), bool)
        if admission is not None and len(admission):
            a = admission.loc[admission["admission_met"].fillna(False).astype(bool), [*KEYS, "day"]]
            who = pd.DataFrame({"seller_id": self.sellers[out], "marketplace_id": self.markets[out]})
            who = who.astype({c: a[c].dtype for c in KEYS}).assign(_row=np.arange(len(out)))
            a = a.merge(who, on=KEYS, how="inner")  # a join: no Python objects per admission row
            row = a["_row"].to_numpy(np.int64)
            col = (pd.to_datetime(a["day"]).to_numpy("datetime64[D]") - _day(start)).astype(np.int64)
            ok = (col >= 0) & (col < n_days)
            met[row[ok], col[ok]] = True
        s0 = self.s.streak[out]
        t = np.arange(n_days)
        # streak on day t: days since the last not-met day (a run continuing the current streak)
        last_miss = np.maximum.accumulate(np.where(met, -1 - s0[:, None], t[None, :]), axis=1)
        last_miss = np.maximum(last_miss, (-1 - s0)[:, None])
        streak = t[None, :] - last_miss
        done = streak >= self.stable
        recovered = done.any(axis=1)
        stop = np.where(recovered, done.argmax(axis=1), n_days - 1)  # last day judged
        live = t[None, :] <= stop[:, None]
        # the state on each day while out of the program: recovering on a streak, else removed
        state_day = np.where(streak > 0, REC, REM)
        state_day = np.where(done, CAND, state_day)
        prev = np.concatenate([self.s.state[out][:, None], state_day[:, :-1]], axis=1)
        change = live & (state_day != prev)
        rows, days = np.nonzero(change)
        if len(rows):
            to = state_day[rows, days]
            key = np.select(
                [to == CAND, to == REC], [_K["recovered"], _K["recovering"]], _K["recovery_reset"]
            )
            day = _day(start) + days.astype("timedelta64[D]")
            ids = self._add_reasons(
                key, sid=out[rows], streak=np.where(to == REM, 0, streak[rows, days]), day=day
            )
            self._events.append(
                pd.DataFrame(
                    {
                        "sid": out[rows],
                        "date": day,
                        "from_state": prev[rows, days],
                        "to_state": to,
                        "as_of": day - np.timedelta64(self.lag.days, "D"),
                        "reason": ids,
                        **{
                            c: pd.Series(np.full(len(rows), None, object), dtype=object)
                            for c in _FINDING_COLUMNS
                        },
                    }
                )
            )
        # end of the period: state, streak and reason of the last judged day
        last = stop
        final_state = state_day[np.arange(len(out)), last]
        final_streak = np.where(final_state == CAND, 0, streak[np.arange(len(out)), last])
        # the reason is refreshed on every met day (recovering, with its streak) and on state changes
        met_last = met[np.arange(len(out)), last] | (final_state == CAND)
        changed_any = change.any(axis=1)
        refresh = met_last | changed_any
        if refresh.any():
            i = np.flatnonzero(refresh)
            fs = final_state[i]
            key = np.select(
                [fs == CAND, met_last[i]], [_K["recovered"], _K["recovering"]], _K["recovery_reset"]
            )
            # a change day's reason row already exists for the last change; reuse it when it is the last day
            day = _day(start) + last[i].astype("timedelta64[D]")
            # recovery_reset names the day of the reset: the last change to removed
            reset_day = np.where(change & (state_day == REM), t[None, :], -1).max(axis=1)[i]
            day = np.where(
                key == _K["recovery_reset"],
                _day(start) + np.maximum(reset_day, 0).astype("timedelta64[D]"),
                day,
            )
            ids = self._add_reasons(
                key,
                sid=out[i],
                streak=np.where(
                    key == _K["recovering"],
                    streak[i, last[i]],
                    np.where(key == _K["recovered"], streak[i, last[i]], 0),
                ),
                day=day,
            )
            self.s.reason[out[i]] = ids
            self.s.key[out[i]] = key
            self.s.reval[out[i]] = -1
        changed_since = np.where(change, t[None, :], -1).max(axis=1)
        has_change = changed_since >= 0
        self.s.since[out[has_change]] = _day(start) + changed_since[has_change].astype("timedelta64[D]")
        self.s.state[out] = final_state
        self.s.streak[out] = final_streak

    # -- outputs ---------------------------------------------------------------------------------------

    @property
    def n_reasons(self) -> int:
        """Number of reasons set so far."""
        return self._n_reasons

    def position(self, seller_id: str, marketplace_id: str) -> int:
        """Global id of a seller (-1 if unknown)."""
        return int(self._lookup(np.array([seller_id], object), np.array([marketplace_id], object))[0])

    def reason_keys(self, codes: np.ndarray) -> np.ndarray:
        """Reason key (str) of each reason key code."""
        return np.array(REASON_KEYS, object)[np.asarray(codes, np.int64)]

    def reason_key_of(self, ids: np.ndarray) -> np.ndarray:
        """Reason key (str) of each reason id (from the reason table)."""
        ids = np.asarray(ids, np.int64)
        uniq, inverse = np.unique(ids, return_inverse=True)
        return self.reason_keys(self._reason_table(uniq)["key"].to_numpy(np.int64)[inverse])

    def snapshot(self) -> dict[str, np.ndarray]:
        """Copies of the per-seller arrays (one status row per known seller)."""
        return {
            "sid": np.arange(len(self.sellers), dtype=np.int32 if len(self.sellers) < 2**31 else np.int64),
            "state": self.s.state.copy(),
            "since": self.s.since.copy(),
            "recovery_streak": self.s.streak.astype(np.int32),
            "counts": self.s.counts.astype(np.int16),  # consecutive evaluations: small
            "reason": self.s.reason.copy(),
            "key": self.s.key.astype(np.int8),
        }

    def events(self) -> pd.DataFrame:
        """Every state change so far (one row per event; ``reason`` is a reason id)."""
        if not self._events:
            return pd.DataFrame(
                columns=["sid", "date", "from_state", "to_state", "as_of", "reason", *_FINDING_COLUMNS]
            )
        return pd.concat(self._events, ignore_index=True)

    def render(self, ids: np.ndarray) -> pd.DataFrame:
        """Reason text, key and JSON params of the given reason ids (same as the per-seller machine).

        Returns
        -------
        DataFrame
            Indexed by reason id: ``reason, reason_key, reason_params``.
        """
        ids = np.unique(np.asarray(ids, np.int64))
        ids = ids[ids >= 0]
        table = self._reason_table(ids)
        findings = self._gather_findings(table)
        rows = []
        simple: dict[tuple, tuple[str, str, str]] = {}  # reasons without criteria repeat: render once
        listing = _FROM_ELIGIBILITY | _FROM_ADMISSION | _FROM_RULES
        for rid, key, e, sid, rules, fmask, count, consec, streak, day in zip(
            ids.tolist(),
            table["key"].tolist(),
            table["evaluation"].tolist(),
            table["sid"].tolist(),
            table["rules"].tolist(),
            table["findings"].tolist(),
            table["count"].tolist(),
            table["consecutive"].tolist(),
            table["streak"].tolist(),
            table["day"].tolist(),
            strict=True,
        ):
            if rid in self._prerendered:
                reason = self._prerendered[rid]
            elif key not in listing:
                memo = (key, streak, day)
                if memo not in simple:
                    r = self._reason(key, (), rules, fmask, count, consec, streak, day)
                    simple[memo] = (r.text(), r.key, r.params_json())
                rows.append((rid, *simple[memo]))
                continue
            else:
                reason = self._reason(
                    key, findings.get((e, sid), ()), rules, fmask, count, consec, streak, day
                )
            rows.append((rid, reason.text(), reason.key, reason.params_json()))
        out = pd.DataFrame(rows, columns=["id", "reason", "reason_key", "reason_params"], dtype=object)
        return out.set_index(out["id"].astype(np.int64)).drop(columns="id")

    def _gather_findings(self, table: pd.DataFrame) -> dict[tuple[int, int], list[tuple[int, Any]]]:
        out: dict[tuple[int, int], list[tuple[int, Any]]] = {}
        needs = table[table["key"].isin(list(_FROM_ELIGIBILITY | _FROM_ADMISSION | _FROM_RULES))]
        for e, group in needs.groupby("evaluation"):
            f = self._findings.get(int(e))
            if f is None or not len(f):
                continue
            f = f[f["sid"].isin(group["sid"].to_numpy())]
            for row, part, sid in zip(
                _records(f, RESULT_COLUMNS), f["part"].tolist(), f["sid"].tolist(), strict=True
            ):
                out.setdefault((int(e), sid), []).append((part, row))
        return out

    def _reason(self, key, findings, rules, fmask, count, consec, streak, day) -> Reason:
        name = REASON_KEYS[key]
        stable = self.stable
        if key in _FROM_ELIGIBILITY or key in _FROM_ADMISSION:
            part = ELIGIBILITY if key in _FROM_ELIGIBILITY else ADMISSION
            return with_criteria(name, [finding_from_row(r).reason for p, r in findings if p == part])
        if key in _FROM_RULES:
            chosen = [j for j in range(len(self.rules)) if fmask >> j & 1]
            rows = [finding_from_row(r).reason for j in chosen for p, r in findings if p == j]
            listed = [self.rules[j].id for j in range(len(self.rules)) if rules >> j & 1]
            if key == _K["at_risk"]:
                return with_criteria(name, rows, count=count, consecutive=consec, rules=listed)
            return with_criteria(name, rows, consecutive=consec, rules=listed)
        if key in (_K["recovering"], _K["recovered"]):
            return Reason(name, {"stable_days": stable, "streak": streak})
        if key == _K["recovery_reset"]:
            d = pd.Timestamp(day).date().isoformat()
            return Reason(name, {"day": d, "stable_days": stable, "streak": 0})
        return Reason(name)


_FINDING_COLUMNS = ("rule_id", "metric", "value", "threshold", "operator", "window_days")


def _finding_columns(f: pd.DataFrame, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Per entry of ``rows`` (positions in findings frame ``f``, -1 for none): ``rule_id`` (rule or
    criterion id), ``metric``, ``value`` (the tested quantity), ``threshold``, ``operator``,
    ``window_days`` as object arrays, None where there is no finding."""
    n = len(rows)
    out = {c: np.full(n, None, object) for c in _FINDING_COLUMNS}
    at = np.flatnonzero(rows >= 0)
    if not len(at):
        return out
    f = f.iloc[rows[at]]
    crit = f["criterion_id"].to_numpy(object)
    rule = f["rule_id"].to_numpy(object, na_value=None)
    out["rule_id"][at] = np.where(pd.isna(rule), crit, rule)
    test = f["test"].fillna("value").to_numpy(object)
    num, den, val = (f[c].to_numpy(float, na_value=np.nan) for c in ("numerator", "denominator", "value"))
    out["value"][at] = _nullable(
        np.where(test == "numerator", num, np.where(test == "denominator", den, val))
    )
    out["threshold"][at] = _nullable(f["threshold"].to_numpy(float, na_value=np.nan))
    window = f["window_days"].to_numpy(float, na_value=np.nan)
    out["window_days"][at] = [None if w != w else int(w) for w in window.tolist()]
    for c in ("metric", "operator"):
        out[c][at] = f[c].to_numpy(object, na_value=None)
    return out


def _nullable(x: np.ndarray) -> np.ndarray:
    """Floats as an object array of Python floats, NaN as None."""
    out = x.astype(object)
    out[np.isnan(x)] = None
    return out


def _first_true(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: whether any column is true, and the first true column (-1 if none)."""
    if m.shape[1] == 0:
        return np.zeros(len(m), bool), np.full(len(m), -1, np.int64)
    anyt = m.any(axis=1)
    return anyt, np.where(anyt, m.argmax(axis=1), -1)


_REASON_FIELDS: dict[str, Any] = {
    "key": 0,
    "evaluation": -1,
    "sid": -1,
    "rules": 0,
    "findings": 0,
    "count": 0,
    "consecutive": 0,
    "streak": 0,
    "day": _NAT,
}
_REASON_DTYPES: dict[str, Any] = {
    "key": np.int8,
    "evaluation": np.int32,
    "sid": np.int64,
    "rules": np.int64,
    "findings": np.int64,
    "count": np.int32,
    "consecutive": np.int32,
    "streak": np.int32,
    "day": "datetime64[D]",
}


def breach_counts_json(counts: np.ndarray, rules: list[str]) -> np.ndarray:
    """``breach_counts`` JSON per row (rules at 0 omitted, keys sorted), as the per-seller machine has it.

    Parameters
    ----------
    counts : ndarray of int, shape (rows, rules)
        Consecutive breached evaluations per removal rule.
    rules : list of str
        Rule ids, in the column order of ``counts``.
    """
    out = np.full(len(counts), "{}", object)
    nz = np.flatnonzero(counts.any(axis=1)) if counts.size else np.zeros(0, np.int64)
    for i in nz.tolist():
        out[i] = json.dumps({rules[j]: int(c) for j, c in enumerate(counts[i]) if c}, sort_keys=True)
    return out
