"""Signing in with a passphrase: argon2id hashes, wrong attempts wait, on both engines."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.domain.signin import PassphraseError
from app.models import AuditEntry, Person
from app.services.access import NotAllowed
from app.services.container import Services
from app.services.signin import SignInRefused, SignInService

SECRET = "correct horse battery staple"
INGRID = "ingrid.solberg@acme-mobility.example"
TOM = "tom.becker@acme-mobility.example"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _id(services: Services, email: str) -> int:
    person = services.directory.person_by_email(email)
    assert person is not None
    return person.id


def _stored_hash(services: Services, person_id: int) -> str | None:
    with services.db.engine.connect() as conn:
        return conn.execute(select(Person.passphrase_hash).where(Person.id == person_id)).scalar()


def test_a_passphrase_is_stored_as_an_argon2id_hash_and_checked(
    demo_services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    signin = demo_services.signin
    tom = _id(demo_services, TOM)
    assert not signin.state(tom).has_passphrase
    signin.set_own_passphrase(tom, None, SECRET)
    stored = _stored_hash(demo_services, tom)
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert SECRET not in stored
    assert stored != SECRET
    signin.sign_in(tom, SECRET)
    with pytest.raises(SignInRefused, match="not right"):
        signin.sign_in(tom, SECRET.upper())
    with pytest.raises(SignInRefused, match="not right"):  # changing it needs the current one
        signin.set_own_passphrase(tom, "a guess that is long", "another long passphrase")
    assert _stored_hash(demo_services, tom) == stored
    assert SECRET not in caplog.text
    with demo_services.db.engine.connect() as conn:
        audit = conn.execute(select(AuditEntry.action, AuditEntry.after)).all()
    assert ("person.passphrase_set", None) in [tuple(a) for a in audit]
    assert all(SECRET not in str(a) for a in audit)


def test_wrong_passphrases_make_the_next_attempt_wait_longer(demo_services: Services) -> None:
    clock = Clock()
    signin = SignInService(demo_services.db, clock=clock)
    tom = _id(demo_services, TOM)
    signin.set_own_passphrase(tom, None, SECRET)
    waits = []
    for _ in range(5):
        with pytest.raises(SignInRefused):
            signin.sign_in(tom, "not it, not it at all")
        waits.append(signin.state(tom).wait_s)
        clock.now += timedelta(seconds=waits[-1])
    assert waits[:2] == [0.0, 0.0]  # typos are free
    assert waits[2:] == [2.0, 4.0, 8.0]
    with pytest.raises(SignInRefused, match=r"not right\. Wait 16 s"):
        signin.sign_in(tom, "still not it, sorry")
    with pytest.raises(SignInRefused, match="try again in"):  # even the right one waits
        signin.sign_in(tom, SECRET)
    clock.now += timedelta(seconds=16)
    signin.sign_in(tom, SECRET)
    assert signin.state(tom).wait_s == 0.0
    with pytest.raises(SignInRefused):  # the count started again
        signin.sign_in(tom, "not it, not it at all")
    assert signin.state(tom).wait_s == 0.0


def test_weak_passphrases_are_refused_with_a_reason(demo_services: Services) -> None:
    tom = _id(demo_services, TOM)
    with pytest.raises(PassphraseError, match="at least 12 characters"):
        demo_services.signin.set_own_passphrase(tom, None, "short")
    with pytest.raises(PassphraseError, match="your name or your email"):
        demo_services.signin.set_own_passphrase(tom, None, TOM.upper())
    assert _stored_hash(demo_services, tom) is None


def test_sign_in_is_turned_on_by_a_workspace_administrator_who_has_a_passphrase(
    demo_services: Services,
) -> None:
    signin = demo_services.signin
    ingrid, tom = _id(demo_services, INGRID), _id(demo_services, TOM)
    with pytest.raises(NotAllowed, match="Only an administrator of"):
        signin.set_required(tom, True)
    with pytest.raises(PassphraseError, match="Set your own passphrase first"):
        signin.set_required(ingrid, True)
    assert not signin.required()
    signin.set_own_passphrase(ingrid, None, SECRET)
    signin.set_required(ingrid, True)
    assert signin.required()
    with pytest.raises(SignInRefused, match="has no passphrase yet"):
        signin.sign_in(tom, "anything at all here")
    signin.reset_passphrase(ingrid, tom, "a temporary passphrase")
    signin.sign_in(tom, "a temporary passphrase")
    with pytest.raises(NotAllowed, match=r"Only an administrator of .* reset people.s passphrases"):
        signin.reset_passphrase(tom, ingrid, "taking over the admin")
    signin.sign_in(ingrid, SECRET)


def test_a_deactivated_person_cannot_sign_in(demo_services: Services) -> None:
    tom = _id(demo_services, TOM)
    demo_services.signin.set_own_passphrase(tom, None, SECRET)
    with demo_services.db.engine.begin() as conn:
        conn.execute(update(Person).where(Person.id == tom).values(active=False))
    with pytest.raises(SignInRefused, match="deactivated"):
        demo_services.signin.sign_in(tom, SECRET)
