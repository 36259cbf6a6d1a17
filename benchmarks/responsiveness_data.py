"""A workspace and 10,000 items for the responsiveness figure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from app.bootstrap import ingest_for
from app.domain.items import InboundItem
from app.models import Account, Unit
from app.services.ingest import IngestService
from app.storage.workspace import open_database

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def gap_workspace(
    folder: Path, n: int
) -> tuple[IngestService, Callable[[int], int], list[InboundItem]]:
    """An empty workspace with one account per run (so every run stores all ``n`` items)."""
    db = open_database(str(folder / "gap.sqlite"), create=True)
    with db.engine.begin() as conn:
        conn.execute(insert(Unit).values(id=1, path="/1/", name="Care"))
        for a in range(1, 4):
            conn.execute(
                insert(Account).values(
                    id=a,
                    uuid=f"a{a}",
                    network="x",
                    handle=f"acme{a}",
                    display_name="Acme",
                    unit_id=1,
                )
            )
    items = [
        InboundItem(
            network="x",
            external_id=str(10_000_000 + i),
            kind="mention",
            direction="in",
            text=f"@acme item {i} " + "lorem ipsum " * (i % 12),
            created_at=T0 + timedelta(seconds=i),
            author_external_id=str(i % 3000),
            author_handle=f"u{i % 3000}",
            author_name=f"User {i % 3000}",
            thread_external_id=str(10_000_000 + i - (i % 3)),
            thread_type="x_thread",
            in_reply_to=None,
            permalink=None,
            raw={"id": str(i)},
        )
        for i in range(n)
    ]
    return ingest_for(db), lambda run: run + 1, items
