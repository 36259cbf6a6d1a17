"""Full-text search over message text, behind one function, with one meaning on both engines.

Every word typed must appear (the last one as a prefix), newest matching message first, and
nothing typed is ever read as query syntax. SQLite: an external-content FTS5 table filled per
ingest batch (``unicode61 remove_diacritics 2``). PostgreSQL: the generated ``search_vector``
column (``to_tsvector('simple', quiver_fold(text))``, migration 0002) with its GIN index; the
query goes through the same ``quiver_fold``, so case and accents fold alike on both sides.

Both split text into words at everything but letters and digits. One difference is known and
kept: where the server has ``unaccent``, PostgreSQL also folds letters FTS5 leaves alone (ß to
ss, æ to ae, ø to o, Greek accents), so there a search finds a little more, never less.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Connection,
    Select,
    bindparam,
    column,
    delete,
    func,
    insert,
    literal_column,
    null,
    select,
    table,
    text,
    type_coerce,
    union_all,
)

from app.models import Author, Conversation, Message, MetaEntry

# Letters and digits only: both engines' tokenizers split on everything else (underscore too).
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
#: The workspace_meta row holding the id up to which the FTS5 index is filled (SQLite).
INDEX_WATERMARK_KEY = "fts_indexed_upto"
_OVERFETCH = 4  # matching messages read per conversation wanted (a thread matches many times)


def query_words(user_text: str) -> list[str]:
    """The words of what a person typed, as both engines' tokenizers see them."""
    return _WORD.findall(user_text)


def fts_query(user_text: str, *, short_prefix: bool = True) -> str | None:
    """Turn what a person typed into an FTS5 query: every word must appear (prefix on the last).

    Returns ``None`` when the text has no word to look for. Quotes and operators typed by the
    person are never interpreted as FTS syntax. With ``short_prefix`` false a one-character last
    word is a whole word, not a prefix (see :func:`matching_conversations`).
    """
    words = query_words(user_text)
    if not words:
        return None
    terms = [f'"{w}"' for w in words]
    if short_prefix or len(words[-1]) > 1:
        terms[-1] += "*"
    return " ".join(terms)


def tsquery(user_text: str, *, short_prefix: bool = True) -> str | None:
    """The same query for PostgreSQL's ``to_tsquery``: quoted lexemes joined by ``&``.

    Words hold only letters and digits, so quoting them cannot be escaped from.
    """
    words = query_words(user_text)
    if not words:
        return None
    terms = [f"'{w}'" for w in words]
    if short_prefix or len(words[-1]) > 1:
        terms[-1] += ":*"
    return " & ".join(terms)


def index_new_messages(conn: Connection) -> int:
    """Add the messages stored since the last call to the search index; returns how many.

    Called once per ingest batch, in the batch's transaction (one ``INSERT … SELECT``, no trigger).
    PostgreSQL indexes every row as it is written (a generated column): nothing to do there.
    Deleted messages leave the FTS5 index through a trigger, which also lowers the watermark
    when the newest messages go (SQLite reuses their ids).
    """
    if conn.dialect.name != "sqlite":
        return 0
    upto = int(
        conn.execute(
            text("SELECT value FROM workspace_meta WHERE key = :k"), {"k": INDEX_WATERMARK_KEY}
        ).scalar()
        or 0
    )
    top = conn.execute(text("SELECT coalesce(max(id), 0) FROM messages")).scalar_one()
    if top <= upto:
        return 0
    conn.execute(
        text(
            "INSERT INTO messages_fts(rowid, text) "
            "SELECT id, text FROM messages WHERE id > :upto AND id <= :top"
        ),
        {"upto": upto, "top": top},
    )
    conn.execute(delete(MetaEntry).where(MetaEntry.key == INDEX_WATERMARK_KEY))
    conn.execute(insert(MetaEntry).values(key=INDEX_WATERMARK_KEY, value=str(top)))
    return int(top - upto)


