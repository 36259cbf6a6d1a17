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
    bindparam,
    case,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from app.domain.items import InboundItem
from app.models import Author, Conversation, Message
from app.models.base import to_epoch_ms
from app.storage.search import index_new_messages

CHUNK = 900  # ids per IN (...) list: well under SQLite's bound-parameter limit (32,766)
PREVIEW = 200

MESSAGE_COLUMNS = (
    "network",
    "account_id",
    "external_id",
    "conversation_id",
    "author_id",
    "direction",
    "kind",
    "text",
    "language",
    "created_at",
    "in_reply_to",
    "permalink",
    "raw",
)
CONVERSATION_COLUMNS = (  # in the table's order: the driver gets the tuples as they are
    "network",
    "account_id",
    "thread_type",
    "external_thread_id",
    "root_external_id",
    "kind",
    "unit_id",
    "author_id",
    "status",
    "priority",
    "language",
    "preview",
    "message_count",
    "first_inbound_at",
    "first_response_at",
    "last_inbound_at",
    "last_activity_at",
    "routed_by_rule_id",
    "routing_reason",
    "created_at",
)

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


_compiled: dict[tuple[str, tuple[str, ...]], Any] = {}


def _json(raw: Mapping[str, Any]) -> str:
    return json.dumps(raw, separators=(",", ":"))


def _positional(conn: Connection) -> bool:
    """Whether rows can go to the driver as tuples (SQLite's qmark style)."""
    return conn.dialect.paramstyle == "qmark"


def _executemany(
    conn: Connection, stmt: Any, names: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    """An ``executemany`` of a Core insert without per-row parameter processing.

    ``rows`` hold the values of ``names`` in storage form (epoch ms; with a positional driver,
    JSON already encoded). With SQLite the statement is compiled once and the tuples go to the
    driver as they are; other drivers take the ordinary Core path.
    """
    if not rows:
        return
    if not _positional(conn):
        conn.execute(stmt, [dict(zip(names, r, strict=True)) for r in rows])
        return
    key = (str(stmt), names)
    compiled = _compiled.get(key)
    if compiled is None:
        compiled = _compiled[key] = stmt.values({n: bindparam(n) for n in names}).compile(
            dialect=conn.dialect
        )
    order = tuple(compiled.positiontup)
    if order != names:
        index = [names.index(n) for n in order]
        rows = [tuple(r[i] for i in index) for r in rows]
    conn.exec_driver_sql(str(compiled), list(rows))


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

    summaries = _summaries(fresh)
    author_ids = _store_authors(conn, network, fresh)
    conv_ids, new_convs = _store_conversations(
        conn, account_id, network, fresh, author_ids, route, summaries
    )
    encode: Callable[[Mapping[str, Any]], Any] = (
        _json if _positional(conn) else dict  # the driver takes text; Core encodes dicts itself
    )
    _executemany(
        conn,
        _insert_ignore(conn, messages, ("network", "account_id", "external_id")),
        MESSAGE_COLUMNS,
        [
            (
                network,
                account_id,
                i.external_id,
                conv_ids[(i.thread_type, i.thread_external_id)],
                author_ids.get(i.author_external_id or ""),
                i.direction,
                i.kind,
                i.text,
                i.language,
                to_epoch_ms(i.created_at),
                i.in_reply_to,
                i.permalink,
                encode(i.raw),
            )
            for i in fresh
        ],
    )
    touched = sorted(set(conv_ids.values()))
    _refresh_conversations(
        conn,
        [
            {**summary, "cid": conv_ids[key]}
            for key, summary in summaries.items()
            if conv_ids[key] not in new_convs
        ],
    )
    index_new_messages(conn)
    return StoredBatch(len(fresh), duplicates, tuple(sorted(new_convs)), tuple(touched))


def _store_authors(conn: Connection, network: str, items: Sequence[InboundItem]) -> dict[str, int]:
    wanted: dict[str, InboundItem] = {}
    for item in items:
        if item.author_external_id:
            wanted.setdefault(item.author_external_id, item)
    if not wanted:
        return {}
    found = _author_ids(conn, network, list(wanted))
    missing = [ext for ext in wanted if ext not in found]
    if not missing:
        return found
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
            for ext, i in ((ext, wanted[ext]) for ext in missing)
        ],
    )
    found.update(_author_ids(conn, network, missing))
    return found


