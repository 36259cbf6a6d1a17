"""One ingest batch's transaction in SQL: the account touched first, then the items stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.orm import Session

from app.domain.items import InboundItem
from app.domain.spam import Sighting
from app.models import Account, Author, Conversation, ConversationTag, Tag, TextSighting, Unit
from app.models.base import from_epoch_ms, to_epoch_ms
from app.storage.ingest import (
    CHUNK,
    NewThread,
    Router,
    StoredBatch,
    _conversation_ids,
    _executemany,
    _insert_ignore,
    _rows_in,
    fit,
    store_items,
)
from app.storage.ports import BatchFacts, BatchOwner, CursorUpdate, KnownAuthor, NewSighting

TAG = 100  # the size of tags.name


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

    def facts(
        self,
        account_id: int,
        threads: Sequence[tuple[str, str]],
        authors: Sequence[str],
        *,
        inbound: Sequence[tuple[str, str]] = (),
    ) -> BatchFacts:
        return batch_facts(self._s.connection(), account_id, threads, authors, inbound)

    def sightings(self, fingerprints: Sequence[str], since: datetime) -> dict[str, list[Sighting]]:
        return recent_sightings(self._s.connection(), fingerprints, since)

    def store(
        self,
        account_id: int,
        network: str,
        items: Sequence[InboundItem],
        route: Router,
        sightings: Sequence[NewSighting] = (),
        first_due: Mapping[tuple[str, str], int] | None = None,
    ) -> StoredBatch:
        conn = self._s.connection()
        stored = store_items(
            conn,
            account_id=account_id,
            network=network,
            items=items,
            route=route,
            first_due=first_due,
        )
        store_tags(conn, stored.new_threads)
        if sightings:
            _executemany(
                conn,
                "text_sightings",
                lambda: insert(TextSighting),
                ("fingerprint", "author", "at"),
                [(s.fingerprint, s.author, to_epoch_ms(s.at)) for s in sightings],
            )
        return stored

    def prune_sightings(self, before: datetime) -> int:
        result = self._s.execute(delete(TextSighting).where(TextSighting.at < before))
        return int(getattr(result, "rowcount", 0) or 0)


def batch_facts(
    conn: Connection,
    account_id: int,
    threads: Sequence[tuple[str, str]],
    authors: Sequence[str],
    inbound: Sequence[tuple[str, str]] = (),
) -> BatchFacts:
    """The account's owner unit, which threads exist, and the authors we know.

    Also which stored threads of ``inbound`` nobody outside has written in yet (our own posts).
    """
    owner = conn.execute(
        select(Account.network, Account.unit_id, Unit.name)
        .join(Unit, Unit.id == Account.unit_id)
        .where(Account.id == account_id)
    ).first()
    if owner is None:
        return BatchFacts(None)
    network = owner.network
    ids = _conversation_ids(conn, account_id, network, list(dict.fromkeys(threads)))
    known = frozenset(ids)
    awaiting: dict[tuple[str, str], int] = {}
    asked = {ids[k]: k for k in dict.fromkeys(inbound) if k in ids}
    wanted = sorted(asked)
    for i in range(0, len(wanted), CHUNK):
        for cid, unit_id in conn.execute(
            select(Conversation.id, Conversation.unit_id).where(
                Conversation.id.in_(wanted[i : i + CHUNK]), Conversation.first_inbound_at.is_(None)
            )
        ).tuples():
            awaiting[asked[cid]] = unit_id
    found: dict[str, KnownAuthor] = {}
    for ext, followers, spammer in _rows_in(
        conn,
        Author.__table__,
        ("external_id", "followers_count", "is_spammer"),
        {"network": network},
        "external_id",
        sorted(set(authors)),
    ):
        found[ext] = KnownAuthor(followers, bool(spammer))
    return BatchFacts(BatchOwner(*owner), known, found, awaiting)


def recent_sightings(
    conn: Connection, fingerprints: Sequence[str], since: datetime, *, per_text: int = 16
) -> dict[str, list[Sighting]]:
    """The newest ``per_text`` sightings of each fingerprint at or after ``since``, newest first.

    A campaign repeated by thousands of authors needs only a handful of them to count as "the
    same text from several authors"; capping keeps what routing holds small. Ingest writes at
    most a few rows per text and hour (``app.services.routing``), so the rows read per text
    stay few too: they are read by the fingerprint index and capped here.
    """
    floor = to_epoch_ms(since)
    found: dict[str, list[tuple[int, str]]] = {}
    for fp, author, at in _rows_in(
        conn,
        TextSighting.__table__,
        ("fingerprint", "author", "at"),
        {},
        "fingerprint",
        sorted(set(fingerprints)),
    ):
        if at >= floor:
            found.setdefault(fp, []).append((at, author))
    seen: dict[str, list[Sighting]] = {}
    for fp, rows in found.items():
        rows.sort(key=lambda r: r[0], reverse=True)
        seen[fp] = [Sighting(author, from_epoch_ms(at)) for at, author in rows[:per_text]]
    return seen


def store_tags(conn: Connection, decided: Sequence[tuple[int, NewThread]]) -> None:
    """The routing tags of newly created conversations; ``tags`` rows made for new names."""
    pairs = [
        (cid, name)
        for cid, d in decided
        for name in dict.fromkeys(fit(t, TAG) for t in d.tags if t.strip())
    ]
    if not pairs:
        return
    names = sorted({name for _, name in pairs})
    ids = dict(conn.execute(select(Tag.name, Tag.id).where(Tag.name.in_(names))).tuples().all())
    missing = [n for n in names if n not in ids]
    if missing:
        conn.execute(_insert_ignore(conn, Tag.__table__, ("name",)), [{"name": n} for n in missing])
        ids.update(
            conn.execute(select(Tag.name, Tag.id).where(Tag.name.in_(missing))).tuples().all()
        )
    conn.execute(
        insert(ConversationTag),
        [{"conversation_id": cid, "tag_id": ids[name]} for cid, name in pairs],
    )