def rebuild_index(conn: Connection) -> None:
    """Index every stored message again from scratch (after a bulk copy into SQLite)."""
    if conn.dialect.name != "sqlite":
        return
    conn.execute(text("INSERT INTO messages_fts(messages_fts) VALUES ('delete-all')"))
    conn.execute(text("INSERT INTO authors_fts(authors_fts) VALUES ('rebuild')"))
    conn.execute(delete(MetaEntry).where(MetaEntry.key == INDEX_WATERMARK_KEY))
    index_new_messages(conn)


_SQLITE = text(
    "SELECT m.conversation_id FROM messages_fts f JOIN messages m ON m.id = f.rowid "
    "WHERE messages_fts MATCH :q ORDER BY f.rowid DESC LIMIT :n"
)
_POSTGRESQL = text(
    "SELECT conversation_id FROM messages "
    "WHERE search_vector @@ to_tsquery('simple', quiver_fold(:q)) "
    "ORDER BY id DESC LIMIT :n"
)
# Several words: PostgreSQL takes them for independent and expects far fewer hits than words
# that go together ("still on it") have; it then fetches every hit through the GIN index and
# sorts them (measured: 78-170 ms on 1.16M messages). The newest messages are searched first,
# within a bounded window of ids, and the older ones only if the window held too few.
_PG_WINDOW = 60_000
_PG_NEWER = text(
    "SELECT conversation_id FROM messages "
    "WHERE id > :floor AND search_vector @@ to_tsquery('simple', quiver_fold(:q)) "
    "ORDER BY id DESC LIMIT :n"
)
_PG_OLDER = text(
    "SELECT conversation_id FROM messages "
    "WHERE id <= :floor AND search_vector @@ to_tsquery('simple', quiver_fold(:q)) "
    "ORDER BY id DESC LIMIT :n"
)


def search_conversation_ids(conn: Connection, user_text: str, *, limit: int = 200) -> list[int]:
    """Ids of conversations whose messages match ``user_text``, by newest matching message."""
    wanted = limit * _OVERFETCH
    if conn.dialect.name == "postgresql":
        query = tsquery(user_text)
        if query is None:
            return []
        hits = _postgresql_hits(conn, query, wanted, several=len(query_words(user_text)) > 1)
    else:
        query = fts_query(user_text)
        if query is None:
            return []
        hits = [cid for (cid,) in conn.execute(_SQLITE, {"q": query, "n": wanted})]
    seen: dict[int, None] = {}
    for cid in hits:
        seen.setdefault(cid, None)
        if len(seen) >= limit:
            break
    return list(seen)


def _postgresql_hits(conn: Connection, query: str, wanted: int, *, several: bool) -> list[int]:
    """The conversations of the newest ``wanted`` matching messages, newest first."""
    floor = 0
    if several:
        top = conn.execute(text("SELECT coalesce(max(id), 0) FROM messages")).scalar_one()
        floor = int(top) - _PG_WINDOW
    if floor <= 0:
        return [cid for (cid,) in conn.execute(_POSTGRESQL, {"q": query, "n": wanted})]
    params = {"q": query, "floor": floor, "n": wanted}
    hits = [cid for (cid,) in conn.execute(_PG_NEWER, params)]
    if len(hits) < wanted:
        params["n"] = wanted - len(hits)
        hits += [cid for (cid,) in conn.execute(_PG_OLDER, params)]
    return hits


