"""Who is who in SQL: the organization, the unit tree, people and roles, the accounts list."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

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
            ).order_by(Account.network, Account.handle)
        ).all()
        return [AccountRow(*r) for r in rows]
