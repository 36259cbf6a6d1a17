"""X thread search: recently active threads every five minutes, and a thread when it is opened."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
import requests
import responses
from responses import matchers
from sqlalchemy import insert, select, update

from app.bootstrap import connector_factory
from app.models import Account, Conversation, Message
from app.services.ingest import IngestService
from app.services.polling import PollingService
from app.services.threads import PER_CYCLE, ThreadSearchService
from app.services.tokens import TokenStore
from app.storage.workspace import Database
from tests.integration.test_polling import MENTIONS, NOW, TOKEN, Clock, add_accounts

SEARCH = "https://api.twitter.com/2/tweets/search/recent"


def tweet(tid: str, thread: str, author: str = "9", minutes_ago: int = 1) -> dict[str, Any]:
    return {
        "id": tid,
        "text": f"message {tid}",
        "edit_history_tweet_ids": [tid],
        "author_id": author,
        "conversation_id": thread,
        "created_at": (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }


def page(*tweets: dict[str, Any]) -> dict[str, Any]:
    if not tweets:
        return {"meta": {"result_count": 0}}
    return {
        "data": list(tweets),
        "meta": {"newest_id": tweets[0]["id"], "result_count": len(tweets)},
    }


@pytest.fixture
def x_only(db: Database) -> Database:
    add_accounts(db)
    TokenStore().set("x", "u-x", "access_token", TOKEN)
    with db.engine.begin() as conn:
        conn.execute(update(Account).where(Account.id != 2).values(state="paused"))
    return db


def build(db: Database, clock: Clock) -> tuple[PollingService, ThreadSearchService]:
    ingest = IngestService(db)
    threads = ThreadSearchService(db, ingest, clock=clock)
    polling = PollingService(
        db,
        ingest,
        connector_factory(TokenStore(), clock=clock),
        clock=clock,
        rng=random.Random(1),
        threads=threads,
    )
    return polling, threads


def searched_threads() -> list[str]:
    return [
        c.request.params["query"].removeprefix("conversation_id:")
        for c in responses.calls
        if c.request.url.startswith(SEARCH)
    ]


def thread_of(db: Database, external_id: str) -> tuple[int, str, str]:
    with db.engine.connect() as conn:
        return (
            conn.execute(
                select(Message.conversation_id, Message.kind, Conversation.external_thread_id)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(Message.external_id == external_id)
            )
            .one()
            ._tuple()
        )


@responses.activate
def test_replies_between_other_people_arrive_with_the_poll_and_are_stored_once(
    x_only: Database,
) -> None:
    responses.get(MENTIONS, json=page(tweet("51", "50")))
    responses.get(
        SEARCH,
        json=page(tweet("53", "50", author="77"), tweet("51", "50"), tweet("50", "50", "8", 3)),
    )
    clock = Clock()
    polling, _ = build(x_only, clock)
    [outcome] = polling.poll_due()
    assert outcome.new_messages == 3  # 51 from mentions; 53 and the root 50 from the search
    assert searched_threads() == ["50"]
    conv, kind, thread = thread_of(x_only, "53")
    assert (kind, thread) == ("reply", "50")
    assert thread_of(x_only, "51")[0] == conv  # one conversation, 51 stored once
    with x_only.engine.connect() as conn:
        stored = conn.execute(select(Account.cursor).where(Account.id == 2)).scalar()
    assert stored["mentions_since_id"] == "51"
    assert stored["thread_search"]["50"]["since"] == "53"

    # Not again before five minutes; then from where the last search ended.
    responses.replace(responses.GET, MENTIONS, json=page())
    clock.now += timedelta(seconds=91)
    polling.poll_due()
    assert searched_threads() == ["50"]
    responses.replace(
        responses.GET,
        SEARCH,
        json=page(),
        match=[matchers.query_param_matcher({"since_id": "53"}, strict_match=False)],
    )
    clock.now += timedelta(minutes=5)
    polling.poll_due()
    assert searched_threads() == ["50", "50"]


@responses.activate
def test_only_recent_threads_and_at_most_twenty_per_cycle(x_only: Database) -> None:
    fresh = [tweet(str(1000 + i), str(1000 + i), minutes_ago=i + 1) for i in range(PER_CYCLE + 5)]
    old = tweet("900", "900", minutes_ago=2 * 24 * 60)
    responses.get(MENTIONS, json=page(*fresh, old))
    responses.get(SEARCH, json=page())
    clock = Clock()
    polling, _ = build(x_only, clock)
    polling.poll_due()
    first = searched_threads()
    assert len(first) == PER_CYCLE
    assert "900" not in first  # quiet for two days: not searched
    assert first == [t["id"] for t in fresh[:PER_CYCLE]]  # the most recently active first
    responses.replace(responses.GET, MENTIONS, json=page())
    clock.now += timedelta(minutes=5, seconds=1)
    polling.poll_due()
    second = searched_threads()[PER_CYCLE:]
    # The five never searched come first, then the longest ago.
    assert set(second[:5]) == {t["id"] for t in fresh[PER_CYCLE:]}
    assert "900" not in second


@responses.activate
def test_a_rate_limited_search_waits_for_the_reset_and_keeps_what_was_found(
    x_only: Database,
) -> None:
    responses.get(MENTIONS, json=page(tweet("61", "60"), tweet("71", "70", minutes_ago=2)))
    reset = int((NOW + timedelta(minutes=20)).timestamp())
    responses.get(SEARCH, json=page(tweet("62", "60", author="5")))
    responses.get(
        SEARCH,
        status=429,
        json={"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
        headers={"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"},
    )
    clock = Clock()
    polling, _ = build(x_only, clock)
    [outcome] = polling.poll_due()
    assert outcome.state == "connected"  # the mentions poll itself went fine
    assert thread_of(x_only, "62")[1] == "reply"
    responses.replace(responses.GET, MENTIONS, json=page())
    clock.now += timedelta(minutes=6)
    polling.poll_due()
    assert len(searched_threads()) == 2  # held until the reset
    clock.now += timedelta(minutes=15)
    polling.poll_due()
    assert len(searched_threads()) > 2


@responses.activate
def test_opening_a_thread_searches_it_once_a_minute_at_most(x_only: Database) -> None:
    responses.get(MENTIONS, json=page(tweet("81", "80")))
    clock = Clock()
    polling, threads = build(x_only, clock)
    polling.poll(
        next(r for r, _ in polling.accounts() if r.id == 2)
    )  # mentions only, no thread cycle
    conv = thread_of(x_only, "81")[0]
    responses.get(SEARCH, json=page(tweet("82", "80", author="6")))
    outcome = threads.thread_opened(conv, polling.connector_for_account)
    assert (outcome.searched, outcome.new_messages) == (1, 1)
    assert conv in outcome.touched_conversation_ids
    again = threads.thread_opened(conv, polling.connector_for_account)
    assert again.searched == 0
    assert searched_threads() == ["80"]
    clock.now += timedelta(seconds=61)
    threads.thread_opened(conv, polling.connector_for_account)
    assert searched_threads() == ["80", "80"]


def test_opening_a_thread_offline_or_without_token_reports_and_never_raises(
    x_only: Database,
) -> None:
    ingest = IngestService(x_only)
    with x_only.engine.begin() as conn:
        conn.execute(
            insert(Conversation).values(
                id=5,
                network="x",
                account_id=2,
                thread_type="x_thread",
                external_thread_id="90",
                kind="mention",
                unit_id=1,
                last_activity_at=NOW,
                created_at=NOW,
            )
        )
    TokenStore().forget("x", "u-x")
    clock = Clock()
    polling = PollingService(x_only, ingest, connector_factory(TokenStore()), clock=clock)
    threads = ThreadSearchService(x_only, ingest, clock=clock)
    outcome = threads.thread_opened(5, polling.connector_for_account)
    assert outcome.new_messages == 0
    assert "connect it in Settings" in outcome.detail
    with responses.RequestsMock() as mock:  # offline: every call fails to connect
        mock.get(SEARCH, body=requests.ConnectionError("offline"))
        TokenStore().set("x", "u-x", "access_token", TOKEN)
        clock.now += timedelta(minutes=2)
        outcome = threads.thread_opened(5, polling.connector_for_account)
    assert outcome.new_messages == 0
    assert "offline" in outcome.detail


@responses.activate
def test_opening_a_thread_of_a_paused_or_limited_account_makes_no_call(x_only: Database) -> None:
    responses.get(MENTIONS, json=page(tweet("85", "84")))
    clock = Clock()
    polling, threads = build(x_only, clock)
    polling.poll(next(r for r, _ in polling.accounts() if r.id == 2))
    conv = thread_of(x_only, "85")[0]
    for state in ("paused", "needs_reconnect", "rate_limited"):
        with x_only.engine.begin() as conn:
            conn.execute(update(Account).where(Account.id == 2).values(state=state))
        clock.now += timedelta(minutes=2)
        outcome = threads.thread_opened(conv, polling.connector_for_account)
        assert outcome.searched == 0
        assert state.replace("_", " ") in outcome.detail
    assert searched_threads() == []
