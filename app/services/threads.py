"""X thread search (connectors.md §1.5): the replies between other people in a thread.

Mentions bring only what names the account; the rest of a conversation comes from searching the
thread. It is searched when an agent opens it, and every five minutes for the threads active in
the last 24 hours, at most 20 per cycle (the least recently searched first), never all threads.
What each thread was last searched up to is kept in the account's cursor (``thread_search``),
written with the found items in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from threading import Lock
from typing import Any, Protocol, runtime_checkable

from app.connectors.base import (
    AuthExpired,
    FetchResult,
    PermissionDenied,
    RateLimited,
    TransientError,
)
from app.domain.enums import AccountState, ThreadType
from app.domain.items import InboundItem
from app.services.ingest import IngestService
from app.storage.ports import Storage

log = logging.getLogger("quiver.services.threads")

CYCLE = timedelta(minutes=5)
ACTIVE = timedelta(hours=24)
PER_CYCLE = 20
OPEN_COOLDOWN = timedelta(seconds=60)  # an agent reopening a thread does not search it again
KEEP_MARKS = timedelta(days=7)  # search reaches back seven days: older marks are useless
CURSOR_KEY = "thread_search"


@runtime_checkable
class ThreadSearcher(Protocol):
    """A connector that can search a thread (X)."""

    def fetch_thread(self, conversation_id: str, since_id: str | None = None) -> FetchResult: ...


@dataclass(frozen=True)
class ThreadSearchOutcome:
    searched: int
    new_messages: int = 0
    new_conversation_ids: tuple[int, ...] = ()
    touched_conversation_ids: tuple[int, ...] = ()
    detail: str = ""
    limited_until: datetime | None = None  # the network asked to wait until then


class ThreadSearchService:
    """Searches X threads for an account; safe from any thread (one unit of work per call)."""

    def __init__(
        self,
        db: Storage,
        ingest: IngestService,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self._ingest = ingest
        self._clock = clock
        self._opened: dict[int, datetime] = {}
        self._lock = Lock()

    def cycle(self, account_id: int, connector: ThreadSearcher) -> ThreadSearchOutcome:
        """Search up to ``PER_CYCLE`` of the account's threads active in the last 24 hours.

        A rate limit ends the cycle early (``limited_until``); what was found before is stored.
        """
        now = self._clock()
        marks = self._marks(account_id)
        with self._db.uow() as uow:
            threads = uow.threads.recent_threads(
                account_id, ThreadType.X_THREAD, since=now - ACTIVE, limit=10 * PER_CYCLE
            )
        # Never searched first, then the longest ago; among equals the most recently active.
        threads.sort(key=lambda ext: int(_mark(marks, ext).get("at", 0)))
        return self._search(account_id, connector, threads[:PER_CYCLE], marks, now)

    def thread_opened(
        self, conversation_id: int, connector_for: Callable[[int], object | None]
    ) -> ThreadSearchOutcome:
        """Search the thread an agent just opened (at most once a minute per thread).

        ``connector_for`` builds the connector of an account id, or ``None`` when it cannot
        (no token). Errors are reported in ``detail``, never raised: opening a thread must work
        offline.
        """
        now = self._clock()
        with self._db.uow() as uow:
            row = uow.threads.target(conversation_id)
        if row is None or row.thread_type != ThreadType.X_THREAD:
            return ThreadSearchOutcome(0)
        if row.account_state not in (AccountState.CONNECTED, AccountState.OFFLINE):
            # paused, needs reconnect, rate limited: the account's own poll says why
            return ThreadSearchOutcome(0, detail=f"account is {_state_label(row.account_state)}")
        with self._lock:
            last = self._opened.get(conversation_id)
            if last is not None and now - last < OPEN_COOLDOWN:
                return ThreadSearchOutcome(0)
            self._opened[conversation_id] = now
        try:
            connector = connector_for(row.account_id)
        except AuthExpired as exc:
            return ThreadSearchOutcome(0, detail=str(exc))
        if not isinstance(connector, ThreadSearcher):
            return ThreadSearchOutcome(0)
        return self._search(
            row.account_id, connector, [row.external_thread_id], self._marks(row.account_id), now
        )

    # -- helpers ------------------------------------------------------------------------------

    def _search(
        self,
        account_id: int,
        connector: ThreadSearcher,
        threads: list[str],
        marks: Mapping[str, Any],
        now: datetime,
    ) -> ThreadSearchOutcome:
        items: list[InboundItem] = []
        skipped = 0
        found: dict[str, dict[str, Any]] = {}
        limited: datetime | None = None
        detail = ""
        for ext in threads:
            since = _mark(marks, ext).get("since")
            try:
                result = connector.fetch_thread(
                    ext, since_id=since if isinstance(since, str) else None
                )
            except RateLimited as exc:
                limited = exc.until
                detail = f"thread search rate limited until {exc.until:%H:%M}"
                break
            except (AuthExpired, PermissionDenied, TransientError) as exc:
                # The account's own poll reports these states; searching waits for next cycle.
                detail = f"thread search stopped: {exc}"
                log.info("account %s: %s", account_id, detail)
                break
            except ValueError as exc:  # not a searchable thread id
                log.info("account %s: thread %r not searchable: %s", account_id, ext[:40], exc)
                continue
            items += result.items
            skipped += result.skipped
            found[ext] = {
                "since": result.cursor.get("since_id") or since,
                "at": int(now.timestamp()),
            }
        if found:
            horizon = int((now - KEEP_MARKS).timestamp())

            def merge_marks(cursor: dict[str, Any]) -> dict[str, Any]:
                current = cursor.get(CURSOR_KEY)
                merged = {
                    k: v
                    for k, v in (current if isinstance(current, dict) else {}).items()
                    if isinstance(v, dict) and int(v.get("at", 0) or 0) >= horizon
                }
                merged |= found
                return {**cursor, CURSOR_KEY: merged}

            stored = self._ingest.store(
                account_id, items, None, skipped=skipped, update_cursor=merge_marks
            )
            return ThreadSearchOutcome(
                len(found),
                stored.new_messages,
                stored.new_conversation_ids,
                stored.touched_conversation_ids,
                detail,
                limited,
            )
        return ThreadSearchOutcome(0, detail=detail, limited_until=limited)

    def _marks(self, account_id: int) -> dict[str, Any]:
        with self._db.uow() as uow:
            cursor = uow.accounts.cursor(account_id)
        marks = (cursor or {}).get(CURSOR_KEY) if isinstance(cursor, dict) else None
        return marks if isinstance(marks, dict) else {}


def _mark(marks: Mapping[str, Any], ext: str) -> Mapping[str, Any]:
    mark = marks.get(ext)
    return mark if isinstance(mark, dict) else {}


def _state_label(state: str) -> str:
    try:
        return AccountState(state).label
    except ValueError:
        return state.replace("_", " ")
