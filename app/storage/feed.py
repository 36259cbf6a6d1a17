"""The inbox's hot read queries in SQLAlchemy Core: keyset pages, threads and counts.

Pages are ordered by ``(last_activity_at DESC, id DESC)`` and continue after a key with a row-value
comparison, on an index that matches the filter. A sub-tree of several units is read as a
``UNION ALL`` of one indexed arm per unit, each already ordered and limited, so SQLite merges at
most ``units * limit`` rows instead of sorting the whole sub-tree.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    func,
    select,
    tuple_,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from app.domain.rows import ConversationRow, MessageRow
from app.models import Account, Author, Conversation, Message, Person, Unit
from app.storage.ports import ThreadHeader

_i = sys.intern
conv = Conversation.__table__
authors = Author.__table__
messages = Message.__table__

_activity = type_coerce(conv.c.last_activity_at, BigInteger)

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
)


def _arm(
    unit_param: str | None,
    *,
    networks: bool,
    statuses: bool,
    accounts: bool,
    after: bool,
) -> Select[tuple[object, ...]]:
    """One ordered, limited scan of the feed: one unit (or all), optional filters and keyset."""
    where = []
    if unit_param is not None:
        where.append(conv.c.unit_id == bindparam(unit_param))
    if networks:
        where.append(conv.c.network.in_(bindparam("networks", expanding=True)))
    if statuses:
        where.append(conv.c.status.in_(bindparam("statuses", expanding=True)))
    if accounts:
        where.append(conv.c.account_id.in_(bindparam("accounts", expanding=True)))
    if after:
        where.append(
            tuple_(_activity, conv.c.id)
            < tuple_(bindparam("after_ms", type_=BigInteger), bindparam("after_id"))
        )
    stmt = select(*_FEED_COLUMNS)
    if where:
        stmt = stmt.where(and_(*where))
    return stmt.order_by(_activity.desc(), conv.c.id.desc()).limit(bindparam("limit"))


def _page_statement(
    unit_count: int | None, *, networks: bool, statuses: bool, accounts: bool, after: bool
) -> Select[tuple[object, ...]]:
    flags = {"networks": networks, "statuses": statuses, "accounts": accounts, "after": after}
    if unit_count is None or unit_count == 1:
        inner = _arm(None if unit_count is None else "u0", **flags).subquery("page")
    else:
        arms = [select(_arm(f"u{i}", **flags).subquery(f"arm{i}")) for i in range(unit_count)]
        merged = union_all(*arms).subquery("merged")
        inner = (
            select(merged)
            .order_by(merged.c.last_activity_ms.desc(), merged.c.id.desc())
            .limit(bindparam("limit"))
            .subquery("page")
        )
    return (
        select(
            *(c for c in inner.c if c.name != "author_id"),
            func.coalesce(authors.c.display_name, "").label("author_name"),
            authors.c.handle.label("author_handle"),
        )
        .select_from(inner.outerjoin(authors, authors.c.id == inner.c.author_id))
        .order_by(inner.c.last_activity_ms.desc(), inner.c.id.desc())
    )


_statements: dict[tuple[int | None, bool, bool, bool, bool], Select[tuple[object, ...]]] = {}


def feed_page(
    conn: Connection,
    *,
    unit_ids: Sequence[int] | None,
    networks: Sequence[str] = (),
    statuses: Sequence[str] = (),
    account_ids: Sequence[int] = (),
    after: tuple[int, int] | None = None,
    limit: int = 200,
) -> list[ConversationRow]:
    """One page of the inbox, newest activity first.

    Args:
        conn: An open connection.
        unit_ids: The units to show (a resolved sub-tree), or ``None`` for every unit.
        networks: Networks to keep (empty: all).
        statuses: Statuses to keep (empty: all).
        account_ids: Accounts to keep (empty: all).
        after: The key ``(last_activity_ms, id)`` of the last row already shown.
        limit: The page size.
    """
    if unit_ids is not None and not unit_ids:
        return []
    shape = (
        None if unit_ids is None else len(unit_ids),
        bool(networks),
        bool(statuses),
        bool(account_ids),
        after is not None,
    )
    stmt = _statements.get(shape)
    if stmt is None:
        stmt = _statements[shape] = _page_statement(
            shape[0], networks=shape[1], statuses=shape[2], accounts=shape[3], after=shape[4]
        )
    params: dict[str, object] = {"limit": limit}
    if unit_ids is not None:
        params.update({f"u{i}": uid for i, uid in enumerate(unit_ids)})
    if networks:
        params["networks"] = list(networks)
    if statuses:
        params["statuses"] = list(statuses)
    if account_ids:
        params["accounts"] = list(account_ids)
    if after is not None:
        params["after_ms"], params["after_id"] = after
    return [_row(r) for r in conn.execute(stmt, params).all()]


def conversation_row(conn: Connection, conversation_id: int) -> ConversationRow | None:
    stmt = (
        select(
            *(c for c in _FEED_COLUMNS if c.name != "author_id"),
            func.coalesce(authors.c.display_name, "").label("author_name"),
            authors.c.handle,
        )
        .select_from(conv.outerjoin(authors, authors.c.id == conv.c.author_id))
        .where(conv.c.id == conversation_id)
    )
    row = conn.execute(stmt).first()
    return None if row is None else ConversationRow(*row)


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


def _filter(
    where: list[ColumnElement[bool]],
    params: dict[str, object],
    unit_ids: Sequence[int] | None,
    networks: Sequence[str],
    statuses: Sequence[str],
) -> None:
    """Add the list filter's conditions (as expanding ``IN`` lists) and their values."""
    if unit_ids is not None:
        where.append(conv.c.unit_id.in_(bindparam("units", expanding=True)))
        params["units"] = list(unit_ids)
    if networks:
        where.append(conv.c.network.in_(bindparam("networks", expanding=True)))
        params["networks"] = list(networks)
    if statuses:
        where.append(conv.c.status.in_(bindparam("statuses", expanding=True)))
        params["statuses"] = list(statuses)


