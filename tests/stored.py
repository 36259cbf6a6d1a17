"""Everything a workspace holds, as bytes, to check that no secret ever reached it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from app.storage.workspace import Database


def stored_bytes(db: Database) -> list[tuple[str, bytes]]:
    """Each file of a SQLite workspace (WAL too), or each table of a PostgreSQL one, dumped.

    Closes the workspace (a SQLite file is read whole once its WAL is checkpointed).
    """
    if db.path is not None:
        path = Path(db.path)
        db.close()
        found = [(f.name, f.read_bytes()) for f in path.parent.glob(path.name + "*")]
        assert found
        return found
    out: list[tuple[str, bytes]] = []
    with db.engine.connect() as conn:
        tables = conn.execute(
            text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() ORDER BY table_name"
            )
        ).scalars()
        raw = conn.connection.driver_connection
        for table in list(tables):
            with raw.cursor() as cursor, cursor.copy(f'COPY "{table}" TO STDOUT') as copy:
                out.append((table, b"".join(bytes(chunk) for chunk in copy)))
    db.close()
    assert out
    return out
