"""Set-wise ingest of normalized items: dedupe, authors, threading, messages, counters, search.

One call stores one batch inside the caller's transaction with a handful of statements (no
per-row ORM flush, no per-row trigger), as performance.md asks.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Connection,
    and_,
    bindparam,
    case,
    insert,
    or_,
    text,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from app.domain.items import InboundItem, has_nul, repair_text
from app.models import Author, Conversation, Message
from app.models.base import to_epoch_ms
from app.storage.search import index_new_messages

CHUNK = 900  # ids per IN (...) list: well under SQLite's bound-parameter limit (32,766)
PREVIEW = 200
REASON = 500  # the size of conversations.routing_reason

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
AUTHOR_COLUMNS = (
    "network",
    "external_id",
    "handle",
    "display_name",
    "followers_count",
    "is_spammer",
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
    "spam_score",
    "spam_reasons",
    "created_at",
    "assignee_id",
    "claimed_at",
    "sentiment",
    "sla_due_at",
)

messages = Message.__table__
convs = Conversation.__table__
authors = Author.__table__


@dataclass(frozen=True)
class NewThread:
    """Where a conversation no one has seen yet goes, as decided by the routing service.

    ``language`` ``None`` keeps the first item's own; ``sla_due_at`` is epoch milliseconds;
    ``tags`` are tag names (missing ``tags`` rows are created).
    """

    unit_id: int
    rule_id: int | None = None
    reason: str = ""
    priority: str = "normal"
    status: str = "new"
    spam_score: float | None = None
    spam_reasons: str = ""
    assignee_id: int | None = None
    language: str | None = None
    sentiment: float | None = None
    sla_due_at: int | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredBatch:
    new_messages: int
    duplicates: int
    new_conversation_ids: tuple[int, ...]
    touched_conversation_ids: tuple[int, ...]
    new_threads: tuple[tuple[int, NewThread], ...] = ()  # each created conversation's decision


Router = Callable[[InboundItem], NewThread]


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _insert_ignore(conn: Connection, table: Any, index: Sequence[str]) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` in the workspace's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(index))
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(index))


_compiled: dict[tuple[Any, ...], Any] = {}  # statements compiled once per process


def _json(raw: Mapping[str, Any]) -> str:
    """Compact JSON text of a raw payload.

    orjson for speed; the standard library for what orjson refuses (integers beyond 64 bits,
    lone surrogates).
    """
    try:
        return orjson.dumps(raw).decode()
    except TypeError:
        return json.dumps(raw, separators=(",", ":"))


def _positional(conn: Connection) -> bool:
    """Whether rows can go to the driver as tuples (SQLite's qmark style)."""
    return conn.dialect.paramstyle == "qmark"


def _executemany(
    conn: Connection,
    key: str,
    build: Callable[[], Any],
    names: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
    *,
    returning: bool = False,
) -> list[tuple[Any, ...]]:
    """An ``executemany`` of a Core insert without per-row parameter processing.

    ``rows`` hold the values of ``names`` in storage form (epoch ms, JSON already encoded).
    The statement ``build`` returns is compiled once per process and dialect (under ``key``)
    and the rows go straight to the driver, inside the caller's transaction: SQLite's as
    tuples; psycopg's as parameter sets it sends in one pipeline, each statement short (no
    thousand-row ``VALUES`` text for the driver to parse: measured, that parsing was a third of
    the client's time). With ``returning``, the rows each insert returned (none for a row
    ``ON CONFLICT DO NOTHING`` skipped).
    """
    if not rows:
        return []
    cache_key = (key, names, conn.dialect.name)
    cached = _compiled.get(cache_key)
    if cached is None:
        compiled = build().values({n: bindparam(n) for n in names}).compile(dialect=conn.dialect)
        order = tuple(compiled.positiontup or ()) if _positional(conn) else names
        index = None if order == names else [names.index(n) for n in order]
        cached = _compiled[cache_key] = (str(compiled), index)
    sql, index = cached
    cursor = _driver(conn)
    if _positional(conn):
        if index is not None:
            rows = [tuple(r[i] for i in index) for r in rows]
        cursor.executemany(sql, rows)
        return []
    params = [dict(zip(names, r, strict=True)) for r in rows]
    if not returning:
        cursor.executemany(sql, params)
        return []
    cursor.executemany(sql, params, returning=True)
    out: list[tuple[Any, ...]] = []
    while True:
        out.extend(tuple(r) for r in cursor.fetchall())
        if not cursor.nextset():
            return out


def _driver(conn: Connection) -> Any:
    """A DB-API cursor on the connection, in its current transaction (hot paths only)."""
    return conn.connection.cursor()


def _rows_in(
    conn: Connection,
    table: Any,
    columns: tuple[str, ...],
    fixed: Mapping[str, Any],
    in_column: str,
    values: Sequence[Any],
) -> Iterable[Sequence[Any]]:
    """``SELECT columns FROM table WHERE fixed AND in_column IN (values)``, a chunk at a time.

    With SQLite the SQL text is built here (qmark placeholders, no per-call compile of an
    expanding ``IN``) and runs on the driver's cursor: these lookups run for every ingest batch.
    Other drivers use Core.
    """
    if not _positional(conn):
        # One array parameter joined through unnest: the plan is a nested loop over the unique
        # index whatever the table's statistics say (a fresh workspace has none until
        # autovacuum analyzes it, and an IN list of 900 values was then read as a scan of the
        # account's every message: 180-270 ms per batch at 10,000 stored rows).
        sql = text(
            f"SELECT {', '.join('t.' + c for c in columns)} "
            f"FROM unnest(CAST(:wanted AS text[])) AS w(value) JOIN {table.name} t ON "
            + "".join(f"t.{k} = :{k} AND " for k in fixed)
            + f"t.{in_column} = w.value"
        )
        yield from conn.execute(sql, {**fixed, "wanted": list(values)})
        return
    head = (
        f"SELECT {', '.join(columns)} FROM {table.name} WHERE "
        + "".join(f"{k} = ? AND " for k in fixed)
        + f"{in_column} IN ("
    )
    cursor = _driver(conn)
    for part in _chunks(values):
        yield from cursor.execute(
            head + ",".join("?" * len(part)) + ")", (*fixed.values(), *part)
        ).fetchall()


def store_items(
    conn: Connection,
    *,
    account_id: int,
    network: str,
    items: Sequence[InboundItem],
    route: Router,
    first_due: Mapping[tuple[str, str], int] | None = None,
) -> StoredBatch:
    """Store one batch of a single account's items; already stored items change nothing.

    Args:
        conn: A connection inside the batch's transaction. With SQLite that transaction must
            already have written (the ingest service updates the account first), so it holds
            the write lock: the dedupe check and the ids handed out stay true until commit.
        account_id: The account the items were fetched for.
        network: Its network.
        items: Normalized items, any order, duplicates allowed.
        route: Decides unit, priority and reason of each new conversation (from its first item).
        first_due: The first-response due time (epoch ms) of stored threads this batch brings
            the first message from outside to (our own posts): set only while the conversation
            has no first inbound message and no due time yet.
    """
    unique: dict[str, InboundItem] = {}
    for item in items:
        if has_nul(item):  # PostgreSQL stores no NUL: repaired alike on every engine
            item = repair_text(item)
        unique.setdefault(item.external_id, item)
    known: set[str] = set()
    ids = list(unique)
    known.update(
        row[0]
        for row in _rows_in(
            conn,
            messages,
            ("external_id",),
            {"network": network, "account_id": account_id},
            "external_id",
            ids,
        )
    )
    fresh = sorted(
        (i for i in unique.values() if i.external_id not in known), key=lambda i: i.created_at
    )
    duplicates = len(items) - len(fresh)
    if not fresh:
        return StoredBatch(0, duplicates, (), ())

    at = [to_epoch_ms(i.created_at) for i in fresh]  # storage form, once per item
    summaries = _summaries(fresh, at)
    author_ids = _store_authors(conn, network, fresh)
    conv_ids, new_convs = _store_conversations(
        conn, account_id, network, fresh, at, author_ids, route, summaries
    )
    _executemany(
        conn,
        "messages",
        lambda: _insert_ignore(conn, messages, ("network", "account_id", "external_id")),
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
                created,
                i.in_reply_to,
                i.permalink,
                _json(i.raw),
            )
            for i, created in zip(fresh, at, strict=True)
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
        {
            conv_ids[key]: due
            for key, due in (first_due or {}).items()
            if key in conv_ids and conv_ids[key] not in new_convs
        },
    )
    index_new_messages(conn)
    return StoredBatch(
        len(fresh),
        duplicates,
        tuple(sorted(new_convs)),
        tuple(touched),
        tuple(sorted(new_convs.items())),
    )


