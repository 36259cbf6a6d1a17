"""One ingest batch's transaction in SQL: the account touched first, then the items stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from app.domain.items import InboundItem
from app.models import Account, Unit
from app.storage.ingest import Router, StoredBatch, store_items
from app.storage.ports import BatchOwner, CursorUpdate


def open_batch(
    conn: Connection,
    account_id: int,
    *,
    synced_at: datetime,
    cursor: dict[str, Any] | None,
    update_cursor: CursorUpdate | None,
) -> BatchOwner | None:
    """Mark the account synced and store (or derive) its cursor; ``None`` if it is gone.

    It writes first: SQLite then grants this transaction the write lock before it reads
    anything, so concurrent pollers queue (busy timeout) instead of failing on a stale snapshot,
    and what :func:`app.storage.ingest.store_items` reads afterwards stays true.
    """
    values: dict[str, Any] = {"last_sync_at": synced_at}
    if cursor is not None:
        values["cursor"] = cursor
    found = conn.execute(update(Account).where(Account.id == account_id).values(**values)).rowcount
    if update_cursor is not None and found:
        stored = conn.execute(select(Account.cursor).where(Account.id == account_id)).scalar()
        conn.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(cursor=update_cursor(dict(stored or {})))
        )
    owner = conn.execute(
        select(Account.network, Account.unit_id, Unit.name)
        .join(Unit, Unit.id == Account.unit_id)
        .where(Account.id == account_id)
    ).first()
    if not found or owner is None:
        return None
    return BatchOwner(*owner)


class SqlIngestBatches:
    """:class:`app.storage.ports.IngestBatches` on the connection of a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def open_batch(
        self,
        account_id: int,
        *,
        synced_at: datetime,
        cursor: dict[str, Any] | None,
        update_cursor: CursorUpdate | None,
    ) -> BatchOwner | None:
        return open_batch(
            self._s.connection(),
            account_id,
            synced_at=synced_at,
            cursor=cursor,
            update_cursor=update_cursor,
        )

    def store(
        self, account_id: int, network: str, items: Sequence[InboundItem], route: Router
    ) -> StoredBatch:
        return store_items(
            self._s.connection(), account_id=account_id, network=network, items=items, route=route
        )
