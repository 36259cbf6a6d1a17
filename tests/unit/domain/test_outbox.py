"""The outbox's pure rules: backoff, abandoned claims, how a publishing draft ends."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.domain.enums import DraftState, DraftTargetState
from app.domain.outbox import (
    FIRST_BACKOFF,
    LEASE,
    MAX_BACKOFF,
    Claim,
    backoff,
    claim_abandoned,
    claim_token,
    draft_outcome,
)

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


@given(st.integers(min_value=1, max_value=10_000), st.integers())
def test_backoff_grows_from_thirty_seconds_to_at_most_thirty_minutes(
    attempt: int, seed: int
) -> None:
    wait = backoff(attempt, random.Random(seed))
    base = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** min(attempt - 1, 16))
    assert base <= wait <= base * 1.2
    assert wait <= MAX_BACKOFF * 1.2


def test_backoff_doubles() -> None:
    rng = random.Random(1)
    waits = [backoff(n, random.Random(0)) for n in (1, 2, 3)]
    assert waits[1] == waits[0] * 2
    assert waits[2] == waits[0] * 4
    assert backoff(1, rng) >= timedelta(seconds=30)


@given(
    st.text(min_size=1).filter(lambda h: "/" not in h),
    st.integers(min_value=1, max_value=2**22),
    st.text(alphabet="0123456789abcdef", min_size=1, max_size=12),
)
def test_a_claim_reads_back_as_written(host: str, pid: int, token: str) -> None:
    assert Claim.parse(claim_token(host, pid, token)) == Claim(host, pid, token)


@given(st.text())
def test_any_text_parses_as_a_claim_without_error(text: str) -> None:
    claim = Claim.parse(text)
    assert claim.pid is None or claim.pid >= 0


def test_a_claim_of_a_dead_process_on_this_host_is_abandoned_at_once() -> None:
    claim = claim_token("here", 4242, "t")
    assert claim_abandoned(claim, NOW, NOW, host="here", alive=lambda pid: pid != 4242)
    assert not claim_abandoned(claim, NOW, NOW, host="here", alive=lambda pid: True)


def test_a_claim_from_another_host_holds_for_the_lease() -> None:
    claim = claim_token("elsewhere", 4242, "t")
    dead = {4242}
    assert not claim_abandoned(
        claim, NOW, NOW + LEASE / 2, host="here", alive=lambda p: p not in dead
    )
    assert claim_abandoned(claim, NOW, NOW + LEASE, host="here", alive=lambda p: True)


def test_no_claim_or_no_time_is_abandoned() -> None:
    assert claim_abandoned(None, None, NOW, host="here", alive=lambda p: True)
    assert claim_abandoned("here/1/t", None, NOW, host="here", alive=lambda p: True)
    assert not claim_abandoned("damaged", NOW, NOW, host="here", alive=lambda p: False)


_STATES = st.lists(st.sampled_from([s.value for s in DraftTargetState]), max_size=6)


@given(_STATES)
def test_a_draft_ends_only_when_no_target_is_on_its_way(states: list[str]) -> None:
    outcome = draft_outcome(states)
    on_the_way = {"pending", "publishing"}
    if not states or on_the_way & set(states):
        assert outcome is DraftState.PUBLISHING
    elif set(states) == {"published"}:
        assert outcome is DraftState.PUBLISHED
    else:
        assert outcome is DraftState.FAILED
        assert "failed" in states
