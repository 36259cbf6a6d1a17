"""The inbox's hot read queries in SQLAlchemy Core: keyset pages, threads and counts.

Pages are ordered by ``(last_activity_at DESC, id DESC)`` and continue after a key with a row-value
comparison, on an index that matches the filter. A sub-tree of several units is read as a
``UNION ALL`` of one indexed arm per unit, each already ordered and limited, so SQLite merges at
most ``units * limit`` rows instead of sorting the whole sub-tree.

Every filter of :class:`app.domain.rows.FeedQuery` is one condition (:func:`filter_conditions`)
that the page, the arrivals (:func:`feed_newer`), the keys (:func:`feed_keys`), the counts and
the search walk all share. The walked indexes hold every column those conditions read
(migration 0007), so a walk past thousands of rows the filters reject reads none of them from
the table; no filter drives a query through an index of its own. The due-time order reads
``ix_conversations_due`` (every unit) or ``ix_conversations_unit_due`` (per unit) in two
phases: rows with a due time (soonest first), then rows without one (by id), so a NULL due time
needs no sentinel in the index. What a walk would go far to find is read by id and sorted
instead: backlog statuses combined with another filter through ``ix_conversations_unit_status``
(see :func:`_few_statuses`), a tag with few conversations through its own index (see
:func:`few_tagged`). Search text first finds the matching conversations
(:mod:`app.storage.search`, within the same filters), then pages over them like any other filter.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from app.domain.enums import ConversationStatus
from app.domain.filters import (
    NEGATIVE_BELOW,
    POSITIVE_ABOVE,
    SENTIMENT_NEGATIVE,
    SENTIMENT_NEUTRAL,
    SENTIMENT_NONE,
    SENTIMENT_POSITIVE,
)
from app.domain.rows import (
    NO_DUE_MS,
    SORT_ACTIVITY,
    SORT_DUE,
    ConversationRow,
    FeedQuery,
    MessageRow,
)
from app.models import Account, Author, Conversation, ConversationTag, Message, Person, Tag, Unit
from app.storage.ports import ThreadHeader
from app.storage.search import SearchResult, matching_conversations

_i = sys.intern
conv = Conversation.__table__
authors = Author.__table__
messages = Message.__table__
conversation_tags = ConversationTag.__table__
tags = Tag.__table__

_activity = type_coerce(conv.c.last_activity_at, BigInteger)
_due = type_coerce(conv.c.sla_due_at, BigInteger)

_FEED_COLUMNS = (
    conv.c.id,
    _activity.label("last_activity_ms"),
    conv.c.network,
    conv.c.kind,
    conv.c.status,
    conv.c.priority,
    conv.c.unit_id,
    conv.c.account_id,
    conv.c.preview,
    conv.c.message_count,
    conv.c.sentiment,
    conv.c.author_id,
    type_coerce(conv.c.first_inbound_at, BigInteger).label("first_inbound_ms"),
    type_coerce(conv.c.first_response_at, BigInteger).label("first_response_ms"),
    _due.label("sla_due_ms"),
)
units_table = Unit.__table__
_BACKLOG = frozenset(s.value for s in ConversationStatus.backlog())
_TAIL = ("first_inbound_ms", "first_response_ms", "sla_due_ms")
_SENTIMENT_SQL: dict[str, Callable[[], ColumnElement[bool]]] = {
    SENTIMENT_NEGATIVE: lambda: conv.c.sentiment < NEGATIVE_BELOW,
    SENTIMENT_NEUTRAL: lambda: conv.c.sentiment.between(NEGATIVE_BELOW, POSITIVE_ABOVE),
    SENTIMENT_POSITIVE: lambda: conv.c.sentiment > POSITIVE_ABOVE,
    SENTIMENT_NONE: lambda: conv.c.sentiment.is_(None),
}


class _Unindexed(FunctionElement[Any]):
    """A column that no index may serve on SQLite: ``x + 0`` or ``x || ''``, the same values.

    SQLite has no statistics here: it takes any index a condition fits for the most selective
    one. A filter's values are common as often as rare, so only the chosen access paths (the
    ordered walk, the backlog's unit-status index, the ids a search found or a rare tag holds,
    an author's conversations) may drive a feed query there; the filters are checked on the
    way, from the walked index. PostgreSQL weighs its indexes by its statistics: the column
    as it is.
    """

    name = "unindexed"
    inherit_cache = True

    def __init__(self, column: ColumnElement[Any]) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(_Unindexed)
def _as_is(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(_Unindexed, "sqlite")
def _no_index(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    column = str(compiler.process(element.clauses, **kw))
    return f"({column} || '')" if isinstance(element.type, String) else f"({column} + 0)"


def _unindexed(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """``column``, never read through an index of its own on SQLite (see :class:`_Unindexed`)."""
    return _Unindexed(column)


def filter_conditions(q: FeedQuery, params: dict[str, object]) -> list[ColumnElement[bool]]:
    """Every condition of a query but the unit and the keyset, with their values in ``params``.

    The same conditions serve the page, the arrivals, the keys and the search walk, so every
    filter reaches every feed query. Values are bound (expanding ``IN`` lists), never inlined.
    The walked indexes hold every column these conditions read (migration 0007), so a walk that
    skips most rows reads no row of the table. No condition drives a query by an index of its
    own (:func:`_unindexed`), but the statuses: ``ix_conversations_unit_status`` reads the
    backlog (:func:`_few_statuses`) and no other index starts with the status.
    """
    where: list[ColumnElement[bool]] = []

    def one_of(name: str, column: ColumnElement[Any], values: Sequence[object]) -> None:
        if values:
            where.append(column.in_(bindparam(name, expanding=True)))
            params[name] = list(values)

    # A walk checks each entry against the conditions in this order and stops at the first
    # that fails: the columns with the most distinct values first, the dearest checks last.
    # An agent holds thousands of conversations, and nobody holds a third of them: walking the
    # ordered index finds a page of them at once, while ix_conversations_assignee_id would read
    # and sort them all (measured: 90-150 ms for 44,000 at 1M messages, against 2 ms; 160 ms
    # for the 133,000 unassigned ones).
    assignee = conv.c.assignee_id + literal_column("0", Integer)
    unassigned = _unindexed(conv.c.assignee_id).is_(None)
    if q.assignee_ids and q.unassigned:
        where.append(or_(assignee.in_(bindparam("assignees", expanding=True)), unassigned))
        params["assignees"] = list(q.assignee_ids)
    elif q.assignee_ids:
        where.append(assignee.in_(bindparam("assignees", expanding=True)))
        params["assignees"] = list(q.assignee_ids)
    elif q.unassigned:
        where.append(unassigned)
    one_of("languages", conv.c.language, q.languages)
    one_of("accounts", conv.c.account_id, q.account_ids)
    one_of("statuses", conv.c.status, q.statuses)
    one_of("kinds", conv.c.kind, q.kinds)
    if q.sentiments:
        bands = [_SENTIMENT_SQL[b]() for b in sorted(set(q.sentiments))]
        where.append(bands[0] if len(bands) == 1 else or_(*bands))
    # The network leads the conversations' unique key: a network's 100,000+ conversations read
    # from that index and sorted took 100-150 ms at 1M messages.
    one_of("networks", _unindexed(conv.c.network), q.networks)
    if q.tags:
        # Checked against the walked index's ids (the tagged ids are read once). A tag with few
        # conversations is read from its own index instead (:func:`few_tagged`).
        where.append(_unindexed(conv.c.id).in_(_tagged()))
        params["tags"] = list(q.tags)
    return where


def _tagged() -> Select[tuple[int]]:
    """The ids of the conversations with one of the bound ``tags``."""
    return (
        select(conversation_tags.c.conversation_id)
        .join(tags, tags.c.id == conversation_tags.c.tag_id)
        .where(tags.c.name.in_(bindparam("tags", expanding=True)))
    )


#: A tag with at most this many conversations is read from its own index, not walked past.
FEW_TAGGED = 10_000


def few_tagged(conn: Connection, q: FeedQuery) -> bool:
    """Whether the query's tags have few enough conversations to be read from their index.

    Tags live in their own table, not in the walked index: each walked entry costs a lookup
    among the tagged ids, and a walk past a rare tag ("vip" and negative: one conversation in
    300) took 90-120 ms at 1M messages. Reading a tag's conversations by id and sorting them
    costs about a microsecond each, whatever the other filters: up to 10 ms. A commoner tag is
    met often enough in the walk, but in the units it is rare in (a unit's whole walk, 0.2 µs
    an entry). Counted up to the bound, from the tag index alone.
    """
    if not q.tags:
        return False
    upto = _tagged().limit(FEW_TAGGED + 1).subquery("upto")
    stmt = select(func.count()).select_from(upto)
    return int(conn.execute(stmt, {"tags": list(q.tags)}).scalar_one()) <= FEW_TAGGED


def _shape(q: FeedQuery) -> tuple[object, ...]:
    """What decides a statement's text (values are bound): which filters are set."""
    return (
        bool(q.networks),
        bool(q.statuses),
        bool(q.account_ids),
        bool(q.kinds),
        bool(q.languages),
        bool(q.assignee_ids),
        q.unassigned,
        tuple(sorted(set(q.sentiments))),
        bool(q.tags),
        _few_statuses(q),
    )


