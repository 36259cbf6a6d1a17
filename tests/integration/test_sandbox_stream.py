"""The Sandbox stream: new conversations and follow-ups in earlier threads, which reopen them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update

from app.connectors.sandbox import FOLLOW_UP_SHARE, SandboxConnector
from app.models import Account, Conversation, Unit
from app.services.ingest import IngestService
from app.storage.workspace import Database


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def polls(connector: SandboxConnector, clock: Clock, n: int, step_s: int = 100) -> list[list]:
    out, cursor = [], None
    for _ in range(n):
        fetched = connector.fetch(cursor)
        out.append(list(fetched.items))
        cursor = fetched.cursor
        clock.now += timedelta(seconds=step_s)
    return out


def test_the_stream_follows_up_in_threads_an_earlier_poll_brought() -> None:
    clock = Clock()
    batches = polls(SandboxConnector("acme", "sbx-1", seed=3, pace_s=10, clock=clock), clock, 30)

    seen: set[str] = set()
    follow_ups = new = 0
    for batch in batches:
        for item in batch:
            if item.external_id == item.thread_external_id:
                new += 1
            else:
                follow_ups += 1
                assert item.thread_external_id in seen  # an earlier poll opened that thread
                assert item.kind in ("reply", "dm")
                assert item.in_reply_to == item.thread_external_id
        seen.update(i.thread_external_id for i in batch if i.external_id == i.thread_external_id)
    share = follow_ups / (follow_ups + new)
    assert FOLLOW_UP_SHARE / 2 < share < FOLLOW_UP_SHARE * 1.5
    again = Clock()
    same = polls(SandboxConnector("acme", "sbx-1", seed=3, pace_s=10, clock=again), again, 30)
    assert [[i.external_id for i in b] for b in same] == [
        [i.external_id for i in b] for b in batches
    ]


def test_a_follow_up_reopens_a_resolved_conversation_and_keeps_its_unit(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(insert(Unit).values(id=1, path="/1/", name="Care"))
        conn.execute(insert(Unit).values(id=2, path="/2/", name="Elsewhere"))
        conn.execute(
            insert(Account).values(
                id=1, uuid="s", network="sandbox", handle="acme", display_name="A", unit_id=1
            )
        )
    clock = Clock()
    connector = SandboxConnector("acme", "sbx-1", seed=3, pace_s=10, clock=clock)
    ingest = IngestService(db, clock=clock)
    fetched = connector.fetch(None)
    ingest.store(1, list(fetched.items), fetched.cursor)
    cursor = fetched.cursor
    follow = None
    for _ in range(40):
        with db.engine.begin() as conn:  # everything so far resolved, and moved by a person
            conn.execute(update(Conversation).values(status="resolved", unit_id=2))
        clock.now += timedelta(seconds=60)
        fetched = connector.fetch(cursor)
        ingest.store(1, list(fetched.items), fetched.cursor)
        cursor = fetched.cursor
        follow = next((i for i in fetched.items if i.external_id != i.thread_external_id), None)
        if follow is not None:
            break
    assert follow is not None
    with db.engine.connect() as conn:
        status, unit = conn.execute(
            select(Conversation.status, Conversation.unit_id).where(
                Conversation.external_thread_id == follow.thread_external_id
            )
        ).one()
    assert status == "open"
    assert unit == 2  # a follow-up never routes the conversation again
