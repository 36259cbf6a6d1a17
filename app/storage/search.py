"""Full-text search over message text, behind one function (SQLite: FTS5, newest hits first)."""

from __future__ import annotations

import re

from sqlalchemy import Connection, delete, insert, text

from app.models import MetaEntry

_WORD = re.compile(r"\w+", re.UNICODE)
_META_KEY = "fts_indexed_upto"


def fts_query(user_text: str) -> str | None:
    """Turn what a person typed into an FTS5 query: every word must appear (prefix on the last).

    Returns ``None`` when the text has no word to look for. Quotes and operators typed by the
    person are never interpreted as FTS syntax.
    """
    words = _WORD.findall(user_text)
    if not words:
        return None
    terms = [f'"{w}"' for w in words]
    terms[-1] += "*"
    return " ".join(terms)


def index_new_messages(conn: Connection) -> int:
    """Add the messages stored since the last call to the search index; returns how many.

    Called once per ingest batch, in the batch's transaction (one ``INSERT … SELECT``, no trigger).
    """
    if conn.dialect.name != "sqlite":
        return 0
    upto = int(
        conn.execute(
            text("SELECT value FROM workspace_meta WHERE key = :k"), {"k": _META_KEY}
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
    conn.execute(delete(MetaEntry).where(MetaEntry.key == _META_KEY))
    conn.execute(insert(MetaEntry).values(key=_META_KEY, value=str(top)))
    return int(top - upto)


def search_conversation_ids(conn: Connection, user_text: str, *, limit: int = 200) -> list[int]:
    """Ids of conversations whose messages match ``user_text``, by newest matching message.

    Raises:
        NotImplementedError: the workspace's database has no full-text index yet.
    """
    query = fts_query(user_text)
    if query is None:
        return []
    if conn.dialect.name != "sqlite":
        raise NotImplementedError("full-text search needs the SQLite workspace for now")
    rows = conn.execute(
        text(
            "SELECT m.conversation_id FROM messages_fts f JOIN messages m ON m.id = f.rowid "
            "WHERE messages_fts MATCH :q ORDER BY f.rowid DESC LIMIT :n"
        ),
        {"q": query, "n": limit * 4},
    )
    seen: dict[int, None] = {}
    for (cid,) in rows:
        seen.setdefault(cid, None)
        if len(seen) >= limit:
            break
    return list(seen)