def _key_after(sort: str, direction: str) -> ColumnElement[bool]:
    """The keyset condition: after (``lt``/``gt``) the bound key ``(after_ms, after_id)``."""
    column = _due if sort == SORT_DUE else _activity
    left = tuple_(column, conv.c.id)
    right = tuple_(bindparam("after_ms", type_=BigInteger), bindparam("after_id"))
    return left < right if direction == "lt" else left > right


def _order(sort: str, phase: str, *, by_status: bool = False) -> tuple[ColumnElement[Any], ...]:
    """The order of a phase; ``by_status``: as expressions no index provides (see below)."""
    zero: ColumnElement[int] = literal_column("0", BigInteger)
    activity, due, cid = (
        (_activity + zero, _due + zero, conv.c.id + zero)
        if by_status
        else (_activity, _due, conv.c.id)
    )
    if sort == SORT_DUE:
        return (cid.asc(),) if phase == "nodue" else (due.asc(), cid.asc())
    return (activity.desc(), cid.desc())


def _few_statuses(q: FeedQuery) -> bool:
    """Whether the query keeps only statuses that stay few (new, open, waiting), and more.

    Alone, the backlog is common enough that walking the ordered index finds a page at once.

    Resolved and spam conversations pile up for ever; the backlog stays small. Such a page is
    read through ``ix_conversations_unit_status`` (every backlog row of the units, then sorted:
    at 1M messages about 30,000 rows at most, see :func:`_backlog`) rather than by walking the
    ordered index, which for a rare combination ("new" and Japanese) would walk every
    conversation. The order is written as an expression (``last_activity_at + 0``) so SQLite
    does not pick the ordered index anyway.
    """
    narrowed = bool(q.networks or q.account_ids or q.kinds or q.languages or q.sentiments or q.tags)
    return narrowed and bool(q.statuses) and set(q.statuses) <= _BACKLOG


