"""Routing rules as Settings edits them: list, add, change, delete, enable, reorder; a sample.

Positions stay dense and unique (1, 2, 3 …): every change of the order (add, delete, move)
first takes the workspace's rule-order lock (:meth:`SqlRuleStore.lock_order`: a PostgreSQL
advisory lock held to the end of the transaction; on SQLite a write statement, so the write
lock is taken before anything is read), then re-reads the order and writes every position
again. Two workstations reordering at once queue on the lock; the second one reorders what the
first one stored, never a stale copy of it.

The preview's sample (:meth:`SqlRuleStore.sample`) is the first inbound message of each of
the newest conversations (by last activity, the inbox's own index), with what the routing
engine needs of it and whether a person has handed the conversation over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, select, text, update
from sqlalchemy.orm import Session, aliased

from app.domain.enums import ConversationEventKind, Direction
from app.models import Account, Author, Conversation, ConversationEvent, Message, RoutingRule
from app.storage.rules import RECORD_COLUMNS, RuleRecord, rule_record

#: The advisory lock that serialises changes of the rule order on PostgreSQL.
RULE_ORDER_LOCK_KEY = 0x52_554C_4553  # "RULES"


@dataclass(frozen=True, slots=True)
class NewRule:
    """A rule to store (checked by the service first)."""

    name: str
    enabled: bool
    conditions: dict[str, Any]
    actions: dict[str, Any]
    stop: bool


@dataclass(frozen=True, slots=True)
class SampleMessage:
    """The first inbound message of a conversation, as the routing preview evaluates it."""

    conversation_id: int
    message_id: int
    account_id: int
    network: str
    kind: str
    text: str
    author_external_id: str
    author_handle: str
    author_followers: int | None
    author_first_seen: bool
    created_at: datetime
    unit_id: int  # where the conversation is now
    owner_unit_id: int  # the account owner's unit
    handed_over: bool  # a person handed it over: rules never move it again


class SqlRuleStore:
    """:class:`app.storage.ports.RuleStore` on a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def lock_order(self) -> None:
        """Hold off any other change of the rule order until this unit of work ends."""
        if self._s.get_bind().dialect.name == "postgresql":
            self._s.execute(select(func.pg_advisory_xact_lock(RULE_ORDER_LOCK_KEY)))
        else:
            # A write statement takes SQLite's write lock now, before the order is read.
            self._s.execute(text("UPDATE routing_rules SET position = position WHERE 1 = 0"))

    def all(self) -> list[RuleRecord]:
        """Every rule, in evaluation order ``(position, id)``."""
        rows = self._s.execute(
            select(*RECORD_COLUMNS).order_by(RoutingRule.position, RoutingRule.id)
        )
        return [rule_record(r) for r in rows]

    def get(self, rule_id: int) -> RuleRecord | None:
        row = self._s.execute(select(*RECORD_COLUMNS).where(RoutingRule.id == rule_id)).first()
        return None if row is None else rule_record(row)

    def add(self, rule: NewRule, at: datetime) -> int:
        """Store the rule after the last one; returns its id (call :meth:`lock_order` first)."""
        last = self._s.execute(select(func.max(RoutingRule.position))).scalar_one()
        rule_id = self._s.execute(
            insert(RoutingRule)
            .values(
                position=(last or 0) + 1,
                name=rule.name,
                enabled=rule.enabled,
                conditions=rule.conditions,
                actions=rule.actions,
                stop=rule.stop,
                created_at=at,
            )
            .returning(RoutingRule.id)
        ).scalar_one()
        return int(rule_id)

    def update(self, rule_id: int, rule: NewRule) -> None:
        self._s.execute(
            update(RoutingRule)
            .where(RoutingRule.id == rule_id)
            .values(
                name=rule.name,
                enabled=rule.enabled,
                conditions=rule.conditions,
                actions=rule.actions,
                stop=rule.stop,
            )
            .execution_options(synchronize_session=False)
        )

    def set_enabled(self, rule_id: int, enabled: bool) -> None:
        self._s.execute(
            update(RoutingRule)
            .where(RoutingRule.id == rule_id)
            .values(enabled=enabled)
            .execution_options(synchronize_session=False)
        )

    def delete(self, rule_id: int) -> None:
        """Delete the rule (conversations it routed keep their reason, not the link)."""
        self._s.execute(
            delete(RoutingRule)
            .where(RoutingRule.id == rule_id)
            .execution_options(synchronize_session=False)
        )

    def set_order(self, rule_ids: list[int]) -> None:
        """Positions 1 … n in the order of ``rule_ids`` (every rule, under :meth:`lock_order`)."""
        for position, rule_id in enumerate(rule_ids, start=1):
            self._s.execute(
                update(RoutingRule)
                .where(RoutingRule.id == rule_id, RoutingRule.position != position)
                .values(position=position)
                .execution_options(synchronize_session=False)
            )

    def sample(self, conversations: int) -> list[SampleMessage]:
        """The first inbound message of each of the newest ``conversations`` conversations.

        Newest by last activity, the order of the inbox's index. An author is "first seen"
        when no earlier conversation of theirs is stored.
        """
        newest = (
            select(Conversation.id)
            .where(Conversation.first_inbound_at.is_not(None))
            .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
            .limit(max(0, conversations))
            .subquery("newest")
        )
        first = (
            select(Message.id)
            .where(Message.conversation_id == Conversation.id, Message.direction == Direction.IN)
            .order_by(Message.created_at, Message.id)
            .limit(1)
            .correlate(Conversation)
            .scalar_subquery()
        )
        earlier = aliased(Conversation)
        seen_before = exists().where(
            earlier.author_id == Conversation.author_id,
            earlier.id != Conversation.id,
            earlier.first_inbound_at < Conversation.first_inbound_at,
        )
        handed = exists().where(
            ConversationEvent.conversation_id == Conversation.id,
            ConversationEvent.kind == ConversationEventKind.HANDED_OVER,
        )
        stmt = (
            select(
                Conversation.id.label("conversation_id"),
                Message.id.label("message_id"),
                Message.account_id,
                Message.network,
                Message.kind,
                Message.text,
                Author.external_id,
                Author.handle,
                Author.followers_count,
                Message.created_at,
                Conversation.unit_id,
                Account.unit_id.label("owner_unit_id"),
                seen_before.label("seen_before"),
                handed.label("handed_over"),
            )
            .join(newest, newest.c.id == Conversation.id)
            .join(Message, and_(Message.id == first))
            .join(Account, Account.id == Message.account_id)
            .outerjoin(Author, Author.id == Message.author_id)
            .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
        )
        return [
            SampleMessage(
                conversation_id=r.conversation_id,
                message_id=r.message_id,
                account_id=r.account_id,
                network=r.network,
                kind=r.kind,
                text=r.text or "",
                author_external_id=r.external_id or "",
                author_handle=r.handle or "",
                author_followers=r.followers_count,
                author_first_seen=r.external_id is not None and not r.seen_before,
                created_at=r.created_at,
                unit_id=r.unit_id,
                owner_unit_id=r.owner_unit_id,
                handed_over=bool(r.handed_over),
            )
            for r in self._s.execute(stmt)
        ]