def _store_authors(conn: Connection, network: str, items: Sequence[InboundItem]) -> dict[str, int]:
    """Authors' ids; new authors inserted, stored ones' follower counts refreshed.

    ``items`` are in time order: the newest payload of each author says how many followers
    they have now (only counts that changed are written).
    """
    wanted: dict[str, InboundItem] = {}
    for item in items:
        if item.author_external_id:
            wanted[item.author_external_id] = item  # the newest wins
    if not wanted:
        return {}
    found, followers = _author_ids(conn, network, list(wanted))
    changed = [
        (wanted[ext].author_followers, aid)
        for ext, aid in found.items()
        if wanted[ext].author_followers is not None
        and wanted[ext].author_followers != followers.get(ext)
    ]
    if changed:
        _run_many(
            conn,
            "followers",
            _followers_statement,
            [{"followers": n, "aid": aid} for n, aid in changed],
        )
    missing = [ext for ext in wanted if ext not in found]
    if not missing:
        return found
    rows = [
        (
            network,
            ext,
            wanted[ext].author_handle,
            wanted[ext].author_name or "",
            wanted[ext].author_followers,
            False,
        )
        for ext in missing
    ]
    ids = _insert_new(conn, Author, ("network", "external_id"), AUTHOR_COLUMNS, rows)
    found.update((ext, i) for ext, i in zip(missing, ids, strict=True) if i is not None)
    if len(found) < len(wanted):  # written meanwhile by another workstation
        found.update(_author_ids(conn, network, [e for e in missing if e not in found])[0])
    return found


