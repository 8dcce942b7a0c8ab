"""Account managers: add, list, and assign new members automatically (:mod:`cxops.service.assignment`)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from cxops.errors import InputError
from cxops.store import managers as repo
from cxops.store.db import Store

LIST_COLUMNS = ["id", "name", "email", "languages", "categories", "capacity", "load", "free", "active"]


def add_manager(
    store: Store,
    manager_id: str,
    name: str,
    *,
    capacity: int,
    email: str | None = None,
    languages: Iterable[str] = (),
    categories: Iterable[str] = (),
) -> dict:
    """Add an account manager; returns it as a dict (the columns of :data:`LIST_COLUMNS`).

    Raises
    ------
    InputError
        Empty id or name, capacity below 1, an e-mail address without ``@``.
    ConflictError
        The id is taken.
    """
    if email is not None and "@" not in email:
        raise InputError(f"{email!r} is not an e-mail address")
    with store.unit_of_work() as session:
        repo.add_manager(
            session, manager_id.strip(), name.strip(), capacity=capacity, email=email,
            languages=languages, categories=categories,
        )  # fmt: skip
        listed = repo.list_managers(session)
    return listed[listed["id"] == manager_id.strip()].iloc[0][LIST_COLUMNS].to_dict()


def list_managers(store: Store) -> pd.DataFrame:
    """Every manager with current load (open assignments) and free capacity, by id."""
    with store.unit_of_work(write=False) as session:
        return repo.list_managers(session)[LIST_COLUMNS]
