"""Polling accounts end to end: Sandbox streaming, X over intercepted HTTP, state changes, tokens."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses
from sqlalchemy import func, insert, select, update

from app.bootstrap import connector_factory
from app.connectors.sandbox import SandboxConnector
from app.models import Account, Conversation, Message, Unit
from app.services.ingest import IngestService
from app.services.polling import PollingService
from app.services.tokens import TokenStore
from app.storage.workspace import Database
from tests.stored import stored_bytes

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
MENTIONS = "https://api.twitter.com/2/users/783214/mentions"
TOKEN = "SECRET-x-access-token-0123456789"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def accounts(db: Database) -> Database:
    return add_accounts(db)


def add_accounts(db: Database) -> Database:
    """A unit with a Sandbox account (1), an X account (2) and a paused Sandbox account (3)."""
    with db.engine.begin() as conn:
        conn.execute(insert(Unit).values(id=1, path="/1/", name="Care"))
        conn.execute(
            insert(Account),
            [
                {
                    "id": 1,
                    "uuid": "u-sbx",
                    "network": "sandbox",
                    "handle": "acme",
                    "display_name": "Acme",
                    "unit_id": 1,
                    "state": "connected",
                    "external_user_id": "sbx-1",
                    "poll_interval_s": 30,
                },
                {
                    "id": 2,
                    "uuid": "u-x",
                    "network": "x",
                    "handle": "AcmeHelp",
                    "display_name": "Acme Help",
                    "unit_id": 1,
                    "state": "connected",
                    "external_user_id": "783214",
                    "poll_interval_s": 90,
                },
                {
                    "id": 3,
                    "uuid": "u-paused",
                    "network": "sandbox",
                    "handle": "old",
                    "display_name": "Old",
                    "unit_id": 1,
                    "state": "paused",
                    "external_user_id": "sbx-3",
                    "poll_interval_s": 30,
                },
            ],
        )
    return db


def service(db: Database, clock: Clock) -> PollingService:
    return PollingService(
        db,
        IngestService(db),
        connector_factory(TokenStore(), sandbox_pace_s=10, clock=clock),
        clock=clock,
        rng=random.Random(3),
    )


def count(db: Database, model: type) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def test_sandbox_streams_new_conversations_deterministically() -> None:
    clock = Clock()
    a = SandboxConnector("acme", "sbx-1", seed=4, pace_s=10, clock=clock)
    b = SandboxConnector("acme", "sbx-1", seed=4, pace_s=10, clock=clock)
    first = a.fetch(None)
    assert len(first.items) == 3
    assert [i.text for i in first.items] == [i.text for i in b.fetch(None).items]
    clock.now += timedelta(seconds=25)
    second = a.fetch(first.cursor)
    assert len(second.items) == 2
    assert not {i.external_id for i in first.items} & {i.external_id for i in second.items}
    assert a.fetch(second.cursor).items == ()  # nothing new yet
    assert a.publish("hello").external_id.startswith("sbx-out-acme-")


@responses.activate
def test_a_poll_cycle_stores_sandbox_items_and_marks_x_without_token(accounts: Database) -> None:
    clock = Clock()
    polling = service(accounts, clock)
    outcomes = {o.account_id: o for o in polling.poll_due()}
    assert set(outcomes) == {1, 2}  # the paused account is left alone
    assert outcomes[1].new_messages == 3
    assert len(outcomes[1].new_conversation_ids) == 3
    assert outcomes[2].state == "needs_reconnect"
    assert "connect it in Settings" in outcomes[2].detail
    with accounts.engine.connect() as conn:
        state = conn.execute(select(Account.state).where(Account.id == 2)).scalar()
    assert state == "needs_reconnect"
    assert polling.poll_due() == []  # not due again before its interval
    clock.now += timedelta(seconds=31)
    [again] = polling.poll_due()
    assert (again.account_id, again.new_messages) == (1, 3)
    assert count(accounts, Message) == 6
    # The Sandbox also follows up in threads an earlier poll brought: those join them.
    assert count(accounts, Conversation) == 3 + len(again.new_conversation_ids)


@pytest.fixture
def x_token(accounts: Database) -> None:
    TokenStore().set("x", "u-x", "access_token", TOKEN)
    with accounts.engine.begin() as conn:
        conn.execute(update(Account).where(Account.id != 2).values(state="paused"))


def tweet(tid: str) -> dict[str, Any]:
    return {
        "id": tid,
        "text": f"@AcmeHelp hi {tid}",
        "edit_history_tweet_ids": [tid],
        "author_id": "9",
        "conversation_id": tid,
        "created_at": "2026-11-23T11:59:00.000Z",
    }


@responses.activate
def test_x_polls_store_once_and_keep_the_cursor(accounts: Database, x_token: None) -> None:
    responses.get(
        MENTIONS,
        json={"data": [tweet("12"), tweet("11")], "meta": {"newest_id": "12", "result_count": 2}},
    )
    clock = Clock()
    polling = service(accounts, clock)
    [first] = polling.poll_due()
    assert (first.state, first.new_messages) == ("connected", 2)
    responses.replace(
        responses.GET,
        MENTIONS,
        json={"data": [tweet("13"), tweet("12")], "meta": {"newest_id": "13", "result_count": 2}},
    )
    clock.now += timedelta(seconds=91)
    [second] = polling.poll_due()
    assert second.new_messages == 1  # 12 was already stored
    assert count(accounts, Message) == 3
    assert "since_id=12" in responses.calls[-1].request.url
    with accounts.engine.connect() as conn:
        assert conn.execute(select(Account.cursor).where(Account.id == 2)).scalar() == {
            "mentions_since_id": "13"
        }


@responses.activate
def test_rate_limits_and_server_errors_never_kill_the_token(
    accounts: Database, x_token: None
) -> None:
    reset = int((NOW + timedelta(minutes=10)).timestamp())
    responses.get(
        MENTIONS,
        status=429,
        json={"title": "Too Many Requests", "status": 429},
        headers={"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"},
    )
    clock = Clock()
    polling = service(accounts, clock)
    [limited] = polling.poll_due()
    assert limited.state == "rate_limited"
    assert polling.poll_due() == []  # waits for the reset
    clock.now += timedelta(minutes=11)
    responses.replace(responses.GET, MENTIONS, status=503, body="busy")
    states = []
    for _ in range(4):
        outcome = polling.poll(next(r for r, _ in polling.accounts() if r.id == 2))
        states.append(outcome.state)
    assert states[-1] == "offline"
    assert "needs_reconnect" not in states
    assert TokenStore().get("x", "u-x", "access_token") == TOKEN
    responses.replace(responses.GET, MENTIONS, json={"meta": {"result_count": 0}})
    assert (
        polling.poll(next(r for r, _ in polling.accounts() if r.id == 2)).state == "connected"
    )  # back by itself


@responses.activate
def test_a_revoked_token_needs_reconnect_and_history_is_kept(
    accounts: Database, x_token: None
) -> None:
    responses.get(
        MENTIONS, json={"data": [tweet("21")], "meta": {"newest_id": "21", "result_count": 1}}
    )
    clock = Clock()
    polling = service(accounts, clock)
    polling.poll_due()
    responses.replace(
        responses.GET,
        MENTIONS,
        status=401,
        json={"title": "Unauthorized", "status": 401, "detail": "Unauthorized"},
    )
    clock.now += timedelta(seconds=91)
    [dead] = polling.poll_due()
    assert dead.state == "needs_reconnect"
    clock.now += timedelta(hours=1)
    assert polling.poll_due() == []  # stopped polling it
    assert count(accounts, Message) == 1
    with accounts.engine.connect() as conn:
        assert conn.execute(select(Account.cursor).where(Account.id == 2)).scalar() == {
            "mentions_since_id": "21"
        }


@responses.activate
def test_tokens_never_reach_the_database_or_the_logs(
    accounts: Database, x_token: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("tweepy").setLevel(logging.INFO)  # as app.cli configures it
    responses.get(
        MENTIONS, json={"data": [tweet("31")], "meta": {"newest_id": "31", "result_count": 1}}
    )
    responses.post(
        "https://api.twitter.com/2/tweets",
        status=201,
        json={"data": {"id": "32", "text": "ok", "edit_history_tweet_ids": ["32"]}},
    )
    polling = service(accounts, Clock())
    polling.poll_due()
    connector = connector_factory(TokenStore())(next(r for r, _ in polling.accounts() if r.id == 2))
    connector.reply("ok", in_reply_to="31", thread_external_id="31")
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    for _name, raw in stored_bytes(accounts):
        assert TOKEN.encode() not in raw
    assert TOKEN not in caplog.text


@responses.activate
def test_high_facebook_usage_stretches_the_interval(accounts: Database) -> None:
    from tests.integration.connectors.test_facebook import CONVERSATIONS, FEED, PAGE

    with accounts.engine.begin() as conn:
        conn.execute(update(Account).values(state="paused"))
        conn.execute(
            insert(Account).values(
                id=4,
                uuid="u-fb",
                network="facebook",
                handle="Acme",
                display_name="Acme",
                unit_id=1,
                state="connected",
                external_user_id=PAGE,
                poll_interval_s=120,
            )
        )
    TokenStore().set("facebook", "u-fb", "page_token", "PAGE-TOKEN-secret")
    usage = {"X-App-Usage": '{"call_count":80,"total_time":10,"total_cputime":5}'}
    responses.get(FEED, json={"data": []}, headers=usage)
    responses.get(CONVERSATIONS, json={"data": []}, headers=usage)
    clock = Clock()
    polling = service(accounts, clock)

    def called() -> list[str]:
        urls = [c.request.url.split("?")[0] for c in responses.calls]
        responses.calls.reset()
        return ["feed" if u == FEED else "messenger" if u == CONVERSATIONS else u for u in urls]

    [first] = polling.poll_due()
    assert first.state == "connected"
    assert called() == ["feed", "messenger"]
    # Each stream on its own interval (feed 120 s, Messenger 60 s), doubled at 80 % usage.
    clock.now += timedelta(seconds=100)
    assert polling.poll_due() == []
    clock.now += timedelta(seconds=21)
    polling.poll_due()
    assert called() == ["messenger"]
    clock.now += timedelta(seconds=121)
    polling.poll_due()
    assert called() == ["feed", "messenger"]


@responses.activate
def test_x_mentions_and_direct_messages_each_keep_their_own_interval(
    accounts: Database, x_token: None
) -> None:
    dms = "https://api.twitter.com/2/dm_events"
    with accounts.engine.begin() as conn:
        conn.execute(update(Account).where(Account.id == 2).values(scopes="tweet.read dm.read"))
    responses.get(MENTIONS, json={"meta": {"result_count": 0}})
    responses.get(dms, json={"meta": {"result_count": 0}})
    clock = Clock()
    polling = service(accounts, clock)

    def called() -> list[str]:
        urls = [c.request.url.split("?")[0] for c in responses.calls]
        responses.calls.reset()
        return ["mentions" if u == MENTIONS else "dms" if u == dms else u for u in urls]

    polling.poll_due()
    assert called() == ["mentions", "dms"]
    clock.now += timedelta(seconds=91)  # mentions every 90 s (the account's interval)
    polling.poll_due()
    assert called() == ["mentions"]
    clock.now += timedelta(seconds=30)  # direct messages every 120 s
    polling.poll_due()
    assert called() == ["dms"]
    clock.now += timedelta(seconds=30)
    assert polling.poll_due() == []
    assert called() == []


class BrokenConnector:
    """Hands over an item no database accepts (a naive time): storing it fails every time."""

    def fetch(self, cursor: dict[str, Any] | None) -> Any:
        from app.connectors.base import FetchResult
        from app.domain.items import InboundItem

        bad = InboundItem(
            "sandbox", "b1", "mention", "in", "t", datetime(2026, 1, 1), "a", None, None,
            "th", "sandbox_thread", None, None, {},
        )  # fmt: skip
        return FetchResult(items=(bad,), cursor={"at": 1})


def test_a_storage_failure_backs_off_instead_of_polling_every_second(
    accounts: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    calls = []

    def factory(ref: Any) -> Any:
        calls.append(ref.id)
        return BrokenConnector()

    polling = PollingService(
        accounts, IngestService(accounts), factory, clock=clock, rng=random.Random(2)
    )
    sandbox = next(r for r, _ in polling.accounts() if r.id == 1)
    first = polling.poll(sandbox)
    assert first.state == "connected"
    assert "retrying after an error" in first.detail
    assert "polling account 1 failed" in caplog.text
    clock.now += timedelta(seconds=1)
    assert polling.poll_account_if_due(1) is None  # backing off, not spinning
    with accounts.engine.connect() as conn:
        assert conn.execute(select(Account.cursor).where(Account.id == 1)).scalar() is None


@responses.activate
def test_a_rate_limit_outlives_a_restart(accounts: Database, x_token: None) -> None:
    reset = int((NOW + timedelta(minutes=10)).timestamp())
    responses.get(
        MENTIONS,
        status=429,
        json={"title": "Too Many Requests", "status": 429},
        headers={"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"},
    )
    clock = Clock()
    [limited] = service(accounts, clock).poll_due()
    assert limited.state == "rate_limited"
    calls = len(responses.calls)
    restarted = service(accounts, clock)  # the app was closed and opened again
    clock.now += timedelta(minutes=5)
    assert restarted.poll_due() == []
    assert len(responses.calls) == calls  # still waiting for the reset
    responses.replace(responses.GET, MENTIONS, json={"meta": {"result_count": 0}})
    clock.now += timedelta(minutes=6)
    [back] = restarted.poll_due()
    assert back.state == "connected"


@responses.activate
def test_a_stream_the_plan_lacks_is_named_on_the_account(accounts: Database, x_token: None) -> None:
    with accounts.engine.begin() as conn:
        conn.execute(update(Account).where(Account.id == 2).values(scopes="tweet.read dm.read"))
    responses.get(MENTIONS, json={"meta": {"result_count": 0}})
    responses.get(
        "https://api.twitter.com/2/dm_events",
        status=403,
        json={"title": "Forbidden", "status": 403, "detail": "Your plan lacks DMs."},
    )
    [outcome] = service(accounts, Clock()).poll_due()
    assert outcome.state == "connected"
    assert "direct messages skipped" in outcome.detail
    with accounts.engine.connect() as conn:
        detail = conn.execute(select(Account.state_detail).where(Account.id == 2)).scalar()
    assert "Your plan lacks DMs." in detail
