"""The outbox in SQL: what is due, claims taken by conditional updates, what a send needs.

A target is sent only under a claim: :meth:`SqlOutbox.claim` moves it from the state (and claim)
it was read in to ``publishing`` under this publisher's name in one ``UPDATE … WHERE``; when
another publisher got there first the update changes no row and the caller leaves it. Every
later write of that target (published, released for a retry, failed) is conditional on the claim
still being the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from app.domain.enums import (
    AccountState,
    ConversationStatus,
    DraftState,
    DraftTargetState,
)
from app.models import (
    Account,
    Author,
    Conversation,
    Draft,
    DraftTarget,
    DraftVersion,
    Message,
    Person,
    Unit,
)

_PENDING = DraftTargetState.PENDING.value
_PUBLISHING = DraftTargetState.PUBLISHING.value


@dataclass(frozen=True, slots=True)
class OutboxTarget:
    """One target of a publishing draft with everything sending it (or finding it) needs."""

    target_id: int
    draft_id: int
    kind: str  # post | reply | dm
    text: str  # the draft's current version
    version: int
    draft_created_at: datetime
    unit_id: int
    unit_name: str
    author_id: int
    author_name: str
    account_id: int
    network: str
    handle: str
    account_state: str
    state: str
    attempts: int
    claimed_by: str | None
    claimed_at: datetime | None
    next_attempt_at: datetime | None
    conversation_id: int | None
    thread_type: str | None
    thread_external_id: str | None
    in_reply_to: str | None  # the network id of the message a reply answers
    recipient_id: str | None  # a direct message's recipient (the conversation's author)

    @property
    def account(self) -> str:
        return f"@{self.handle}"


class SqlOutbox:
    """:class:`app.storage.ports.OutboxRepository` on a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    # -- what is due ---------------------------------------------------------------------------

    def due_drafts(self, now: datetime, lead_until: datetime, limit: int) -> list[int]:
        """Drafts the outbox checks now, soonest first.

        Approved ones (they go out at once or get their time), scheduled ones whose time has
        come, and pending ones with a time before ``lead_until`` (not approved in time).
        """
        d = Draft
        rows = self._s.execute(
            select(d.id)
            .where(
                or_(
                    d.state == DraftState.APPROVED.value,
                    and_(d.state == DraftState.SCHEDULED.value, d.schedule_at <= now),
                    and_(
                        d.state == DraftState.PENDING_APPROVAL.value,
                        d.schedule_at.is_not(None),
                        d.schedule_at <= lead_until,
                    ),
                )
            )
            .order_by(func.coalesce(d.schedule_at, d.updated_at), d.id)
            .limit(limit)
        )
        return [r[0] for r in rows]

    def finished_publishing(self, limit: int) -> list[int]:
        """Drafts in ``publishing`` none of whose targets is on its way (left by a crash)."""
        t = DraftTarget
        on_the_way = (
            select(t.id)
            .where(t.draft_id == Draft.id, t.state.in_((_PENDING, _PUBLISHING)))
            .exists()
        )
        rows = self._s.execute(
            select(Draft.id)
            .where(Draft.state == DraftState.PUBLISHING.value, ~on_the_way)
            .order_by(Draft.id)
            .limit(limit)
        )
        return [r[0] for r in rows]

    def flagged(self, draft_id: int) -> list[OutboxTarget]:
        """The draft's targets that wait for a person to say whether they went out."""
        return self._targets(
            and_(
                DraftTarget.draft_id == draft_id,
                DraftTarget.state == _PUBLISHING,
                DraftTarget.needs_person.is_(True),
            ),
            100,
        )

    def sendable(self, now: datetime, limit: int) -> list[OutboxTarget]:
        """Pending targets of publishing drafts, due now, on accounts not paused."""
        return self._targets(
            and_(
                DraftTarget.state == _PENDING,
                or_(DraftTarget.next_attempt_at.is_(None), DraftTarget.next_attempt_at <= now),
                Draft.state == DraftState.PUBLISHING.value,
                Account.state != AccountState.PAUSED.value,
            ),
            limit,
        )

    def unsure(self, now: datetime | None, limit: int) -> list[OutboxTarget]:
        """Targets in ``publishing`` no person has to decide: claimed, or waiting to be asked.

        ``now=None``: whatever their next attempt time (at start-up). The caller works out
        which claims are abandoned.
        """
        due: Any = DraftTarget.state == _PUBLISHING
        if now is not None:
            due = and_(
                due,
                or_(DraftTarget.next_attempt_at.is_(None), DraftTarget.next_attempt_at <= now),
            )
        return self._targets(and_(due, DraftTarget.needs_person.is_(False)), limit)

    def target(self, target_id: int) -> OutboxTarget | None:
        found = self._targets(DraftTarget.id == target_id, 1)
        return found[0] if found else None

    def _targets(self, where: Any, limit: int) -> list[OutboxTarget]:
        t, d, a, c = DraftTarget, Draft, Account, Conversation
        replied = aliased(Message)
        last_in = (
            select(Message.external_id)
            .where(Message.conversation_id == c.id, Message.direction == "in")
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        rows = self._s.execute(
            select(
                t.id,
                d.id,
                d.kind,
                DraftVersion.text,
                d.current_version,
                d.created_at,
                d.unit_id,
                Unit.name,
                d.created_by_id,
                Person.name,
                a.id,
                a.network,
                a.handle,
                a.state,
                t.state,
                t.attempts,
                t.claimed_by,
                t.claimed_at,
                t.next_attempt_at,
                d.conversation_id,
                c.thread_type,
                c.external_thread_id,
                func.coalesce(replied.external_id, last_in, c.root_external_id),
                Author.external_id,
            )
            .select_from(t)
            .join(d, d.id == t.draft_id)
            .join(
                DraftVersion,
                and_(DraftVersion.draft_id == d.id, DraftVersion.version == d.current_version),
            )
            .join(Unit, Unit.id == d.unit_id)
            .join(Person, Person.id == d.created_by_id)
            .join(a, a.id == t.account_id)
            .outerjoin(c, c.id == d.conversation_id)
            .outerjoin(replied, replied.id == d.in_reply_to_message_id)
            .outerjoin(Author, Author.id == c.author_id)
            .where(where)
            .order_by(t.next_attempt_at.is_not(None), t.next_attempt_at, t.id)
            .limit(limit)
        )
        return [OutboxTarget(*r) for r in rows]

    def target_states(self, draft_id: int) -> list[str]:
        rows = self._s.execute(select(DraftTarget.state).where(DraftTarget.draft_id == draft_id))
        return [r[0] for r in rows]

    def failures(self, draft_id: int) -> list[tuple[str, str]]:
        """Each failed target's account (``@handle``) and error, in target order."""
        rows = self._s.execute(
            select(Account.handle, DraftTarget.error)
            .join(Account, Account.id == DraftTarget.account_id)
            .where(
                DraftTarget.draft_id == draft_id,
                DraftTarget.state == DraftTargetState.FAILED.value,
            )
            .order_by(DraftTarget.id)
        )
        return [(f"@{r[0]}", r[1]) for r in rows]

    def waiting_count(self) -> int:
        """Targets still to go out: pending or publishing, of drafts on their way."""
        on_the_way = (
            DraftState.APPROVED.value,
            DraftState.SCHEDULED.value,
            DraftState.PUBLISHING.value,
        )
        return int(
            self._s.scalar(
                select(func.count())
                .select_from(DraftTarget)
                .join(Draft, Draft.id == DraftTarget.draft_id)
                .where(
                    Draft.state.in_(on_the_way),
                    DraftTarget.state.in_((_PENDING, _PUBLISHING)),
                )
            )
            or 0
        )

    def unanswered(self, unit_id: int, limit: int) -> list[int]:
        """Calm public conversations of the unit on the Sandbox network waiting for an answer.

        Newest first; for the demo's replies.
        """
        c = Conversation
        rows = self._s.execute(
            select(c.id)
            .where(
                c.unit_id == unit_id,
                c.network == "sandbox",
                c.thread_type == "sandbox_thread",
                c.status.in_((ConversationStatus.NEW.value, ConversationStatus.OPEN.value)),
                c.first_inbound_at.is_not(None),
                or_(c.sentiment.is_(None), c.sentiment >= 0),
            )
            .order_by(c.last_activity_at.desc(), c.id.desc())
            .limit(limit)
        )
        return [r[0] for r in rows]

    # -- claims ------------------------------------------------------------------------------

    def claim(
        self,
        target_id: int,
        *,
        by: str,
        at: datetime,
        state: str,
        claimed_by: str | None,
        claimed_at: datetime | None,
    ) -> bool:
        """Take the target for ``by`` if it is still in ``state`` under the claim read."""
        t = DraftTarget
        same_claim = t.claimed_by.is_(None) if claimed_by is None else t.claimed_by == claimed_by
        same_time = t.claimed_at.is_(None) if claimed_at is None else t.claimed_at == claimed_at
        result = self._s.execute(
            update(t)
            .where(t.id == target_id, t.state == state, same_claim, same_time)
            .values(state=_PUBLISHING, claimed_by=by, claimed_at=at)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    def release(
        self,
        target_id: int,
        *,
        by: str,
        state: str,
        error: str,
        next_attempt_at: datetime | None = None,
        attempts: int | None = None,
        needs_person: bool = False,
    ) -> bool:
        """Give the claim up, leaving the target in ``state`` (a retry, a failure, unsure)."""
        values: dict[str, Any] = {
            "state": state,
            "claimed_by": None,
            "claimed_at": None,
            "error": error[:1000],
            "next_attempt_at": next_attempt_at,
            "needs_person": needs_person,
        }
        if attempts is not None:
            values["attempts"] = attempts
        return self._mine(target_id, by, values)

    def mark_published(self, target_id: int, *, by: str, external_id: str, at: datetime) -> bool:
        return self._mine(
            target_id,
            by,
            {
                "state": DraftTargetState.PUBLISHED.value,
                "external_id": external_id,
                "published_at": at,
                "claimed_by": None,
                "claimed_at": None,
                "next_attempt_at": None,
                "needs_person": False,
                "error": "",
            },
        )

    def _mine(self, target_id: int, by: str, values: dict[str, Any]) -> bool:
        t = DraftTarget
        result = self._s.execute(
            update(t)
            .where(t.id == target_id, t.claimed_by == by, t.state == _PUBLISHING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    def resolve_by_person(
        self, target_id: int, *, published: bool, external_id: str | None, at: datetime
    ) -> bool:
        """A person's answer for a target the network could not tell about."""
        t = DraftTarget
        values: dict[str, Any] = {"needs_person": False, "claimed_by": None, "claimed_at": None}
        if published:
            values |= {
                "state": DraftTargetState.PUBLISHED.value,
                "external_id": external_id,
                "published_at": at,
                "error": "",
            }
        else:
            values |= {"state": _PENDING, "next_attempt_at": None, "error": ""}
        result = self._s.execute(
            update(t)
            .where(t.id == target_id, t.state == _PUBLISHING, t.needs_person.is_(True))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    def reset_failed(self, draft_id: int) -> int:
        """The failed targets of a draft back to pending (a retry); published ones stay."""
        t = DraftTarget
        result = self._s.execute(
            update(t)
            .where(t.draft_id == draft_id, t.state == DraftTargetState.FAILED.value)
            .values(state=_PENDING, attempts=0, next_attempt_at=None, error="")
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    # -- after a send ------------------------------------------------------------------------

    def mark_sent(
        self,
        account_id: int,
        network: str,
        external_id: str,
        *,
        sent_by: int,
        unit_id: int,
    ) -> int | None:
        """Who sent the stored message ``external_id`` and for which unit; its conversation."""
        m = Message
        self._s.execute(
            update(m)
            .where(m.network == network, m.account_id == account_id, m.external_id == external_id)
            .values(sent_by_id=sent_by, sent_for_unit_id=unit_id)
            .execution_options(synchronize_session=False)
        )
        return self._s.scalar(
            select(m.conversation_id).where(
                m.network == network, m.account_id == account_id, m.external_id == external_id
            )
        )

    def answered(self, conversation_id: int) -> None:
        """A reply went out: a new or open conversation now waits for the customer."""
        c = Conversation
        self._s.execute(
            update(c)
            .where(
                c.id == conversation_id,
                c.status.in_((ConversationStatus.NEW.value, ConversationStatus.OPEN.value)),
            )
            .values(status=ConversationStatus.WAITING.value)
            .execution_options(synchronize_session=False)
        )

    def pause_account(self, account_id: int, detail: str) -> None:
        """Stop publishing (and polling) on the account until a person resumes it."""
        self._s.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(state=AccountState.PAUSED.value, state_detail=detail[:500])
            .execution_options(synchronize_session=False)
        )