@functools.cache
def _followers_statement() -> Any:
    return (
        update(Author)
        .where(authors.c.id == bindparam("aid"))
        .values(followers_count=bindparam("followers"))
    )


def _insert_new(
    conn: Connection,
    model: Any,
    unique: tuple[str, ...],
    columns: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
) -> list[int | None]:
    """Insert rows the caller found missing; their ids in row order (``None``: look it up).

    With SQLite the ids are handed out here (:func:`_next_ids`) and go in with the rows. Other
    databases choose them: one set-wise ``INSERT … ON CONFLICT DO NOTHING RETURNING`` gives the
    ids of the rows it inserted; a row another workstation inserted meanwhile returns nothing,
    and the caller looks it up.
    """
    table = model.__table__
    ids = _next_ids(conn, table, len(rows))
    if ids is not None:
        _executemany(
            conn,
            table.name,
            lambda: insert(model),
            ("id", *columns),
            [(i, *row) for i, row in zip(ids, rows, strict=True)],
        )
        return list(ids)
    keys = [columns.index(c) for c in unique]
    returned = _executemany(
        conn,
        f"{table.name}-returning",
        lambda: _insert_ignore(conn, table, unique).returning(
            table.c.id, *(table.c[c] for c in unique)
        ),
        columns,
        rows,
        returning=True,
    )
    made = {tuple(found[1:]): found[0] for found in returned}
    return [made.get(tuple(r[k] for k in keys)) for r in rows]


