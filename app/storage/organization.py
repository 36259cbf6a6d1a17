"""The organization in SQL, and the rows the first-run set-up writes (people, units, roles)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from app.domain.hours import standard_week
from app.domain.rows import UnitRow
from app.domain.setup import OrganizationRow, PlannedUnit
from app.domain.units import make_path
from app.models import Organization, Person, RoleAssignment, Unit

#: The advisory lock two workstations setting up one PostgreSQL workspace queue on.
SETUP_LOCK_KEY = 0x51_5649_5645  # "QUIVE"


class SqlOrganization:
    """:class:`app.storage.ports.OrganizationRepository` on a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def lock_for_setup(self) -> None:
        if self._s.get_bind().dialect.name == "postgresql":
            # Held to the end of the transaction: a second set-up waits, then finds the first.
            self._s.execute(select(func.pg_advisory_xact_lock(SETUP_LOCK_KEY)))
        else:
            # A write statement takes SQLite's write lock now, before the checks read anything,
            # so a second set-up waits for this one instead of reading a stale "nobody yet".
            self._s.execute(text("UPDATE organization SET name = name WHERE 1 = 0"))

    def get(self) -> OrganizationRow | None:
        row = self._s.execute(
            select(
                Organization.id,
                Organization.name,
                Organization.mission,
                Organization.executive_sponsor_id,
                Person.name,
                Organization.time_zone,
                Organization.business_hours,
                Organization.holidays,
                Organization.spam_threshold,
                Organization.spam_keywords,
            )
            .outerjoin(Person, Person.id == Organization.executive_sponsor_id)
            .order_by(Organization.id)
            .limit(1)
        ).first()
        if row is None:
            return None
        return OrganizationRow(
            id=row[0],
            name=row[1],
            mission=row[2] or "",
            executive_sponsor_id=row[3],
            executive_sponsor_name=row[4],
            time_zone=row[5] or "UTC",
            business_hours=row[6] or standard_week(),
            holidays=tuple(row[7] or ()),
            spam_threshold=float(row[8]) if row[8] is not None else 0.6,
            spam_keywords=tuple(row[9] or ()),
        )

    def create(self, *, name: str, mission: str, time_zone: str, business_hours: Any) -> int:
        org = Organization(
            name=name, mission=mission, time_zone=time_zone, business_hours=business_hours
        )
        self._s.add(org)
        self._s.flush()
        return org.id

    def save(self, row: OrganizationRow) -> None:
        self._s.execute(
            update(Organization)
            .where(Organization.id == row.id)
            .values(
                name=row.name,
                mission=row.mission,
                executive_sponsor_id=row.executive_sponsor_id,
                time_zone=row.time_zone,
                business_hours=row.business_hours,
                spam_threshold=row.spam_threshold,
                spam_keywords=list(row.spam_keywords),
            )
        )

    def person_by_email(self, email: str) -> int | None:
        return self._s.execute(
            select(Person.id).where(func.lower(Person.email) == email.strip().lower()).limit(1)
        ).scalar()

    def add_person(self, *, name: str, email: str, title: str = "") -> int:
        person = Person(name=name, email=email, title=title)
        self._s.add(person)
        self._s.flush()
        return person.id

    def add_unit(self, parent_id: int | None, unit: PlannedUnit) -> UnitRow:
        parent_path = None
        if parent_id is not None:
            parent_path = self._s.execute(select(Unit.path).where(Unit.id == parent_id)).scalar()
            if parent_path is None:
                raise KeyError(f"no unit {parent_id}")
        row = Unit(
            parent_id=parent_id,
            # A placeholder unique to this insert: the path holds the id, known after the flush.
            path=f"/new/{parent_id}/{unit.sort_order}/{unit.name}",
            name=unit.name,
            kind=unit.kind.value,
            colour=unit.colour,
            is_triage=unit.is_triage,
            sort_order=unit.sort_order,
        )
        self._s.add(row)
        self._s.flush()
        row.path = make_path(parent_path, row.id)
        self._s.flush()
        return UnitRow(
            row.id, parent_id, row.path, row.name, row.kind, row.colour, "", row.is_triage
        )

    def rename_unit(self, unit_id: int, name: str) -> None:
        self._s.execute(update(Unit).where(Unit.id == unit_id).values(name=name))

    def grant(self, person_id: int, unit_id: int, role: str) -> None:
        self._s.add(RoleAssignment(person_id=person_id, unit_id=unit_id, role=role))
        self._s.flush()