#: The most conversations a search lists from message text, and as many again from authors.
SEARCH_LIMIT = 200
# With filters (SQLite): the newest hits joined to their conversations, then the newest
# conversations of the filters searched for the words. Measured on 1.16M messages: a common
# word in a 7,000-conversation unit took 140-350 ms joining every hit; these bounds 10-40 ms.
_WINDOW = 5_000
_CANDIDATES = 3_000
_conv = Conversation.__table__
_messages = Message.__table__
_authors = Author.__table__
_messages_fts = table("messages_fts", column("rowid"))
_authors_fts = table("authors_fts", column("rowid"))
_activity = type_coerce(_conv.c.last_activity_at, BigInteger)
# The expression of PostgreSQL's ix_authors_search (migration 0005): written the same, so the
# planner uses the index.
_PG_AUTHOR_WORDS = (
    "to_tsvector('simple', quiver_search_text(coalesce(handle, '') || ' ' || "
    "coalesce(display_name, '')))"
)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The conversations a search found; ``capped``: there may be more than it lists."""

    ids: list[int]
    capped: bool


def matching_conversations(
    conn: Connection,
    user_text: str,
    where: Sequence[ColumnElement[bool]] = (),
    params: dict[str, object] | None = None,
    *,
    limit: int = SEARCH_LIMIT,
    candidates: Callable[[], Select[Any]] | None = None,
) -> SearchResult:
    """Conversations whose message text, or whose author's name or handle, has every word.

    ``where`` holds conditions on ``conversations`` (the list's filters, with their values in
    ``params``): they are applied while the hits are read, so a search within a unit finds that
    unit's conversations, not the newest hits of the whole workspace filtered afterwards. No
    condition of ``where`` may lead to an index (see ``app.storage.feed.filter_conditions``):
    the hits, the authors and the filters' newest conversations each have their own access
    path. ``candidates`` builds the statement selecting the ids of the filters' newest
    ``:cands`` conversations as the list reads them (``app.storage.feed`` walks one index per
    unit), called only when they are searched; without it they are read here from ``where``,
    walking the activity index.

    Message text: the newest ``limit`` matching conversations, by their newest matching message
    (read newest first, by rowid). Authors: the ``limit`` conversations with the newest activity
    among those of matching authors (``ix_conversations_author_activity``). ``capped`` says one
    side stopped at its limit.

    A one-character last word is a whole word, not a prefix: as a prefix it matches nearly every
    message and author, and reading that many hits costs about 90 ms at 1M messages before a
    single row is shown (prefixes count from the second character typed).
    """
    bound = dict(params or {})
    words = query_words(user_text)
    if not words:
        return SearchResult([], False)
    wanted = limit * _OVERFETCH
    postgresql = conn.dialect.name == "postgresql"
    make = tsquery if postgresql else fts_query
    text_stmt: Select[Any] | CompoundSelect[Any]
    bound["q"] = bound["aq"] = make(user_text, short_prefix=False)
    bound["n"] = wanted
    bound["an"] = limit
    if postgresql:
        hits = select(_messages.c.conversation_id).where(
            text("messages.search_vector @@ to_tsquery('simple', quiver_fold(:q))")
        )
        source = _messages.join(_conv, _conv.c.id == _messages.c.conversation_id)
        text_stmt = (
            hits.select_from(source)
            .where(*where)
            .order_by(_messages.c.id.desc())
            .limit(bindparam("n"))
        )
        # The matching authors first, from their GIN index, then their conversations: left to
        # itself the planner expects thousands of matches and walks every conversation by
        # activity, folding each one's author name again (1.2 s at 1M messages, against 5 ms).
        matching_authors = (
            select(_authors.c.id)
            .where(text(f"{_PG_AUTHOR_WORDS} @@ to_tsquery('simple', quiver_fold(:aq))"))
            .cte("who")
            .prefix_with("MATERIALIZED")
        )
        who = select(matching_authors.c.id)
    elif where:
        # With filters, only the newest hits are joined to their conversations (a common word
        # in a small unit would otherwise join every hit); what that window misses is looked
        # for from the other side below. The window is read once and counted in the same
        # statement: FTS5 merges every term of a prefix before it yields the first hit (20 ms
        # for "on*" at 1M messages, however few hits are asked for).
        window = (
            select(_messages_fts.c.rowid)
            .where(text("messages_fts MATCH :q"))
            .order_by(_messages_fts.c.rowid.desc())
            .limit(bindparam("window"))
            .cte("f")
            .prefix_with("MATERIALIZED")
        )
        bound["window"] = _WINDOW
        source = window.join(_messages, _messages.c.id == window.c.rowid).join(
            _conv, _conv.c.id == _messages.c.conversation_id
        )
        joined = (
            select(_messages.c.conversation_id, window.c.rowid)
            .select_from(source)
            .where(*where)
            .order_by(window.c.rowid.desc())
            .limit(bindparam("n"))
            .subquery("hits")
        )
        text_stmt = union_all(
            select(null().label("conversation_id"), func.count().label("rowid")).select_from(
                window
            ),
            select(joined.c.conversation_id, joined.c.rowid),
        )
        who = select(_authors_fts.c.rowid).where(text("authors_fts MATCH :aq"))
    else:
        newest = select(_messages_fts.c.rowid).where(text("messages_fts MATCH :q")).subquery("f")
        source = newest.join(_messages, _messages.c.id == newest.c.rowid).join(
            _conv, _conv.c.id == _messages.c.conversation_id
        )
        text_stmt = (
            select(_messages.c.conversation_id)
            .select_from(source)
            .order_by(newest.c.rowid.desc())
            .limit(bindparam("n"))
        )
        who = select(_authors_fts.c.rowid).where(text("authors_fts MATCH :aq"))
    author_stmt = (
        select(_conv.c.id)
        .where(_conv.c.author_id.in_(who), *where)
        .order_by(_activity.desc(), _conv.c.id.desc())
        .limit(bindparam("an"))
    )
    windowed = bool(where) and not postgresql
    hits_in_window = 0
    if windowed:
        rows = conn.execute(text_stmt, bound).all()
        hits_in_window = next(int(n) for cid, n in rows if cid is None)
        # The hits newest first (their rowids are the messages' ids, each once).
        newest_first = sorted((r for r in rows if r[0] is not None), key=lambda r: -int(r[1]))
        text_hits = [int(cid) for cid, _ in newest_first]
    else:
        text_hits = list(conn.execute(text_stmt, bound).scalars())
    found: dict[int, None] = {}
    for cid in text_hits:
        found.setdefault(cid, None)
        if len(found) >= limit:
            break
    capped = len(found) >= limit or len(text_hits) >= wanted
    if windowed and len(found) < limit and (hits_in_window >= _WINDOW or capped):
        # The filters' newest conversations, and which of their messages have the words. Not
        # needed when the window held every hit and the filters kept all of them: the
        # candidates' hits are among those already found.
        bound["cands"] = _CANDIDATES
        among = (
            select(_conv.c.id)
            .where(*where)
            .order_by(_activity.desc(), _conv.c.id.desc())
            .limit(bindparam("cands"))
            if candidates is None
            else candidates()
        )
        matching = select(_messages_fts.c.rowid).where(text("messages_fts MATCH :q"))
        # ``id + 0``: read the candidates' messages by conversation (the covering index), not
        # every hit by id.
        from_filters = (
            select(_messages.c.conversation_id)
            .where(
                _messages.c.conversation_id.in_(among),
                (_messages.c.id + literal_column("0", BigInteger)).in_(matching),
            )
            .order_by(_messages.c.id.desc())
            .limit(bindparam("n"))
        )
        extra = conn.execute(from_filters, bound).scalars().all()
        for cid in extra:
            found.setdefault(cid, None)
            if len(found) >= limit:
                break
        # Complete when the window held every hit; otherwise older hits beyond the newest
        # candidates may exist: said, not hidden (counting the candidates would cost another
        # walk of the filters).
        capped = len(found) >= limit or len(extra) >= wanted or hits_in_window >= _WINDOW
    by_author = conn.execute(author_stmt, bound).scalars().all()
    capped = capped or len(by_author) >= limit
    for cid in by_author:
        found.setdefault(cid, None)
    return SearchResult(list(found), capped)
