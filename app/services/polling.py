"""Polling: which accounts are due, one fetch each, the batch stored, the account's state kept."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from threading import Event
from typing import Any, cast

from app.connectors.base import (
    AuthExpired,
    Connector,
    FetchResult,
    PermissionDenied,
    RateLimited,
    TransientError,
)
from app.domain.enums import AccountState, Network
from app.domain.polling import (
    PollState,
    after_auth_expired,
    after_error,
    after_permission_denied,
    after_rate_limit,
    after_success,
    after_transient,
)
from app.services.ingest import IngestService
from app.services.threads import CYCLE as THREAD_CYCLE
from app.services.threads import ThreadSearcher, ThreadSearchService
from app.storage.ports import Storage

log = logging.getLogger("quiver.services.polling")
REFRESH_AHEAD = timedelta(seconds=300)  # connectors.md §1.2: refresh when expiry is this near


@dataclass(frozen=True)
class AccountRef:
    """What a connector factory needs to build a connector for an account."""

    id: int
    uuid: str
    network: str
    handle: str
    external_user_id: str | None
    poll_interval_s: int
    scopes: str = ""
    token_expires_at: datetime | None = None


@dataclass(frozen=True)
class PollOutcome:
    account_id: int
    state: str
    detail: str
    new_messages: int = 0
    new_conversation_ids: tuple[int, ...] = ()
    touched_conversation_ids: tuple[int, ...] = ()
    state_changed: bool = False


ConnectorFactory = Callable[[AccountRef], Connector]


class PollingService:
    """Shared by the poll threads (one per account); every read and write has its own unit of work.

    The in-memory state (``_states``, ``_connectors``, the stream and thread-search turns) is kept
    per account id, and each account is polled by one thread only.
    """

    def __init__(
        self,
        db: Storage,
        ingest: IngestService,
        connector_for: ConnectorFactory,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
        refresh: Callable[[AccountRef], bool] | None = None,
        threads: ThreadSearchService | None = None,
    ) -> None:
        self._db = db
        self._ingest = ingest
        self._connector_for = connector_for
        self._clock = clock
        self._rng = rng or random.Random()
        self._refresh = refresh
        self._states: dict[int, PollState] = {}
        self._connectors: dict[int, Connector] = {}
        self._threads = threads
        self._stream_due: dict[int, dict[str, datetime]] = {}  # per account: stream -> next turn
        self._thread_cycle_at: dict[int, datetime] = {}

    def accounts(self) -> list[tuple[AccountRef, str]]:
        """Every account with its stored state (``connected``, ``paused``, ...)."""
        return self._account_rows(None)

    def _account_rows(self, account_id: int | None) -> list[tuple[AccountRef, str]]:
        with self._db.uow() as uow:
            rows = uow.accounts.poll_targets(account_id)
        return [
            (
                AccountRef(
                    r.id,
                    r.uuid,
                    r.network,
                    r.handle,
                    r.external_user_id,
                    r.poll_interval_s,
                    r.scopes,
                    r.token_expires_at,
                ),
                r.state,
            )
            for r in rows
        ]

    def poll_due(self, stop: Event | None = None) -> list[PollOutcome]:
        """Poll every account whose turn it is, one after the other; returns what changed."""
        outcomes = []
        for ref, stored_state in self.accounts():
            if stop is not None and stop.is_set():
                break
            outcome = self._poll_if_due(ref, stored_state, stop)
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def poll_account_if_due(self, account_id: int, stop: Event | None = None) -> PollOutcome | None:
        """Poll one account if its turn has come (each account's own worker calls this).

        Raises:
            KeyError: the account no longer exists.
        """
        rows = self._account_rows(account_id)
        if not rows:
            self._states.pop(account_id, None)
            self._connectors.pop(account_id, None)
            raise KeyError(f"no account {account_id}")
        [(ref, stored_state)] = rows
        return self._poll_if_due(ref, stored_state, stop)

    def _poll_if_due(
        self, ref: AccountRef, stored_state: str, stop: Event | None
    ) -> PollOutcome | None:
        state = self._states.get(ref.id)
        if state is None:
            state = self._states[ref.id] = self._restored_state(ref.id, stored_state)
        elif state.state != stored_state and stored_state in (
            AccountState.PAUSED,
            AccountState.NEEDS_RECONNECT,
            AccountState.CONNECTED,
        ):
            # A person changed the state (reconnected, paused).
            state = self._states[ref.id] = PollState(state=stored_state)
        outcome = self.poll(ref, stop) if state.due(self._clock()) else None
        if stop is not None and stop.is_set():
            return outcome
        return self._search_threads(ref, outcome)

    def _restored_state(self, account_id: int, stored_state: str) -> PollState:
        """The state an account was left in (a rate limit outlives a restart of the app)."""
        if stored_state != AccountState.RATE_LIMITED:
            return PollState(state=stored_state)
        with self._db.uow() as uow:
            mark = uow.accounts.rate_limit(account_id)
        until = mark.until
        if until is None or until <= self._clock():
            return PollState(state=stored_state, detail=mark.detail)
        return PollState(
            state=stored_state,
            detail=mark.detail,
            next_at=until,
            rate_limited_until=until,
        )

    def connector_for_account(self, account_id: int) -> Connector | None:
        """A new connector for the account (for a use case outside its poll worker), or None.

        Raises:
            AuthExpired: no usable token is stored for it.
        """
        rows = self._account_rows(account_id)
        return self._connector_for(rows[0][0]) if rows else None

    def _search_threads(self, ref: AccountRef, outcome: PollOutcome | None) -> PollOutcome | None:
        """Every ``CYCLE``, search the account's recently active threads (X only)."""
        state = self._states.get(ref.id)
        now = self._clock()
        if (
            self._threads is None
            or ref.network != Network.X
            or state is None
            or state.state != AccountState.CONNECTED
            or self._thread_cycle_at.get(ref.id, now) > now
        ):
            return outcome
        connector: object = self._connectors.get(ref.id)
        if not isinstance(connector, ThreadSearcher):
            return outcome
        searched = self._threads.cycle(ref.id, connector)
        self._thread_cycle_at[ref.id] = max(now + THREAD_CYCLE, searched.limited_until or now)
        if not searched.new_messages:
            return outcome
        base = outcome or PollOutcome(ref.id, state.state, state.detail)
        return replace(
            base,
            new_messages=base.new_messages + searched.new_messages,
            new_conversation_ids=base.new_conversation_ids + searched.new_conversation_ids,
            touched_conversation_ids=tuple(
                sorted(set(base.touched_conversation_ids) | set(searched.touched_conversation_ids))
            ),
        )

    def poll(self, ref: AccountRef, stop: Event | None = None) -> PollOutcome:
        """One poll of one account: fetch, store with its cursor, update the account's state.

        When ``stop`` is set while the network call is under way (the app is closing), what came
        back is dropped unstored: its cursor is not saved either, so the next start fetches it
        again and nothing is lost.
        """
        before = self._states.get(ref.id, PollState())
        now = self._clock()
        outcome_ids: tuple[tuple[int, ...], tuple[int, ...], int] = ((), (), 0)
        self._refresh_ahead(ref, now)
        try:
            try:
                result, polled = self._fetch(ref)
            except AuthExpired:
                # One refresh attempt where the network has one; a second refusal is final.
                self._connectors.pop(ref.id, None)
                if self._refresh is None or not self._refresh(ref):
                    raise
                result, polled = self._fetch(ref)
            if stop is not None and stop.is_set():
                return PollOutcome(ref.id, before.state, before.detail)
            stored = self._ingest.store(ref.id, result.items, result.cursor, skipped=result.skipped)
            outcome_ids = (
                stored.new_conversation_ids,
                stored.touched_conversation_ids,
                stored.new_messages,
            )
            after = after_success(
                before, now, self._interval(ref, now, polled), detail="; ".join(result.warnings)
            )
        except RateLimited as exc:
            after = after_rate_limit(before, now, exc.until)
        except AuthExpired as exc:
            self._connectors.pop(ref.id, None)
            after = after_auth_expired(before, f"Needs reconnect: {exc}")
        except PermissionDenied as exc:
            after = after_permission_denied(before, f"Paused: {exc}")
        except TransientError as exc:
            after = after_transient(before, now, self._rng, str(exc))
        except Exception as exc:  # a bug or a database error: back off, never spin on it
            log.exception("polling account %s failed", ref.id)
            after = after_error(before, now, self._rng, f"{exc.__class__.__name__}: {exc}")
        self._states[ref.id] = after
        changed = (after.state, after.detail) != (before.state, before.detail)
        if changed:
            self._save_state(ref.id, after)
            log.info("account %s is %s (%s)", ref.id, after.state, after.detail or "ok")
        return PollOutcome(
            account_id=ref.id,
            state=after.state,
            detail=after.detail,
            new_messages=outcome_ids[2],
            new_conversation_ids=outcome_ids[0],
            touched_conversation_ids=outcome_ids[1],
            state_changed=changed,
        )

    def _refresh_ahead(self, ref: AccountRef, now: datetime) -> None:
        """Renew a token that expires within five minutes, before the network refuses it.

        A failure here changes nothing: the current token is still tried, and the network's own
        refusal (then one more refresh attempt) decides whether the account needs reconnecting.
        """
        expires = ref.token_expires_at
        if self._refresh is None or expires is None or expires - now >= REFRESH_AHEAD:
            return
        try:
            renewed = self._refresh(ref)
        except (AuthExpired, TransientError) as exc:
            log.info("renewing the token of account %s ahead of expiry failed: %s", ref.id, exc)
            return
        if renewed:
            self._connectors.pop(ref.id, None)  # rebuilt with the new token

    def _interval(self, ref: AccountRef, now: datetime, polled: list[str]) -> float:
        """Seconds until the account's next poll; each polled stream gets its next turn.

        A connector with a ``schedule`` polls each read stream on its own interval
        (``connectors.md`` §5: X direct messages every 120 s beside mentions, Messenger every
        60 s beside the Facebook feed); the account's interval is its main stream's. Where the
        network reports high usage (``next_interval``), every interval stretches.
        """
        connector = self._connectors.get(ref.id)
        adapt = getattr(connector, "next_interval", None)

        def stretch(seconds: float) -> float:
            return float(adapt(seconds)) if callable(adapt) else seconds

        plan = self._schedule(ref, connector)
        if plan is None:
            return stretch(ref.poll_interval_s)
        due = self._stream_due.setdefault(ref.id, {})
        for stream in polled:
            if stream in plan:
                due[stream] = now + timedelta(seconds=stretch(plan[stream]))
        upcoming = [due.get(stream, now) for stream in plan]
        return max(0.0, (min(upcoming) - now).total_seconds())

    def _schedule(self, ref: AccountRef, connector: object) -> dict[str, float] | None:
        schedule = getattr(connector, "schedule", None)
        return dict(schedule(float(ref.poll_interval_s))) if callable(schedule) else None

    def _fetch(self, ref: AccountRef) -> tuple[FetchResult, list[str]]:
        """One fetch of the streams whose turn it is; the result, and which streams they were.

        Without a ``schedule`` the connector polls all its streams at once (none are named).
        """
        connector = self._connectors.get(ref.id)
        if connector is None:
            connector = self._connectors[ref.id] = self._connector_for(ref)
        with self._db.uow() as uow:
            cursor = uow.accounts.cursor(ref.id)
        plan = self._schedule(ref, connector)
        if plan is None:
            return connector.fetch(cursor), []
        now = self._clock()
        due = self._stream_due.get(ref.id, {})
        streams = [s for s in plan if due.get(s, now) <= now] or list(plan)
        fetch: Any = connector.fetch
        return cast(FetchResult, fetch(cursor, streams=streams)), streams

    def _save_state(self, account_id: int, s: PollState) -> None:
        with self._db.uow() as uow:
            uow.accounts.save_poll_state(account_id, s.state, s.detail[:500], s.rate_limited_until)
            uow.commit()
