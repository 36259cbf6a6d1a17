"""Ingest: dedupe across polls, threading, summaries, cursor with the batch, search, routing."""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select, text, update

from app.connectors.x import normalize_tweet
from app.domain.items import InboundItem
from app.models import Account, Author, Conversation, Message, Unit
from app.services.ingest import IngestService
from app.storage.search import search_conversation_ids
from app.storage.workspace import Database

T0 = datetime(2026, 10, 7, 22, 0, tzinfo=UTC)
_ids = itertools.count(1)  # fresh external ids for each hypothesis example


def item(
    ext: str,
    thread: str,
    *,
    minutes: int = 0,
    direction: str = "in",
    text: str = "hello",
    author: str | None = "42",
    kind: str = "mention",
) -> InboundItem:
    return InboundItem(
        network="x",
        external_id=ext,
        kind=kind,
        direction=direction,
        text=text,
        created_at=T0 + timedelta(minutes=minutes),
        author_external_id=author,
        author_handle=f"user{author}" if author else None,
        author_name=f"User {author}" if author else None,
        thread_external_id=thread,
        thread_type="x_thread",
        in_reply_to=None,
        permalink=f"https://x.com/i/web/status/{ext}",
        raw={"id": ext, "text": text},
        author_followers=10,
        language="en",
    )


@pytest.fixture
def account(db: Database) -> int:
    with db.engine.begin() as conn:
        conn.execute(insert(Unit).values(id=1, path="/1/", name="Care"))
        conn.execute(
            insert(Account).values(
                id=7, uuid="acc", network="x", handle="acme", display_name="Acme", unit_id=1
            )
        )
    return 7


def count(db: Database, model: type) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def test_polling_the_same_page_twice_changes_nothing(db: Database, account: int) -> None:
    svc = IngestService(db)
    batch = [item("1", "1"), item("2", "1", minutes=1), item("3", "3", minutes=2)]
    first = svc.store(account, batch, {"mentions_since_id": "3"})
    assert (first.new_messages, first.duplicates, len(first.new_conversation_ids)) == (3, 0, 2)
    again = svc.store(account, [*batch, item("2", "1", minutes=1)], {"mentions_since_id": "3"})
    assert (again.new_messages, again.duplicates, again.new_conversation_ids) == (0, 4, ())
    assert count(db, Message) == 3
    assert count(db, Conversation) == 2
    assert count(db, Author) == 1


def test_replies_join_their_thread_and_update_its_summary(db: Database, account: int) -> None:
    svc = IngestService(db)
    svc.store(account, [item("1", "1", text="my order is late")], None)
    svc.store(
        account,
        [
            item("2", "1", minutes=5, direction="out", author="999", text="On it!", kind="reply"),
            item("3", "1", minutes=9, text="thanks", kind="reply"),
        ],
        None,
    )
    with db.uow() as uow:
        conv = uow.session.scalars(select(Conversation)).one()
        assert conv.message_count == 3
        assert conv.preview == "thanks"
        assert conv.first_inbound_at == T0
        assert conv.first_response_at == T0 + timedelta(minutes=5)
        assert conv.last_inbound_at == T0 + timedelta(minutes=9)
        assert conv.last_activity_at == T0 + timedelta(minutes=9)
        assert conv.unit_id == 1
        assert "account owner's unit (Care)" in conv.routing_reason
        assert conv.status == "new"


def test_a_customer_writing_again_reopens_a_resolved_conversation(
    db: Database, account: int
) -> None:
    svc = IngestService(db)
    svc.store(account, [item("1", "1")], None)
    with db.engine.begin() as conn:
        conn.execute(update(Conversation).values(status="resolved"))
    svc.store(account, [item("2", "1", minutes=60, kind="reply")], None)
    with db.engine.connect() as conn:
        assert conn.execute(select(Conversation.status)).scalar() == "open"


def test_the_cursor_is_stored_with_the_batch(db: Database, account: int) -> None:
    IngestService(db).store(account, [item("1", "1")], {"mentions_since_id": "1"})
    with db.engine.connect() as conn:
        cursor, synced = conn.execute(select(Account.cursor, Account.last_sync_at)).one()
    assert cursor == {"mentions_since_id": "1"}
    assert synced is not None


def test_a_failed_batch_stores_nothing_not_even_the_cursor(db: Database, account: int) -> None:
    svc = IngestService(db)
    broken = InboundItem(**{**_fields(item("2", "2")), "kind": "story"})
    with pytest.raises(Exception, match=r"(?i)check constraint"):
        svc.store(account, [item("1", "1"), broken], {"mentions_since_id": "2"})
    assert count(db, Message) == 0
    assert count(db, Conversation) == 0
    with db.engine.connect() as conn:
        assert conn.execute(select(Account.cursor)).scalar() is None


def _fields(i: InboundItem) -> dict[str, object]:
    return {f: getattr(i, f) for f in i.__dataclass_fields__}


def test_stored_messages_are_searchable(db: Database, account: int) -> None:
    IngestService(db).store(account, [item("1", "1", text="battery smoking while charging")], None)
    with db.engine.connect() as conn:
        assert len(search_conversation_ids(conn, "smoking")) == 1


