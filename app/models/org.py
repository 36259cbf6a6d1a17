"""Organization, the unit tree, people and their roles per unit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.enums import Role, UnitKind
from app.domain.hours import standard_week
from app.models.base import Base, UtcDateTime, one_of, utcnow

ROLES_SQL = one_of("role", Role)
UNIT_KINDS_SQL = one_of("kind", UnitKind)


class Organization(Base):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    mission: Mapped[str] = mapped_column(Text, default="")
    executive_sponsor_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")  # an IANA zone name
    # The weekly schedule: {"mon": [["09:00", "17:00"]], ..., "sun": []} (app.domain.hours).
    business_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=standard_week)
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO dates
    # People prove who they are with a passphrase (argon2id hashes in people.passphrase_hash).
    passphrase_required: Mapped[bool] = mapped_column(default=False)
    # The spam filter (app.domain.spam): at or above this score a conversation is spam.
    spam_threshold: Mapped[float] = mapped_column(Float, default=0.6)
    spam_keywords: Mapped[list[str]] = mapped_column(JSON, default=list)  # words or phrases
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    deactivated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # An argon2id hash (never the passphrase); the wrong attempts since the last right one, and
    # until when signing in waits after them.
    passphrase_hash: Mapped[str | None] = mapped_column(String(200))
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    sign_in_blocked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="person", cascade="all, delete-orphan", passive_deletes=True
    )


class Unit(Base):
    """A department, office or division; ``path`` is the materialised path ("/1/4/9/")."""

    __tablename__ = "units"
    __table_args__ = (
        UniqueConstraint("parent_id", "name"),
        CheckConstraint(UNIT_KINDS_SQL, name="kind"),
        CheckConstraint("colour LIKE '#%'", name="colour"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="RESTRICT"), index=True
    )
    path: Mapped[str] = mapped_column(String(400), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default=UnitKind.DEPARTMENT)
    colour: Mapped[str] = mapped_column(String(9), default="#607d8b")
    head_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    region: Mapped[str] = mapped_column(String(100), default="")
    languages: Mapped[str] = mapped_column(String(100), default="")  # "de,en"
    # Read by migration 0012 (it became department-goal strategy items) and written back only
    # by its downgrade: nothing else reads or writes it any more.
    goals: Mapped[str] = mapped_column(Text, default="")
    is_triage: Mapped[bool] = mapped_column(default=False)
    sort_order: Mapped[int] = mapped_column(default=0)
    # Hours to a first response, counted in business hours; None: no target.
    first_response_target_h: Mapped[float | None] = mapped_column(Float)
    # The unit's own weekly schedule instead of the organization's (same shape); None: inherit.
    business_hours: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    # passive_deletes="all": the database refuses to delete a unit that has sub-units, instead
    # of the ORM quietly detaching them.
    children: Mapped[list[Unit]] = relationship(back_populates="parent", passive_deletes="all")


class RoleAssignment(Base):
    """A person's role in a unit (a supervisor of a unit supervises its sub-units too)."""

    __tablename__ = "role_assignments"
    __table_args__ = (
        UniqueConstraint("person_id", "unit_id", "role"),
        CheckConstraint(ROLES_SQL, name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))

    person: Mapped[Person] = relationship(back_populates="roles")
    unit: Mapped[Unit] = relationship()