def _next_ids(conn: Connection, table: Any, count: int) -> range | None:
    """Primary keys for ``count`` new rows of ``table``, handed out here (SQLite), or ``None``.

    SQLite gives a new row ``max(id) + 1`` anyway; choosing the ids before the insert saves
    looking them up afterwards. This is sound because the caller's transaction has already
    written, so it holds SQLite's write lock and no one else can insert meanwhile (and a clash
    would fail loudly on the primary key, not pass silently). Other databases use sequences.
    """
    if not _positional(conn):
        return None
    top = _driver(conn).execute(f"SELECT coalesce(max(id), 0) FROM {table.name}").fetchone()[0]
    return range(top + 1, top + 1 + count)


def _author_ids(
    conn: Connection, network: str, external_ids: Sequence[str]
) -> tuple[dict[str, int], dict[str, int | None]]:
    """Stored authors' ids and follower counts by external id."""
    ids: dict[str, int] = {}
    followers: dict[str, int | None] = {}
    for ext, aid, count in _rows_in(
        conn,
        authors,
        ("external_id", "id", "followers_count"),
        {"network": network},
        "external_id",
        external_ids,
    ):
        ids[ext], followers[ext] = aid, count
    return ids, followers


def _store_conversations(
    conn: Connection,
    account_id: int,
    network: str,
    items: Sequence[InboundItem],
    times: Sequence[int],
    author_ids: Mapping[str, int],
    route: Router,
    summaries: Mapping[tuple[str, str], Mapping[str, Any]],
) -> tuple[dict[tuple[str, str], int], dict[int, NewThread]]:
    """Each thread's conversation id, and the decisions of the conversations created here."""
    first: dict[tuple[str, str], tuple[InboundItem, int]] = {}
    for item, at in zip(items, times, strict=True):
        first.setdefault((item.thread_type, item.thread_external_id), (item, at))
    keys = list(first)
    found = _conversation_ids(conn, account_id, network, keys)
    missing = [k for k in keys if k not in found]
    if not missing:
        return found, {}
    rows = []
    decisions = []
    for key in missing:
        item, started = first[key]
        decision = route(item)
        decisions.append(decision)
        summary = summaries[key]
        author = author_ids.get(item.author_external_id or "") if item.direction == "in" else None
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
                item.language if decision.language is None else decision.language,
                summary["preview"],
                summary["n"],
                summary["fi"],
                summary["fo"],
                summary["li"],
                summary["last"],
                decision.rule_id,
                fit(decision.reason, REASON),
                decision.spam_score,
                decision.spam_reasons,
                started,
                decision.assignee_id,
                started if decision.assignee_id is not None else None,
                decision.sentiment,
                decision.sla_due_at,
            )
        )
    ids = _insert_new(
        conn,
        Conversation,
        ("network", "account_id", "thread_type", "external_thread_id"),
        CONVERSATION_COLUMNS,
        rows,
    )
    created: dict[int, NewThread] = {}
    for key, cid, decision in zip(missing, ids, decisions, strict=True):
        if cid is not None:
            found[key] = cid
            created[cid] = decision
    late = [k for k in missing if k not in found]
    if late:  # another workstation created them meanwhile: not new here
        found.update(_conversation_ids(conn, account_id, network, late))
    return found, created


def fit(text: str, size: int) -> str:
    """``text`` cut to ``size`` characters for a column, ending in "…" when it was cut."""
    if len(text) <= size:
        return text
    return text[: size - 1].rstrip() + "…"


