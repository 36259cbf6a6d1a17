"""The Publishing screen's read side: the outbox queue and the calendar, per operator.

Decisions:

- **Who sees what.** A person sees the outbox drafts of the units they may work in (an agent,
  supervisor or administrator there or above, :data:`app.domain.permissions.GRANTS`); someone
  who may work in no unit is refused with :class:`NotAllowed`, naming what is missing.
- **The queue** lists approved, scheduled, publishing and failed drafts, and those published in
  the last :data:`RECENT` (two days), by due time: the schedule time, or for a draft without one
  the time of its last change (when it was approved, published, failed). Keyset-paged on
  :attr:`OutboxRow.key`.
- **The calendar** shows the posts with a time in a range (waiting for approval, scheduled,
  published or failed at their time) and those sent without a time when they went out, for a
  week or a month (:mod:`app.storage.outbox_views`).
- **Each target has its own outcome.** A draft to several accounts may publish on some and fail
  on others: :attr:`OutboxRow.targets` says, per account, published (with the network's id and
  permalink), failed (with the network's own message, untrusted text for plain display only) or
  still to go.

Changing a draft (retry, unschedule, withdraw, move) is
:class:`app.services.drafts.DraftsService`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.drafts import STATE_LABELS, DraftEvent, can
from app.domain.enums import DraftKind, DraftState, DraftTargetState, Role
from app.domain.permissions import GRANTS, Action, Actor
from app.models.base import utcnow
from app.services.access import NotAllowed, require_anywhere_in
from app.storage.outbox_records import OutboxRecord
from app.storage.ports import Storage, StorageUnitOfWork

__all__ = ["RECENT", "NotAllowed", "OutboxRow", "PublishingService", "TargetOutcome"]

#: How long a published draft stays in the queue.
RECENT = timedelta(days=2)
#: The longest range a calendar reads (a month view shows six weeks).
MAX_RANGE = timedelta(days=62)
_WORKING_ROLES = tuple(r for r in Role if Action.WORK_CONVERSATIONS in GRANTS[r])


@dataclass(frozen=True, slots=True)
class TargetOutcome:
    """One account a draft goes out to, and what happened there."""

    account_id: int
    account: str  # "@acme", the Page's name
    network: str
    state: DraftTargetState
    external_id: str | None  # the network's id, once published
    permalink: str | None  # the published item's address, when the network gave one
    published_at: datetime | None
    error: str  # the network's own message when it failed (untrusted: plain text only)
    needs_person: bool = False  # the network could not tell whether it went out: say so
    next_attempt_at: datetime | None = None  # when the outbox tries it again

    @property
    def text(self) -> str:
        """How the outcome reads: "@acme: published (id 123)", "Acme Page: failed: …"."""
        if self.state is DraftTargetState.PUBLISHED:
            return f"{self.account}: published" + (
                f" (id {self.external_id})" if self.external_id else ""
            )
        if self.state is DraftTargetState.FAILED:
            return f"{self.account}: failed: {self.error or 'no reason given'}"
        if self.needs_person:
            return f"{self.account}: needs you: {self.error}"
        if self.state is DraftTargetState.PUBLISHING:
            return f"{self.account}: being published" + (f" ({self.error})" if self.error else "")
        if self.error:  # a retry: why the last try did not go out
            return f"{self.account}: not sent yet: {self.error}"
        return f"{self.account}: not sent yet"


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A draft in the outbox or on the calendar, with each target's outcome."""

    draft_id: int
    kind: DraftKind
    state: DraftState
    unit_id: int
    unit_name: str
    author_id: int
    author_name: str
    version: int
    text: str
    schedule_at: datetime | None
    updated_at: datetime
    due: datetime  # the schedule time, or when it last changed (approved, published, failed)
    failure_reason: str
    conversation_id: int | None
    targets: tuple[TargetOutcome, ...]

    @property
    def key(self) -> tuple[datetime, int]:
        """Pass the last row's key as ``after`` for the queue's next page."""
        return (self.due, self.draft_id)

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def accounts(self) -> tuple[str, ...]:
        return tuple(t.account for t in self.targets)

    @property
    def published_on(self) -> tuple[TargetOutcome, ...]:
        return tuple(t for t in self.targets if t.state is DraftTargetState.PUBLISHED)

    @property
    def failed_on(self) -> tuple[TargetOutcome, ...]:
        return tuple(t for t in self.targets if t.state is DraftTargetState.FAILED)

    @property
    def outcome(self) -> str:
        """The draft's state and its targets' outcomes in one sentence."""
        n, done, failed = len(self.targets), len(self.published_on), len(self.failed_on)
        if self.state is DraftState.PUBLISHED:
            return f"Published on {done} of {n} account{'' if n == 1 else 's'}."
        if self.state is DraftState.FAILED:
            parts = [f"Failed on {failed} of {n}"]
            if done:
                parts.append(f"published on {done}")
            reason = f": {self.failure_reason}" if self.failure_reason else ""
            return ", ".join(parts) + reason + "."
        if self.state is DraftState.PUBLISHING:
            return f"Being published ({done} of {n} done)."
        if self.state is DraftState.SCHEDULED:
            return "Scheduled; approved."
        if self.state is DraftState.APPROVED:
            return "Approved; goes out when the outbox next runs."
        if self.state is DraftState.PENDING_APPROVAL:
            return "Waiting for approval."
        return self.state_label.capitalize() + "."

    # What the screen offers; the service checks again when asked.
    @property
    def may_retry(self) -> bool:
        return can(self.state, DraftEvent.RETRY)

    @property
    def waiting_for_a_person(self) -> TargetOutcome | None:
        """The first account whose network could not tell whether it went out."""
        return next((t for t in self.targets if t.needs_person), None)

    @property
    def may_unschedule(self) -> bool:
        return self.schedule_at is not None and self.state not in (
            DraftState.PUBLISHING,
            DraftState.PUBLISHED,
        )

    @property
    def may_withdraw(self) -> bool:
        return can(self.state, DraftEvent.WITHDRAW)

    @property
    def may_move(self) -> bool:
        """A time can be given or changed (not once it is on its way out)."""
        return self.state in (
            DraftState.PENDING_APPROVAL,
            DraftState.APPROVED,
            DraftState.SCHEDULED,
        )


