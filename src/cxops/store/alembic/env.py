"""Alembic environment of the cxops store: migrations run on the connection cxops passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from cxops.store import notify_models  # noqa: F401  (the notification tables, on the same metadata)
from cxops.store.models import Base

config = context.config


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTERs by table copy
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # the alembic command line with -x url=… (development only)
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    with create_engine(url).begin() as conn:
        _run(conn)
