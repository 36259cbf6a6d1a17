"""People and their roles in SQL: Settings > People and roles, and the CSV import's bulk writes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import (
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from app.models import Person, RoleAssignment
from app.storage.ports import HeldRole, NewPerson, PersonRecord

_RECORD = (Person.id, Person.name, Person.email, Person.title, Person.active)
_ESCAPE = "\\"
_PEOPLE = cast(Table, Person.__table__)
_ROLES = cast(Table, RoleAssignment.__table__)


def like_pattern(text: str) -> str:
    r"""``%text%`` with LIKE's wildcards in ``text`` taken literally (escaped with ``\\``)."""
    escaped = text.replace(_ESCAPE, _ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _record(row: Sequence[object]) -> PersonRecord:
    pid, name, email, title, active = row
    return PersonRecord(int(str(pid)), str(name), str(email), str(title or ""), bool(active))


class SqlPeople:
    """:class:`app.storage.ports.PeopleRepository` on a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    # -- reading ----------------------------------------------------------------------------

    def get(self, person_id: int) -> PersonRecord | None:
        row = self._s.execute(select(*_RECORD).where(Person.id == person_id)).first()
        return None if row is None else _record(row)

    def find_email(self, email: str) -> PersonRecord | None:
        row = self._s.execute(
            select(*_RECORD).where(func.lower(Person.email) == email.strip().lower()).limit(1)
        ).first()
        return None if row is None else _record(row)

    def search(
        self,
        text: str = "",
        *,
        include_inactive: bool = True,
        after: tuple[str, int] | None = None,
        limit: int = 200,
    ) -> list[PersonRecord]:
        query = select(*_RECORD)
        words = text.split()
        for word in words:  # every word in the name or the email
            pattern = like_pattern(word)
            query = query.where(
                or_(
                    Person.name.ilike(pattern, escape=_ESCAPE),
                    Person.email.ilike(pattern, escape=_ESCAPE),
                )
            )
        if not include_inactive:
            query = query.where(Person.active.is_(True))
        if after is not None:
            query = query.where(
                tuple_(Person.name, Person.id) > tuple_(literal(after[0]), literal(after[1]))
            )
        rows = self._s.execute(query.order_by(Person.name, Person.id).limit(max(1, limit)))
        return [_record(r) for r in rows]

    def everyone(self) -> list[PersonRecord]:
        return [_record(r) for r in self._s.execute(select(*_RECORD).order_by(Person.id))]

    def all_roles(self) -> list[HeldRole]:
        rows = self._s.execute(
            select(RoleAssignment.person_id, RoleAssignment.unit_id, RoleAssignment.role).order_by(
                RoleAssignment.person_id, RoleAssignment.unit_id, RoleAssignment.role
            )
        )
        return [HeldRole(*r) for r in rows]

    def roles_of(self, person_id: int) -> list[HeldRole]:
        rows = self._s.execute(
            select(RoleAssignment.person_id, RoleAssignment.unit_id, RoleAssignment.role)
            .where(RoleAssignment.person_id == person_id)
            .order_by(RoleAssignment.unit_id, RoleAssignment.role)
        )
        return [HeldRole(*r) for r in rows]

    def holders(self, unit_id: int, role: str) -> list[PersonRecord]:
        rows = self._s.execute(
            select(*_RECORD)
            .join(RoleAssignment, RoleAssignment.person_id == Person.id)
            .where(RoleAssignment.unit_id == unit_id, RoleAssignment.role == role)
            .order_by(Person.id)
        )
        return [_record(r) for r in rows]

    # -- one at a time ----------------------------------------------------------------------

    def add(self, person: NewPerson) -> int:
        person_id = self._s.execute(
            insert(Person)
            .values(name=person.name, email=person.email, title=person.title)
            .returning(Person.id)
        ).scalar_one()
        return int(person_id)

    def edit(self, person_id: int, *, name: str, email: str, title: str) -> None:
        self._s.execute(
            update(Person).where(Person.id == person_id).values(name=name, email=email, title=title)
        )

    def set_active(self, person_id: int, active: bool, at: datetime | None) -> None:
        self._s.execute(
            update(Person)
            .where(Person.id == person_id)
            .values(active=active, deactivated_at=None if active else at)
        )

    def grant(self, person_id: int, unit_id: int, role: str) -> bool:
        held = self._s.scalar(
            select(RoleAssignment.id).where(
                RoleAssignment.person_id == person_id,
                RoleAssignment.unit_id == unit_id,
                RoleAssignment.role == role,
            )
        )
        if held is not None:
            return False
        self._s.execute(
            insert(RoleAssignment).values(person_id=person_id, unit_id=unit_id, role=role)
        )
        return True

    def revoke(self, person_id: int, unit_id: int, role: str) -> bool:
        result = self._s.execute(
            delete(RoleAssignment).where(
                RoleAssignment.person_id == person_id,
                RoleAssignment.unit_id == unit_id,
                RoleAssignment.role == role,
            )
        )
        return bool(getattr(result, "rowcount", 0))

    # -- set-wise, for the import (the caller's one transaction) ----------------------------

    def add_many(self, people: Sequence[NewPerson]) -> dict[str, int]:
        if not people:
            return {}
        # One INSERT … RETURNING executed for many rows (SQLAlchemy's "insertmanyvalues").
        rows = self._s.execute(
            insert(_PEOPLE).returning(_PEOPLE.c.id, _PEOPLE.c.email),
            [{"name": p.name, "email": p.email, "title": p.title} for p in people],
        )
        return {str(email).lower(): int(pid) for pid, email in rows}

    def grant_many(self, roles: Sequence[HeldRole]) -> None:
        if roles:
            self._s.execute(
                insert(_ROLES),
                [{"person_id": r.person_id, "unit_id": r.unit_id, "role": r.role} for r in roles],
            )

    def rename_many(self, names: Sequence[tuple[int, str]]) -> None:
        if names:
            self._s.execute(
                update(_PEOPLE)
                .where(_PEOPLE.c.id == bindparam("pid"))
                .values(name=bindparam("new")),
                [{"pid": pid, "new": name} for pid, name in names],
            )