def _backlog(unit_count: int | None) -> Select[tuple[int]]:
    """The ids of the units' conversations in the bound ``statuses``, from the status index.

    Read apart from the other filters: in a query that also reads them, SQLite prefers the
    walked indexes (which hold them all) to the status index, and reads whole units.
    """
    inner = conv.alias("backlog")
    units = (
        inner.c.unit_id.in_(select(units_table.c.id))
        if unit_count is None
        else inner.c.unit_id.in_(bindparam("units", expanding=True))
    )
    return select(inner.c.id).where(
        units, inner.c.status.in_(bindparam("statuses", expanding=True))
    )


def _arm(
    unit_param: str | None,
    conditions: Sequence[ColumnElement[bool]],
    *,
    sort: str,
    phase: str,
    after: bool,
    search: bool,
    by_status: bool = False,
    limit: str = "limit",
) -> Select[tuple[object, ...]]:
    """One ordered, limited scan of the feed: one unit (or all), the filters and the keyset.

    ``phase`` is ``"activity"`` (newest activity first), ``"due"`` (rows with a due time,
    soonest first) or ``"nodue"`` (rows without one, by id): the due-time order reads the two
    phases one after the other, each on ``ix_conversations_unit_due``.
    """
    where = list(conditions)
    if unit_param is not None:
        where.append(conv.c.unit_id == bindparam(unit_param))
    if search:
        where.append(conv.c.id.in_(bindparam("found", expanding=True)))
    if phase == "due":
        where.append(conv.c.sla_due_at.is_not(None))
    elif phase == "nodue":
        where.append(conv.c.sla_due_at.is_(None))
    if after:
        if phase == "nodue":
            where.append(conv.c.id > bindparam("after_id"))
        else:
            where.append(_key_after(sort, "gt" if sort == SORT_DUE else "lt"))
    # Only the id and the phase's sort key: the walked index holds them and every filtered
    # column, so a walk reads no row of the table, and a plan that sorts (the backlog, a
    # search's conversations) sorts narrow rows; the page's rows are read whole afterwards.
    keys: tuple[ColumnElement[Any], ...] = (conv.c.id,)
    if phase == "activity":
        keys += (_activity.label("last_activity_ms"),)
    elif phase == "due":
        keys += (_due.label("sla_due_ms"),)
    stmt = select(*keys)
    if where:
        stmt = stmt.where(and_(*where))
    return stmt.order_by(*_order(sort, phase, by_status=by_status)).limit(bindparam(limit))