def _conversation_ids(
    conn: Connection, account_id: int, network: str, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    by_type: dict[str, list[str]] = {}
    for thread_type, ext in keys:
        by_type.setdefault(thread_type, []).append(ext)
    for thread_type, exts in by_type.items():
        for ext, cid in _rows_in(
            conn,
            convs,
            ("external_thread_id", "id"),
            {"network": network, "account_id": account_id, "thread_type": thread_type},
            "external_thread_id",
            exts,
        ):
            found[(thread_type, ext)] = cid
    return found


def _summaries(
    fresh: Sequence[InboundItem], times: Sequence[int]
) -> dict[tuple[str, str], dict[str, Any]]:
    """What the batch adds to each conversation: count, latest text and the key times.

    ``times`` are the items' times in epoch milliseconds, in the same order.
    """
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for item, at in zip(fresh, times, strict=True):  # in time order
        key = (item.thread_type, item.thread_external_id)
        s = out.get(key)
        if s is None:
            s = out[key] = {"n": 0, "last": 0, "preview": "", "fi": None, "li": None, "fo": None}
        s["n"] += 1
        if at >= s["last"]:
            s["last"], s["preview"] = at, item.text[:PREVIEW]
        if item.direction == "in":
            s["fi"] = at if s["fi"] is None else min(s["fi"], at)
            s["li"] = at if s["li"] is None else max(s["li"], at)
        elif s["fo"] is None:
            s["fo"] = at
    return out


def _refresh_conversations(
    conn: Connection, updates: Sequence[Mapping[str, Any]], first_due: Mapping[int, int]
) -> None:
    """Fold a batch's messages into existing conversations' summary columns, set-wise.

    Messages are only ever added, so the summaries grow incrementally: one parameter set per
    conversation, one ``executemany``. Reopening (a customer writing again to a conversation that
    was waiting or resolved) is its own statement, run first and only for conversations with new
    inbound messages, so the common update leaves the status index alone.
    """
    if not updates:
        return
    inbound = [u for u in updates if u["li"] is not None]
    if inbound:
        _run_many(conn, "reopen", _reopen_statement, inbound)
    due = [{"cid": u["cid"], "due": first_due[u["cid"]]} for u in inbound if u["cid"] in first_due]
    if due:  # before the refresh sets their first inbound time
        _run_many(conn, "first_due", _first_due_statement, due)
    _run_many(conn, "refresh", _refresh_statement, updates)


@functools.cache
def _first_due_statement() -> Any:
    """Our own post's conversation gets its due time with the first message from outside.

    Never a second one: a conversation answered or timed already is left alone.
    """
    c = convs.c
    return (
        update(Conversation)
        .where(
            c.id == bindparam("cid"),
            c.first_inbound_at.is_(None),
            c.sla_due_at.is_(None),
        )
        .values(sla_due_at=bindparam("due", type_=BigInteger))
    )


@functools.cache
def _reopen_statement() -> Any:
    c = convs.c
    last_in = type_coerce(c.last_inbound_at, BigInteger)
    return (
        update(Conversation)
        .where(
            c.id == bindparam("cid"),
            or_(c.status == "waiting", c.status == "resolved"),
            or_(last_in.is_(None), last_in < bindparam("li", type_=BigInteger)),
        )
        .values(status="open")
    )


@functools.cache
def _refresh_statement() -> Any:
    c = convs.c
    last_activity = type_coerce(c.last_activity_at, BigInteger)
    last_in = type_coerce(c.last_inbound_at, BigInteger)
    first_in = type_coerce(c.first_inbound_at, BigInteger)
    first_out = type_coerce(c.first_response_at, BigInteger)
    p = {name: bindparam(name, type_=BigInteger) for name in ("last", "fi", "li", "fo")}
    return (
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
        )
    )


def _run_many(
    conn: Connection, key: str, build: Callable[[], Any], params: Sequence[Mapping[str, Any]]
) -> None:
    """``executemany`` of an UPDATE keyed by named parameters.

    With a positional driver the statement is compiled once per process and each tuple carries
    the statement's own constants too.
    """
    if not _positional(conn):
        conn.execute(build(), list(params))
        return
    cached = _compiled.get((key, ()))
    if cached is None:
        compiled = build().compile(dialect=conn.dialect)
        literals = {name: bind.value for name, bind in compiled.binds.items()}
        cached = _compiled[(key, ())] = (str(compiled), list(compiled.positiontup or ()), literals)
    sql, order, literals = cached
    if len(order) > 1 and all(n in params[0] for n in order):  # every value from the rows
        rows: list[tuple[Any, ...]] = list(map(itemgetter(*order), params))
    else:
        rows = [tuple(u[n] if n in u else literals[n] for n in order) for u in params]
    _driver(conn).executemany(sql, rows)
