"""Applying the routing rules again, in SQL: the conversations to look at, and the move itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from app.domain.enums import ConversationEventKind
from app.models import Account, Author, Conversation, ConversationEvent, Message, Unit


@dataclass(frozen=True, slots=True)
class RerouteCandidate:
    """A conversation as "apply rules again" evaluates it: where it is, and its first message."""

    conversation_id: int
    unit_id: int
    unit_path: str
    status: str
    assignee_id: int | None
    routed_by_rule_id: int | None
    routing_reason: str
    preview: str
    account_id: int
    owner_unit_id: int
    network: str
    kind: str
    language: str | None
    sentiment: float | None
    direction: str
    text: str
    created_at: datetime
    author_external_id: str
    author_handle: str
    followers: int | None
    first_seen: bool
    known_spam_author: bool
    handed_over: bool


class SqlRerouting:
    """:class:`app.storage.ports.Rerouting` on a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def candidates(
        self,
        *,
        unit_path: str | None,
        conversation_ids: Sequence[int],
        statuses: Sequence[str] | None,
        limit: int,
    ) -> list[RerouteCandidate]:
        """Conversations to evaluate again, newest activity first, at most ``limit``.

        Those in the unit at ``unit_path`` (and below) or with the given ids; ``statuses``
        ``None`` means any status.
        """
        c = Conversation
        m = aliased(Message)
        first_id = (
            select(func.min(m.id)).where(m.conversation_id == c.id).correlate(c).scalar_subquery()
        )
        other = aliased(Conversation)
        author_first = (
            select(func.min(other.id))
            .where(other.author_id == c.author_id)
            .correlate(c)
            .scalar_subquery()
        )
        handed = exists().where(
            ConversationEvent.conversation_id == c.id,
            ConversationEvent.kind == ConversationEventKind.HANDED_OVER,
        )
        query = (
            select(
                c.id,
                c.unit_id,
                Unit.path,
                c.status,
                c.assignee_id,
                c.routed_by_rule_id,
                c.routing_reason,
                c.preview,
                c.account_id,
                Account.unit_id,
                c.network,
                c.kind,
                c.language,
                c.sentiment,
                Message.direction,
                Message.text,
                Message.created_at,
                func.coalesce(Author.external_id, ""),
                func.coalesce(Author.handle, ""),
                Author.followers_count,
                and_(c.author_id.is_not(None), author_first == c.id),
                func.coalesce(Author.is_spammer, False),
                handed,
            )
            .join(Unit, Unit.id == c.unit_id)
            .join(Account, Account.id == c.account_id)
            .join(Message, Message.id == first_id)
            .outerjoin(Author, Author.id == c.author_id)
            .order_by(c.last_activity_at.desc(), c.id.desc())
            .limit(limit)
        )
        wanted = []
        if unit_path is not None:
            wanted.append(Unit.path.startswith(unit_path, autoescape=True))
        if conversation_ids:
            wanted.append(c.id.in_(sorted(set(conversation_ids))))
        if wanted:
            query = query.where(or_(*wanted) if len(wanted) > 1 else wanted[0])
        if statuses is not None:
            query = query.where(c.status.in_(list(statuses)))
        out = []
        for row in self._s.execute(query).tuples():
            values = list(row)
            values[12] = values[12] or None  # no language detected: stored as ""
            values[20:23] = [bool(v) for v in values[20:23]]
            out.append(RerouteCandidate(*values))
        return out

    def move(
        self,
        conversation_id: int,
        *,
        from_unit: int,
        to_unit: int,
        rule_id: int | None,
        reason: str,
    ) -> bool:
        """Move a conversation still in ``from_unit``: new unit, rule, reason; nobody assigned."""
        result = self._s.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.unit_id == from_unit)
            .values(
                unit_id=to_unit,
                routed_by_rule_id=rule_id,
                routing_reason=reason,
                assignee_id=None,
                claimed_at=None,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))
