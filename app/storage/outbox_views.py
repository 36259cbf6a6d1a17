"""The outbox as the Publishing screen reads it: the queue and the calendar, in SQL.

Read only; the publisher's own reads and writes are elsewhere. Every draft comes with its
targets, each with its own outcome (published with the network's id and the stored message's
permalink, failed with the network's message, or still to go).

A draft's **due time** is ``coalesce(schedule_at, updated_at)``: its schedule time, or for one
without a time the moment of its last change (for an approved draft, when it was approved; for
a published or failed one, when that happened: nothing changes a published draft afterwards).

- **The queue** (:meth:`SqlOutboxViews.queue`): approved, scheduled, publishing and failed
  drafts, and those published since a given time, by due time then id, keyset-paged on
  ``(due, id)``. The open states are few (the outbox empties as it publishes) and are read
  through ``ix_drafts_state_created_at_id``; the published ones through
  ``ix_drafts_state_kind_updated_at_id``, a range from ``since``, so the history of published
  drafts is never walked.
- **The calendar** (:meth:`SqlOutboxViews.calendar`): one statement, the union of two index
  ranges: drafts with a schedule time in the range (``ix_drafts_schedule_at_id``) and drafts
  without one that went out, or failed, in the range (``ix_drafts_state_kind_updated_at_id``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Select, and_, bindparam, func, or_, select, tuple_, union_all
from sqlalchemy.orm import Session

from app.domain.enums import DraftKind, DraftState
from app.models import Account, Draft, DraftTarget, DraftVersion, Message, Person, Unit
from app.models.base import to_epoch_ms
from app.storage.feed import _unindexed  # the SQLite-only index guard the feed uses
from app.storage.outbox_records import OutboxRecord, OutcomeRecord

#: The drafts the queue lists whatever their age (the published ones only from ``since``).
QUEUE_STATES: tuple[DraftState, ...] = (
    DraftState.APPROVED,
    DraftState.SCHEDULED,
    DraftState.PUBLISHING,
    DraftState.FAILED,
)
#: The drafts the calendar shows at their schedule time: every state with a time set for it.
TIMED_STATES: tuple[DraftState, ...] = (
    DraftState.PENDING_APPROVAL,
    DraftState.APPROVED,
    DraftState.SCHEDULED,
    DraftState.PUBLISHING,
    DraftState.PUBLISHED,
    DraftState.FAILED,
)
#: The drafts without a time the calendar shows when they went out (or failed, or are going).
SENT_STATES: tuple[DraftState, ...] = (
    DraftState.PUBLISHING,
    DraftState.PUBLISHED,
    DraftState.FAILED,
)
_ALL_KINDS = tuple(k.value for k in DraftKind)


_drafts_t = Draft.__table__
_DUE = func.coalesce(Draft.schedule_at, Draft.updated_at)

_TARGET_COLUMNS = (
    DraftTarget.draft_id,
    DraftTarget.account_id,
    Account.network,
    Account.handle,
    Account.display_name,
    DraftTarget.state,
    DraftTarget.external_id,
    DraftTarget.published_at,
    DraftTarget.error,
    Message.permalink,
    DraftTarget.needs_person,
    DraftTarget.next_attempt_at,
)


def _drafts() -> Select[Any]:
    return (
        select(
            Draft.id,
            Draft.kind,
            Draft.state,
            Draft.unit_id,
            Unit.name.label("unit_name"),
            Draft.created_by_id,
            Person.name.label("author_name"),
            Draft.current_version,
            DraftVersion.text,
            Draft.schedule_at,
            Draft.updated_at,
            Draft.failure_reason,
            Draft.conversation_id,
            _DUE.label("due"),
        )
        .join(Unit, Unit.id == Draft.unit_id)
        .join(Person, Person.id == Draft.created_by_id)
        .outerjoin(
            DraftVersion,
            and_(DraftVersion.draft_id == Draft.id, DraftVersion.version == Draft.current_version),
        )
    )


def _states(states: Sequence[DraftState]) -> list[str]:
    return [s.value for s in states]


class SqlOutboxViews:
    """:class:`app.storage.ports.OutboxViews` on a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def queue(
        self,
        *,
        since: datetime,
        unit_ids: Sequence[int] | None = None,
        after: tuple[datetime, int] | None = None,
        limit: int = 50,
    ) -> list[OutboxRecord]:
        """The outbox by due time, then id: open drafts, and those published from ``since``.

        Args:
            since: Published drafts whose last change is older are left out.
            unit_ids: Only drafts of these units (None: every unit).
            after: The ``(due, id)`` of the last draft of the previous page.
            limit: At most this many.
        """
        query = _drafts().where(
            or_(
                Draft.state.in_(_states(QUEUE_STATES)),
                and_(
                    Draft.state == DraftState.PUBLISHED.value,
                    Draft.kind.in_(_ALL_KINDS),  # the index's second column
                    Draft.updated_at >= since,
                ),
            )
        )
        if unit_ids is not None:
            query = query.where(Draft.unit_id.in_(sorted(set(unit_ids))))
        params: dict[str, Any] = {}
        if after is not None:
            query = query.where(
                tuple_(_DUE, Draft.id)
                > tuple_(bindparam("after_ms", type_=BigInteger), bindparam("after_id"))
            )
            params = {"after_ms": to_epoch_ms(after[0]), "after_id": after[1]}
        query = query.order_by(_DUE, Draft.id).limit(max(1, limit))
        return self._records(self._s.execute(query, params).all())

    def calendar(
        self,
        start: datetime,
        end: datetime,
        *,
        unit_ids: Sequence[int] | None = None,
        kinds: Sequence[str] = (DraftKind.POST.value,),
        limit: int = 2000,
    ) -> list[OutboxRecord]:
        """Drafts due in ``[start, end)`` by due time, then id: timed ones, and sent ones.

        A draft with a schedule time is there at its time (waiting for approval, scheduled,
        published or failed); one without is there when it went out or failed.

        Args:
            start: The range's first instant.
            end: The instant after its last.
            unit_ids: Only drafts of these units (None: every unit).
            kinds: Only drafts of these kinds (posts, by default).
            limit: At most this many.
        """
        kinds = [str(k) for k in kinds]
        timed = _drafts().where(
            Draft.schedule_at >= start,
            Draft.schedule_at < end,
            # SQLite, with no statistics, would rather walk every published post by state and
            # kind than the range of times: only the time index may drive this half.
            _unindexed(_drafts_t.c.state).in_(_states(TIMED_STATES)),
            _unindexed(_drafts_t.c.kind).in_(kinds),
        )
        sent = _drafts().where(
            Draft.state.in_(_states(SENT_STATES)),
            Draft.kind.in_(kinds),
            Draft.updated_at >= start,
            Draft.updated_at < end,
            Draft.schedule_at.is_(None),
        )
        if unit_ids is not None:
            units = sorted(set(unit_ids))
            timed = timed.where(Draft.unit_id.in_(units))
            sent = sent.where(Draft.unit_id.in_(units))
        both = union_all(timed, sent).subquery()
        query = select(both).order_by(both.c.due, both.c.id).limit(max(1, limit))
        return self._records(self._s.execute(query).all())

    def _records(self, rows: Sequence[Any]) -> list[OutboxRecord]:
        targets = self._targets([r.id for r in rows])
        return [
            OutboxRecord(
                id=r.id,
                kind=r.kind,
                state=r.state,
                unit_id=r.unit_id,
                unit_name=r.unit_name,
                author_id=r.created_by_id,
                author_name=r.author_name,
                version=r.current_version,
                text=r.text or "",
                schedule_at=r.schedule_at,
                updated_at=r.updated_at,
                failure_reason=r.failure_reason,
                conversation_id=r.conversation_id,
                targets=tuple(targets.get(r.id, ())),
            )
            for r in rows
        ]

    def _targets(self, draft_ids: Sequence[int]) -> dict[int, list[OutcomeRecord]]:
        """Each draft's targets in the order they were added, with the sent message's link."""
        found: dict[int, list[OutcomeRecord]] = {}
        if not draft_ids:
            return found
        rows = self._s.execute(
            select(*_TARGET_COLUMNS)
            .join(Account, Account.id == DraftTarget.account_id)
            .outerjoin(
                Message,
                and_(
                    Message.network == Account.network,
                    Message.account_id == DraftTarget.account_id,
                    Message.external_id == DraftTarget.external_id,
                ),
            )
            .where(DraftTarget.draft_id.in_(sorted(set(draft_ids))))
            .order_by(DraftTarget.draft_id, DraftTarget.id)
        )
        for r in rows:
            found.setdefault(r.draft_id, []).append(OutcomeRecord(*r))
        return found
