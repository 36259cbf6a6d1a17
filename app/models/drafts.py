"""Drafts with their versions, targets and approvals."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.enums import Decision, DraftKind, DraftState, DraftTargetState, Role
from app.models.base import Base, UtcDateTime, one_of, utcnow

DRAFT_KINDS_SQL = one_of("kind", DraftKind)
DRAFT_STATES_SQL = one_of("state", DraftState)
DRAFT_TARGET_STATES_SQL = one_of("state", DraftTargetState)
DECISIONS_SQL = one_of("decision", Decision)
APPROVER_ROLES_SQL = one_of("role", Role)


class Draft(Base):
    """A post, reply or direct message on its way out, with its state and current version."""

    __tablename__ = "drafts"
    __table_args__ = (
        CheckConstraint(DRAFT_KINDS_SQL, name="kind"),
        CheckConstraint(DRAFT_STATES_SQL, name="state"),
        CheckConstraint("current_version >= 1", name="current_version"),
        CheckConstraint(
            f"kind = '{DraftKind.POST.value}' OR conversation_id IS NOT NULL",
            name="reply_needs_thread",
        ),
        # the approvals queue: pending drafts, oldest first, keyset-paged
        Index("ix_drafts_state_created_at_id", "state", "created_at", "id"),
        # the Publishing calendar: drafts with a time in a range, and those sent without one
        # in a range (also the queue's recently published drafts); app/storage/outbox_views.py
        Index("ix_drafts_schedule_at_id", "schedule_at", "id"),
        Index("ix_drafts_state_kind_updated_at_id", "state", "kind", "updated_at", "id"),
        # what served a social goal, newest first, keyset-paged (app/storage/strategy.py)
        Index("ix_drafts_social_goal_id_updated_at_id", "social_goal_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20), default=DraftState.DRAFT)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    in_reply_to_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    current_version: Mapped[int] = mapped_column(default=1)
    schedule_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    social_goal_id: Mapped[int | None] = mapped_column(
        ForeignKey("strategy_items.id", ondelete="SET NULL")
    )
    tactic_id: Mapped[int | None] = mapped_column(
        ForeignKey("strategy_items.id", ondelete="SET NULL")
    )
    failure_reason: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    versions: Mapped[list[DraftVersion]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="DraftVersion.version"
    )
    targets: Mapped[list[DraftTarget]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    approvals: Mapped[list[Approval]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    approvers: Mapped[list[DraftApprover]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class DraftVersion(Base):
    """The text of one version of a draft; editing after approval makes a new one."""

    __tablename__ = "draft_versions"
    __table_args__ = (UniqueConstraint("draft_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"))
    version: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # first submitted (a reviewer may have read it): never rewritten in place after that
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DraftTarget(Base):
    """One account a draft goes out to, with what the network answered.

    The publisher claims a target (``claimed_by``, ``claimed_at``) with a conditional update
    before it sends it, and waits until ``next_attempt_at`` after a transient error, a rate
    limit or a write that may have gone out (``app/services/publisher.py``).
    """

    __tablename__ = "draft_targets"
    __table_args__ = (
        UniqueConstraint("draft_id", "account_id"),
        CheckConstraint(DRAFT_TARGET_STATES_SQL, name="state"),
        Index("ix_draft_targets_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    state: Mapped[str] = mapped_column(String(20), default=DraftTargetState.PENDING)
    external_id: Mapped[str | None] = mapped_column(String(100))
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    error: Mapped[str] = mapped_column(String(1000), default="")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # the network could not tell whether a write went out: a person says
    needs_person: Mapped[bool] = mapped_column(default=False, server_default=false())


class Approval(Base):
    """One person's decision on one version of a draft; a rejection needs a reason."""

    __tablename__ = "approvals"
    __table_args__ = (
        UniqueConstraint("draft_id", "version", "person_id"),
        CheckConstraint(DECISIONS_SQL, name="decision"),
        CheckConstraint(
            f"decision = '{Decision.APPROVED.value}' OR length(reason) > 0", name="reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"))
    decision: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DraftApprover(Base):
    """Who may decide a pending draft: people holding ``role`` in the unit or a unit above it.

    The approvals queue's index: written whenever the service works out a waiting draft's
    requirement (on submit, after each decision, when its approval lapses), one row per demand,
    and dropped when the draft stops waiting, so the queue finds a supervisor's drafts without
    evaluating every pending draft. Each draft the queue finds is checked again against the
    rules in force before it is shown.
    """

    __tablename__ = "draft_approvers"
    __table_args__ = (
        CheckConstraint(APPROVER_ROLES_SQL, name="role"),
        Index("ix_draft_approvers_role_unit_id", "role", "unit_id"),  # whose queue
    )

    draft_id: Mapped[int] = mapped_column(
        ForeignKey("drafts.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )


class SavedReply(Base):
    """A unit's ready-made answer, with placeholders (``app.domain.saved_replies``).

    Offered in the unit and its sub-units; supervisors and administrators of the unit keep them.
    """

    __tablename__ = "saved_replies"
    __table_args__ = (
        UniqueConstraint("unit_id", "title"),
        CheckConstraint("length(title) > 0", name="title"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
