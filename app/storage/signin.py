"""Sign-in in SQL: a person's passphrase hash and wrong attempts, and the workspace's setting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Organization, Person


@dataclass(frozen=True, slots=True)
class Credentials:
    """What checking a passphrase needs of a person (the hash never leaves storage otherwise)."""

    person_id: int
    name: str
    email: str
    active: bool
    passphrase_hash: str | None
    failed_sign_ins: int
    blocked_until: datetime | None


class SqlSignIn:
    """:class:`app.storage.ports.SignInRepository` on a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def credentials(self, person_id: int) -> Credentials | None:
        row = self._s.execute(
            select(
                Person.id,
                Person.name,
                Person.email,
                Person.active,
                Person.passphrase_hash,
                Person.failed_sign_ins,
                Person.sign_in_blocked_until,
            ).where(Person.id == person_id)
        ).first()
        return None if row is None else Credentials(*row)

    def set_hash(self, person_id: int, passphrase_hash: str | None) -> None:
        self._s.execute(
            update(Person)
            .where(Person.id == person_id)
            .values(passphrase_hash=passphrase_hash, failed_sign_ins=0, sign_in_blocked_until=None)
        )

    def record_attempt(self, person_id: int, failures: int, blocked_until: datetime | None) -> None:
        self._s.execute(
            update(Person)
            .where(Person.id == person_id)
            .values(failed_sign_ins=failures, sign_in_blocked_until=blocked_until)
        )

    def required(self) -> bool:
        found = self._s.execute(select(Organization.passphrase_required).limit(1)).scalar()
        return bool(found)

    def set_required(self, required: bool) -> None:
        self._s.execute(update(Organization).values(passphrase_required=required))
