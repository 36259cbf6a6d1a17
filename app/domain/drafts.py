"""The draft state machine: one table of allowed transitions, and the outbox's next step.

A draft goes ``draft → pending_approval → approved → scheduled → publishing → published``, or
ends up ``rejected``, ``changes_requested`` or ``failed`` on the way. :data:`TRANSITIONS` is the
whole machine (state → event → next state); :func:`transition` is the only way through it and
raises :class:`TransitionError` for anything the table does not list. A UI reads
:func:`allowed_events` to offer only what may happen next.

Who fires which event (the service checks who may; the machine only knows what may follow):

- the author: ``submit``, ``edit``, ``withdraw``, ``schedule``, ``unschedule``, ``retry``;
- the approval engine (:mod:`app.domain.approval`), after a decision or on submit:
  ``approve`` (the requirement is met), ``reject``, ``request_changes``;
- the outbox (:func:`outbox_event`): ``schedule``, ``start_publishing``, ``approval_lapsed``,
  ``missed_approval``; the publisher: ``published``, ``failed``.

Decisions written down here:

- **Submitting** always goes to ``pending_approval``; the service then runs the approval engine
  and fires ``approve`` at once when the requirement is already met (no rule asks for an
  approval, or the version kept its approvals through a withdrawal).
- **Editing** is allowed in ``draft``, ``pending_approval``, ``approved``, ``scheduled``,
  ``rejected``, ``changes_requested`` and ``failed`` (:data:`EDITABLE`), and always leads to
  ``draft``: an edited draft is submitted again. Not while ``publishing`` (it is on its way to
  the network) nor once ``published`` (it is out; a correction is a new draft). An edit makes a
  new version, which voids every approval (approvals count only for the version they were given
  for), except a never-decided version edited in ``draft``, which is rewritten in place
  (:func:`edit_makes_new_version`). Editing a ``failed`` draft that reached some of its accounts
  changes the text only for the accounts still to publish; the publisher resends nothing that is
  published already.
- **Withdrawing** (the author takes the draft back) returns ``pending_approval``, ``approved``
  and ``scheduled`` to ``draft`` without a new version: approvals already given for that version
  stay valid, so resubmitting it unchanged needs no one to approve it twice. There is no
  ``cancelled`` state; a draft nobody wants is deleted by the service.
- **Rejected and changes requested** only lead on through an edit (a new version); the same
  version is never resubmitted.
- **Approval is checked again before publishing**, against the rules in force then. A draft in
  ``approved`` or ``scheduled`` whose approvals no longer meet the current requirement goes back
  to ``pending_approval`` (``approval_lapsed``), keeping its schedule time.
- **Missed approval**: a scheduled draft that is not approved :data:`APPROVAL_LEAD` (5 minutes)
  before its time is not published. ``missed_approval`` takes it from ``pending_approval`` (or
  from ``scheduled``, when its approvals lapsed that late) back to ``draft``, same version, with
  its approvals kept; the service records why in ``failure_reason`` and tells the author, who
  picks a new time and submits again. It is not ``failed``: nothing was sent.
- **Scheduling** gives an ``approved`` draft a time; ``schedule`` on a ``scheduled`` draft moves
  the time (the time is not part of the approved content, so approvals stay); ``unschedule``
  returns it to ``approved``. An ``approved`` draft without a time goes out at once.
- **Retry** puts a ``failed`` draft back into the outbox as ``approved``, so the only way into
  ``publishing`` is ``start_publishing`` from ``approved`` or ``scheduled``, the one place where
  the service re-runs the approval check. ``published`` is reached only from ``publishing``, and
  nothing follows it. Transient errors are retried by the publisher while ``publishing``; a draft
  found in ``publishing`` at start-up is reconciled against the network into ``published`` or
  ``failed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from app.domain.enums import DraftState


class DraftEvent(StrEnum):
    """Something that happens to a draft."""

    SUBMIT = "submit"
    APPROVE = "approve"  # enough approvals reached
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"
    EDIT = "edit"
    WITHDRAW = "withdraw"
    SCHEDULE = "schedule"
    UNSCHEDULE = "unschedule"
    APPROVAL_LAPSED = "approval_lapsed"  # the current rules need approvals it does not have
    MISSED_APPROVAL = "missed_approval"  # not approved 5 minutes before its scheduled time
    START_PUBLISHING = "start_publishing"
    PUBLISHED = "published"
    FAILED = "failed"
    RETRY = "retry"

    @property
    def label(self) -> str:
        """How the event reads as a button or in a history ("Request changes")."""
        return _EVENT_LABELS[self]


_EVENT_LABELS: dict[DraftEvent, str] = {
    DraftEvent.SUBMIT: "Submit for approval",
    DraftEvent.APPROVE: "Approve",
    DraftEvent.REJECT: "Reject",
    DraftEvent.REQUEST_CHANGES: "Request changes",
    DraftEvent.EDIT: "Edit",
    DraftEvent.WITHDRAW: "Withdraw",
    DraftEvent.SCHEDULE: "Schedule",
    DraftEvent.UNSCHEDULE: "Unschedule",
    DraftEvent.APPROVAL_LAPSED: "Approval no longer enough",
    DraftEvent.MISSED_APPROVAL: "Not approved in time",
    DraftEvent.START_PUBLISHING: "Publish",
    DraftEvent.PUBLISHED: "Published",
    DraftEvent.FAILED: "Publishing failed",
    DraftEvent.RETRY: "Retry",
}

#: How a state reads in a sentence ("a draft that is pending approval").
STATE_LABELS: Mapping[DraftState, str] = MappingProxyType(
    {s: s.value.replace("_", " ") for s in DraftState}
)

_S = DraftState
_E = DraftEvent

#: The whole machine: from each state, the events allowed and the state each leads to.
TRANSITIONS: Mapping[DraftState, Mapping[DraftEvent, DraftState]] = MappingProxyType(
    {
        _S.DRAFT: MappingProxyType({_E.SUBMIT: _S.PENDING_APPROVAL, _E.EDIT: _S.DRAFT}),
        _S.PENDING_APPROVAL: MappingProxyType(
            {
                _E.APPROVE: _S.APPROVED,
                _E.REJECT: _S.REJECTED,
                _E.REQUEST_CHANGES: _S.CHANGES_REQUESTED,
                _E.EDIT: _S.DRAFT,
                _E.WITHDRAW: _S.DRAFT,
                _E.MISSED_APPROVAL: _S.DRAFT,
            }
        ),
        _S.APPROVED: MappingProxyType(
            {
                _E.SCHEDULE: _S.SCHEDULED,
                _E.START_PUBLISHING: _S.PUBLISHING,
                _E.EDIT: _S.DRAFT,
                _E.WITHDRAW: _S.DRAFT,
                _E.APPROVAL_LAPSED: _S.PENDING_APPROVAL,
            }
        ),
        _S.SCHEDULED: MappingProxyType(
            {
                _E.SCHEDULE: _S.SCHEDULED,
                _E.UNSCHEDULE: _S.APPROVED,
                _E.START_PUBLISHING: _S.PUBLISHING,
                _E.EDIT: _S.DRAFT,
                _E.WITHDRAW: _S.DRAFT,
                _E.APPROVAL_LAPSED: _S.PENDING_APPROVAL,
                _E.MISSED_APPROVAL: _S.DRAFT,
            }
        ),
        _S.PUBLISHING: MappingProxyType({_E.PUBLISHED: _S.PUBLISHED, _E.FAILED: _S.FAILED}),
        _S.PUBLISHED: MappingProxyType({}),
        _S.REJECTED: MappingProxyType({_E.EDIT: _S.DRAFT}),
        _S.CHANGES_REQUESTED: MappingProxyType({_E.EDIT: _S.DRAFT}),
        _S.FAILED: MappingProxyType({_E.RETRY: _S.APPROVED, _E.EDIT: _S.DRAFT}),
    }
)

#: States in which the author may change the text (each edit leads back to ``draft``).
EDITABLE: frozenset[DraftState] = frozenset(s for s, ev in TRANSITIONS.items() if _E.EDIT in ev)

#: States after which nothing can happen.
FINAL: frozenset[DraftState] = frozenset(s for s, ev in TRANSITIONS.items() if not ev)

#: A scheduled draft must be approved this long before its time, or it is not published.
APPROVAL_LEAD = timedelta(minutes=5)


class TransitionError(ValueError):
    """An event the table does not allow from a state; the message names both."""

    def __init__(self, state: DraftState, event: DraftEvent) -> None:
        allowed = ", ".join(e.value for e in TRANSITIONS[state]) or "nothing"
        super().__init__(
            f"A draft that is {STATE_LABELS[state]} cannot take '{event.value}' "
            f"(allowed from {state.value}: {allowed})."
        )
        self.state = state
        self.event = event


def transition(state: DraftState, event: DraftEvent) -> DraftState:
    """The state ``event`` leads to from ``state``.

    Args:
        state: Where the draft is.
        event: What happens to it.

    Returns:
        The next state (the same one for a self-loop such as editing a draft).

    Raises:
        TransitionError: ``event`` is not allowed from ``state``.
    """
    try:
        return TRANSITIONS[DraftState(state)][DraftEvent(event)]
    except KeyError:
        raise TransitionError(DraftState(state), DraftEvent(event)) from None


def allowed_events(state: DraftState) -> tuple[DraftEvent, ...]:
    """The events allowed from ``state``, in the enum's order (for a UI to offer)."""
    table = TRANSITIONS[DraftState(state)]
    return tuple(e for e in DraftEvent if e in table)


