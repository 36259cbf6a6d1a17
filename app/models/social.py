"""Accounts, authors, conversations, messages, tags and notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.enums import (
    AccountState,
    ConversationEventKind,
    ConversationStatus,
    Direction,
    MessageKind,
    Network,
    Priority,
)
from app.models.base import Base, UtcDateTime, one_of, utcnow

NETWORKS_SQL = one_of("network", Network)
KINDS_SQL = one_of("kind", MessageKind)
STATUSES_SQL = one_of("status", ConversationStatus)
PRIORITIES_SQL = one_of("priority", Priority)
ACCOUNT_STATES_SQL = one_of("state", AccountState)
DIRECTIONS_SQL = one_of("direction", Direction)
EVENT_KINDS_SQL = one_of("kind", ConversationEventKind)


class Account(Base):
    """A connected social account, owned by a unit; its tokens live in the OS keyring only."""

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("network", "handle"),
        CheckConstraint(NETWORKS_SQL, name="network"),
        CheckConstraint(ACCOUNT_STATES_SQL, name="state"),
        CheckConstraint("poll_interval_s >= 5", name="poll_interval"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)  # keyring user name prefix
    network: Mapped[str] = mapped_column(String(20))
    handle: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str] = mapped_column(String(200))
    external_user_id: Mapped[str | None] = mapped_column(String(64))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=AccountState.PAUSED)
    state_detail: Mapped[str] = mapped_column(String(500), default="")
    rate_limited_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    poll_interval_s: Mapped[int] = mapped_column(default=90)
    cursor: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    token_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    scopes: Mapped[str] = mapped_column(String(500), default="")
    last_sync_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Author(Base):
    """A person or page on a network who wrote to us; key ``(network, external_id)``."""

    __tablename__ = "authors"
    __table_args__ = (
        UniqueConstraint("network", "external_id"),
        CheckConstraint(NETWORKS_SQL, name="network"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    network: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    handle: Mapped[str | None] = mapped_column(String(100))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    followers_count: Mapped[int | None] = mapped_column(Integer)
    is_spammer: Mapped[bool] = mapped_column(default=False)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)


#: The conversation columns the inbox's filters read, carried by its walked indexes.
_FILTERED = ("status", "assignee_id", "language", "kind", "network", "account_id", "sentiment")


class Conversation(Base):
    """A thread (X conversation, Facebook post with its comments, a DM thread).

    Denormalised columns (``preview``, ``message_count``, ``last_activity_at``) keep the inbox page
    query on one indexed table.
    """

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("network", "account_id", "thread_type", "external_thread_id"),
        # The inbox's walks: each order, then every column its filters read (the walk checks
        # them in the index, reading no row; migration 0007).
        Index("ix_conversations_unit_activity", "unit_id", "last_activity_at", "id", *_FILTERED),
        Index("ix_conversations_activity", "last_activity_at", "id", "unit_id", *_FILTERED),
        # The backlog's ids (and a unit's: PostgreSQL reads them from the index alone).
        Index("ix_conversations_unit_status", "unit_id", "status", "id"),
        Index("ix_conversations_unit_due", "unit_id", "sla_due_at", "id", *_FILTERED),
        Index("ix_conversations_due", "sla_due_at", "id", "unit_id", *_FILTERED),
        Index("ix_conversations_author_activity", "author_id", "last_activity_at"),
        # the conversations tagged with a social goal, newest first (app/storage/strategy.py)
        Index("ix_conversations_social_goal_activity", "social_goal_id", "last_activity_at", "id"),
        CheckConstraint(NETWORKS_SQL, name="network"),
        CheckConstraint(KINDS_SQL, name="kind"),
        CheckConstraint(STATUSES_SQL, name="status"),
        CheckConstraint(PRIORITIES_SQL, name="priority"),
        CheckConstraint(
            "sentiment IS NULL OR (sentiment >= -1 AND sentiment <= 1)", name="sentiment"
        ),
        CheckConstraint("message_count >= 0", name="message_count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    network: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    thread_type: Mapped[str] = mapped_column(String(20))
    external_thread_id: Mapped[str] = mapped_column(String(100))
    root_external_id: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # kind of the message that opened it
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default=ConversationStatus.NEW)
    priority: Mapped[str] = mapped_column(String(20), default=Priority.NORMAL)
    sentiment: Mapped[float | None] = mapped_column(Float)
    language: Mapped[str] = mapped_column(String(10), default="")
    preview: Mapped[str] = mapped_column(String(300), default="")
    message_count: Mapped[int] = mapped_column(default=0)
    first_inbound_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sla_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_activity_at: Mapped[datetime] = mapped_column(UtcDateTime)
    routed_by_rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("routing_rules.id", ondelete="SET NULL")
    )
    routing_reason: Mapped[str] = mapped_column(String(500), default="")
    spam_score: Mapped[float | None] = mapped_column(Float)  # None: not scored (our own posts)
    spam_reasons: Mapped[str] = mapped_column(Text, default="")  # one reason per line
    social_goal_id: Mapped[int | None] = mapped_column(
        ForeignKey("strategy_items.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # when the assignee took it
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # cleared on reopening

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", passive_deletes=True
    )
    notes: Mapped[list[Note]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class Message(Base):
    """One inbound or outbound item with the network's raw JSON; key ``(network, account, id)``."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("network", "account_id", "external_id"),
        Index("ix_messages_conversation_created", "conversation_id", "created_at"),
        CheckConstraint(NETWORKS_SQL, name="network"),
        CheckConstraint(KINDS_SQL, name="kind"),
        CheckConstraint(DIRECTIONS_SQL, name="direction"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    network: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    external_id: Mapped[str] = mapped_column(String(100))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id", ondelete="SET NULL"))
    direction: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(10), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    in_reply_to: Mapped[str | None] = mapped_column(String(100))
    permalink: Mapped[str | None] = mapped_column(String(500))
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # who sent an outbound message through Quiver, for which unit (plain ids: kept after both)
    sent_by_id: Mapped[int | None] = mapped_column(Integer)
    sent_for_unit_id: Mapped[int | None] = mapped_column(Integer)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
    author: Mapped[Author | None] = relationship()


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    colour: Mapped[str] = mapped_column(String(9), default="#9e9e9e")


class ConversationTag(Base):
    __tablename__ = "conversation_tags"
    # A tag's conversations from the index alone (the inbox's tag filter reads them as a list).
    __table_args__ = (
        Index("ix_conversation_tags_tag_id_conversation_id", "tag_id", "conversation_id"),
    )

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)


