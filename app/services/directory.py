"""Who is who: the organization, people with their roles, and the connected accounts."""

from __future__ import annotations

from collections import defaultdict

from app.domain.rows import AccountRow, PersonRow
from app.storage.ports import Storage


class DirectoryService:
    def __init__(self, db: Storage) -> None:
        self._db = db

    def organization_name(self) -> str:
        with self._db.uow() as uow:
            return uow.directory.organization_name() or "Untitled"

    def people(self) -> list[PersonRow]:
        """Active people with their roles, by name."""
        with self._db.uow() as uow:
            assignments = uow.directory.roles()
            people = uow.directory.active_people()
        roles: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for a in assignments:
            roles[a.person_id].append((a.role, a.unit_name))
        return [PersonRow(p.id, p.name, p.email, p.title, tuple(roles[p.id])) for p in people]

    def person(self, person_id: int) -> PersonRow | None:
        return next((p for p in self.people() if p.id == person_id), None)

    def person_by_email(self, email: str) -> PersonRow | None:
        wanted = email.strip().lower()
        return next((p for p in self.people() if p.email.lower() == wanted), None)

    def accounts(self) -> list[AccountRow]:
        with self._db.uow() as uow:
            return uow.directory.accounts()
