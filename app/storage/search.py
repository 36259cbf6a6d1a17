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

from sqlalchemy import Connection, delete, insert, text

from app.models import MetaEntry

# Letters and digits only: both engines' tokenizers split on everything else (underscore too).
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
#: The workspace_meta row holding the id up to which the FTS5 index is filled (SQLite).
INDEX_WATERMARK_KEY = "fts_indexed_upto"
_OVERFETCH = 4  # matching messages read per conversation wanted (a thread matches many times)


def query_words(user_text: str) -> list[str]:
    """The words of what a person typed, as both engines' tokenizers see them."""
    return _WORD.findall(user_text)


def fts_query(user_text: str) -> str | None:
    """Turn what a person typed into an FTS5 query: every word must appear (prefix on the last).

    Returns ``None`` when the text has no word to look for. Quotes and operators typed by the
    person are never interpreted as FTS syntax.
    """
    words = query_words(user_text)
    if not words:
        return None
    terms = [f'"{w}"' for w in words]
    terms[-1] += "*"
    return " ".join(terms)


def tsquery(user_text: str) -> str | None:
    """The same query for PostgreSQL's ``to_tsquery``: quoted lexemes joined by ``&``.

    Words hold only letters and digits, so quoting them cannot be escaped from.
    """
    words = query_words(user_text)
    if not words:
        return None
    terms = [f"'{w}'" for w in words]
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