def _author_ids(conn: Connection, network: str, external_ids: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in _chunks(external_ids):
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
    summaries: Mapping[tuple[str, str], Mapping[str, Any]],
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
            summary = summaries[key]
            author = (
                author_ids.get(item.author_external_id or "") if item.direction == "in" else None
            )
            rows.append(
                (
                    network,
                    account_id,
                    key[0],
                    key[1],
                    key[1],
                    item.kind,
                    decision.unit_id,
                    author,
                    decision.status,
                    decision.priority,
                    item.language,
                    summary["preview"],
                    summary["n"],
                    summary["fi"],
                    summary["fo"],
                    summary["li"],
                    summary["last"],
                    decision.rule_id,
                    decision.reason,
                    to_epoch_ms(item.created_at),
                )
            )
        _executemany(
            conn,
            _insert_ignore(
                conn, convs, ("network", "account_id", "thread_type", "external_thread_id")
            ),
            CONVERSATION_COLUMNS,
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


def _summaries(fresh: Sequence[InboundItem]) -> dict[tuple[str, str], dict[str, Any]]:
    """What the batch adds to each conversation: count, latest text and the key times."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for item in fresh:  # in time order
        key = (item.thread_type, item.thread_external_id)
        s = out.get(key)
        if s is None:
            s = out[key] = {"n": 0, "last": 0, "preview": "", "fi": None, "li": None, "fo": None}
        at = to_epoch_ms(item.created_at)
        s["n"] += 1
        if at >= s["last"]:
            s["last"], s["preview"] = at, item.text[:PREVIEW]
        if item.direction == "in":
            s["fi"] = at if s["fi"] is None else min(s["fi"], at)
            s["li"] = at if s["li"] is None else max(s["li"], at)
        elif s["fo"] is None:
            s["fo"] = at
    return out


def _refresh_conversations(conn: Connection, updates: Sequence[Mapping[str, Any]]) -> None:
    """Fold a batch's messages into existing conversations' summary columns, set-wise.

    Messages are only ever added, so the summaries grow incrementally: one parameter set per
    conversation, one ``executemany``.
    """
    if not updates:
        return
    c = convs.c
    last_activity = type_coerce(c.last_activity_at, BigInteger)
    last_in = type_coerce(c.last_inbound_at, BigInteger)
    first_in = type_coerce(c.first_inbound_at, BigInteger)
    first_out = type_coerce(c.first_response_at, BigInteger)
    p = {name: bindparam(name, type_=BigInteger) for name in ("last", "fi", "li", "fo")}
    stmt = (
        update(Conversation)
        .where(c.id == bindparam("cid"))
        .values(
            message_count=c.message_count + bindparam("n"),
            preview=case((last_activity <= p["last"], bindparam("preview")), else_=c.preview),
            last_activity_at=case((last_activity < p["last"], p["last"]), else_=last_activity),
            first_inbound_at=case(
                (and_(p["fi"].is_not(None), or_(first_in.is_(None), first_in > p["fi"])), p["fi"]),
                else_=first_in,
            ),
            last_inbound_at=case(
                (and_(p["li"].is_not(None), or_(last_in.is_(None), last_in < p["li"])), p["li"]),
                else_=last_in,
            ),
            first_response_at=case(
                (
                    and_(p["fo"].is_not(None), or_(first_out.is_(None), first_out > p["fo"])),
                    p["fo"],
                ),
                else_=first_out,
            ),
            # A customer writing again reopens a conversation that was waiting or done.
            status=case(
                (
                    and_(
                        or_(c.status == "waiting", c.status == "resolved"),
                        p["li"].is_not(None),
                        or_(last_in.is_(None), last_in < p["li"]),
                    ),
                    "open",
                ),
                else_=c.status,
            ),
        )
    )
    if not _positional(conn):
        conn.execute(stmt, list(updates))
        return
    key = ("refresh", ())
    compiled = _compiled.get(key)
    if compiled is None:
        compiled = _compiled[key] = stmt.compile(dialect=conn.dialect)
    order = list(compiled.positiontup or ())
    # The statement's own constants ("open", "waiting", "resolved") travel with every row.
    literals = {name: bind.value for name, bind in compiled.binds.items()}
    conn.exec_driver_sql(
        str(compiled),
        [tuple(u[n] if n in u else literals[n] for n in order) for u in updates],
    )