def test_large_batches_are_split_and_still_complete(db: Database, account: int) -> None:
    many = [item(str(i), str(i // 3), minutes=i) for i in range(2_500)]
    outcome = IngestService(db).store(account, many, {"seq": 1})
    assert outcome.new_messages == 2_500
    assert len(outcome.new_conversation_ids) == 834
    assert count(db, Message) == 2_500


@settings(
    max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(
    polls=st.lists(
        st.lists(st.tuples(st.integers(0, 30), st.integers(0, 8)), max_size=15), max_size=4
    )
)
def test_any_sequence_of_overlapping_polls_stores_each_item_once(
    db: Database, account: int, polls: list[list[tuple[int, int]]]
) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM messages"))
        conn.execute(text("DELETE FROM conversations"))
    svc = IngestService(db)
    seen: dict[str, str] = {}
    for poll in polls:
        batch = []
        for ext, thread in poll:
            thread_of = seen.setdefault(str(ext), str(thread))  # an item never changes thread
            batch.append(item(str(ext), thread_of, minutes=ext))
        svc.store(account, batch, None)
    assert count(db, Message) == len(seen)
    assert count(db, Conversation) == len(set(seen.values()))
    with db.engine.connect() as conn:
        total = conn.execute(
            select(func.coalesce(func.sum(Conversation.message_count), 0))
        ).scalar()
    assert total == len(seen)


def test_text_that_is_not_valid_unicode_is_repaired_and_the_batch_kept(
    db: Database, account: int
) -> None:
    payload = json.loads(
        '{"id": "501", "text": "half a pair \\ud83d here", "edit_history_tweet_ids": ["501"],'
        ' "author_id": "9", "conversation_id": "501", "created_at": "2026-10-07T22:43:10.000Z"}'
    )
    users = json.loads('{"9": {"id": "9", "username": "jo\\udc00", "name": "Jo \\ud800"}}')
    bad = normalize_tweet(payload, users, "783214")
    outcome = IngestService(db).store(
        account, [item("500", "500"), bad, item("502", "500")], {"since": "502"}
    )
    assert outcome.new_messages == 3
    with db.engine.connect() as conn:
        stored = conn.execute(select(Message.text).where(Message.external_id == "501")).scalar()
        name = conn.execute(select(Author.display_name).where(Author.external_id == "9")).scalar()
        cursor = conn.execute(select(Account.cursor).where(Account.id == account)).scalar()
    assert stored == "half a pair \ufffd here"
    assert name == "Jo \ufffd"
    assert cursor == {"since": "502"}


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(
        st.lists(
            st.text(max_size=10)
            | st.text(  # lone surrogates, as a JSON "\ud83d" escape decodes
                alphabet=st.characters(
                    min_codepoint=0xD800, max_codepoint=0xDFFF, categories=["Cs"]
                ),
                min_size=1,
                max_size=2,
            ),
            max_size=4,
        ).map("".join),
        min_size=1,
        max_size=5,
    )
)
def test_any_text_is_stored_as_valid_unicode(db: Database, account: int, texts: list[str]) -> None:
    start = next(_ids)
    items = [
        item(f"h{start}-{n}", f"t{start}", minutes=n, text=t)
        for n, t in zip(itertools.count(), texts, strict=False)
    ]
    assert IngestService(db).store(account, items, None).new_messages == len(items)
    with db.engine.connect() as conn:
        stored = dict(
            conn.execute(
                select(Message.external_id, Message.text).where(
                    Message.external_id.in_([i.external_id for i in items])
                )
            ).all()
        )
    for i in items:
        assert stored[i.external_id] == re.sub("[\ud800-\udfff\x00]", "\ufffd", i.text)


def test_rows_another_workstation_wrote_meanwhile_are_joined_not_duplicated(
    db: Database, account: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL has no database-wide write lock: a conversation and an author may appear
    between the lookup and the insert; ON CONFLICT … RETURNING leaves them out and they are
    looked up instead (SQLite's write lock makes this impossible there)."""
    if db.url.get_backend_name() != "postgresql":
        pytest.skip("SQLite holds its write lock from the lookup to the commit")
    svc = IngestService(db)
    svc.store(account, [item("1", "1")], None)  # the "other workstation"
    from app.storage import ingest as storage_ingest

    real_conversations = storage_ingest._conversation_ids
    real_authors = storage_ingest._author_ids
    blind = {"conversations": True, "authors": True}

    def conversations_once_blind(*args: object) -> dict[tuple[str, str], int]:
        if blind.pop("conversations", False):
            return {}
        return real_conversations(*args)  # type: ignore[arg-type]

    def authors_once_blind(*args: object) -> tuple[dict[str, int], dict[str, int | None]]:
        if blind.pop("authors", False):
            return {}, {}
        return real_authors(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(storage_ingest, "_conversation_ids", conversations_once_blind)
    monkeypatch.setattr(storage_ingest, "_author_ids", authors_once_blind)
    later = svc.store(account, [item("2", "1", minutes=1), item("3", "3", minutes=2)], None)
    assert blind == {}  # both lookups really were blind once
    assert later.new_messages == 2
    assert len(later.new_conversation_ids) == 1  # thread "3" only; thread "1" was there
    assert count(db, Conversation) == 2
    assert count(db, Author) == 1
    with db.engine.connect() as conn:
        threads = dict(
            conn.execute(select(Message.external_id, Message.conversation_id)).tuples().all()
        )
    assert threads["1"] == threads["2"] != threads["3"]
