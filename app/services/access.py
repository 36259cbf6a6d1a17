"""Permissions in the service layer: the domain's decision on the roles the workspace holds.

Every use case that changes something asks :meth:`AccessService.require` first, with the person
acting (the current operator) and the unit concerned; a refusal is :class:`NotAllowed` whose
message names what is missing ("Only an administrator of Marketing can …").
"""

from __future__ import annotations

from app.domain.permissions import (
    Action,
    Actor,
    Decision,
    Place,
    deactivated,
    decide,
    decide_anywhere,
)
from app.storage.ports import Storage, StorageUnitOfWork

NOBODY = "Nobody with that id works in this workspace."


def active_actor(uow: StorageUnitOfWork, operator: int) -> Actor:
    """The operator as an actor, when they may act at all.

    Raises:
        NotAllowed: no such person, or deactivated.
    """
    actor = uow.directory.actor(operator)
    if actor is None:
        raise NotAllowed(NOBODY)
    if not actor.active:
        raise NotAllowed(deactivated(actor.name))
    return actor


class NotAllowed(Exception):  # noqa: N818 - reads as what happened
    """The operator lacks the role this action needs; the message says which."""


class AccessService:
    """Answers "may this person do this here?"; safe from any thread (a unit of work per call)."""

    def __init__(self, db: Storage) -> None:
        self._db = db

    def decide(
        self,
        person_id: int,
        action: Action,
        unit_id: int | None = None,
        *,
        doing: str | None = None,
    ) -> Decision:
        """The decision for ``person_id`` doing ``action`` in ``unit_id`` (None: the workspace)."""
        with self._db.uow() as uow:
            return decide_in(uow, person_id, action, unit_id, doing=doing)

    def anywhere(self, person_id: int, action: Action, *, doing: str) -> Decision:
        """Whether the person may do ``action`` in at least one unit (a screen's first check).

        The unit an action finally concerns is checked again when it happens.
        """
        with self._db.uow() as uow:
            return decide_anywhere_in(uow, person_id, action, doing=doing)

    def may(self, person_id: int, action: Action, unit_id: int | None = None) -> bool:
        return self.decide(person_id, action, unit_id).allowed

    def require(
        self,
        person_id: int,
        action: Action,
        unit_id: int | None = None,
        *,
        doing: str | None = None,
    ) -> None:
        """Raise :class:`NotAllowed` unless the person may.

        Raises:
            NotAllowed: with the reason, for a person to read.
        """
        with self._db.uow() as uow:
            require_in(uow, person_id, action, unit_id, doing=doing)


def decide_in(
    uow: StorageUnitOfWork,
    person_id: int,
    action: Action,
    unit_id: int | None = None,
    *,
    doing: str | None = None,
) -> Decision:
    """:meth:`AccessService.decide` inside a unit of work a use case already holds."""
    actor = uow.directory.actor(person_id)
    if actor is None:
        return Decision(False, NOBODY)
    place = uow.directory.place(unit_id) or Place("/", "this workspace")
    return decide(actor, action, place, doing=doing)


def require_in(
    uow: StorageUnitOfWork,
    person_id: int,
    action: Action,
    unit_id: int | None = None,
    *,
    doing: str | None = None,
) -> Actor:
    """:meth:`AccessService.require` inside a unit of work; the actor when allowed.

    Raises:
        NotAllowed: with the reason.
    """
    decision = decide_in(uow, person_id, action, unit_id, doing=doing)
    if not decision.allowed:
        raise NotAllowed(decision.reason)
    actor = uow.directory.actor(person_id)
    assert actor is not None  # allowed means found
    return actor


def decide_anywhere_in(
    uow: StorageUnitOfWork, person_id: int, action: Action, *, doing: str
) -> Decision:
    """:meth:`AccessService.anywhere` inside a unit of work a use case already holds."""
    actor = uow.directory.actor(person_id)
    if actor is None:
        return Decision(False, NOBODY)
    return decide_anywhere(actor, action, doing=doing)


def require_anywhere_in(
    uow: StorageUnitOfWork, person_id: int, action: Action, *, doing: str
) -> Actor:
    """Raise :class:`NotAllowed` unless the person may do ``action`` in some unit.

    Raises:
        NotAllowed: with the reason.
    """
    decision = decide_anywhere_in(uow, person_id, action, doing=doing)
    if not decision.allowed:
        raise NotAllowed(decision.reason)
    actor = uow.directory.actor(person_id)
    assert actor is not None  # allowed means found
    return actor
