"""The demo's program in the operations store: the daily job over the demo history, with operator actions.

:func:`run_demo_program` builds the program up to a week before the as-of day (the initial build of
:func:`cxops.service.daily.run_daily`), records a few operator actions the way an operator would
(:func:`cxops.service.actions.request_action`: an exemption of a seller at risk, the reinstatement of a
removed seller, a note), then runs the last week day by day, so the demo store has memberships, events,
alerts, benefits and applied actions to look at.

Before the build every demo seller gets an e-mail contact (:func:`demo_contacts`,
``s0012@sellers.example``: RFC 2606 addresses that reach no one), in the language of its marketplace,
so the runs queue invitations, warnings, removal notices and alerts in the outbox;
:func:`deliver_demo_mail` then delivers them as ``.eml`` files (never over SMTP).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from cxops.notify.config import notify_config
from cxops.notify.contacts import import_contacts
from cxops.notify.deliver import SendReport, send_due
from cxops.notify.outbox import kind_counts, status_counts
from cxops.policy.model import Policy
from cxops.service.actions import ACTION_RULES, add_note, request_action
from cxops.service.daily import DailyResult, Progress, run_daily
from cxops.store import load_memberships
from cxops.store.db import Store

#: Days run one by one after the build (the demo's "last week").
DAILY_DAYS = 7
ACTOR = "demo-operator"
#: The demo contacts' domain (reserved by RFC 2606: mail to it goes nowhere).
CONTACT_DOMAIN = "sellers.example"
#: A demo contact's language: the language of the seller's marketplace.
LANGUAGES = {"US": "en", "UK": "en", "CA": "en", "DE": "de", "FR": "fr", "JP": "ja"}
#: China-based sellers on an English-language marketplace who read Chinese (the largest ones by orders).
CHINESE_CONTACTS = 2


@dataclass
class DemoProgram:
    """What the demo did in the store: the build, the daily runs and the actions recorded."""

    build: DailyResult
    daily: DailyResult
    actions: list[str]
    contacts: int = 0


def demo_contacts(wh) -> pd.DataFrame:
    """One e-mail contact per demo seller and marketplace, as :func:`cxops.notify.contacts.import_contacts`
    takes them: ``seller_id, marketplace_id, email, language``.

    The address is the seller id at :data:`CONTACT_DOMAIN` (``S0012`` → ``s0012@sellers.example``), the
    same on each of the seller's marketplaces; the language that of the marketplace
    (:data:`LANGUAGES`, English for another), except for the :data:`CHINESE_CONTACTS` China-based sellers
    (``sellers.country`` CN) with the most orders on an English-language marketplace, who read Chinese.
    Sellers are those of the ``sellers`` table and those with orders.
    """
    orders = wh.table("orders")
    keys = ["seller_id", "marketplace_id"]
    sellers = wh.execute(orders.select(*keys).distinct())
    if wh.has_table("sellers"):
        t = wh.table("sellers")
        listed = wh.execute(t.select(*keys, *(["country"] if "country" in t.columns else [])).distinct())
        sellers = sellers.merge(listed.drop_duplicates(keys), on=keys, how="outer")
    sellers = sellers.sort_values(keys, ignore_index=True)
    language = sellers["marketplace_id"].map(LANGUAGES).fillna("en")
    if "country" in sellers.columns:
        cn = sellers[(sellers["country"] == "CN") & (language == "en")]
        if len(cn):
            mine = orders.filter(orders.seller_id.isin(cn["seller_id"].unique().tolist()))
            n = wh.execute(mine.group_by(["seller_id", "marketplace_id"]).aggregate(orders=mine.count()))
            top = cn.merge(n, on=["seller_id", "marketplace_id"]).sort_values(
                ["orders", "seller_id"], ascending=[False, True]
            )
            language[_pairs(sellers).isin(_pairs(top.head(CHINESE_CONTACTS)))] = "zh"
    local = [
        re.sub(r"[^a-z0-9._-]+", "-", str(s).lower()).strip("-.") or "seller" for s in sellers["seller_id"]
    ]
    return pd.DataFrame(
        {
            "seller_id": sellers["seller_id"],
            "marketplace_id": sellers["marketplace_id"],
            "email": [f"{x}@{CONTACT_DOMAIN}" for x in local],
            "language": language,
        }
    )


def _pairs(df: pd.DataFrame) -> pd.Series:
    return df["seller_id"].astype(str) + "/" + df["marketplace_id"].astype(str)


def add_demo_contacts(wh, store: Store) -> int:
    """Add (or update) :func:`demo_contacts` in one transaction; returns the contacts written."""
    contacts = demo_contacts(wh)
    with store.unit_of_work() as session:
        return import_contacts(session, contacts)


@dataclass
class DemoMail:
    """What :func:`deliver_demo_mail` did: the delivery, the messages sent by kind, those left over."""

    report: SendReport
    folder: Path
    sent_by_kind: dict[str, int]
    statuses: dict[str, int]


def deliver_demo_mail(store: Store, folder: Path) -> DemoMail:
    """Deliver every due outbox message as an ``.eml`` file under ``folder/<YYYY-MM-DD>/`` with the
    outbox's own delivery (:func:`cxops.notify.deliver.send_due`): no SMTP server, whatever the
    environment says (the demo addresses reach no one)."""
    config = notify_config(smtp=None, mail_dir=Path(folder))
    report = send_due(store, config)
    with store.unit_of_work(write=False) as session:
        return DemoMail(report, Path(folder), kind_counts(session, "sent"), status_counts(session))


def run_demo_program(
    wh, store: Store, policy: Policy, as_of: date, progress: Progress | None = None
) -> DemoProgram:
    """Give every demo seller a contact (:func:`add_demo_contacts`), build the program up to ``as_of - 7``
    days, act on a few sellers, run the last 7 days one by one."""
    program = policy.name
    contacts = add_demo_contacts(wh, store)
    build = run_daily(wh, store, policy, as_of - timedelta(days=DAILY_DAYS), progress=progress)
    with store.unit_of_work(write=False) as session:
        members = load_memberships(session, program)
    done: list[str] = []
    today = as_of - timedelta(days=DAILY_DAYS - 1)
    plans = [
        ("exempt", ("at_risk", "enrolled"), "seasonal supplier outage agreed with the category team",
         today + timedelta(days=30)),
        ("reinstate", None, "action plan received: new carrier and a second packing shift", None),
    ]  # fmt: skip
    for kind, states, reason, until in plans:
        pick = members.iloc[0:0]
        for state in states or (sorted(ACTION_RULES[kind].allowed),):  # the first state anyone is in
            pick = members[members["state"].isin([state] if isinstance(state, str) else state)]
            if len(pick):
                break
        if pick.empty:
            continue
        row = pick.iloc[0]
        request_action(store, kind, row.seller_id, row.marketplace_id, reason=reason, actor=ACTOR,
                       until=until, program=program, today=today)  # fmt: skip
        done.append(f"{kind} {row.seller_id}/{row.marketplace_id}")
    if len(members):
        row = members.iloc[0]
        add_note(store, row.seller_id, row.marketplace_id, text="called the seller about late shipments",
                 actor=ACTOR, program=program)  # fmt: skip
        done.append(f"note {row.seller_id}/{row.marketplace_id}")
    daily = run_daily(wh, store, policy, as_of, progress=progress)
    return DemoProgram(build, daily, done, contacts)
