"""Who is who in SQL: the organization, the unit tree, people and roles, the accounts list."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.enums import Role
from app.domain.permissions import Actor, Grant, Place
from app.domain.rows import AccountRow, UnitRow
from app.models import Account, Organization, Person, RoleAssignment, Unit
from app.storage.ports import PersonEntry, RoleEntry, UnitEntry


class SqlDirectory:
    """:class:`app.storage.ports.DirectoryRepository` on a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def organization_name(self) -> str | None:
        return self._s.execute(select(Organization.name).limit(1)).scalar()

    def units(self) -> list[UnitEntry]:
        rows = self._s.execute(
            select(
                Unit.id,
                Unit.parent_id,
                Unit.path,
                Unit.name,
                Unit.kind,
                Unit.colour,
                Unit.languages,
                Unit.is_triage,
                Unit.sort_order,
            )
        )
        return [UnitEntry(UnitRow(*r[:8]), r[8]) for r in rows]

    def roles(self) -> list[RoleEntry]:
        rows = self._s.execute(
            select(RoleAssignment.person_id, RoleAssignment.role, Unit.name)
            .join(Unit, Unit.id == RoleAssignment.unit_id)
            .order_by(Unit.path, RoleAssignment.role)
        )
        return [RoleEntry(*r) for r in rows]

    def active_people(self) -> list[PersonEntry]:
        rows = self._s.execute(
            select(Person.id, Person.name, Person.email, Person.title)
            .where(Person.active.is_(True))
            .order_by(Person.name)
        )
        return [PersonEntry(*r) for r in rows]

    def person_name(self, person_id: int) -> str | None:
        return self._s.execute(select(Person.name).where(Person.id == person_id)).scalar()

    def has_role(self, person_id: int, role: str) -> bool:
        found = self._s.scalar(
            select(RoleAssignment.id)
            .where(RoleAssignment.person_id == person_id, RoleAssignment.role == role)
            .limit(1)
        )
        return found is not None

    def actor(self, person_id: int) -> Actor | None:
        person = self._s.execute(
            select(Person.name, Person.active).where(Person.id == person_id)
        ).first()
        if person is None:
            return None
        grants = self._s.execute(
            select(RoleAssignment.role, Unit.path)
            .join(Unit, Unit.id == RoleAssignment.unit_id)
            .where(RoleAssignment.person_id == person_id)
            .order_by(Unit.path, RoleAssignment.role)
        )
        return Actor(
            person_id,
            person.name,
            bool(person.active),
            tuple(Grant(Role(role), path) for role, path in grants),
        )

    def place(self, unit_id: int | None) -> Place | None:
        query = select(Unit.path, Unit.name)
        if unit_id is None:
            query = query.where(Unit.parent_id.is_(None)).order_by(Unit.sort_order, Unit.id)
        else:
            query = query.where(Unit.id == unit_id)
        row = self._s.execute(query.limit(1)).first()
        return None if row is None else Place(row.path, row.name)

    def accounts(self) -> list[AccountRow]:
        rows = self._s.execute(
            select(
                Account.id,
                Account.network,
                Account.handle,
                Account.display_name,
                Account.unit_id,
                Account.state,
                Account.state_detail,
                Account.poll_interval_s,
                Account.rate_limited_until,
            ).order_by(Account.network, Account.handle)
        ).all()
        return [AccountRow(*r) for r in rows]
