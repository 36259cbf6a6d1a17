"""What every drafts use case shares: refusals, who may, the state machine's steps, audit.

A draft is read locked, moved by compare-and-set on the state read, and taken as far as the
outbox would take it short of publishing; each change writes one audit entry naming the
draft's unit (so it shows in that unit's audit log).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from app.domain.approval import holds_role
from app.domain.drafts import (
    APPROVAL_LEAD,
    DraftEvent,
    TransitionError,
    can,
    outbox_event,
    transition,
)
from app.domain.enums import DraftKind, DraftState, Role
from app.domain.permissions import Action, Actor, Place, deactivated
from app.services.access import NOBODY, NotAllowed, require_in
from app.services.auditing import record_change
from app.storage.draft_records import KEEP, DraftRecord, Keep
from app.storage.ports import StorageUnitOfWork

if TYPE_CHECKING:
    from app.services.draft_checks import TargetFindings

MAX_FAILURE_REASON = 1_000  # drafts.failure_reason
MAX_TEXT = 100_000
_FROZEN = (DraftState.PUBLISHING, DraftState.PUBLISHED)


class DraftError(ValueError):
    """The draft cannot be changed as asked (no such draft, empty text, wrong state…); says why."""


class PolicyBlocked(DraftError):  # noqa: N818 - reads as what happened
    """The policy does not let the draft go out; :attr:`findings` has every finding per target."""

    def __init__(self, blocks: Sequence[str], findings: tuple[TargetFindings, ...]) -> None:
        super().__init__(
            "The policy does not let this draft go out: " + "; ".join(blocks).rstrip(".") + "."
        )
        self.blocks = tuple(blocks)
        self.findings = findings


def when(at: datetime) -> str:
    """A time as messages write it: "2026-11-23 12:00 UTC"."""
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def load(uow: StorageUnitOfWork, draft_id: int, *, lock: bool = True) -> DraftRecord:
    """The draft, locked for the rest of the unit of work unless ``lock`` is false.

    Raises:
        DraftError: there is no such draft.
    """
    draft = uow.drafts.get(draft_id, lock=lock)
    if draft is None:
        raise DraftError("That draft does not exist (any more).")
    return draft


def move(
    uow: StorageUnitOfWork,
    draft: DraftRecord,
    state: DraftState,
    at: datetime,
    *,
    schedule_at: datetime | Keep | None = KEEP,
    failure_reason: str | None = None,
) -> None:
    """Store the draft's new state (a compare-and-set on the state it was read in).

    Raises:
        DraftError: it is no longer in the state read.
    """
    if not uow.drafts.set_state(
        draft.id,
        expected=draft.state,
        state=state.value,
        at=at,
        schedule_at=schedule_at,
        failure_reason=failure_reason,
    ):
        raise DraftError("Someone changed this draft meanwhile: look again.")


def step(state: DraftState, event: DraftEvent) -> DraftState:
    """:func:`app.domain.drafts.transition`, its refusal as a :class:`DraftError`."""
    try:
        return transition(state, event)
    except TransitionError as e:
        raise DraftError(str(e)) from e


def walk(state: DraftState, events: Sequence[DraftEvent]) -> DraftState:
    """Where ``events`` lead from ``state``, one :func:`step` at a time."""
    for event in events:
        state = step(state, event)
    return state


def settle(
    state: DraftState, approved: bool, schedule_at: datetime | None, now: datetime
) -> list[DraftEvent]:
    """The outbox's steps from ``state`` short of publishing (approve, schedule, lapse, miss).

    :func:`app.domain.drafts.outbox_event` again and again, until it says nothing is due or
    that publishing may start (the publisher's step).
    """
    events: list[DraftEvent] = []
    for _ in range(4):  # at most approve then schedule, or lapse then miss
        event = outbox_event(state, approved=approved, schedule_at=schedule_at, now=now)
        if event is None or event is DraftEvent.START_PUBLISHING or not can(state, event):
            break
        events.append(event)
        state = transition(state, event)
    return events


def missed_reason(draft: DraftRecord) -> str:
    """Why a draft not approved in time went back to ``draft`` (its ``failure_reason``)."""
    at = when(draft.schedule_at) if draft.schedule_at is not None else "its time"
    return clip(
        f"Not approved {minutes(APPROVAL_LEAD)} before {at}, so it was not published: "
        "pick a new time and submit it again."
    )


def minutes(span: timedelta) -> str:
    n = int(span.total_seconds() // 60)
    return f"{n} minute{'' if n == 1 else 's'}"


def clip(text: str) -> str:
    """``text`` cut to what ``drafts.failure_reason`` holds."""
    return text if len(text) <= MAX_FAILURE_REASON else text[: MAX_FAILURE_REASON - 1] + "…"


# -- who may ---------------------------------------------------------------------------------


def author(uow: StorageUnitOfWork, operator: int, draft: DraftRecord, doing: str) -> Actor:
    """The operator, when they wrote the draft and may still work in its unit.

    Raises:
        NotAllowed: someone else wrote it, or the author may no longer work there.
    """
    actor = require_in(
        uow, operator, Action.WORK_CONVERSATIONS, draft.unit_id, doing="write drafts for it"
    )
    if operator != draft.author_id:
        raise NotAllowed(f"Only {draft.author_name}, who wrote this draft, can {doing}.")
    return actor


def author_or_admin(uow: StorageUnitOfWork, operator: int, draft: DraftRecord, doing: str) -> Actor:
    """The operator, when they wrote the draft or administer its unit.

    The author must still be able to work in the unit; an administrator must be active and
    hold the role in the draft's unit or a unit above.

    Raises:
        NotAllowed: neither, naming both.
    """
    actor = uow.directory.actor(operator)
    if actor is None:
        raise NotAllowed(NOBODY)
    place = Place(draft.unit_path, draft.unit_name)
    if actor.active and holds_role(actor, Role.ADMIN, place):
        return actor
    if operator == draft.author_id:
        return require_in(
            uow,
            operator,
            Action.WORK_CONVERSATIONS,
            draft.unit_id,
            doing="write drafts for it",
        )
    if not actor.active:
        raise NotAllowed(deactivated(actor.name))
    raise NotAllowed(
        f"Only {draft.author_name}, who wrote this draft, or an administrator of "
        f"{draft.unit_name} can {doing}."
    )


def not_frozen(state: DraftState, done: str) -> None:
    """Refuse to touch a draft that is publishing or published.

    Raises:
        DraftError: it is.
    """
    if state in _FROZEN:
        raise DraftError(
            f"A draft that is {state.value.replace('_', ' ')} cannot be {done}: "
            "it is on its way out or out already."
        )


def audit(
    uow: StorageUnitOfWork,
    actor: Actor,
    at: datetime,
    action: str,
    draft_id: int,
    unit_id: int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """The audit entry; ``unit_id`` in it puts it in the unit's audit log."""
    record_change(
        uow,
        at=at,
        person_id=actor.person_id,
        person_name=actor.name,
        action=action,
        entity="draft",
        entity_id=draft_id,
        before=None if before is None else {"unit_id": unit_id, **before},
        after=None if after is None else {"unit_id": unit_id, **after},
    )


# -- the arguments ---------------------------------------------------------------------------


def kind_of(kind: str) -> DraftKind:
    try:
        return DraftKind(kind)
    except ValueError:
        kinds = ", ".join(k.value for k in DraftKind)
        raise DraftError(f"A draft is one of {kinds}, not {kind!r}.") from None


def checked_text(text: str) -> str:
    if len(text) > MAX_TEXT:
        raise DraftError(f"The text is longer than {MAX_TEXT:,} characters.")
    return text


def future(at: datetime, now: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise DraftError(f"A time needs its time zone (UTC), not {at.isoformat()}.")
    if at <= now:
        raise DraftError(f"{when(at)} has passed: pick a time in the future.")


def iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None
