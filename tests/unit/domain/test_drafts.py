"""The draft state machine: every (state, event) pair against the table, and random walks."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.drafts import (
    APPROVAL_LEAD,
    EDITABLE,
    FINAL,
    TRANSITIONS,
    DraftEvent,
    TransitionError,
    allowed_events,
    can,
    edit_makes_new_version,
    outbox_event,
    transition,
)
from app.domain.enums import DraftState

S, E = DraftState, DraftEvent

# The table as the module's docstring describes it, written out again by hand: any change to the
# machine has to change this too.
EXPECTED: dict[tuple[DraftState, DraftEvent], DraftState] = {
    (S.DRAFT, E.SUBMIT): S.PENDING_APPROVAL,
    (S.DRAFT, E.EDIT): S.DRAFT,
    (S.PENDING_APPROVAL, E.APPROVE): S.APPROVED,
    (S.PENDING_APPROVAL, E.REJECT): S.REJECTED,
    (S.PENDING_APPROVAL, E.REQUEST_CHANGES): S.CHANGES_REQUESTED,
    (S.PENDING_APPROVAL, E.EDIT): S.DRAFT,
    (S.PENDING_APPROVAL, E.WITHDRAW): S.DRAFT,
    (S.PENDING_APPROVAL, E.MISSED_APPROVAL): S.DRAFT,
    (S.APPROVED, E.SCHEDULE): S.SCHEDULED,
    (S.APPROVED, E.START_PUBLISHING): S.PUBLISHING,
    (S.APPROVED, E.EDIT): S.DRAFT,
    (S.APPROVED, E.WITHDRAW): S.DRAFT,
    (S.APPROVED, E.APPROVAL_LAPSED): S.PENDING_APPROVAL,
    (S.SCHEDULED, E.SCHEDULE): S.SCHEDULED,
    (S.SCHEDULED, E.UNSCHEDULE): S.APPROVED,
    (S.SCHEDULED, E.START_PUBLISHING): S.PUBLISHING,
    (S.SCHEDULED, E.EDIT): S.DRAFT,
    (S.SCHEDULED, E.WITHDRAW): S.DRAFT,
    (S.SCHEDULED, E.APPROVAL_LAPSED): S.PENDING_APPROVAL,
    (S.SCHEDULED, E.MISSED_APPROVAL): S.DRAFT,
    (S.PUBLISHING, E.PUBLISHED): S.PUBLISHED,
    (S.PUBLISHING, E.FAILED): S.FAILED,
    (S.REJECTED, E.EDIT): S.DRAFT,
    (S.CHANGES_REQUESTED, E.EDIT): S.DRAFT,
    (S.FAILED, E.RETRY): S.APPROVED,
    (S.FAILED, E.EDIT): S.DRAFT,
}
PAIRS = list(itertools.product(DraftState, DraftEvent))
NOW = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)


def test_every_state_has_a_row() -> None:
    assert set(TRANSITIONS) == set(DraftState)


@pytest.mark.parametrize(("state", "event"), PAIRS, ids=[f"{s.value}-{e.value}" for s, e in PAIRS])
def test_every_pair_of_state_and_event_follows_the_table(
    state: DraftState, event: DraftEvent
) -> None:
    expected = EXPECTED.get((state, event))
    assert can(state, event) == (expected is not None)
    assert (event in allowed_events(state)) == (expected is not None)
    if expected is not None:
        assert transition(state, event) is expected
        assert TRANSITIONS[state][event] is expected
    else:
        with pytest.raises(TransitionError) as caught:
            transition(state, event)
        assert caught.value.state is state
        assert caught.value.event is event
        message = str(caught.value)
        assert state.value.replace("_", " ") in message
        assert f"'{event.value}'" in message


def test_the_table_holds_nothing_more_than_expected() -> None:
    listed = {(s, e): to for s, row in TRANSITIONS.items() for e, to in row.items()}
    assert listed == EXPECTED


def test_the_error_lists_what_is_allowed_instead() -> None:
    with pytest.raises(TransitionError, match=r"allowed from publishing: published, failed"):
        transition(S.PUBLISHING, E.EDIT)
    with pytest.raises(TransitionError, match=r"allowed from published: nothing"):
        transition(S.PUBLISHED, E.RETRY)


def test_plain_strings_are_read_as_the_enums() -> None:
    assert transition("draft", "submit") is S.PENDING_APPROVAL  # type: ignore[arg-type]  # stored values


def test_allowed_events_follow_the_enum_order() -> None:
    assert allowed_events(S.DRAFT) == (E.SUBMIT, E.EDIT)
    assert allowed_events(S.PUBLISHED) == ()
    assert allowed_events(S.PUBLISHING) == (E.PUBLISHED, E.FAILED)


def test_which_states_can_be_edited_and_which_are_final() -> None:
    assert frozenset(S) - EDITABLE == {S.PUBLISHING, S.PUBLISHED}
    assert {S.PUBLISHED} == FINAL
    assert all(transition(s, E.EDIT) is S.DRAFT for s in EDITABLE)


@pytest.mark.parametrize("state", sorted(EDITABLE - {S.DRAFT}))
def test_an_edit_after_submitting_makes_a_new_version(state: DraftState) -> None:
    assert edit_makes_new_version(state, version_decided=False)
    assert edit_makes_new_version(state, version_decided=True)


def test_an_edit_in_draft_makes_a_new_version_only_when_the_version_was_decided() -> None:
    assert not edit_makes_new_version(S.DRAFT, version_decided=False)
    assert edit_makes_new_version(S.DRAFT, version_decided=True)  # withdrawn after an approval


def test_a_version_once_submitted_is_never_rewritten() -> None:
    """Withdrawn before anyone decided: a reviewer may have read it in the queue."""
    assert edit_makes_new_version(S.DRAFT, version_decided=False, version_submitted=True)


@pytest.mark.parametrize("state", [S.PUBLISHING, S.PUBLISHED])
def test_a_draft_on_its_way_out_or_out_cannot_be_edited(state: DraftState) -> None:
    with pytest.raises(TransitionError):
        edit_makes_new_version(state, version_decided=False)


def test_every_event_has_a_label() -> None:
    assert all(e.label and e.label[0].isupper() for e in DraftEvent)


def _reachable(start: DraftState) -> set[DraftState]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in TRANSITIONS[todo.pop()].values():
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_every_state_is_reachable_from_a_new_draft() -> None:
    assert _reachable(S.DRAFT) == set(DraftState)


@pytest.mark.parametrize("state", sorted(set(DraftState) - FINAL))
def test_every_state_but_published_can_still_lead_to_published(state: DraftState) -> None:
    assert S.PUBLISHED in _reachable(state)


def test_only_publishing_leads_to_published() -> None:
    into = {s for s, row in TRANSITIONS.items() if S.PUBLISHED in row.values()}
    assert into == {S.PUBLISHING}
    into_publishing = {s for s, row in TRANSITIONS.items() if S.PUBLISHING in row.values()}
    assert into_publishing == {S.APPROVED, S.SCHEDULED}  # the doors the approval check guards


@given(st.lists(st.sampled_from(list(DraftEvent)), max_size=60))
def test_random_events_only_ever_pass_through_allowed_states(events: list[DraftEvent]) -> None:
    state = S.DRAFT
    path = [state]
    for event in events:
        if (state, event) in EXPECTED:
            state = transition(state, event)
            path.append(state)
        else:
            with pytest.raises(TransitionError):
                transition(state, event)
    for before, after in itertools.pairwise(path):
        assert any(EXPECTED.get((before, e)) is after for e in DraftEvent)
        if after is S.PUBLISHED:
            assert before is S.PUBLISHING
        if after is S.PUBLISHING:
            assert before in (S.APPROVED, S.SCHEDULED)
    if S.PUBLISHED in path:
        assert path.index(S.PUBLISHED) == len(path) - 1  # nothing follows published


# -- the outbox ------------------------------------------------------------------------------


def test_a_pending_draft_not_approved_5_minutes_before_its_time_misses_it() -> None:
    at = NOW + timedelta(minutes=5)
    assert outbox_event(S.PENDING_APPROVAL, approved=False, schedule_at=at, now=NOW) is (
        E.MISSED_APPROVAL
    )
    early = NOW - timedelta(seconds=1)
    assert outbox_event(S.PENDING_APPROVAL, approved=False, schedule_at=at, now=early) is None
    assert outbox_event(S.PENDING_APPROVAL, approved=False, schedule_at=None, now=NOW) is None
    assert transition(S.PENDING_APPROVAL, E.MISSED_APPROVAL) is S.DRAFT  # not published


def test_a_pending_draft_whose_requirement_is_now_met_is_approved() -> None:
    at = NOW + timedelta(hours=1)
    assert outbox_event(S.PENDING_APPROVAL, approved=True, schedule_at=at, now=NOW) is E.APPROVE


def test_an_approved_draft_goes_out_at_once_or_is_scheduled() -> None:
    assert outbox_event(S.APPROVED, approved=True, schedule_at=None, now=NOW) is (
        E.START_PUBLISHING
    )
    later = NOW + timedelta(hours=2)
    assert outbox_event(S.APPROVED, approved=True, schedule_at=later, now=NOW) is E.SCHEDULE
    past = NOW - timedelta(hours=2)  # retried after its time: goes out now
    assert outbox_event(S.APPROVED, approved=True, schedule_at=past, now=NOW) is (
        E.START_PUBLISHING
    )


def test_approvals_that_no_longer_suffice_send_it_back_or_miss_the_time() -> None:
    assert outbox_event(S.APPROVED, approved=False, schedule_at=None, now=NOW) is (
        E.APPROVAL_LAPSED
    )
    far = NOW + timedelta(hours=2)
    assert outbox_event(S.SCHEDULED, approved=False, schedule_at=far, now=NOW) is (
        E.APPROVAL_LAPSED
    )
    near = NOW + APPROVAL_LEAD - timedelta(seconds=1)
    assert outbox_event(S.SCHEDULED, approved=False, schedule_at=near, now=NOW) is (
        E.MISSED_APPROVAL
    )


def test_a_scheduled_draft_starts_when_due_and_not_before() -> None:
    assert outbox_event(S.SCHEDULED, approved=True, schedule_at=NOW, now=NOW) is (
        E.START_PUBLISHING
    )
    soon = NOW + timedelta(minutes=1)
    assert outbox_event(S.SCHEDULED, approved=True, schedule_at=soon, now=NOW) is None


def test_the_outbox_refuses_a_time_without_a_zone() -> None:
    with pytest.raises(ValueError, match="time zone"):
        outbox_event(S.APPROVED, approved=True, schedule_at=None, now=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="schedule_at"):
        outbox_event(S.APPROVED, approved=True, schedule_at=datetime(2025, 1, 1), now=NOW)


@given(
    st.sampled_from(list(DraftState)),
    st.booleans(),
    st.one_of(st.none(), st.integers(-120, 120).map(lambda m: NOW + timedelta(minutes=m))),
)
def test_the_outbox_only_ever_fires_an_allowed_event(
    state: DraftState, approved: bool, schedule_at: datetime | None
) -> None:
    event = outbox_event(state, approved=approved, schedule_at=schedule_at, now=NOW)
    if event is not None:
        assert can(state, event)
        if event is E.START_PUBLISHING:
            assert approved  # never publishes what the approval check refuses
    if state in (S.PUBLISHING, S.PUBLISHED, S.DRAFT, S.REJECTED, S.FAILED):
        assert event is None
