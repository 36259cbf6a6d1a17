"""The polling service on a fake unit of work: states after each outcome, streams on their turns."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from app.connectors.base import AuthExpired, FetchResult, RateLimited
from app.domain.enums import AccountState, Network
from app.services.ingest import IngestService
from app.services.polling import AccountRef, PollingService
from tests.unit.services.fakes import NOW, Clock, FakeAccount, FakeData, FakeStorage, item


class ScriptedConnector:
    """Answers each fetch with the next scripted result (or raises it)."""

    def __init__(self, *answers: FetchResult | Exception) -> None:
        self.answers = list(answers)
        self.cursors: list[Any] = []

    def fetch(self, cursor: Any) -> FetchResult:
        self.cursors.append(cursor)
        answer = self.answers.pop(0) if self.answers else FetchResult(cursor=cursor or {})
        if isinstance(answer, Exception):
            raise answer
        return answer


class StreamedConnector:
    """A connector with a ``schedule``: mentions every 15 s, direct messages every 120 s."""

    def __init__(self) -> None:
        self.polled: list[list[str]] = []

    def schedule(self, base_s: float) -> dict[str, float]:
        return {"mentions": 15.0, "dms": 120.0}

    def fetch(self, cursor: Any, *, streams: list[str]) -> FetchResult:
        self.polled.append(list(streams))
        return FetchResult(cursor={"seen": len(self.polled)})


def _storage(state: str = AccountState.CONNECTED, **account: Any) -> FakeStorage:
    data = FakeData()
    data.add_unit(1, None, "Care")
    data.accounts[1] = FakeAccount(
        id=1, network=Network.SANDBOX, handle="acme", uuid="u-1", state=state, **account
    )
    return FakeStorage(data)


def _polling(
    storage: FakeStorage, connector: object, clock: Clock, **kwargs: Any
) -> tuple[PollingService, list[AccountRef]]:
    built: list[AccountRef] = []

    def factory(ref: AccountRef) -> Any:
        built.append(ref)
        return connector

    service = PollingService(
        storage,
        IngestService(storage, clock=clock),
        factory,
        clock=clock,
        rng=random.Random(1),
        **kwargs,
    )
    return service, built


def test_a_successful_poll_stores_items_and_cursor_and_waits_the_interval() -> None:
    storage, clock = _storage(poll_interval_s=30), Clock()
    connector = ScriptedConnector(
        FetchResult(items=(item("1", "t1"), item("2", "t2")), cursor={"since": "2"})
    )
    polling, _ = _polling(storage, connector, clock)

    outcome = polling.poll_account_if_due(1)

    assert outcome is not None
    assert (outcome.state, outcome.new_messages, outcome.state_changed) == ("connected", 2, False)
    assert len(outcome.new_conversation_ids) == 2
    assert storage.data.accounts[1].cursor == {"since": "2"}
    clock.advance(29)
    assert polling.poll_account_if_due(1) is None  # not its turn yet
    clock.advance(1)
    assert polling.poll_account_if_due(1) is not None
    assert connector.cursors == [None, {"since": "2"}]  # the stored cursor is handed back


def test_a_rate_limit_is_stored_and_honoured_even_after_a_restart() -> None:
    storage, clock = _storage(), Clock()
    until = NOW + timedelta(minutes=10)
    connector = ScriptedConnector(RateLimited("slow down", until))
    polling, _ = _polling(storage, connector, clock)

    outcome = polling.poll_account_if_due(1)

    assert outcome is not None
    assert (outcome.state, outcome.state_changed) == (AccountState.RATE_LIMITED, True)
    stored = storage.data.accounts[1]
    assert (stored.state, stored.rate_limited_until) == ("rate_limited", until)
    assert stored.state_detail == "rate limited until 12:10"
    assert storage.data.accounts[1].cursor is None  # nothing was stored with it
    clock.advance(9 * 60)
    restarted, _ = _polling(storage, connector, clock)
    assert restarted.poll_account_if_due(1) is None
    assert len(connector.cursors) == 1  # the restarted service did not call the network
    clock.advance(60)
    after = restarted.poll_account_if_due(1)
    assert after is not None
    assert (after.state, after.state_changed) == (AccountState.CONNECTED, True)
    assert storage.data.accounts[1].state == "connected"


def test_an_expired_token_is_refreshed_once_then_the_account_needs_reconnecting() -> None:
    storage, clock = _storage(), Clock()
    connector = ScriptedConnector(AuthExpired("token revoked"), AuthExpired("still revoked"))
    refreshed: list[int] = []

    def refresh(ref: AccountRef) -> bool:
        refreshed.append(ref.id)
        return True

    polling, built = _polling(storage, connector, clock, refresh=refresh)

    outcome = polling.poll_account_if_due(1)

    assert outcome is not None
    assert outcome.state == AccountState.NEEDS_RECONNECT
    assert outcome.detail == "Needs reconnect: still revoked"
    assert refreshed == [1]  # one refresh, not one per refusal
    assert len(built) == 2  # rebuilt with the refreshed token
    assert (storage.data.accounts[1].state, storage.data.accounts[1].state_detail) == (
        "needs_reconnect",
        "Needs reconnect: still revoked",
    )
    clock.advance(3600)
    assert polling.poll_account_if_due(1) is None  # waits for a person to reconnect it
    assert len(connector.cursors) == 2


def test_a_refreshed_token_lets_the_same_poll_go_on() -> None:
    storage, clock = _storage(), Clock()
    connector = ScriptedConnector(AuthExpired("expired"), FetchResult(items=(item("7"),)))
    polling, _ = _polling(storage, connector, clock, refresh=lambda ref: True)

    outcome = polling.poll_account_if_due(1)

    assert outcome is not None
    assert (outcome.state, outcome.new_messages) == (AccountState.CONNECTED, 1)
    assert storage.data.accounts[1].state == "connected"


def test_a_person_reconnecting_the_account_resumes_polling() -> None:
    storage, clock = _storage(), Clock()
    connector = ScriptedConnector(AuthExpired("revoked"))
    polling, _ = _polling(storage, connector, clock)
    assert polling.poll_account_if_due(1) is not None
    assert storage.data.accounts[1].state == AccountState.NEEDS_RECONNECT

    storage.data.accounts[1].state = AccountState.CONNECTED  # reconnected in Settings

    outcome = polling.poll_account_if_due(1)
    assert outcome is not None
    assert outcome.state == AccountState.CONNECTED
    assert len(connector.cursors) == 2


def test_each_stream_is_polled_on_its_own_interval() -> None:
    storage, clock = _storage(), Clock()
    connector = StreamedConnector()
    polling, _ = _polling(storage, connector, clock)

    turns = []
    for at in (0, 15, 20, 30, 120):
        clock.now = NOW + timedelta(seconds=at)
        turns.append(polling.poll_account_if_due(1) is not None)

    assert turns == [True, True, False, True, True]
    assert connector.polled == [
        ["mentions", "dms"],
        ["mentions"],
        ["mentions"],
        ["mentions", "dms"],
    ]
    assert storage.data.accounts[1].cursor == {"seen": 4}


def test_a_removed_account_is_reported() -> None:
    storage, clock = _storage(), Clock()
    polling, _ = _polling(storage, ScriptedConnector(), clock)
    del storage.data.accounts[1]
    with pytest.raises(KeyError):
        polling.poll_account_if_due(1)
