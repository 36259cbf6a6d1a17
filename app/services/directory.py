"""Who is who: the organization, people with their roles, and the connected accounts."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from app.domain.rows import AccountRow, PersonRow
from app.models import Account, Organization, Person, RoleAssignment, Unit
from app.storage.workspace import Database


class DirectoryService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def organization_name(self) -> str:
        with self._db.engine.connect() as conn:
            return conn.execute(select(Organization.name).limit(1)).scalar() or "Untitled"

    def people(self) -> list[PersonRow]:
        """Active people with their roles, by name."""
        with self._db.engine.connect() as conn:
            roles: dict[int, list[tuple[str, str]]] = defaultdict(list)
            for pid, role, unit in conn.execute(
                select(RoleAssignment.person_id, RoleAssignment.role, Unit.name)
                .join(Unit, Unit.id == RoleAssignment.unit_id)
                .order_by(Unit.path, RoleAssignment.role)
            ):
                roles[pid].append((role, unit))
            people = conn.execute(
                select(Person.id, Person.name, Person.email, Person.title)
                .where(Person.active.is_(True))
                .order_by(Person.name)
            ).all()
        return [PersonRow(p.id, p.name, p.email, p.title, tuple(roles[p.id])) for p in people]

    def person(self, person_id: int) -> PersonRow | None:
        return next((p for p in self.people() if p.id == person_id), None)

    def person_by_email(self, email: str) -> PersonRow | None:
        wanted = email.strip().lower()
        return next((p for p in self.people() if p.email.lower() == wanted), None)

    def accounts(self) -> list[AccountRow]:
        with self._db.engine.connect() as conn:
            rows = conn.execute(
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