def _with_authors(inner: Any, order: Sequence[ColumnElement[Any]]) -> Select[tuple[object, ...]]:
    """The rows of ``inner`` with their author's name and handle, in ``order``."""
    return (
        select(
            *(c for c in inner.c if c.name not in ("author_id", *_TAIL)),
            func.coalesce(authors.c.display_name, "").label("author_name"),
            authors.c.handle.label("author_handle"),
            *(inner.c[name] for name in _TAIL),
        )
        .select_from(inner.outerjoin(authors, authors.c.id == inner.c.author_id))
        .order_by(*order)
    )


def _outer_order(inner: Any, sort: str, phase: str) -> tuple[ColumnElement[Any], ...]:
    if sort == SORT_DUE:
        if phase == "nodue":
            return (inner.c.id.asc(),)
        return (inner.c.sla_due_ms.asc(), inner.c.id.asc())
    return (inner.c.last_activity_ms.desc(), inner.c.id.desc())


def _ordered_ids(
    q: FeedQuery,
    unit_count: int | None,
    *,
    phase: str,
    after: bool,
    search: bool,
    by_tags: bool = False,
    limit: str = "limit",
) -> Select[tuple[object, ...]]:
    """The ids (and the phase's sort key) of the query's first ``:limit`` rows, in its order.

    The access path follows the filters: a search's conversations or a rare tag's by id, the
    backlog through the status index, otherwise a walk of the ordered index (one arm per unit).
    """
    conditions = filter_conditions(q, {})

    def arm(unit_param: str | None) -> Select[tuple[object, ...]]:
        return _arm(
            unit_param,
            conditions,
            sort=q.sort,
            phase=phase,
            after=after,
            search=search,
            limit=limit,
        )

    if search or by_tags:
        # A search's few hundred conversations, or a rare tag's, are read by id and sorted,
        # never by walking an index that most of them are not in (nor by reading a unit's
        # conversations).
        units = (
            []
            if unit_count is None
            else [_unindexed(conv.c.unit_id).in_(bindparam("units", expanding=True))]
        )
        if by_tags and not search:
            units.append(conv.c.id.in_(_tagged()))
        return _arm(
            None,
            [*units, *conditions],
            sort=q.sort,
            phase=phase,
            after=after,
            search=search,
            by_status=True,
            limit=limit,
        )
    if _few_statuses(q):
        return _arm(
            None,
            [conv.c.id.in_(_backlog(unit_count)), *conditions],
            sort=q.sort,
            phase=phase,
            after=after,
            search=search,
            by_status=True,
            limit=limit,
        )
    if unit_count is None or unit_count == 1:
        return arm(None if unit_count is None else "u0")
    arms = [select(arm(f"u{i}").subquery(f"arm{i}")) for i in range(unit_count)]
    merged = union_all(*arms).subquery("merged")
    return select(merged).order_by(*_outer_order(merged, q.sort, phase)).limit(bindparam(limit))


