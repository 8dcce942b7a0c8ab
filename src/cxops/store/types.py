"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

#: 64-bit surrogate keys; ``INTEGER PRIMARY KEY`` on SQLite, where only that autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")
#: JSON documents (JSONB on PostgreSQL); Python ``None`` is SQL NULL (not the JSON ``null``).
Json = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class UTCDateTime(TypeDecorator):
    """A UTC instant: ``timestamptz`` on PostgreSQL, ISO text on SQLite; always read back tz-aware UTC.

    Naive datetimes are refused (``ValueError``): an instant without a zone is ambiguous.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: instants in the store are UTC-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current instant, UTC-aware."""
    return datetime.now(UTC)
