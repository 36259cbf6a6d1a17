"""The thread-search service on a fake unit of work: which threads a cycle picks, what it keeps."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app.connectors.base import FetchResult, RateLimited
from app.domain.enums import AccountState, Network, ThreadType
from app.services.ingest import IngestService
from app.services.threads import CURSOR_KEY, PER_CYCLE, ThreadSearchService
from tests.unit.services.fakes import (
    NOW,
    Clock,
    FakeAccount,
    FakeConversation,
    FakeData,
    FakeStorage,
    item,
)


class Searcher:
    """Finds one reply per searched thread; can be told to hit a rate limit after some."""

    def __init__(self, limit_after: int | None = None) -> None:
        self.searched: list[tuple[str, str | None]] = []
        self.limit_after = limit_after

    def fetch_thread(self, conversation_id: str, since_id: str | None = None) -> FetchResult:
        if self.limit_after is not None and len(self.searched) >= self.limit_after:
            raise RateLimited("search limit", NOW + timedelta(minutes=15))
        self.searched.append((conversation_id, since_id))
        reply = item(f"r-{conversation_id}", conversation_id, text="a reply between others")
        return FetchResult(items=(reply,), cursor={"since_id": f"r-{conversation_id}"})


def _mark(at: datetime, since: str = "s") -> dict[str, Any]:
    return {"since": since, "at": int(at.timestamp())}


def _world() -> tuple[FakeStorage, dict[str, Any]]:
    """Account 1 (X) with 30 threads active in the last day, plus threads no cycle may pick."""
    data = FakeData()
    data.add_unit(1, None, "Care")
    data.accounts[1] = FakeAccount(id=1, network=Network.X, handle="AcmeHelp")
    data.accounts[2] = FakeAccount(id=2, network=Network.X, handle="Other")
    for n in range(30):
        data.conversations.append(
            FakeConversation(
                id=n + 1,
                account_id=1,
                unit_id=1,
                external_thread_id=f"t{n}",
                last_activity_at=NOW - timedelta(minutes=10 * n),
            )
        )
    extra = [
        ("old", 1, ThreadType.X_THREAD, NOW - timedelta(hours=25)),
        ("dm", 1, ThreadType.X_DM, NOW),
        ("theirs", 2, ThreadType.X_THREAD, NOW),
    ]
    for n, (ext, account, kind, at) in enumerate(extra, start=100):
        data.conversations.append(
            FakeConversation(
                id=n,
                account_id=account,
                unit_id=1,
                external_thread_id=ext,
                thread_type=kind,
                last_activity_at=at,
            )
        )
    # t0..t9 searched a minute ago, t10..t19 an hour ago, t20..t29 never; "gone" long ago.
    marks = {f"t{n}": _mark(NOW - timedelta(minutes=1), since=f"s{n}") for n in range(10)}
    marks |= {f"t{n}": _mark(NOW - timedelta(hours=1), since=f"s{n}") for n in range(10, 20)}
    marks["gone"] = _mark(NOW - timedelta(days=8))
    data.accounts[1].cursor = {"mentions_since_id": "99", CURSOR_KEY: marks}
    return FakeStorage(data), marks


def test_a_cycle_searches_the_least_recently_searched_active_threads() -> None:
    storage, _ = _world()
    clock = Clock()
    service = ThreadSearchService(storage, IngestService(storage, clock=clock), clock=clock)
    searcher = Searcher()

    outcome = service.cycle(1, searcher)

    picked = [ext for ext, _since in searcher.searched]
    assert len(picked) == PER_CYCLE == 20
    assert set(picked) == {f"t{n}" for n in range(10, 30)}  # never searched, then oldest
    assert set(picked[:10]) == {f"t{n}" for n in range(20, 30)}  # never searched go first
    assert not {"old", "dm", "theirs"} & set(picked)
    since = dict(searcher.searched)
    assert since["t12"] == "s12"  # continues after what it found last time
    assert since["t25"] is None
    assert (outcome.searched, outcome.new_messages) == (20, 20)


def test_a_cycle_keeps_its_marks_in_the_cursor_and_drops_stale_ones() -> None:
    storage, _ = _world()
    clock = Clock()
    service = ThreadSearchService(storage, IngestService(storage, clock=clock), clock=clock)

    service.cycle(1, Searcher())

    cursor = storage.data.accounts[1].cursor
    assert cursor is not None
    assert cursor["mentions_since_id"] == "99"  # the mentions stream's part is left alone
    marks = cursor[CURSOR_KEY]
    assert marks["t25"] == {"since": "r-t25", "at": int(NOW.timestamp())}
    assert marks["t3"]["since"] == "s3"  # not searched this cycle: kept as it was
    assert "gone" not in marks  # older than the seven days search reaches back
    assert len(storage.history) == 1  # items and marks in one transaction


def test_a_rate_limit_ends_the_cycle_and_keeps_what_was_found() -> None:
    storage, _ = _world()
    clock = Clock()
    service = ThreadSearchService(storage, IngestService(storage, clock=clock), clock=clock)

    outcome = service.cycle(1, Searcher(limit_after=3))

    assert outcome.searched == 3
    assert outcome.limited_until == NOW + timedelta(minutes=15)
    assert outcome.detail == "thread search rate limited until 12:15"
    assert len(storage.data.messages) == 3
    cursor = storage.data.accounts[1].cursor
    assert cursor is not None
    searched_now = {
        ext for ext, mark in cursor[CURSOR_KEY].items() if mark["at"] == int(NOW.timestamp())
    }
    assert searched_now == {"t20", "t21", "t22"}  # the first three never-searched threads


def test_opening_a_thread_of_a_paused_account_searches_nothing() -> None:
    storage, _ = _world()
    storage.data.accounts[1].state = AccountState.NEEDS_RECONNECT
    clock = Clock()
    service = ThreadSearchService(storage, IngestService(storage, clock=clock), clock=clock)
    searcher = Searcher()

    outcome = service.thread_opened(1, lambda account_id: searcher)

    assert (outcome.searched, outcome.detail) == (0, "account is needs reconnect")
    assert searcher.searched == []


def test_opening_a_thread_searches_it_once_a_minute_at_most() -> None:
    storage, _ = _world()
    clock = Clock()
    service = ThreadSearchService(storage, IngestService(storage, clock=clock), clock=clock)
    searcher = Searcher()

    first = service.thread_opened(3, lambda account_id: searcher)
    clock.advance(30)
    again = service.thread_opened(3, lambda account_id: searcher)
    clock.advance(31)
    later = service.thread_opened(3, lambda account_id: searcher)

    assert [first.searched, again.searched, later.searched] == [1, 0, 1]
    assert [ext for ext, _ in searcher.searched] == ["t2", "t2"]