def _page_statement(
    q: FeedQuery,
    unit_count: int | None,
    *,
    phase: str,
    after: bool,
    search: bool,
    by_tags: bool = False,
) -> Select[tuple[object, ...]]:
    inner = _ordered_ids(
        q, unit_count, phase=phase, after=after, search=search, by_tags=by_tags
    ).subquery("page")
    return (
        select(*_row_columns())
        .select_from(
            inner.join(conv, conv.c.id == inner.c.id).outerjoin(
                authors, authors.c.id == conv.c.author_id
            )
        )
        .order_by(*_outer_order(inner, q.sort, phase))
    )


_statements: dict[tuple[object, ...], Select[tuple[object, ...]]] = {}


def feed_page(
    conn: Connection,
    q: FeedQuery,
    *,
    after: tuple[int, int] | None = None,
    limit: int = 200,
) -> list[ConversationRow]:
    """One page of the inbox in the query's order (newest activity, or soonest due), after a key.

    Args:
        conn: An open connection.
        q: The resolved filter (``unit_ids`` a sub-tree, ``None`` for every unit).
        after: The key of the last row already shown (:meth:`ConversationRow.key_for`).
        limit: The page size.
    """
    if q.unit_ids is not None and not q.unit_ids:
        return []
    found = _search(conn, q)
    if found is not None and not found:
        return []
    by_tags = found is None and few_tagged(conn, q)
    if q.sort != SORT_DUE:
        return _read(conn, q, "activity", after, limit, found, by_tags)
    rows: list[ConversationRow] = []
    if after is None or after[0] < NO_DUE_MS:
        rows = _read(conn, q, "due", after, limit, found, by_tags)
        after = None
    if len(rows) < limit:
        rows += _read(conn, q, "nodue", after, limit - len(rows), found, by_tags)
    return rows


def _read(
    conn: Connection,
    q: FeedQuery,
    phase: str,
    after: tuple[int, int] | None,
    limit: int,
    found: list[int] | None,
    by_tags: bool,
) -> list[ConversationRow]:
    units = None if q.unit_ids is None else len(q.unit_ids)
    shape = (units, q.sort, phase, after is not None, found is not None, by_tags, *_shape(q))
    stmt = _statements.get(shape)
    if stmt is None:
        stmt = _statements[shape] = _page_statement(
            q,
            units,
            phase=phase,
            after=after is not None,
            search=found is not None,
            by_tags=by_tags,
        )
    params: dict[str, object] = {"limit": limit}
    filter_conditions(q, params)
    if q.unit_ids is not None:
        params.update({f"u{i}": uid for i, uid in enumerate(q.unit_ids)})
        params["units"] = list(q.unit_ids)
    if found is not None:
        params["found"] = found
    if after is not None:
        params["after_ms"], params["after_id"] = after
    return [_row(r) for r in conn.execute(stmt, params).all()]


