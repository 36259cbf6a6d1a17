"""Primary keys written explicitly by bulk writers (demo, workspace copy), on every engine."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, text


def sync_id_sequences(conn: Connection, tables: Iterable[Any]) -> None:
    """After rows went in with explicit ids, let the database hand out ids above them.

    PostgreSQL's sequences do not see explicit ids: each is set to the table's ``max(id)``.
    SQLite takes ``max(id) + 1`` by itself.
    """
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        name = table.name
        if "id" not in table.c or not table.c.id.primary_key:
            continue
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"coalesce((SELECT max(id) FROM {name}), 1), "
                f"(SELECT max(id) FROM {name}) IS NOT NULL)"
            )
        )
