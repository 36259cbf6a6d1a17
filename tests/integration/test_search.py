"""Full-text search behind one storage function: FTS5, kept in sync per batch, newest first."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert

from app.models import Account, Conversation, Message, Unit
from app.storage.search import fts_query, index_new_messages, search_conversation_ids
from app.storage.workspace import Database


def _seed(db: Database, texts: list[tuple[int, str]]) -> None:
    """Messages ``(conversation_id, text)``, one conversation per distinct id."""
    with db.engine.begin() as conn:
        conn.execute(insert(Unit).values(id=1, path="/1/", name="Care"))
        conn.execute(
            insert(Account).values(
                id=1, uuid="a", network="x", handle="acme", display_name="Acme", unit_id=1
            )
        )
        for cid in sorted({c for c, _ in texts}):
            conn.execute(
                insert(Conversation).values(
                    id=cid,
                    network="x",
                    account_id=1,
                    thread_type="x_thread",
                    external_thread_id=str(cid),
                    kind="mention",
                    unit_id=1,
                    last_activity_at=cid,
                )
            )
        conn.execute(
            insert(Message),
            [
                {
                    "network": "x",
                    "account_id": 1,
                    "external_id": f"m{i}",
                    "conversation_id": cid,
                    "direction": "in",
                    "kind": "mention",
                    "text": text,
                    "created_at": i,
                }
                for i, (cid, text) in enumerate(texts)
            ],
        )


def test_search_finds_words_newest_first_and_ignores_case_and_accents(db: Database) -> None:
    _seed(
        db,
        [
            (1, "My ORDER never arrived"),
            (2, "Lovely ride today"),
            (3, "Where is my order #A-1234?"),
            (4, "Mi pedido llegó tarde, qué pena"),
        ],
    )
    with db.engine.begin() as conn:
        assert index_new_messages(conn) == 4
        assert index_new_messages(conn) == 0  # nothing new: nothing indexed twice
    with db.engine.connect() as conn:
        assert search_conversation_ids(conn, "order") == [3, 1]
        assert search_conversation_ids(conn, "LLEGO") == [4]
        assert search_conversation_ids(conn, "ord") == [3, 1]  # the last word is a prefix
        assert search_conversation_ids(conn, "order arrived") == [1]
        assert search_conversation_ids(conn, "   ") == []


def test_messages_stored_later_are_indexed_by_the_next_batch(db: Database) -> None:
    _seed(db, [(1, "battery died")])
    with db.engine.begin() as conn:
        index_new_messages(conn)
        conn.execute(
            insert(Message).values(
                network="x",
                account_id=1,
                external_id="late",
                conversation_id=1,
                direction="in",
                kind="reply",
                text="charger smoking",
                created_at=9,
            )
        )
        assert index_new_messages(conn) == 1
        assert search_conversation_ids(conn, "charger") == [1]


@given(st.text(max_size=80))
def test_any_typed_text_is_a_safe_query(user_text: str) -> None:
    query = fts_query(user_text)
    if query is None:
        return
    # Every term is a quoted phrase: no FTS operator typed by a person reaches FTS5 unquoted.
    for term in query.split(" "):
        assert term.startswith('"')
        assert term.rstrip("*").endswith('"')
        assert '"' not in term.rstrip("*")[1:-1]


def test_operators_in_typed_text_do_not_break_the_query(db: Database) -> None:
    _seed(db, [(1, "NEAR the store AND OR NOT")])
    with db.engine.begin() as conn:
        index_new_messages(conn)
        assert search_conversation_ids(conn, 'NEAR( "store" OR') == [1]
        assert search_conversation_ids(conn, "*") == []
