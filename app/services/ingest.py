"""Ingest use case: a fetched batch and its cursor stored in one transaction, routed on arrival."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.domain.items import InboundItem, repair_text
from app.services.routing import RoutingService, owner_route
from app.storage.ingest import StoredBatch
from app.storage.ports import CursorUpdate, Storage

log = logging.getLogger("quiver.services.ingest")

BATCH = 1000


@dataclass(frozen=True)
class IngestOutcome:
    account_id: int
    new_messages: int
    duplicates: int
    skipped: int
    new_conversation_ids: tuple[int, ...]
    touched_conversation_ids: tuple[int, ...]


class IngestService:
    """Stores what connectors fetched. Safe from any thread: each call has its own unit of work."""

    def __init__(
        self,
        db: Storage,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        routing: RoutingService | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self.routing = routing if routing is not None else RoutingService(db, clock=clock)

    def store(
        self,
        account_id: int,
        items: tuple[InboundItem, ...] | list[InboundItem],
        cursor: dict[str, Any] | None,
        *,
        skipped: int = 0,
        update_cursor: CursorUpdate | None = None,
    ) -> IngestOutcome:
        """Store ``items`` and persist ``cursor`` with them, all or nothing.

        Large batches are written in transactions of at most ``BATCH`` items; the cursor goes with
        the last one, so a crash in between repeats work (deduplicated) but never skips any.
        ``update_cursor`` instead derives the new cursor from the stored one, inside that last
        transaction (under the write lock), for callers that own only part of it.

        Raises:
            KeyError: there is no such account.
        """
        new = dup = 0
        created: list[int] = []
        touched: set[int] = set()
        chunks = [items[i : i + BATCH] for i in range(0, len(items), BATCH)] or [()]
        for n, chunk in enumerate(chunks):
            last = n == len(chunks) - 1
            chunk_cursor, chunk_update = (cursor, update_cursor) if last else (None, None)
            try:
                stored = self._store_chunk(account_id, list(chunk), chunk_cursor, chunk_update)
            except UnicodeEncodeError:
                # Text a network sent as JSON may hold lone surrogates, which no database
                # stores: the transaction was rolled back; store the batch again, repaired.
                log.warning("account %s: text with invalid characters repaired", account_id)
                stored = self._store_chunk(
                    account_id, [repair_text(i) for i in chunk], chunk_cursor, chunk_update
                )
            new += stored.new_messages
            dup += stored.duplicates
            created += stored.new_conversation_ids
            touched |= set(stored.touched_conversation_ids)
        return IngestOutcome(
            account_id=account_id,
            new_messages=new,
            duplicates=dup,
            skipped=skipped,
            new_conversation_ids=tuple(created),
            touched_conversation_ids=tuple(sorted(touched)),
        )

    def _store_chunk(
        self,
        account_id: int,
        chunk: list[InboundItem],
        cursor: dict[str, Any] | None,
        update_cursor: CursorUpdate | None,
    ) -> StoredBatch:
        """Routing decided first (a read, no lock), then one write transaction.

        It marks the account synced (with its cursor), stores the items and the spam filter's
        sightings.
        """
        plan = self.routing.plan(account_id, chunk) if chunk else None
        with self._db.uow() as uow:
            owner = uow.batches.open_batch(
                account_id, synced_at=self._clock(), cursor=cursor, update_cursor=update_cursor
            )
            if owner is None:
                raise KeyError(f"no account {account_id}")
            if plan is None:
                route, sightings, due = owner_route(owner.unit_id, owner.unit_name), [], {}
            else:
                route, sightings, due = plan.router(owner), plan.sightings, plan.first_due
            stored = uow.batches.store(
                account_id, owner.network, chunk, route, sightings, first_due=due
            )
            if plan is not None and plan.prune_before is not None:
                uow.batches.prune_sightings(plan.prune_before)
            uow.commit()
            return stored