def _row(r: Sequence[Any]) -> ConversationRow:
    """A list row; network, kind, status and priority share one string object each.

    A long list holds 100,000+ rows: the shared strings keep it small.
    """
    cid, at, net, kind, status, prio, *rest = r
    return ConversationRow(cid, at, _i(net), _i(kind), _i(status), _i(prio), *rest)


def feed_newer(
    conn: Connection,
    *,
    unit_ids: Sequence[int] | None,
    networks: Sequence[str] = (),
    statuses: Sequence[str] = (),
    than: tuple[int, int],
    limit: int = 500,
) -> list[ConversationRow]:
    """Rows above ``than`` (newer activity), newest first: what arrived since the list was read."""
    where: list[ColumnElement[bool]] = [
        tuple_(_activity, conv.c.id) > tuple_(bindparam("at", type_=BigInteger), bindparam("cid"))
    ]
    params: dict[str, object] = {"at": than[0], "cid": than[1], "limit": limit}
    _filter(where, params, unit_ids, networks, statuses)
    inner = (
        select(*_FEED_COLUMNS)
        .where(and_(*where))
        .order_by(_activity.asc(), conv.c.id.asc())
        .limit(bindparam("limit"))
        .subquery("newer")
    )
    stmt = (
        select(
            *(c for c in inner.c if c.name != "author_id"),
            func.coalesce(authors.c.display_name, "").label("author_name"),
            authors.c.handle.label("author_handle"),
        )
        .select_from(inner.outerjoin(authors, authors.c.id == inner.c.author_id))
        .order_by(inner.c.last_activity_ms.desc(), inner.c.id.desc())
    )
    return [_row(r) for r in conn.execute(stmt, params).all()]


def feed_keys(
    conn: Connection,
    *,
    unit_ids: Sequence[int] | None,
    networks: Sequence[str] = (),
    statuses: Sequence[str] = (),
    after: tuple[int, int] | None = None,
) -> list[tuple[int, int]]:
    """Every key ``(last_activity_ms, id)`` after ``after``, newest first: a list's whole tail.

    Only two integers per row: for a unit filter the index alone answers it (Anki's shape:
    the ordered ids once, the rows for what is visible on demand).
    """
    where: list[ColumnElement[bool]] = []
    params: dict[str, object] = {}
    _filter(where, params, unit_ids, networks, statuses)
    if after is not None:
        where.append(
            tuple_(_activity, conv.c.id)
            < tuple_(bindparam("after_ms", type_=BigInteger), bindparam("after_id"))
        )
        params["after_ms"], params["after_id"] = after
    stmt = select(_activity, conv.c.id)
    if where:
        stmt = stmt.where(and_(*where))
    stmt = stmt.order_by(_activity.desc(), conv.c.id.desc())
    return [(int(at), int(cid)) for at, cid in conn.execute(stmt, params).all()]


def rows_by_ids(conn: Connection, ids: Sequence[int]) -> dict[int, ConversationRow]:
    """The list rows of the given conversations (those that still exist)."""
    if not ids:
        return {}
    stmt = (
        select(
            *(c for c in _FEED_COLUMNS if c.name != "author_id"),
            func.coalesce(authors.c.display_name, "").label("author_name"),
            authors.c.handle,
        )
        .select_from(conv.outerjoin(authors, authors.c.id == conv.c.author_id))
        .where(conv.c.id.in_(bindparam("ids", expanding=True)))
    )
    return {row.id: row for row in map(_row, conn.execute(stmt, {"ids": list(ids)}).all())}


class SqlFeed:
    """:class:`app.storage.ports.FeedRepository`: these queries on the connection of a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def page(
        self,
        *,
        unit_ids: Sequence[int] | None,
        networks: Sequence[str] = (),
        statuses: Sequence[str] = (),
        account_ids: Sequence[int] = (),
        after: tuple[int, int] | None = None,
        limit: int = 200,
    ) -> list[ConversationRow]:
        return feed_page(
            self._s.connection(),
            unit_ids=unit_ids,
            networks=networks,
            statuses=statuses,
            account_ids=account_ids,
            after=after,
            limit=limit,
        )

    def newer(
        self,
        *,
        unit_ids: Sequence[int] | None,
        networks: Sequence[str] = (),
        statuses: Sequence[str] = (),
        than: tuple[int, int],
        limit: int = 500,
    ) -> list[ConversationRow]:
        return feed_newer(
            self._s.connection(),
            unit_ids=unit_ids,
            networks=networks,
            statuses=statuses,
            than=than,
            limit=limit,
        )

    def keys(
        self,
        *,
        unit_ids: Sequence[int] | None,
        networks: Sequence[str] = (),
        statuses: Sequence[str] = (),
        after: tuple[int, int] | None = None,
    ) -> list[tuple[int, int]]:
        return feed_keys(
            self._s.connection(),
            unit_ids=unit_ids,
            networks=networks,
            statuses=statuses,
            after=after,
        )

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