def search_filtered(conn: Connection, q: FeedQuery) -> SearchResult:
    """What the query's search text finds, within all of its filters."""
    params: dict[str, object] = {}
    where = filter_conditions(q, params)
    if q.unit_ids is not None:
        # Checked as the hits are read, never read by unit: see matching_conversations.
        where.append(_unindexed(conv.c.unit_id).in_(bindparam("units", expanding=True)))
        params["units"] = list(q.unit_ids)
        params.update({f"u{i}": uid for i, uid in enumerate(q.unit_ids)})

    def candidates() -> Select[tuple[object, ...]]:
        """The filters' newest conversations, for the search to look among: the list's walk."""
        newest = _ordered_ids(
            replace(q, sort=SORT_ACTIVITY),
            None if q.unit_ids is None else len(q.unit_ids),
            phase="activity",
            after=False,
            search=False,
            by_tags=few_tagged(conn, q),
            limit="cands",
        ).subquery("newest")
        return select(newest.c.id)

    return matching_conversations(conn, q.text, where, params, candidates=candidates)


def feed_count(conn: Connection, q: FeedQuery) -> tuple[int, bool]:
    """How many conversations the query selects, and whether that is a lower bound.

    With search text the count is that of the search's conversations (filters applied while it
    read them): a capped search counts at least that many. A count reads every selected row's
    index entry: run it off the GUI thread.
    """
    if q.unit_ids is not None and not q.unit_ids:
        return 0, False
    if q.text.strip():
        found = search_filtered(conn, q)
        return len(found.ids), found.capped
    params: dict[str, object] = {}
    where = filter_conditions(q, params)
    by_tags = few_tagged(conn, q)
    if q.unit_ids is not None:
        unit = _unindexed(conv.c.unit_id) if by_tags else conv.c.unit_id
        where.append(unit.in_(bindparam("units", expanding=True)))
        params["units"] = list(q.unit_ids)
    if by_tags:
        where.append(conv.c.id.in_(_tagged()))
    stmt = select(func.count()).select_from(conv)
    if where:
        stmt = stmt.where(and_(*where))
    return int(conn.execute(stmt, params).scalar_one()), False


def _search(conn: Connection, q: FeedQuery) -> list[int] | None:
    """The conversations the search text finds; ``None`` when there is no text."""
    return search_filtered(conn, q).ids if q.text.strip() else None


def conversation_row(conn: Connection, conversation_id: int) -> ConversationRow | None:
    stmt = (
        select(*_row_columns())
        .select_from(conv.outerjoin(authors, authors.c.id == conv.c.author_id))
        .where(conv.c.id == conversation_id)
    )
    row = conn.execute(stmt).first()
    return None if row is None else _row(row)


def _row_columns() -> tuple[ColumnElement[Any], ...]:
    """The list row's columns straight from the tables, in :class:`ConversationRow`'s order."""
    return (
        *(c for c in _FEED_COLUMNS if c.name not in ("author_id", *_TAIL)),
        func.coalesce(authors.c.display_name, "").label("author_name"),
        authors.c.handle,
        *(c for c in _FEED_COLUMNS if c.name in _TAIL),
    )


def thread_header(conn: Connection, conversation_id: int) -> ThreadHeader | None:
    """Unit, account, assignee and routing reason of a conversation, for the thread pane."""
    stmt = (
        select(
            Unit.name,
            Account.display_name,
            Account.handle,
            Person.name,
            Conversation.routing_reason,
            Conversation.language,
        )
        .select_from(Conversation)
        .join(Unit, Unit.id == Conversation.unit_id)
        .join(Account, Account.id == Conversation.account_id)
        .outerjoin(Person, Person.id == Conversation.assignee_id)
        .where(Conversation.id == conversation_id)
    )
    row = conn.execute(stmt).first()
    return None if row is None else ThreadHeader(*row)


