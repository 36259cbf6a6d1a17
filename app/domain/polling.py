"""When to poll an account next, and what its state becomes after a poll: pure rules."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from app.domain.enums import AccountState, Network

OFFLINE_AFTER = 3  # consecutive connection failures before an account shows "offline"
# How often an account's main stream may be polled at most (connectors.md §5 floors): a shorter
# interval only spends the plan's rate limit. Unknown networks get the strictest floor.
POLL_FLOORS_S: dict[str, int] = {Network.X: 15, Network.FACEBOOK: 60, Network.SANDBOX: 5}
MAX_POLL_INTERVAL_S = 3600
BACKOFF_BASE_S = 5.0
BACKOFF_CAP_S = 900.0


def poll_floor_s(network: str) -> int:
    """The shortest interval, in seconds, at which an account of ``network`` may be polled."""
    return POLL_FLOORS_S.get(network, max(POLL_FLOORS_S.values()))


class Uniform(Protocol):
    """A source of uniform random numbers: ``random.Random``, or the ``random`` module."""

    def uniform(self, a: float, b: float) -> float: ...


def backoff(
    attempt: int, rng: Uniform, base: float = BACKOFF_BASE_S, cap: float = BACKOFF_CAP_S
) -> float:
    """Full-jitter exponential backoff in seconds (``attempt`` 0 is the first retry)."""
    return rng.uniform(0, min(cap, base * 2 ** min(attempt, 30)))


@dataclass(frozen=True)
class PollState:
    """What the scheduler remembers of one account between polls."""

    state: str = AccountState.CONNECTED  # an AccountState (or the stored string of one)
    detail: str = ""
    failures: int = 0
    next_at: datetime | None = None  # None: due now
    rate_limited_until: datetime | None = None

    @property
    def polls(self) -> bool:
        """Whether the scheduler polls the account at all."""
        return self.state in (
            AccountState.CONNECTED,
            AccountState.RATE_LIMITED,
            AccountState.OFFLINE,
        )

    def due(self, now: datetime) -> bool:
        return self.polls and (self.next_at is None or self.next_at <= now)


def after_success(s: PollState, now: datetime, interval_s: float, detail: str = "") -> PollState:
    """A poll went through; ``detail`` tells what it skipped (a stream the plan lacks)."""
    return PollState(
        AccountState.CONNECTED, detail[:300], 0, now + timedelta(seconds=interval_s), None
    )


def after_rate_limit(s: PollState, now: datetime, until: datetime) -> PollState:
    until = max(until, now)
    return replace(
        s,
        state=AccountState.RATE_LIMITED,
        detail=f"rate limited until {until:%H:%M}",
        next_at=until,
        rate_limited_until=until,
    )


def after_transient(s: PollState, now: datetime, rng: random.Random, reason: str) -> PollState:
    failures = s.failures + 1
    wait = backoff(failures - 1, rng)
    state = AccountState.OFFLINE if failures >= OFFLINE_AFTER else s.state
    if state == AccountState.RATE_LIMITED:
        state = AccountState.CONNECTED
    detail = f"offline: {reason}" if state == AccountState.OFFLINE else f"retrying: {reason}"
    return PollState(state, detail, failures, now + timedelta(seconds=wait), None)


def after_error(s: PollState, now: datetime, rng: Uniform, reason: str) -> PollState:
    """Something other than the network failed (a bug, the disk): retry later, with backoff.

    The account keeps its state (it is not the network's fault, so never ``offline``).
    """
    failures = s.failures + 1
    wait = backoff(failures - 1, rng, base=30.0)
    return replace(
        s,
        detail=f"retrying after an error: {reason}"[:300],
        failures=failures,
        next_at=now + timedelta(seconds=wait),
    )


def after_auth_expired(s: PollState, reason: str) -> PollState:
    return PollState(AccountState.NEEDS_RECONNECT, reason, s.failures, None, None)


def after_permission_denied(s: PollState, reason: str) -> PollState:
    return PollState(AccountState.PAUSED, reason, s.failures, None, None)