def can(state: DraftState, event: DraftEvent) -> bool:
    """Whether ``event`` is allowed from ``state``."""
    return DraftEvent(event) in TRANSITIONS[DraftState(state)]


def edit_makes_new_version(
    state: DraftState, *, version_decided: bool, version_submitted: bool = False
) -> bool:
    """Whether an edit in ``state`` makes a new version (voiding the approvals of the old one).

    Only a version still being written is rewritten in place: never one anybody decided, nor
    one that was ever submitted (a reviewer may have read it: approving "version 1" must mean
    the text they read).

    Args:
        state: Where the draft is when it is edited.
        version_decided: Whether anyone approved, rejected or asked changes for the current
            version (a withdrawn or missed draft is back in ``draft`` with its decisions).
        version_submitted: Whether the current version was ever submitted.

    Raises:
        TransitionError: ``state`` cannot be edited.
    """
    transition(state, DraftEvent.EDIT)
    return DraftState(state) is not DraftState.DRAFT or version_decided or version_submitted


def outbox_event(
    state: DraftState, *, approved: bool, schedule_at: datetime | None, now: datetime
) -> DraftEvent | None:
    """What the outbox does with a draft at ``now``, or ``None`` when nothing is due.

    Args:
        state: Where the draft is.
        approved: Whether the approval engine, run with the rules in force now, says the
            draft's current version is approved.
        schedule_at: When it should go out (``None``: as soon as it is approved).
        now: The current time.

    Returns:
        ``approve`` for a pending draft whose requirement is now met; ``missed_approval`` for a
        pending (or lapsed scheduled) draft within
        :data:`APPROVAL_LEAD` of its time; ``approval_lapsed`` for an approved or scheduled draft
        whose approvals no longer suffice; ``schedule`` for an approved draft with a future time;
        ``start_publishing`` for an approved draft without a time or a scheduled one that is due.

    Raises:
        ValueError: ``now`` or ``schedule_at`` has no time zone.
    """
    _check_aware(now, "now")
    if schedule_at is not None:
        _check_aware(schedule_at, "schedule_at")
    deadline_passed = schedule_at is not None and now >= schedule_at - APPROVAL_LEAD
    state = DraftState(state)
    if state is DraftState.PENDING_APPROVAL:
        if approved:  # met since (say, the rules were relaxed): on its way
            return DraftEvent.APPROVE
        return DraftEvent.MISSED_APPROVAL if deadline_passed else None
    if state is DraftState.APPROVED:
        if not approved:
            return DraftEvent.APPROVAL_LAPSED
        if schedule_at is not None and now < schedule_at:
            return DraftEvent.SCHEDULE
        return DraftEvent.START_PUBLISHING
    if state is DraftState.SCHEDULED:
        if not approved:
            return DraftEvent.MISSED_APPROVAL if deadline_passed else DraftEvent.APPROVAL_LAPSED
        if schedule_at is None or now >= schedule_at:
            return DraftEvent.START_PUBLISHING
    return None


def _check_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone (UTC), got {value.isoformat()}")
