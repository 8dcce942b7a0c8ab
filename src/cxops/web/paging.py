"""Cursors for keyset paging: opaque to clients, checked on the way back.

A cursor is the base64url of a JSON list ``[list name, key values…]``: the key of the last row
served (see :mod:`cxops.store.listing`). It carries no secret and grants nothing — the filters and
the caller's visibility are applied again on every request — but it names the list and order it
belongs to, so a cursor from one list or sort is refused on another (400) rather than misread.
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from cxops.errors import InputError

T = TypeVar("T")
#: Rows per page: default and bounds.
DEFAULT_LIMIT, MAX_LIMIT = 50, 200

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Rows per page (1–{MAX_LIMIT}).")]
Cursor = Annotated[
    str | None, Query(max_length=1000, description="`next_cursor` of the previous page; omit for the first.")
]


class Page(BaseModel, Generic[T]):
    """One page of a list: its rows and the cursor of the next page (``null`` on the last)."""

    items: list[T]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page.")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def encode(name: str, key: tuple | None) -> str | None:
    """The cursor continuing list ``name`` after ``key`` (``None`` → ``None``: no next page)."""
    if key is None:
        return None
    raw = json.dumps([name, *map(_plain, key)], separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None, name: str, size: int) -> tuple | None:
    """The key in ``cursor`` for list ``name`` with ``size`` key values.

    Raises
    ------
    InputError
        The cursor is malformed or belongs to another list or order.
    """
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InputError("invalid cursor: pass the next_cursor of the previous page unchanged") from None
    if not isinstance(value, list) or len(value) != size + 1 or value[0] != name:
        raise InputError("this cursor belongs to another list or order: start again without a cursor")
    if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in value[1:]):
        raise InputError("invalid cursor: pass the next_cursor of the previous page unchanged")
    return tuple(value[1:])
