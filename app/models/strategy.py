"""Strategy funnel items and their links, the audit log and workspace metadata."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.enums import Horizon, StrategyItemType
from app.models.base import Base, UtcDateTime, one_of, utcnow


class StrategyItem(Base):
    """A business goal, department goal, audience insight, social goal or tactic."""

    __tablename__ = "strategy_items"
    __table_args__ = (
        CheckConstraint(one_of("type", StrategyItemType), name="type"),
        CheckConstraint(one_of("horizon", Horizon, nullable=True), name="horizon"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)  # stable across strategy files
    type: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    kpi: Mapped[str] = mapped_column(String(300), default="")
    target: Mapped[str] = mapped_column(String(100), default="")
    deadline: Mapped[date | None] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(100), default="")
    cadence: Mapped[str] = mapped_column(String(100), default="")
    horizon: Mapped[str | None] = mapped_column(String(10))
    position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class StrategyLink(Base):
    """``child`` derives from or serves ``parent`` (a social goal from a goal; a tactic a goal)."""

    __tablename__ = "strategy_links"

    child_id: Mapped[int] = mapped_column(
        ForeignKey("strategy_items.id", ondelete="CASCADE"), primary_key=True
    )
    parent_id: Mapped[int] = mapped_column(
        ForeignKey("strategy_items.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AuditEntry(Base):
    """Append-only record of a state change: who, what, when, before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    person_name: Mapped[str] = mapped_column(String(200), default="")  # survives the person
    action: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[int | None]
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class MetaEntry(Base):
    """Workspace-level key/value facts (how the demo was generated, for instance)."""

    __tablename__ = "workspace_meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
