"""Signing in with a passphrase: set your own, an administrator resets one, wrong ones wait.

Passphrases are hashed with argon2id (argon2-cffi's defaults, RFC 9106); the passphrase itself
is never stored, logged or kept after the call. With the workspace setting off, choosing who you
are is a matter of trust, and the window says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.domain.permissions import Action
from app.domain.signin import PassphraseError, check_new_passphrase, delay_after
from app.services.access import NotAllowed, require_in
from app.services.auditing import record_change
from app.storage.ports import Storage, StorageUnitOfWork

log = logging.getLogger("quiver.services.signin")

__all__ = ["PassphraseError", "SignInRefused", "SignInService"]


class SignInRefused(Exception):  # noqa: N818 - reads as what happened
    """The passphrase was wrong, or signing in must wait; the message says which."""


@dataclass(frozen=True, slots=True)
class SignInState:
    """What the sign-in dialog shows before anyone types."""

    required: bool
    has_passphrase: bool
    wait_s: float  # seconds until the next attempt is taken (0: now)


def _hasher() -> Any:
    from argon2 import PasswordHasher  # late: only signing in needs it

    return PasswordHasher()


class SignInService:
    """Safe from any thread: a unit of work per call."""

    def __init__(
        self,
        db: Storage,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        hasher: Callable[[], Any] = _hasher,
    ) -> None:
        self._db = db
        self._clock = clock
        self._hasher = hasher

    def required(self) -> bool:
        with self._db.uow() as uow:
            return uow.signin.required()

    def state(self, person_id: int) -> SignInState:
        with self._db.uow() as uow:
            creds = uow.signin.credentials(person_id)
            required = uow.signin.required()
        if creds is None:
            return SignInState(required, False, 0.0)
        wait = 0.0
        if creds.blocked_until is not None:
            wait = max(0.0, (creds.blocked_until - self._clock()).total_seconds())
        return SignInState(required, creds.passphrase_hash is not None, wait)

    def set_required(self, operator_id: int, required: bool) -> None:
        """Turn "people sign in with a passphrase" on or off (administrators of the workspace).

        Raises:
            NotAllowed: not an administrator of the root unit.
            PassphraseError: turning it on while the operator has no passphrase (they would
                lock themselves out).
        """
        with self._db.uow() as uow:
            require_in(uow, operator_id, Action.MANAGE_WORKSPACE)
            before = uow.signin.required()
            if required and not before:
                creds = uow.signin.credentials(operator_id)
                if creds is None or creds.passphrase_hash is None:
                    raise PassphraseError(
                        "Set your own passphrase first: with sign-in on, you will need it."
                    )
            uow.signin.set_required(required)
            self._audit(
                uow,
                operator_id,
                "workspace.sign_in",
                "workspace",
                None,
                {"passphrase_required": before},
                {"passphrase_required": required},
            )
            uow.commit()

    def set_own_passphrase(self, person_id: int, current: str | None, new: str) -> None:
        """Set or change one's own passphrase; the current one is asked when there is one.

        Raises:
            SignInRefused: the current passphrase is wrong (it counts as a wrong attempt).
            PassphraseError: the new one is not acceptable.
            NotAllowed: the person is deactivated.
        """
        with self._db.uow() as uow:
            creds = uow.signin.credentials(person_id)
            if creds is None or not creds.active:
                raise NotAllowed("A deactivated person cannot set a passphrase.")
            check_new_passphrase(new, name=creds.name, email=creds.email)
            if creds.passphrase_hash is not None:
                self._verify(uow, creds.person_id, current or "")
            uow.signin.set_hash(person_id, self._hasher().hash(new))
            self._audit(uow, person_id, "person.passphrase_set", "person", person_id)
            uow.commit()

    def reset_passphrase(self, operator_id: int, person_id: int, new: str | None) -> None:
        """An administrator gives someone a new passphrase (or none, to be set at next start).

        Raises:
            NotAllowed: the operator may not manage this person's units.
            PassphraseError: the new one is not acceptable.
            KeyError: there is no such person.
        """
        with self._db.uow() as uow:
            creds = uow.signin.credentials(person_id)
            if creds is None:
                raise KeyError(f"no person {person_id}")
            require_in(uow, operator_id, Action.MANAGE_PEOPLE, doing="reset people's passphrases")
            if new is not None:
                check_new_passphrase(new, name=creds.name, email=creds.email)
            uow.signin.set_hash(person_id, None if new is None else self._hasher().hash(new))
            self._audit(
                uow, operator_id, "person.passphrase_reset", "person", person_id, None,
                {"person": creds.name, "cleared": new is None},
            )  # fmt: skip
            uow.commit()

    def sign_in(self, person_id: int, passphrase: str) -> None:
        """Check a person's passphrase; wrong ones make the next attempt wait longer.

        Raises:
            SignInRefused: wrong, waiting, no passphrase set, or deactivated.
        """
        with self._db.uow() as uow:
            creds = uow.signin.credentials(person_id)
            if creds is None or not creds.active:
                raise SignInRefused("This person is deactivated and cannot sign in.")
            if creds.passphrase_hash is None:
                raise SignInRefused(
                    f"{creds.name} has no passphrase yet: an administrator sets one in Settings "
                    "> Sign-in, or turns sign-in off."
                )
            self._verify(uow, person_id, passphrase)
            uow.commit()

    # -- helpers ------------------------------------------------------------------------------

    def _verify(self, uow: StorageUnitOfWork, person_id: int, passphrase: str) -> None:
        """Check ``passphrase`` against the stored hash, counting wrong attempts (committed).

        Raises:
            SignInRefused: wrong, or too soon after wrong ones.
        """
        from argon2.exceptions import InvalidHashError, VerificationError

        creds = uow.signin.credentials(person_id)
        assert creds is not None
        assert creds.passphrase_hash is not None
        now = self._clock()
        if creds.blocked_until is not None and creds.blocked_until > now:
            wait = int((creds.blocked_until - now).total_seconds()) + 1
            raise SignInRefused(f"Too many wrong passphrases: try again in {wait} s.")
        hasher = self._hasher()
        try:
            hasher.verify(creds.passphrase_hash, passphrase)
        except (VerificationError, InvalidHashError):
            failures = creds.failed_sign_ins + 1
            delay = delay_after(failures)
            uow.signin.record_attempt(person_id, failures, now + delay if delay else None)
            uow.commit()  # the count survives the refusal
            log.info("wrong passphrase for person %s (%s in a row)", person_id, failures)
            then = f" Wait {int(delay.total_seconds())} s before the next try." if delay else ""
            raise SignInRefused(f"That passphrase is not right.{then}") from None
        if hasher.check_needs_rehash(creds.passphrase_hash):
            uow.signin.set_hash(person_id, hasher.hash(passphrase))
        elif creds.failed_sign_ins or creds.blocked_until is not None:
            uow.signin.record_attempt(person_id, 0, None)

    @staticmethod
    def _audit(
        uow: StorageUnitOfWork,
        operator_id: int,
        action: str,
        entity: str,
        entity_id: int | None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        record_change(
            uow,
            at=datetime.now(UTC),
            person_id=operator_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
        )
