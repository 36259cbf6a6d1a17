"""The polling rules: backoff bounds, offline after repeated failures, rate limits, dead tokens."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.domain.polling import (
    BACKOFF_CAP_S,
    OFFLINE_AFTER,
    PollState,
    after_auth_expired,
    after_error,
    after_permission_denied,
    after_rate_limit,
    after_success,
    after_transient,
    backoff,
)

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


@given(st.integers(min_value=0, max_value=10_000), st.integers())
def test_backoff_is_jittered_and_capped(attempt: int, seed: int) -> None:
    wait = backoff(attempt, random.Random(seed))
    assert 0 <= wait <= min(BACKOFF_CAP_S, 5 * 2 ** min(attempt, 30))


def test_offline_only_after_repeated_failures_and_back_on_success() -> None:
    rng = random.Random(1)
    s = PollState()
    for n in range(1, OFFLINE_AFTER + 2):
        s = after_transient(s, NOW, rng, "connection refused")
        assert s.failures == n
        assert s.state == ("offline" if n >= OFFLINE_AFTER else "connected")
        assert s.polls  # it keeps trying by itself
        assert s.next_at is not None
        assert s.next_at >= NOW
    s = after_success(s, NOW, 90)
    assert (s.state, s.failures, s.next_at) == ("connected", 0, NOW + timedelta(seconds=90))


def test_a_rate_limit_waits_until_the_reset_and_never_kills_the_token() -> None:
    until = NOW + timedelta(minutes=7)
    s = after_rate_limit(PollState(), NOW, until)
    assert (s.state, s.next_at, s.rate_limited_until) == ("rate_limited", until, until)
    assert not s.due(NOW + timedelta(minutes=6))
    assert s.due(until)


def test_expired_tokens_and_missing_permissions_stop_polling() -> None:
    assert not after_auth_expired(PollState(), "token revoked").polls
    assert after_auth_expired(PollState(), "token revoked").state == "needs_reconnect"
    denied = after_permission_denied(PollState(), "plan lacks DMs")
    assert (denied.state, denied.polls) == ("paused", False)


@given(st.lists(st.sampled_from(["ok", "transient", "limit"]), max_size=30), st.integers())
def test_only_the_invalid_token_answer_ends_polling(events: list[str], seed: int) -> None:
    rng = random.Random(seed)
    s = PollState()
    for e in events:
        if e == "ok":
            s = after_success(s, NOW, 60)
        elif e == "transient":
            s = after_transient(s, NOW, rng, "timeout")
        else:
            s = after_rate_limit(s, NOW, NOW + timedelta(seconds=30))
        assert s.polls
        assert s.state != "needs_reconnect"


def test_an_internal_error_backs_off_without_claiming_offline() -> None:
    rng = random.Random(5)
    s = PollState()
    waits = []
    for _ in range(6):
        s = after_error(s, NOW, rng, "OperationalError: disk I/O error")
        assert s.state == "connected"
        assert "disk I/O error" in s.detail
        assert s.next_at is not None
        assert s.next_at >= NOW
        waits.append((s.next_at - NOW).total_seconds())
    assert s.failures == 6
    assert max(waits) <= 900
    assert after_success(s, NOW, 60).failures == 0
