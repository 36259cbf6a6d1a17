"""Routing, policy and approval rules, stored as rows the domain engines evaluate."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.enums import ApprovalCondition, DraftKind, PolicyKind, Role
from app.models.base import Base, UtcDateTime, one_of, utcnow


class RoutingRule(Base):
    """An ordered rule: conditions (JSON) and actions (JSON); ``stop`` ends evaluation."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(default=True)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    stop: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PolicyRule(Base):
    """One line of the social media policy, scoped to a unit, account or network (or global)."""

    __tablename__ = "policy_rules"
    __table_args__ = (CheckConstraint(one_of("kind", PolicyKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # stable across strategy files, so a line merges item by item (migration 0012)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid4()))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(Text)
    network: Mapped[str | None] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(String(500), default="")


class ApprovalRule(Base):
    """How many approvals, from whom and when; per unit (inherited by sub-units), account, kind."""

    __tablename__ = "approval_rules"
    __table_args__ = (
        CheckConstraint("required_approvals >= 0", name="required_approvals"),
        CheckConstraint(one_of("condition", ApprovalCondition), name="condition"),
        CheckConstraint(one_of("draft_kind", DraftKind, nullable=True), name="draft_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    draft_kind: Mapped[str | None] = mapped_column(String(10))
    condition: Mapped[str] = mapped_column(String(30), default=ApprovalCondition.ALWAYS)
    required_approvals: Mapped[int] = mapped_column(default=1)
    approver_role: Mapped[str] = mapped_column(String(20), default=Role.SUPERVISOR)
    approver_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