class Note(Base):
    """An internal note on a conversation (never sent to the network)."""

    __tablename__ = "notes"
    __table_args__ = (CheckConstraint("length(text) > 0", name="text"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ConversationEvent(Base):
    """One line of a conversation's status history: who did what, when, from what to what.

    ``rule_id`` is the routing rule that had routed the conversation when it was handed over
    (how mis-routing is measured); ``unit_from``/``unit_to`` are plain ids, kept after a unit goes.
    """

    __tablename__ = "conversation_events"
    __table_args__ = (
        Index("ix_conversation_events_conversation_at", "conversation_id", "at"),
        CheckConstraint(EVENT_KINDS_SQL, name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    person_name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(20))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    unit_from: Mapped[int | None] = mapped_column(Integer)
    unit_to: Mapped[int | None] = mapped_column(Integer)
    rule_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")


class TextSighting(Base):
    """Someone wrote a text with this spam fingerprint at a time (app.domain.spam.fingerprint).

    Kept across ingest batches so "the same text from several authors within 24 h" holds
    whichever poll brought each copy; rows older than the window are pruned.
    """

    __tablename__ = "text_sightings"
    __table_args__ = (Index("ix_text_sightings_fingerprint_at", "fingerprint", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(32))
    author: Mapped[str] = mapped_column(String(200))  # "network:external id"
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class SavedView(Base):
    """A person's named inbox filter (unit, networks, status, assignee, tag, search text …)."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("person_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