def thread_messages(
    conn: Connection, conversation_id: int, *, limit: int = 500
) -> tuple[list[MessageRow], bool]:
    """The newest ``limit`` messages of a conversation in time order, and whether there are more."""
    created = type_coerce(messages.c.created_at, BigInteger)
    stmt = (
        select(
            messages.c.id,
            messages.c.direction,
            messages.c.kind,
            messages.c.text,
            created,
            func.coalesce(authors.c.display_name, "").label("author_name"),
            authors.c.handle,
            messages.c.permalink,
        )
        .select_from(messages.outerjoin(authors, authors.c.id == messages.c.author_id))
        .where(messages.c.conversation_id == conversation_id)
        .order_by(created.desc(), messages.c.id.desc())
        .limit(limit + 1)
    )
    rows = [MessageRow(*r) for r in conn.execute(stmt)]
    more = len(rows) > limit
    rows = rows[:limit]
    rows.reverse()
    return rows, more


def status_counts(conn: Connection) -> dict[tuple[int, str], int]:
    """Conversation counts per ``(unit_id, status)``: one pass over the covering index."""
    stmt = select(conv.c.unit_id, conv.c.status, func.count()).group_by(
        conv.c.unit_id, conv.c.status
    )
    return {(u, s): n for u, s, n in conn.execute(stmt)}


def author_followers(conn: Connection, conversation_id: int) -> int | None:
    stmt = (
        select(authors.c.followers_count)
        .select_from(conv.join(authors, authors.c.id == conv.c.author_id))
        .where(conv.c.id == conversation_id)
    )
    return conn.execute(stmt).scalar()


def _row(r: Sequence[Any]) -> ConversationRow:
    """A list row; network, kind, status and priority share one string object each.

    A long list holds 100,000+ rows: the shared strings keep it small.
    """
    cid, at, net, kind, status, prio, *rest = r
    return ConversationRow(cid, at, _i(net), _i(kind), _i(status), _i(prio), *rest)


def feed_newer(
    conn: Connection, q: FeedQuery, *, than: tuple[int, int], limit: int = 500
) -> list[ConversationRow]:
    """Rows above ``than`` (newer activity), newest first: what arrived since the list was read.

    Only for the newest-activity order (in the due-time order arrivals land anywhere: the list
    is read again).
    """
    if q.unit_ids is not None and not q.unit_ids:
        return []
    found = _search(conn, q)
    if found is not None and not found:
        return []
    params: dict[str, object] = {"after_ms": than[0], "after_id": than[1], "limit": limit}
    where = [*filter_conditions(q, params), _key_after(SORT_ACTIVITY, "gt")]
    if q.unit_ids is not None:
        where.append(conv.c.unit_id.in_(bindparam("units", expanding=True)))
        params["units"] = list(q.unit_ids)
    if found is not None:
        where.append(conv.c.id.in_(bindparam("found", expanding=True)))
        params["found"] = found
    inner = (
        select(*_FEED_COLUMNS)
        .where(and_(*where))
        .order_by(_activity.asc(), conv.c.id.asc())
        .limit(bindparam("limit"))
        .subquery("newer")
    )
    stmt = _with_authors(inner, _outer_order(inner, SORT_ACTIVITY, "activity"))
    return [_row(r) for r in conn.execute(stmt, params).all()]


def feed_keys(
    conn: Connection, q: FeedQuery, *, after: tuple[int, int] | None = None
) -> list[tuple[int, int]]:
    """Every key after ``after`` in the query's order: a list's whole tail.

    Only two integers per row: for a unit filter the index alone answers it (Anki's shape:
    the ordered ids once, the rows for what is visible on demand).
    """
    if q.unit_ids is not None and not q.unit_ids:
        return []
    found = _search(conn, q)
    if found is not None and not found:
        return []
    by_tags = found is None and few_tagged(conn, q)
    if q.sort != SORT_DUE:
        return _keys(conn, q, "activity", after, found, by_tags)
    keys: list[tuple[int, int]] = []
    if after is None or after[0] < NO_DUE_MS:
        keys = _keys(conn, q, "due", after, found, by_tags)
        after = None
    return keys + _keys(conn, q, "nodue", after, found, by_tags)


