"""Alembic environment: runs on the connection that :mod:`app.storage.migrate` hands over."""

from __future__ import annotations

from alembic import context

from app.models import Base

FTS_PREFIX = "messages_fts"

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - Quiver always passes its own connection
    raise RuntimeError("run migrations through app.storage.migrate, which passes a connection")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave the SQLite FTS5 shadow tables, which no ORM class maps, out of comparisons."""
    return not (type_ == "table" and name is not None and name.startswith(FTS_PREFIX))


context.configure(
    include_name=include_name,
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
