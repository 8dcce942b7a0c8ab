"""The lifecycle rules applied to every seller at once (numpy arrays, no loop over sellers).

The rules are the tables of :mod:`cxops.lifecycle.table`, which :mod:`cxops.lifecycle.machine` applies
to one seller. This module computes the same facts for all sellers of an evaluation as arrays, picks each
seller's row with the same :func:`~cxops.lifecycle.table.decide`, and applies the row's effects in array
operations; the daily recovery check runs for all removed / recovering sellers over all days of a period
at once (a running streak per seller from a cumulative maximum, the :data:`~cxops.lifecycle.table.DAILY`
rows giving each day's reason). Operator actions, a handful per day, are applied one by one with the
per-seller :func:`cxops.lifecycle.actions.apply_action`. The tests compare it with the per-seller
functions on generated histories.

Reasons are kept as references (key, evaluation, seller, which findings, numbers) while the replay runs
and turned into text and JSON params only at the end, by :meth:`Batch.render`, with the same
:func:`~cxops.lifecycle.reasons.make_reason` the per-seller machine uses — for every status row, or only
for the rows someone will read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from cxops.lifecycle.actions import Action, apply_action
from cxops.lifecycle.decisions import (
    ADMISSION,
    ELIGIBILITY,
    ENFORCEMENT,
    MET,
    NOT_MET,
    Decisions,
    Findings,
    alert_part,
)
from cxops.lifecycle.evaluation import _records
from cxops.lifecycle.machine import SellerState
from cxops.lifecycle.reasons import Reason, make_reason
from cxops.lifecycle.states import CODE, MEMBERS, STATES, LifecycleState
from cxops.lifecycle.table import (
    ALERT,
    DAILY,
    EVENT_KINDS,
    REASON_CODE,
    REASON_KEYS,
    REASONS,
    SOURCES,
    TRANSITION,
    alert_crossings,
    apply_provisional,
    decide,
    evaluation_rows,
)
from cxops.policy.evaluate import KEYS
from cxops.policy.explain import REASON_COLUMNS, criterion_reason
from cxops.policy.model import Policy

S = LifecycleState
NE, CAND, ENR, AR, REM, REC, SUSP, IMM, BLK = (CODE[s] for s in STATES)
_IS_MEMBER = np.array([s in MEMBERS for s in STATES], bool)  # by state code
_K = REASON_CODE
#: Per reason key code: where its criteria come from (index in SOURCES, -1: none), which date is `until`
#: (0 none, 1 immune, 2 exempt).
_SOURCE = np.array(
    [SOURCES.index(REASONS[k].lists) if REASONS[k].lists else -1 for k in REASON_KEYS], np.int64
)
_UNTIL = np.array([{None: 0, "immune": 1, "exempt": 2}[REASONS[k].until] for k in REASON_KEYS], np.int64)
_SRC = {name: i for i, name in enumerate(SOURCES)}
_LISTING = np.flatnonzero(_SOURCE >= 0)
_KIND = {k: i for i, k in enumerate(EVENT_KINDS)}
#: Part of the deciding finding per fixed source (the rule-based ones are computed per seller).
_FIXED_PART = {
    _SRC["eligibility"]: ELIGIBILITY,
    _SRC["admission"]: ADMISSION,
    _SRC["enforcement"]: ENFORCEMENT,
}
_ALERT_SOURCES = (_SRC["alert"], _SRC["alert_new"])

_NAT = np.datetime64("NaT", "D")


def _day(d: date | None) -> np.datetime64:
    return np.datetime64(d, "D") if d is not None else _NAT


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
    repeats: np.ndarray
    alerts: np.ndarray  # bitmask of rules at their alert level at the last assessment
    exempt: np.ndarray  # exempt_until
    immune: np.ndarray  # immune_until

    def grow(self, k: int, r: int, since: np.datetime64, reason: np.ndarray) -> None:
        self.state = np.concatenate([self.state, np.full(k, NE, np.int8)])
        self.since = np.concatenate([self.since, np.full(k, since)])
        self.counts = np.concatenate([self.counts, np.zeros((k, r), np.int64)])
        self.streak = np.concatenate([self.streak, np.zeros(k, np.int64)])
        self.reason = np.concatenate([self.reason, reason])
        self.key = np.concatenate([self.key, np.full(k, _K["new"], np.int64)])
        self.reval = np.concatenate([self.reval, np.full(k, -1, np.int64)])
        self.repeats = np.concatenate([self.repeats, np.zeros(k, np.int64)])
        self.alerts = np.concatenate([self.alerts, np.zeros(k, np.int64)])
        self.exempt = np.concatenate([self.exempt, np.full(k, _NAT)])
        self.immune = np.concatenate([self.immune, np.full(k, _NAT)])


#: Columns of :func:`state_frame` / :attr:`cxops.lifecycle.replay.ReplayResult.state_table`: everything a
#: daily job stores to resume from (``reason`` is the English text, for display only).
STATE_COLUMNS = [
    "seller_id",
    "marketplace_id",
    "state",
    "since",
    "reason",
    "reason_key",
    "reason_params",
    "recovery_streak",
    "breach_counts",
    "repeats",
    "alerts",
    "exempt_until",
    "immune_until",
]


class Batch:
    """Lifecycle states of all sellers, advanced one evaluation (or one recovery period) at a time.

    Parameters
    ----------
    policy : Policy
    initial : mapping or DataFrame, optional
        ``(seller_id, marketplace_id) -> SellerState``, or a frame with :data:`STATE_COLUMNS` (what
        :meth:`state_frame` returns), to start from.
    keep : {"all", "latest"}
        Findings kept for rendering reasons: of every evaluation, or only those the current reasons
        and the latest evaluation need (bounded memory with millions of sellers).
    """

    def __init__(
        self,
        policy: Policy,
        initial: Mapping[tuple[str, str], SellerState] | pd.DataFrame | None = None,
        keep: str = "all",
    ):
        self.policy = policy
        self.keep = keep
        self.rules = list(policy.removal.rules)
        self.rule_ids = [r.id for r in self.rules]
        self.consecutive = np.array([r.consecutive for r in self.rules], np.int64)
        self.standing = policy.lifecycle == "standing"
        self.rows = evaluation_rows(policy)
        self._row_to = np.array(
            [-1 if row.to is None else CODE[row.to] for row in self.rows] + [-1], np.int64
        )
        self._row_key = np.array([_K[row.reason] for row in self.rows] + [-1], np.int64)
        self._row_log = np.array([_KIND[row.log] if row.log else -1 for row in self.rows] + [-1], np.int64)
        self._row_counts = np.array(
            [{"reset": 0, "grown": 1, "keep": 2}[row.counts] for row in self.rows] + [2], np.int64
        )
        self._row_repeat = np.array([row.repeat for row in self.rows] + [0], np.int64)
        self.stable = policy.recovery.stable_days
        self.block_after = policy.enforcement.block_after
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
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0, "datetime64[D]"),
            np.zeros(0, "datetime64[D]"),
        )
        # reason table, one chunk per call of _add_reasons: per field an array or one scalar for the chunk
        self._reason_cols: dict[str, list[np.ndarray]] = {k: [] for k in _REASON_FIELDS}
        self._n_reasons = 0
        self._reason_starts: list[int] = []
        self._findings: dict[int, Findings] = {}  # evaluation number -> findings with their "sid"
        self._prerendered: dict[int, Reason] = {}
        self._seeded: dict[str, np.ndarray] | None = None  # reasons of a seed frame: ids, keys, params
        self._events: list[pd.DataFrame] = []
        self.n_evaluations = 0
        self._last: tuple[pd.DataFrame, np.ndarray] | None = None
        if isinstance(initial, pd.DataFrame):
            self._seed_frame(initial)
        elif initial:
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

    def _positions(
        self, sellers: np.ndarray, markets: np.ndarray, since: date | None, unique: bool = True
    ) -> np.ndarray:
        """Global seller ids of these keys; unknown keys are added as ``not_eligible`` since ``since``.
        ``unique=False``: the keys may repeat (operator actions), a new key repeated gets one id."""
        sid = self._lookup(sellers, markets)
        new = np.flatnonzero(sid < 0)
        if len(new):
            new_s, new_m = np.asarray(sellers, object)[new], np.asarray(markets, object)[new]
            codes = np.arange(len(new))
            if not unique:
                keys = pd.MultiIndex.from_arrays([new_s, new_m])
                codes, uniq = pd.factorize(keys)
                new_s, new_m = (uniq.get_level_values(i).to_numpy(object) for i in (0, 1))
            start = len(self.sellers)
            sid[new] = start + codes
            self.sellers = np.concatenate([self.sellers, new_s])
            self.markets = np.concatenate([self.markets, new_m])
            k = len(new_s)
            self.s.grow(k, len(self.rules), _day(since), self._add_reasons(np.full(k, _K["new"])))
        return sid

    def _seed(self, initial: Mapping[tuple[str, str], SellerState]) -> None:
        states = list(initial.values())
        sid = self._positions(
            np.array([s.seller_id for s in states], object),
            np.array([s.marketplace_id for s in states], object),
            None,
        )
        self.s.state[sid] = [CODE[s.state] for s in states]
        self.s.since[sid] = [_day(s.since) for s in states]
        self.s.streak[sid] = [s.recovery_streak for s in states]
        self.s.repeats[sid] = [s.repeats for s in states]
        self.s.alerts[sid] = [self._mask(s.alerts) for s in states]
        self.s.exempt[sid] = [_day(s.exempt_until) for s in states]
        self.s.immune[sid] = [_day(s.immune_until) for s in states]
        for j, r in enumerate(self.rules):
            self.s.counts[sid, j] = [s.breach_counts.get(r.id, 0) for s in states]
        ids = self._add_reasons(np.zeros(len(states), np.int64))
        for i, s in zip(ids.tolist(), states, strict=True):
            self._prerendered[i] = s.reason or Reason("new")
        self.s.reason[sid] = ids
        self.s.key[sid] = [_K.get((s.reason or Reason("new")).key, 0) for s in states]

    def _seed_frame(self, frame: pd.DataFrame) -> None:
        """Seed from a :data:`STATE_COLUMNS` frame in array operations (JSON parsed only where not empty)."""
        missing = [c for c in STATE_COLUMNS if c not in frame.columns and c != "reason"]
        if missing:
            raise ValueError(f"initial states frame lacks columns: {', '.join(missing)}")
        f = frame.reset_index(drop=True)
        sid = self._positions(f["seller_id"].to_numpy(object), f["marketplace_id"].to_numpy(object), None)
        names = np.array([s.value for s in STATES], object)
        codes = pd.Index(names).get_indexer(f["state"].to_numpy(object))
        if (codes < 0).any():
            raise ValueError(f"unknown state {f['state'].to_numpy(object)[np.argmax(codes < 0)]!r}")
        self.s.state[sid] = codes
        for col, attr in (("since", "since"), ("exempt_until", "exempt"), ("immune_until", "immune")):
            getattr(self.s, attr)[sid] = pd.to_datetime(f[col], errors="coerce").to_numpy("datetime64[D]")
        self.s.streak[sid] = f["recovery_streak"].fillna(0).to_numpy(np.int64)
        self.s.repeats[sid] = f["repeats"].fillna(0).to_numpy(np.int64)
        counts = f["breach_counts"].fillna("{}").to_numpy(object)
        for i in np.flatnonzero(counts != "{}").tolist():
            parsed = json.loads(counts[i])
            for j, rule in enumerate(self.rule_ids):
                self.s.counts[sid[i], j] = parsed.get(rule, 0)
        alerts = f["alerts"].fillna("[]").to_numpy(object)
        for i in np.flatnonzero(alerts != "[]").tolist():
            self.s.alerts[sid[i]] = self._mask(json.loads(alerts[i]))
        keys = f["reason_key"].fillna("new").to_numpy(object)
        key_codes = pd.Index(REASON_KEYS).get_indexer(keys)
        ids = self._add_reasons(np.maximum(key_codes, 0))
        self._seeded = {
            "first": np.array([ids[0] if len(ids) else 0]),
            "keys": keys,
            "params": f["reason_params"].to_numpy(object),
            "text": f["reason"].to_numpy(object) if "reason" in f else np.full(len(f), None, object),
        }
        self.s.reason[sid] = ids
        self.s.key[sid] = np.maximum(key_codes, 0)
        self.s.reval[sid] = -1

    def _mask(self, rules) -> int:
        return sum(1 << j for j, r in enumerate(self.rule_ids) if r in set(rules))

    # -- reasons ---------------------------------------------------------------------------------------

    def _add_reasons(self, key: np.ndarray, **fields: Any) -> np.ndarray:
        n = len(key)
        cols = {"key": np.asarray(key, _REASON_DTYPES["key"]), **fields}
        for name, default in _REASON_FIELDS.items():
            value = np.asarray(cols.get(name, default), dtype=_REASON_DTYPES[name])
            self._reason_cols[name].append(_compact(value) if value.ndim and name in _COMPACT else value)
        ids = np.arange(self._n_reasons, self._n_reasons + n)
        self._reason_starts.append(self._n_reasons)
        self._n_reasons += n
        return ids

    def _reason_table(self, ids: np.ndarray) -> pd.DataFrame:
        """Rows ``ids`` (sorted, unique) of the reason table, gathered chunk by chunk."""
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
                col = v[c]
                out[k].append(np.full(len(local), col) if col.ndim == 0 else col[local])
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

    def evaluate(self, dec: Decisions, when: date, publish: bool = True) -> None:
        """Apply one evaluation (:func:`cxops.lifecycle.machine.step` for every seller in ``dec``).

        Parameters
        ----------
        dec : Decisions
        when : datetime.date
        publish : bool
            Whether status changes are made (:func:`cxops.lifecycle.cadence.publishes`); otherwise only
            alert-level crossings are recorded.
        """
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
        enforceable = dec.enforcement == MET
        counts = self.s.counts[sid]
        breached, marked, hold = apply_provisional(self.policy, dec.breached, dec.provisional)
        grown = np.where(breached & enforceable[:, None], counts + 1, 0)
        removing = (grown >= self.consecutive[None, :]) & ~hold
        any_removing, first_removing = _first_true(removing)
        any_breach, first_breach = _first_true(grown > 0)
        alerted = apply_provisional(self.policy, dec.alerted, dec.alert_provisional)[0] & enforceable[:, None]
        # every breach counted rests on provisional values: the warning is marked provisional
        provisional = any_breach & ~((grown > 0) & ~marked).any(axis=1) if r else np.zeros(n, bool)
        removing_m, breached_m, alerted_m = (_bitmask(m) for m in (removing, grown > 0, alerted))
        member = _IS_MEMBER[old]
        new_alerts = alert_crossings(member, alerted_m, self.s.alerts[sid])
        day = _day(when)
        with np.errstate(invalid="ignore"):
            exempt = self.s.exempt[sid] >= day
            immune = (old == IMM) & (self.s.immune[sid] >= day)
        consec = self.consecutive[np.maximum(first_removing, 0)] if r else np.zeros(n, np.int64)
        blocks = (
            np.zeros(n, bool) if self.block_after is None else self.s.repeats[sid] + 1 >= self.block_after
        )
        facts = {
            "eligible": dec.eligibility == MET,
            "admitted": dec.admission == MET,
            "admission_failed": dec.admission == NOT_MET,
            "enforceable": enforceable,
            "removing": any_removing,
            "consecutive": any_removing & (consec > 1),
            "breached": any_breach,
            "alerted": alerted_m != 0,
            "provisional": provisional,
            "exempt": exempt,
            "immune": immune,
            "blocks": blocks,
            "suspends": np.full(n, self.policy.enforcement.action == "suspend"),
        }
        masks = {
            _SRC["removing"]: removing_m,
            _SRC["breach"]: np.where(any_breach, np.int64(1) << np.maximum(first_breach, 0), 0),
            _SRC["breached"]: breached_m,
            _SRC["alert"]: alerted_m,
            _SRC["alert_new"]: new_alerts,
        }
        parts = []  # (positions, kind, from, to, reason ids, source codes) of this evaluation's events
        crossed = np.flatnonzero(new_alerts)
        if len(crossed):
            ids = self._add_reasons(
                np.full(len(crossed), _K["alert_crossed"]),
                evaluation=e,
                sid=sid[crossed],
                rules=new_alerts[crossed],
                findings=new_alerts[crossed],
            )
            parts.append((crossed, _KIND[ALERT], old[crossed], old[crossed], ids, _SRC["alert_new"]))
        if not publish:
            self.s.alerts[sid] = np.where(member, alerted_m, 0)
            self._record_events(sid, parts, when, as_of, dec, masks)
            self._keep_findings(e, dec, sid)
            return
        row = decide(self.rows, old, facts)
        judged = row >= 0
        to = self._row_to[row]
        new = np.where(judged & (to >= 0), to, old).astype(np.int8)
        key = self._row_key[row]
        src = np.where(judged, _SOURCE[np.maximum(key, 0)], -1)
        listed = np.zeros(n, np.int64)
        for code, m in masks.items():
            listed = np.where(src == code, m, listed)
        rules_mask = np.where(src == _SRC["breach"], breached_m, listed)  # at_risk names every breached rule
        first = np.where(src == _SRC["breach"], first_breach, first_removing)
        count = np.where(
            src == _SRC["breach"], grown[np.arange(n), np.maximum(first_breach, 0)] if r else 0, 0
        )
        consec_listed = np.where(
            np.isin(src, [_SRC["breach"], _SRC["removing"]]),
            self.consecutive[np.maximum(first, 0)] if r else 0,
            0,
        )
        effect = self._row_counts[row]
        counts_after = np.where((effect == 0)[:, None], 0, np.where((effect == 1)[:, None], grown, counts))
        streak = self.s.streak[sid] if self.standing else np.where(judged, 0, self.s.streak[sid])
        repeats = self.s.repeats[sid] + np.where(judged, self._row_repeat[row], 0)
        until_src = _UNTIL[np.maximum(key, 0)]
        until = np.where(
            until_src == 1, self.s.immune[sid], np.where(until_src == 2, self.s.exempt[sid], _NAT)
        )
        j = np.flatnonzero(judged)
        g = sid[j]
        changed = new[j] != old[j]
        self.s.since[g] = np.where(changed | np.isnat(self.s.since[g]), day, self.s.since[g])
        self.s.state[g] = new[j]
        self.s.counts[sid] = counts_after
        self.s.streak[sid] = streak
        self.s.repeats[sid] = repeats
        self.s.immune[g] = np.where(new[j] == IMM, self.s.immune[g], _NAT)
        self.s.alerts[sid] = np.where(member & _IS_MEMBER[new], alerted_m, 0)
        self.s.reason[g] = self._add_reasons(
            key[j],
            evaluation=e,
            sid=g,
            rules=rules_mask[j],
            findings=listed[j],
            count=count[j],
            consecutive=consec_listed[j],
            until=until[j],
            repeats=repeats[j],
        )
        self.s.key[g] = key[j]
        self.s.reval[g] = e
        log = self._row_log[row]
        ev = np.flatnonzero(judged & ((new != old) | (log >= 0)))
        if len(ev):
            kind = np.where(new[ev] != old[ev], _KIND[TRANSITION], log[ev])
            parts.append((ev, kind, old[ev], new[ev], self.s.reason[sid[ev]], src[ev]))
        self._record_events(sid, parts, when, as_of, dec, masks, first_removing, first_breach)
        self._keep_findings(e, dec, sid)

    def _record_events(
        self, sid, parts, when, as_of, dec, masks, first_removing=None, first_breach=None
    ) -> None:
        """Events of one evaluation, per seller in results order (an alert before a transition)."""
        if not parts:
            return
        pos = np.concatenate([p[0] for p in parts])
        order = np.argsort(pos, kind="stable")  # parts are in event-kind order already
        pos = pos[order]

        def cat(i: int, dtype=None) -> np.ndarray:
            return np.concatenate([np.broadcast_to(np.asarray(p[i], dtype), len(p[0])) for p in parts])[order]

        kind, frm, to, reason, src = (
            cat(1, np.int8),
            cat(2, np.int8),
            cat(3, np.int8),
            cat(4),
            cat(5, np.int64),
        )
        # the deciding finding: the first of its source (a section, or the first rule it lists)
        part = np.full(len(pos), _UNKNOWN_PART, np.int64)
        rule = np.full(len(pos), -1, np.int64)
        for code, fixed in _FIXED_PART.items():
            part = np.where(src == code, fixed, part)
        for code in (_SRC["removing"], _SRC["breach"], _SRC["breached"], _SRC["alert"], _SRC["alert_new"]):
            here = src == code
            if not here.any():
                continue
            if code == _SRC["removing"]:
                j = first_removing[pos[here]]
            elif code in (_SRC["breach"], _SRC["breached"]):
                j = first_breach[pos[here]]
            else:
                j = _lowest_bit(masks[code][pos[here]])
            rule[here] = j
            part[here] = np.where(j < 0, _UNKNOWN_PART, alert_part(j) if code in _ALERT_SOURCES else j)
        f = dec.findings
        row = np.full(len(pos), -1, np.int64)
        if len(f):
            # first finding row of each (seller, part), looked up with integer keys
            r = len(self.rules)
            width, offset = 2 * r + 5, r + 4
            f_key = f.pos * width + (f.part + offset)
            uniq, first = np.unique(f_key, return_index=True)
            want = pos.astype(np.int64) * width + (part + offset)
            at = np.clip(np.searchsorted(uniq, want), 0, len(uniq) - 1)
            hit = (uniq[at] == want) & (part != _UNKNOWN_PART)
            row[hit] = first[at[hit]]
        found = _finding_columns(f, row)
        rule_ids = np.array([*self.rule_ids, None], object)
        found["rule_id"] = np.where(rule >= 0, rule_ids[rule], found["rule_id"])
        self._events.append(
            pd.DataFrame(
                {
                    "sid": sid[pos],
                    "date": _day(when),
                    "kind": kind,
                    "from_state": frm,
                    "to_state": to,
                    "as_of": as_of[pos],
                    "reason": reason,
                    **{c: v if v.dtype == float else pd.Series(v, dtype=object) for c, v in found.items()},
                }
            )
        )

    def _keep_findings(self, e: int, dec: Decisions, sid: np.ndarray) -> None:
        """Keep this evaluation's findings (for rendering reasons later); with ``keep="latest"``, keep
        of earlier evaluations only the rows of sellers whose current reason still lists them."""
        if self.keep == "latest":
            listing = np.isin(self.s.key, _LISTING)
            for old in list(self._findings):
                f = self._findings[old]
                if len(f):
                    still = (self.s.reval[f.sid] == old) & listing[f.sid]
                    self._findings[old] = f.take(np.flatnonzero(still))
        f = dec.findings
        self._findings[e] = f.with_sid(sid[f.pos])

    # -- daily recovery check --------------------------------------------------------------------------

    def out_of_program(self) -> pd.DataFrame:
        """``seller_id, marketplace_id`` of the sellers currently removed or recovering."""
        m = (self.s.state == REM) | (self.s.state == REC)
        return pd.DataFrame({"seller_id": self.sellers[m], "marketplace_id": self.markets[m]})

    def recover(self, admission: pd.DataFrame, start: date, end: date) -> None:
        """Daily recovery check on days ``start..end`` (:data:`cxops.lifecycle.table.DAILY`).

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
        # the state on each day while out of the program: recovering on a streak, else removed (what the
        # DAILY rows give: it depends on the streak only)
        state_day = np.where(done, CAND, np.where(streak > 0, REC, REM)).astype(np.int8)
        prev = np.concatenate([self.s.state[out][:, None], state_day[:, :-1]], axis=1)
        # the DAILY row of every live day (-1: a removed seller on a day not met, nothing happens)
        row = np.where(
            live,
            decide(DAILY, prev.ravel(), {"met": met.ravel(), "done": done.ravel()}).reshape(met.shape),
            -1,
        )
        day_key = np.array([_K[r.reason] for r in DAILY] + [-1], np.int64)[row]
        change = live & (state_day != prev)
        rows, days = np.nonzero(change)
        if len(rows):
            day = _day(start) + days.astype("timedelta64[D]")
            ids = self._add_reasons(
                day_key[rows, days],
                sid=out[rows],
                streak=np.where(met[rows, days], streak[rows, days], 0),
                day=day,
            )
            self._events.append(
                pd.DataFrame(
                    {
                        "sid": out[rows],
                        "date": day,
                        "kind": np.int8(_KIND[TRANSITION]),
                        "from_state": prev[rows, days],
                        "to_state": state_day[rows, days],
                        "as_of": day - np.timedelta64(self.lag.days, "D"),
                        "reason": ids,
                        **_no_findings(len(rows)),
                    }
                )
            )
        # the reason is refreshed on every day a row matched: the last such day's
        matched = row >= 0
        last = n_days - 1 - np.argmax(matched[:, ::-1], axis=1)
        refresh = matched.any(axis=1)
        if refresh.any():
            i = np.flatnonzero(refresh)
            li = last[i]
            key = day_key[i, li]
            ids = self._add_reasons(
                key,
                sid=out[i],
                streak=np.where(met[i, li], streak[i, li], 0),
                day=_day(start) + li.astype("timedelta64[D]"),
            )
            self.s.reason[out[i]] = ids
            self.s.key[out[i]] = key
            self.s.reval[out[i]] = -1
        changed_since = np.where(change, t[None, :], -1).max(axis=1)
        has_change = changed_since >= 0
        self.s.since[out[has_change]] = _day(start) + changed_since[has_change].astype("timedelta64[D]")
        final_state = state_day[np.arange(len(out)), stop]
        self.s.state[out] = final_state
        self.s.streak[out] = np.where(final_state == CAND, 0, streak[np.arange(len(out)), stop])

    # -- operator actions ------------------------------------------------------------------------------

    def act(self, actions: list[Action]) -> None:
        """Apply operator actions, in order (:func:`cxops.lifecycle.actions.apply_action` for each: a
        handful per day, never a loop over sellers)."""
        if not actions:
            return
        sellers = np.array([a.seller_id for a in actions], object)
        markets = np.array([a.marketplace_id for a in actions], object)
        sid = self._positions(sellers, markets, None, unique=False)  # a seller may get several actions
        rows = []
        for g, action in zip(sid.tolist(), actions, strict=True):
            before = self._state_of(g)
            after, events = apply_action(before, action, self.policy)
            for ev in events:
                (rid,) = self._add_reasons(np.array([_K.get(ev.reason.key, 0)]), sid=g, day=_day(ev.date))
                self._prerendered[int(rid)] = ev.reason
                rows.append((g, ev, int(rid)))
            if after.state != before.state:
                self.s.state[g] = CODE[after.state]
                self.s.since[g] = _day(after.since)
                self.s.reason[g] = rows[-1][2]
                self.s.key[g] = _K.get(after.reason.key, 0)
                self.s.reval[g] = -1
            self.s.counts[g] = [after.breach_counts.get(r, 0) for r in self.rule_ids]
            self.s.streak[g] = after.recovery_streak
            self.s.repeats[g] = after.repeats
            self.s.alerts[g] = self._mask(after.alerts)
            self.s.exempt[g] = _day(after.exempt_until)
            self.s.immune[g] = _day(after.immune_until)
        self._events.append(
            pd.DataFrame(
                {
                    "sid": np.array([g for g, _, _ in rows], np.int64),
                    "date": np.array([_day(e.date) for _, e, _ in rows], "datetime64[D]"),
                    "kind": np.array([_KIND[e.kind] for _, e, _ in rows], np.int8),
                    "from_state": np.array([CODE[e.from_state] for _, e, _ in rows], np.int8),
                    "to_state": np.array([CODE[e.to_state] for _, e, _ in rows], np.int8),
                    "as_of": np.full(len(rows), _NAT),
                    "reason": np.array([rid for _, _, rid in rows], np.int64),
                    **_no_findings(len(rows)),
                    "actor": pd.Series([e.actor for _, e, _ in rows], dtype=object),
                    "action_reason": pd.Series([e.action_reason for _, e, _ in rows], dtype=object),
                }
            )
        )

    def _state_of(self, g: int) -> SellerState:
        """One seller's state from the arrays (the reason is not needed by actions)."""
        counts = {r: int(c) for r, c in zip(self.rule_ids, self.s.counts[g].tolist(), strict=True) if c}
        return SellerState(
            seller_id=self.sellers[g],
            marketplace_id=self.markets[g],
            state=STATES[int(self.s.state[g])],
            since=_date(self.s.since[g]),
            breach_counts=counts,
            recovery_streak=int(self.s.streak[g]),
            repeats=int(self.s.repeats[g]),
            alerts=frozenset(self._rules_of(int(self.s.alerts[g]))),
            exempt_until=_date(self.s.exempt[g]),
            immune_until=_date(self.s.immune[g]),
        )

    def _rules_of(self, mask: int) -> list[str]:
        return [r for j, r in enumerate(self.rule_ids) if mask >> j & 1]

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
        keys = self.reason_keys(self._reason_table(uniq)["key"].to_numpy(np.int64)[inverse])
        return self._seeded_keys(ids, keys)

    def _seeded_keys(self, ids: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """Keys of seeded reasons as given (also keys this version does not know)."""
        if self._seeded is None:
            return keys
        first = int(self._seeded["first"][0])
        at = ids - first
        hit = (at >= 0) & (at < len(self._seeded["keys"]))
        keys = keys.copy()
        keys[hit] = self._seeded["keys"][at[hit]]
        return keys

    def snapshot(self) -> dict[str, np.ndarray]:
        """Copies of the per-seller arrays a status row shows (one row per known seller)."""
        return {
            "sid": np.arange(len(self.sellers), dtype=np.int32 if len(self.sellers) < 2**31 else np.int64),
            "state": self.s.state.copy(),
            "since": self.s.since.copy(),
            "recovery_streak": self.s.streak.astype(np.int32),
            "counts": self.s.counts.astype(np.int16),  # consecutive evaluations: small
            "reason": self.s.reason.copy(),
            "key": self.s.key.astype(np.int8),
        }

    def enforcement_arrays(self) -> dict[str, np.ndarray]:
        """The per-seller arrays beyond :meth:`snapshot`: ``repeats``, ``alerts`` (rule bitmask),
        ``exempt_until``, ``immune_until``."""
        return {
            "repeats": self.s.repeats.copy(),
            "alerts": self.s.alerts.copy(),
            "exempt_until": self.s.exempt.copy(),
            "immune_until": self.s.immune.copy(),
        }

    def alerts_json(self, masks: np.ndarray) -> np.ndarray:
        """``alerts`` as JSON lists of rule ids (``"[]"`` when none)."""
        out = np.full(len(masks), "[]", object)
        for i in np.flatnonzero(masks).tolist():
            out[i] = json.dumps(sorted(self._rules_of(int(masks[i]))))
        return out

    def events(self) -> pd.DataFrame:
        """Every event so far (one row per event; ``reason`` is a reason id, ``kind`` an index of
        :data:`cxops.lifecycle.table.EVENT_KINDS`)."""
        columns = ["sid", "date", "kind", "from_state", "to_state", "as_of", "reason", *_FINDING_COLUMNS]
        if not self._events:
            return pd.DataFrame(columns=[*columns, "actor", "action_reason"])
        if not any("actor" in f for f in self._events):
            out = pd.concat(self._events, ignore_index=True)
            none = pd.Series(np.full(len(out), None, object))
            return out.assign(actor=none, action_reason=none)
        out = pd.concat(self._events, ignore_index=True)
        for c in ("actor", "action_reason"):
            out[c] = out[c].astype(object).where(out[c].notna(), None)
        return out

    def render(self, ids: np.ndarray) -> pd.DataFrame:
        """Reason text, key and JSON params of the given reason ids (same as the per-seller machine).

        Returns
        -------
        DataFrame
            Indexed by reason id: ``reason, reason_key, reason_params``.
        """
        ids = np.unique(np.asarray(ids, np.int64))
        ids = ids[ids >= 0]
        if len(ids) <= RENDER_CHUNK:
            return self._render(ids)
        return pd.concat(
            [self._render(ids[lo : lo + RENDER_CHUNK]) for lo in range(0, len(ids), RENDER_CHUNK)]
        )

    def _render(self, ids: np.ndarray) -> pd.DataFrame:
        """:meth:`render` of sorted unique ids, at most :data:`RENDER_CHUNK` of them: their findings
        become Python objects (a dict per criterion row) only for the time of the chunk."""
        table = self._reason_table(ids)
        findings = self._gather_findings(table)
        rows = []
        simple: dict[tuple, tuple[str, str, str]] = {}  # reasons without criteria repeat: render once
        seeded = self._seeded
        first_seeded = int(seeded["first"][0]) if seeded is not None else -1
        columns = ["key", "evaluation", "sid", "rules", "findings", "count", "consecutive", "streak", "day"]
        for rid, key, e, sid, rules, fmask, count, consec, streak, day, until, repeats in zip(
            ids.tolist(), *(table[c].tolist() for c in [*columns, "until", "repeats"]), strict=True
        ):
            if rid in self._prerendered:
                reason = self._prerendered[rid]
            elif seeded is not None and 0 <= rid - first_seeded < len(seeded["keys"]):
                rows.append((rid, *self._seeded_row(rid - first_seeded)))
                continue
            elif _SOURCE[key] < 0:
                memo = (key, streak, day, until, repeats)
                if memo not in simple:
                    r = self._reason(key, (), rules, fmask, count, consec, streak, day, until, repeats)
                    simple[memo] = (r.text(), r.key, r.params_json())
                rows.append((rid, *simple[memo]))
                continue
            else:
                reason = self._reason(
                    key, findings.get((e, sid), ()), rules, fmask, count, consec, streak, day, until, repeats
                )
            rows.append((rid, reason.text(), reason.key, reason.params_json()))
        out = pd.DataFrame(rows, columns=["id", "reason", "reason_key", "reason_params"], dtype=object)
        return out.set_index(out["id"].astype(np.int64)).drop(columns="id")

    def _seeded_row(self, i: int) -> tuple[str, str, str]:
        """Text, key and params of the ``i``-th seeded reason (text rendered when not given)."""
        s = self._seeded
        key, params, text = s["keys"][i], s["params"][i], s["text"][i]
        if not isinstance(params, str):
            params = "{}"
        if not isinstance(text, str):
            text = Reason(key, json.loads(params)).text()
        return text, key, params

    def _gather_findings(self, table: pd.DataFrame) -> dict[tuple[int, int], list[tuple[int, Any]]]:
        out: dict[tuple[int, int], list[tuple[int, Any]]] = {}
        needs = table[np.isin(table["key"].to_numpy(np.int64), _LISTING)]
        for e, group in needs.groupby("evaluation"):
            f = self._findings.get(int(e))
            if f is None or not len(f):
                continue
            f = f.take(np.flatnonzero(np.isin(f.sid, group["sid"].to_numpy(np.int64))))
            for row, part, sid in zip(
                _records(f.frame(columns=REASON_COLUMNS), REASON_COLUMNS),
                f.part.tolist(),
                f.sid.tolist(),
                strict=True,
            ):
                out.setdefault((int(e), sid), []).append((part, row))
        return out

    def _reason(self, key, findings, rules, fmask, count, consec, streak, day, until, repeats) -> Reason:
        name = REASON_KEYS[key]
        src = int(_SOURCE[key])
        if src in _FIXED_PART:
            part = _FIXED_PART[src]
            criteria = [criterion_reason(r) for p, r in findings if p == part]
        elif src >= 0:
            chosen = [j for j in range(len(self.rules)) if fmask >> j & 1]
            alert = src in _ALERT_SOURCES
            criteria = [
                criterion_reason(r)
                for j in chosen
                for p, r in findings
                if p == (alert_part(j) if alert else j)
            ]
        else:
            criteria = []
        needed = REASONS[name].params
        values = {
            "count": count,
            "consecutive": consec,
            "rules": self._rules_of(rules) if "rules" in needed else None,
            "repeats": repeats,
            "block_after": self.block_after,
            "until": _iso(until) if "until" in needed else None,
            "stable_days": self.stable,
            "streak": streak,
            "day": _iso(day) if "day" in needed else None,
        }
        return make_reason(name, criteria, values)


#: Reasons rendered at once by :meth:`Batch.render`: each failing criterion of a reason is a dict while
#: it is rendered (about 1.5 kB), and a replay's last evaluation at 500 k sellers lists ~2.5 M of them.
RENDER_CHUNK = 25_000

_FINDING_COLUMNS = (
    "rule_id",
    "metric",
    "value",
    "numerator",
    "denominator",
    "threshold",
    "operator",
    "window_days",
)
_UNKNOWN_PART = -(2**40)


def _compact(value: np.ndarray) -> np.ndarray:
    """A column of one chunk of the reason table: one scalar when every value is the same (most columns
    of most chunks), else a copy of the array."""
    if not len(value):
        return value.copy()
    if np.isnat(value).all() if value.dtype.kind == "M" else bool((value == value[0]).all()):
        return np.asarray(value[0])
    return value.copy()


def _iso(x: Any) -> str | None:
    """An ISO date string of a date, a timestamp or a datetime64 day; None for None / NaT."""
    if x is None or x is pd.NaT:
        return None
    if isinstance(x, datetime):
        return x.date().isoformat()
    if isinstance(x, date):
        return x.isoformat()
    return None if np.isnat(np.datetime64(x, "D")) else str(np.datetime64(x, "D"))


def _date(x: np.datetime64) -> date | None:
    return None if np.isnat(x) else pd.Timestamp(x).date()


def _bitmask(m: np.ndarray) -> np.ndarray:
    """Per row of a (sellers × rules) boolean grid, the rules that hold as a bitmask (bit ``j``: rule
    ``j``); a loop over the few rules, not over sellers."""
    out = np.zeros(len(m), np.int64)
    for j in range(m.shape[1]):
        out |= m[:, j].astype(np.int64) << j
    return out


def _lowest_bit(mask: np.ndarray) -> np.ndarray:
    """Index of the lowest set bit of each mask (-1 for 0)."""
    mask = np.asarray(mask, np.int64)
    low = mask & -mask
    out = np.full(len(mask), -1, np.int64)
    nz = low != 0
    out[nz] = np.log2(low[nz].astype(np.float64)).astype(np.int64)
    return out


def _finding_columns(f: Findings, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Per entry of ``rows`` (positions in findings ``f``, -1 for none): ``rule_id`` (rule or
    criterion id), ``metric``, ``value`` (the tested quantity), ``threshold``, ``operator``,
    ``window_days`` as object arrays, None where there is no finding; ``numerator``, ``denominator`` as
    floats, NaN where there is none."""
    n = len(rows)
    out = {c: np.full(n, None, object) for c in _FINDING_COLUMNS}
    out["numerator"] = np.full(n, np.nan)
    out["denominator"] = np.full(n, np.nan)
    at = np.flatnonzero(rows >= 0)
    if not len(at):
        return out
    f = f.frame(rows[at])
    crit = f["criterion_id"].to_numpy(object)
    rule = f["rule_id"].to_numpy(object, na_value=None)
    out["rule_id"][at] = np.where(pd.isna(rule), crit, rule)
    test = f["test"].fillna("value").to_numpy(object)
    num, den, val = (f[c].to_numpy(float, na_value=np.nan) for c in ("numerator", "denominator", "value"))
    out["value"][at] = _nullable(
        np.where(test == "numerator", num, np.where(test == "denominator", den, val))
    )
    out["numerator"] = np.full(n, np.nan)
    out["denominator"] = np.full(n, np.nan)
    out["numerator"][at] = num
    out["denominator"][at] = den
    out["threshold"][at] = _nullable(f["threshold"].to_numpy(float, na_value=np.nan))
    window = f["window_days"].to_numpy(float, na_value=np.nan)
    out["window_days"][at] = [None if w != w else int(w) for w in window.tolist()]
    for c in ("metric", "operator"):
        out[c][at] = f[c].to_numpy(object, na_value=None)
    return out


def _no_findings(n: int) -> dict[str, Any]:
    """Finding columns of events without a deciding criterion."""
    return {
        c: np.full(n, np.nan) if c in ("numerator", "denominator") else pd.Series(np.full(n, None, object))
        for c in _FINDING_COLUMNS
    }


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
    "until": _NAT,
    "repeats": 0,
}
#: Reason-table columns that are often one value for a whole chunk (stored once when they are).
_COMPACT = frozenset({"rules", "findings", "count", "consecutive", "until", "repeats"})
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
    "until": "datetime64[D]",
    "repeats": np.int32,
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
