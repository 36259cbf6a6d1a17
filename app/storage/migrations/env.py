"""Alembic environment: runs on the connection that :mod:`app.storage.migrate` hands over."""

from __future__ import annotations

from alembic import context

from app.models import Base
from app.storage.schema import mapped_by_models

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - Quiver always passes its own connection
    raise RuntimeError("run migrations through app.storage.migrate, which passes a connection")


context.configure(
    include_name=mapped_by_models,
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