def _keys(
    conn: Connection,
    q: FeedQuery,
    phase: str,
    after: tuple[int, int] | None,
    found: list[int] | None,
    by_tags: bool,
) -> list[tuple[int, int]]:
    params: dict[str, object] = {}
    where = filter_conditions(q, params)
    # A search's conversations, or a rare tag's, are read by id and sorted (as a page reads them).
    by_ids = found is not None or by_tags
    if q.unit_ids is not None:
        unit = _unindexed(conv.c.unit_id) if by_ids else conv.c.unit_id
        where.append(unit.in_(bindparam("units", expanding=True)))
        params["units"] = list(q.unit_ids)
    if found is not None:
        where.append(conv.c.id.in_(bindparam("found", expanding=True)))
        params["found"] = found
    elif by_tags:
        where.append(conv.c.id.in_(_tagged()))
    if phase == "due":
        where.append(conv.c.sla_due_at.is_not(None))
    elif phase == "nodue":
        where.append(conv.c.sla_due_at.is_(None))
    if after is not None:
        params["after_ms"], params["after_id"] = after
        if phase == "nodue":
            where.append(conv.c.id > bindparam("after_id"))
        else:
            where.append(_key_after(q.sort, "gt" if q.sort == SORT_DUE else "lt"))
    first = _due if q.sort == SORT_DUE else _activity
    stmt = select(first, conv.c.id)
    if where:
        stmt = stmt.where(and_(*where))
    stmt = stmt.order_by(*_order(q.sort, phase, by_status=by_ids))
    if phase == "nodue":
        return [(NO_DUE_MS, int(cid)) for _, cid in conn.execute(stmt, params).all()]
    return [(int(at), int(cid)) for at, cid in conn.execute(stmt, params).all()]


def rows_by_ids(conn: Connection, ids: Sequence[int]) -> dict[int, ConversationRow]:
    """The list rows of the given conversations (those that still exist)."""
    if not ids:
        return {}
    stmt = (
        select(*_row_columns())
        .select_from(conv.outerjoin(authors, authors.c.id == conv.c.author_id))
        .where(conv.c.id.in_(bindparam("ids", expanding=True)))
    )
    return {row.id: row for row in map(_row, conn.execute(stmt, {"ids": list(ids)}).all())}


class SqlFeed:
    """:class:`app.storage.ports.FeedRepository`: these queries on the connection of a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def page(
        self, query: FeedQuery, *, after: tuple[int, int] | None = None, limit: int = 200
    ) -> list[ConversationRow]:
        return feed_page(self._s.connection(), query, after=after, limit=limit)

    def newer(
        self, query: FeedQuery, *, than: tuple[int, int], limit: int = 500
    ) -> list[ConversationRow]:
        return feed_newer(self._s.connection(), query, than=than, limit=limit)

    def keys(
        self, query: FeedQuery, *, after: tuple[int, int] | None = None
    ) -> list[tuple[int, int]]:
        return feed_keys(self._s.connection(), query, after=after)

    def search(self, query: FeedQuery) -> SearchResult:
        return search_filtered(self._s.connection(), query)

    def count(self, query: FeedQuery) -> tuple[int, bool]:
        return feed_count(self._s.connection(), query)

    def tag_names(self) -> list[str]:
        return list(self._s.execute(select(tags.c.name).order_by(tags.c.name)).scalars())

    def rows(self, ids: Sequence[int]) -> dict[int, ConversationRow]:
        return rows_by_ids(self._s.connection(), ids)

    def status_counts(self) -> dict[tuple[int, str], int]:
        return status_counts(self._s.connection())

    def conversation(self, conversation_id: int) -> ConversationRow | None:
        return conversation_row(self._s.connection(), conversation_id)

    def thread_header(self, conversation_id: int) -> ThreadHeader | None:
        return thread_header(self._s.connection(), conversation_id)

    def messages(self, conversation_id: int, *, limit: int) -> tuple[list[MessageRow], bool]:
        return thread_messages(self._s.connection(), conversation_id, limit=limit)

    def author_followers(self, conversation_id: int) -> int | None:
        return author_followers(self._s.connection(), conversation_id)
