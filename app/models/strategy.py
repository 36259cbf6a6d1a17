"""Strategy funnel items and their links, exported revisions, deletions, audit log, metadata."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, String, Text
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
    # A social goal's KPI: its name, the target and the baseline as numbers in ``kpi_unit``
    # ("median first response", 2, "h", baseline 6); migration 0012 read the old text target.
    kpi: Mapped[str] = mapped_column(String(300), default="")
    kpi_target: Mapped[float | None] = mapped_column(Float)
    kpi_unit: Mapped[str] = mapped_column(String(40), default="")
    baseline: Mapped[float | None] = mapped_column(Float)
    deadline: Mapped[date | None] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(100), default="")
    cadence: Mapped[str] = mapped_column(String(100), default="")
    horizon: Mapped[str | None] = mapped_column(String(10))
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)  # horizons count
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


class StrategyRevision(Base):
    """A revision of the strategy the workspace exported, with what it was (for a later merge).

    ``snapshot`` is the strategy as :meth:`app.services.strategy.StrategyService.snapshot`
    wrote it; a file exported at revision ``number`` is merged against it on import.
    """

    __tablename__ = "strategy_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    person_name: Mapped[str] = mapped_column(String(200), default="")  # survives the person
    note: Mapped[str] = mapped_column(String(500), default="")
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)


class StrategyDeletion(Base):
    """A strategy item or policy line deleted: kept so a merge knows it went, and since when.

    ``after_revision`` is the newest exported revision when it was deleted (None: none yet):
    a file exported at that revision or before still has it, and its import must not bring it
    back unasked.
    """

    __tablename__ = "strategy_deletions"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), index=True)
    type: Mapped[str] = mapped_column(String(20))  # a StrategyItemType, or "policy_line"
    title: Mapped[str] = mapped_column(String(300), default="")
    deleted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    after_revision: Mapped[int | None]
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    person_name: Mapped[str] = mapped_column(String(200), default="")


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
