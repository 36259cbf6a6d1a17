"""Set-wise ingest of normalized items: dedupe, authors, threading, messages, counters, search.

One call stores one batch inside the caller's transaction with a handful of statements (no
per-row ORM flush, no per-row trigger), as performance.md asks.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    and_,
    case,
    func,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from app.domain.items import InboundItem
from app.models import Author, Conversation, Message
from app.models.base import to_epoch_ms
from app.storage.search import index_new_messages

CHUNK = 400  # ids per IN (...) list: well under SQLite's bound-parameter limit
PREVIEW = 200

messages = Message.__table__
convs = Conversation.__table__
authors = Author.__table__


@dataclass(frozen=True)
class NewThread:
    """Where a conversation no one has seen yet goes, as decided by the routing service."""

    unit_id: int
    rule_id: int | None = None
    reason: str = ""
    priority: str = "normal"
    status: str = "new"


@dataclass(frozen=True)
class StoredBatch:
    new_messages: int
    duplicates: int
    new_conversation_ids: tuple[int, ...]
    touched_conversation_ids: tuple[int, ...]


Router = Callable[[InboundItem], NewThread]


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _insert_ignore(conn: Connection, table: Any, index: Sequence[str]) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` in the workspace's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(index))
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(index))


def store_items(
    conn: Connection,
    *,
    account_id: int,
    network: str,
    items: Sequence[InboundItem],
    route: Router,
) -> StoredBatch:
    """Store one batch of a single account's items; already stored items change nothing.

    Args:
        conn: A connection inside the batch's transaction.
        account_id: The account the items were fetched for.
        network: Its network.
        items: Normalized items, any order, duplicates allowed.
        route: Decides unit, priority and reason of each new conversation (from its first item).
    """
    unique: dict[str, InboundItem] = {}
    for item in items:
        unique.setdefault(item.external_id, item)
    known: set[str] = set()
    ids = list(unique)
    for part in _chunks(ids):
        known.update(
            conn.execute(
                select(messages.c.external_id).where(
                    messages.c.network == network,
                    messages.c.account_id == account_id,
                    messages.c.external_id.in_(part),
                )
            ).scalars()
        )
    fresh = sorted(
        (i for i in unique.values() if i.external_id not in known), key=lambda i: i.created_at
    )
    duplicates = len(items) - len(fresh)
    if not fresh:
        return StoredBatch(0, duplicates, (), ())

    author_ids = _store_authors(conn, network, fresh)
    conv_ids, new_convs = _store_conversations(conn, account_id, network, fresh, author_ids, route)
    rows = [
        {
            "network": network,
            "account_id": account_id,
            "external_id": i.external_id,
            "conversation_id": conv_ids[(i.thread_type, i.thread_external_id)],
            "author_id": author_ids.get(i.author_external_id or ""),
            "direction": i.direction,
            "kind": i.kind,
            "text": i.text,
            "language": i.language,
            "created_at": to_epoch_ms(i.created_at),
            "in_reply_to": i.in_reply_to,
            "permalink": i.permalink,
            "raw": _json_safe(i.raw),
        }
        for i in fresh
    ]
    conn.execute(_insert_ignore(conn, messages, ("network", "account_id", "external_id")), rows)
    touched = sorted(set(conv_ids.values()))
    _refresh_conversations(conn, touched)
    index_new_messages(conn)
    return StoredBatch(len(fresh), duplicates, tuple(sorted(new_convs)), tuple(touched))


def _store_authors(conn: Connection, network: str, items: Sequence[InboundItem]) -> dict[str, int]:
    wanted: dict[str, InboundItem] = {}
    for item in items:
        if item.author_external_id:
            wanted.setdefault(item.author_external_id, item)
    if not wanted:
        return {}
    conn.execute(
        _insert_ignore(conn, authors, ("network", "external_id")),
        [
            {
                "network": network,
                "external_id": ext,
                "handle": i.author_handle,
                "display_name": i.author_name or "",
                "followers_count": i.author_followers,
                "is_spammer": False,
            }
            for ext, i in wanted.items()
        ],
    )
    found: dict[str, int] = {}
    for part in _chunks(list(wanted)):
        for ext, aid in conn.execute(
            select(authors.c.external_id, authors.c.id).where(
                authors.c.network == network, authors.c.external_id.in_(part)
            )
        ):
            found[ext] = aid
    return found


def _store_conversations(
    conn: Connection,
    account_id: int,
    network: str,
    items: Sequence[InboundItem],
    author_ids: Mapping[str, int],
    route: Router,
) -> tuple[dict[tuple[str, str], int], set[int]]:
    first: dict[tuple[str, str], InboundItem] = {}
    for item in items:
        first.setdefault((item.thread_type, item.thread_external_id), item)
    keys = list(first)
    found = _conversation_ids(conn, account_id, network, keys)
    missing = [k for k in keys if k not in found]
    if missing:
        rows = []
        for key in missing:
            item = first[key]
            decision = route(item)
            at = to_epoch_ms(item.created_at)
            rows.append(
                {
                    "network": network,
                    "account_id": account_id,
                    "thread_type": key[0],
                    "external_thread_id": key[1],
                    "root_external_id": key[1],
                    "kind": item.kind,
                    "unit_id": decision.unit_id,
                    "author_id": author_ids.get(item.author_external_id or "")
                    if item.direction == "in"
                    else None,
                    "status": decision.status,
                    "priority": decision.priority,
                    "language": item.language,
                    "preview": "",
                    "message_count": 0,
                    "last_activity_at": at,
                    "routed_by_rule_id": decision.rule_id,
                    "routing_reason": decision.reason,
                    "created_at": at,
                }
            )
        conn.execute(
            _insert_ignore(
                conn, convs, ("network", "account_id", "thread_type", "external_thread_id")
            ),
            rows,
        )
        created = _conversation_ids(conn, account_id, network, missing)
        found.update(created)
        return found, set(created.values())
    return found, set()


def _conversation_ids(
    conn: Connection, account_id: int, network: str, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    by_type: dict[str, list[str]] = {}
    for thread_type, ext in keys:
        by_type.setdefault(thread_type, []).append(ext)
    for thread_type, exts in by_type.items():
        for part in _chunks(exts):
            for ext, cid in conn.execute(
                select(convs.c.external_thread_id, convs.c.id).where(
                    convs.c.network == network,
                    convs.c.account_id == account_id,
                    convs.c.thread_type == thread_type,
                    convs.c.external_thread_id.in_(part),
                )
            ):
                found[(thread_type, ext)] = cid
    return found


def _refresh_conversations(conn: Connection, ids: Sequence[int]) -> None:
    """Recompute each touched conversation's summary columns from its messages."""
    m = messages.alias("m")
    at = type_coerce(m.c.created_at, BigInteger)
    mine = m.c.conversation_id == convs.c.id
    inbound = and_(mine, m.c.direction == "in")
    outbound = and_(mine, m.c.direction == "out")
    latest = (
        select(m.c.text).where(mine).order_by(at.desc(), m.c.id.desc()).limit(1).scalar_subquery()
    )
    last_in = select(func.max(at)).where(inbound).scalar_subquery()
    for part in _chunks(list(ids)):
        conn.execute(
            update(Conversation)
            .where(convs.c.id.in_(part))
            .values(
                message_count=select(func.count()).where(mine).scalar_subquery(),
                last_activity_at=select(func.max(at)).where(mine).scalar_subquery(),
                last_inbound_at=last_in,
                first_inbound_at=select(func.min(at)).where(inbound).scalar_subquery(),
                first_response_at=select(func.min(at)).where(outbound).scalar_subquery(),
                preview=func.substr(latest, 1, PREVIEW),
                # A customer writing again reopens a conversation that was waiting or done.
                status=case(
                    (
                        and_(
                            convs.c.status.in_(("waiting", "resolved")),
                            type_coerce(convs.c.last_inbound_at, BigInteger) < last_in,
                        ),
                        "open",
                    ),
                    else_=convs.c.status,
                ),
            )
        )


def _json_safe(raw: Mapping[str, Any]) -> dict[str, Any] | None:
    try:
        value = json.loads(json.dumps(raw, default=str))
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else {"value": value}
