"""Permissions in the service layer: the domain's decision on the roles the workspace holds.

Every use case that changes something asks :meth:`AccessService.require` first, with the person
acting (the current operator) and the unit concerned; a refusal is :class:`NotAllowed` whose
message names what is missing ("Only an administrator of Marketing can …").
"""

from __future__ import annotations

from app.domain.permissions import (
    GRANTS,
    ROLE_NAMES,
    Action,
    Actor,
    Decision,
    Place,
    decide,
    roles_for,
)
from app.storage.ports import Storage, StorageUnitOfWork


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
            actor = uow.directory.actor(person_id)
        if actor is None:
            return Decision(False, "Nobody with that id works in this workspace.")
        if not actor.active:
            return Decision(False, f"{actor.name} is deactivated and can no longer act here.")
        if any(action in GRANTS[g.role] for g in actor.grants):
            return Decision(True)
        roles = " or ".join(ROLE_NAMES[r] for r in roles_for(action))
        return Decision(False, f"Only {roles} can {doing}: {actor.name} holds no such role.")

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
        return Decision(False, "Nobody with that id works in this workspace.")
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
