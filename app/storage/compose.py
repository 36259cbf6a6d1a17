"""What the compose pane reads and writes beyond :mod:`app.storage.drafts`, in SQL.

The drafts around a time on some accounts (for the duplicate and "two posts within the hour"
warnings), a conversation's last inbound message (Messenger's reply window), a person's
draft to open again, the social goals a post may serve, and a draft's accounts and goal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from app.domain.compose_warnings import OtherPost
from app.domain.enums import DraftKind, DraftState, DraftTargetState, StrategyItemType
from app.models import Author, Conversation, Draft, DraftTarget, DraftVersion, StrategyItem

#: Drafts that go out (or went out) and so count for the warnings.
_GOING = (
    DraftState.PENDING_APPROVAL.value,
    DraftState.APPROVED.value,
    DraftState.SCHEDULED.value,
    DraftState.PUBLISHING.value,
    DraftState.PUBLISHED.value,
)
_WAITING = (DraftState.PENDING_APPROVAL.value, DraftState.APPROVED.value)


@dataclass(frozen=True, slots=True)
class GoalRecord:
    id: int
    title: str


@dataclass(frozen=True, slots=True)
class InboundFacts:
    """A conversation's kind of thread and when its customer last wrote."""

    thread_type: str
    last_inbound_at: datetime | None


class SqlCompose:
    """:class:`app.storage.ports.ComposeRepository` on a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def others_around(
        self,
        account_ids: Sequence[int],
        start: datetime,
        end: datetime,
        now: datetime,
        *,
        exclude_draft_id: int | None = None,
    ) -> list[OtherPost]:
        """Drafts on ``account_ids`` going (or gone) out between ``start`` and ``end``.

        A published target counts at its publishing time, a scheduled draft at its time, and a
        draft waiting or approved with no time at ``now`` (it goes out once approved).
        """
        if not account_ids:
            return []
        d, t, v = Draft, DraftTarget, DraftVersion
        published = t.state == DraftTargetState.PUBLISHED.value
        stmt = (
            select(
                d.id,
                t.account_id,
                d.kind,
                v.text,
                t.published_at,
                d.schedule_at,
                published.label("published"),
            )
            .join(t, t.draft_id == d.id)
            .join(v, and_(v.draft_id == d.id, v.version == d.current_version))
            .where(
                t.account_id.in_(account_ids),
                d.state.in_(_GOING),
                or_(
                    and_(published, t.published_at >= start, t.published_at <= end),
                    and_(~published, d.schedule_at >= start, d.schedule_at <= end),
                    and_(~published, d.schedule_at.is_(None), d.state.in_(_WAITING)),
                ),
            )
            .order_by(d.id, t.account_id)
        )
        if exclude_draft_id is not None:
            stmt = stmt.where(d.id != exclude_draft_id)
        out: list[OtherPost] = []
        for r in self._s.execute(stmt):
            at = r.published_at if r.published else r.schedule_at
            if at is None:
                at = now
            if start <= at <= end:
                out.append(
                    OtherPost(r.id, r.account_id, DraftKind(r.kind), r.text, at, r.published)
                )
        return out

    def inbound(self, conversation_id: int) -> InboundFacts | None:
        row = self._s.execute(
            select(Conversation.thread_type, Conversation.last_inbound_at).where(
                Conversation.id == conversation_id
            )
        ).first()
        return None if row is None else InboundFacts(row[0], row[1])

    def author_name(self, conversation_id: int) -> str:
        """How the conversation's author is called (display name, else handle; "" if none)."""
        row = self._s.execute(
            select(Author.display_name, Author.handle)
            .join(Conversation, Conversation.author_id == Author.id)
            .where(Conversation.id == conversation_id)
        ).first()
        if row is None:
            return ""
        return (row[0] or "").strip() or (row[1] or "").strip()

    def latest_draft(
        self,
        author_id: int,
        kind: str,
        conversation_id: int | None,
        states: Sequence[str],
    ) -> int | None:
        """The author's newest draft of ``kind`` in ``states`` (in the conversation, if given)."""
        stmt = select(Draft.id).where(
            Draft.created_by_id == author_id,
            Draft.kind == kind,
            Draft.state.in_(states),
        )
        if conversation_id is None:
            stmt = stmt.where(Draft.conversation_id.is_(None))
        else:
            stmt = stmt.where(Draft.conversation_id == conversation_id)
        found = self._s.scalar(stmt.order_by(Draft.updated_at.desc(), Draft.id.desc()).limit(1))
        return None if found is None else int(found)

    def social_goals(self) -> list[GoalRecord]:
        """Every social goal, in the strategy's order."""
        rows = self._s.execute(
            select(StrategyItem.id, StrategyItem.title)
            .where(StrategyItem.type == StrategyItemType.SOCIAL_GOAL.value)
            .order_by(StrategyItem.position, StrategyItem.id)
        )
        return [GoalRecord(int(r[0]), r[1]) for r in rows]

    def set_targets(self, draft_id: int, account_ids: Sequence[int], at: datetime) -> None:
        """The draft goes out on exactly ``account_ids`` (targets not yet sent)."""
        self._s.execute(delete(DraftTarget).where(DraftTarget.draft_id == draft_id))
        self._s.execute(
            insert(DraftTarget),
            [
                {"draft_id": draft_id, "account_id": a, "state": "pending", "error": ""}
                for a in account_ids
            ],
        )
        self._touch(draft_id, at)

    def set_social_goal(self, draft_id: int, goal_id: int | None, at: datetime) -> None:
        self._s.execute(
            update(Draft)
            .where(Draft.id == draft_id)
            .values(social_goal_id=goal_id, updated_at=at)
            .execution_options(synchronize_session=False)
        )

    def _touch(self, draft_id: int, at: datetime) -> None:
        self._s.execute(
            update(Draft)
            .where(Draft.id == draft_id)
            .values(updated_at=at)
            .execution_options(synchronize_session=False)
        )