def _row(r: OutboxRecord) -> OutboxRow:
    return OutboxRow(
        draft_id=r.id,
        kind=DraftKind(r.kind),
        state=DraftState(r.state),
        unit_id=r.unit_id,
        unit_name=r.unit_name,
        author_id=r.author_id,
        author_name=r.author_name,
        version=r.version,
        text=r.text,
        schedule_at=r.schedule_at,
        updated_at=r.updated_at,
        due=r.due,
        failure_reason=r.failure_reason,
        conversation_id=r.conversation_id,
        targets=tuple(
            TargetOutcome(
                account_id=t.account_id,
                account=t.label,
                network=t.network,
                state=DraftTargetState(t.state),
                external_id=t.external_id,
                permalink=t.permalink,
                published_at=t.published_at,
                error=t.error,
                needs_person=t.needs_person,
                next_attempt_at=t.next_attempt_at,
            )
            for t in r.targets
        ),
    )


class PublishingService:
    """The outbox's queue and calendar; safe from any thread (a unit of work per call)."""

    def __init__(self, db: Storage, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock

    def queue(
        self,
        operator: int,
        limit: int = 50,
        after: tuple[datetime, int] | None = None,
        *,
        recent: timedelta = RECENT,
    ) -> list[OutboxRow]:
        """The outbox the operator may see, by due time (see the module).

        Args:
            operator: Who looks.
            limit: At most this many rows.
            after: The last row's :attr:`OutboxRow.key` of the previous page.
            recent: How far back published drafts are listed.

        Raises:
            NotAllowed: no such person, deactivated, or working in no unit.
        """
        since = self._clock() - recent
        with self._db.uow() as uow:
            units = _visible_units(uow, operator, None)
            if units == ():
                return []
            records = uow.outbox_views.queue(since=since, unit_ids=units, after=after, limit=limit)
        return [_row(r) for r in records]

    def calendar(
        self,
        operator: int,
        start: datetime,
        end: datetime,
        unit_id: int | None = None,
        *,
        kinds: Sequence[DraftKind] = (DraftKind.POST,),
    ) -> list[OutboxRow]:
        """The posts due in ``[start, end)`` the operator may see, by time.

        Args:
            operator: Who looks.
            start: The first instant (aware).
            end: The instant after the last (aware), at most :data:`MAX_RANGE` after ``start``.
            unit_id: Only this unit and its sub-units (None: every unit the operator sees).
            kinds: The kinds of drafts shown (posts, by default).

        Raises:
            NotAllowed: no such person, deactivated, or working in no unit.
            ValueError: a time without a zone, an empty range or one over :data:`MAX_RANGE`.
        """
        for name, at in (("start", start), ("end", end)):
            if at.tzinfo is None or at.utcoffset() is None:
                raise ValueError(f"{name} needs its time zone, not {at.isoformat()}")
        if not start < end <= start + MAX_RANGE:
            raise ValueError(f"A calendar shows up to {MAX_RANGE.days} days, start before end.")
        with self._db.uow() as uow:
            units = _visible_units(uow, operator, unit_id)
            if units == ():
                return []
            records = uow.outbox_views.calendar(
                start, end, unit_ids=units, kinds=[DraftKind(k).value for k in kinds]
            )
        return [_row(r) for r in records]


def _visible_units(
    uow: StorageUnitOfWork, operator: int, unit_id: int | None
) -> tuple[int, ...] | None:
    """The unit ids the operator may see (None: every unit), within ``unit_id``'s sub-tree.

    Raises:
        NotAllowed: the operator may work in no unit.
    """
    actor = require_anywhere_in(uow, operator, Action.WORK_CONVERSATIONS, doing="see the outbox")
    units = [(e.unit.id, e.unit.path) for e in uow.directory.units()]
    paths = _working_paths(actor)
    visible = [uid for uid, path in units if path.startswith(paths)]
    if unit_id is not None:
        top = next((path for uid, path in units if uid == unit_id), None)
        if top is None:
            return ()
        seen = set(visible)
        visible = [uid for uid, path in units if uid in seen and path.startswith(top)]
    elif len(visible) == len(units):
        return None
    return tuple(visible)


def _working_paths(actor: Actor) -> tuple[str, ...]:
    return tuple(g.unit_path for g in actor.grants if g.role in _WORKING_ROLES)
