"""Who may edit which part of the strategy: the roles of ``product.md`` over the unit tree.

- Mission, business goals and the policy: the executive sponsor (the organization's
  ``executive_sponsor_id``), or a strategist or an administrator of the root unit.
- Department goals of a unit: its head (``units.head_id``), a supervisor of it or of a unit
  above it (a supervisor supervises the sub-units too), or a strategist or an administrator of
  it or above.
- Audience insights: strategists and administrators of the insight's unit or above (an
  insight with no unit is the workspace's: the root's).
- Social goals and tactics: strategists and administrators of their unit or above, and the
  unit's head or supervisors for the unit's own social goals and tactics (they own the
  department goals those derive from and usually the tactics); one with no unit is the root's,
  so only the sponsor's circle of the root edits it.
- Exporting a revision for offline editing: anyone who may edit some part of it.

A role is :attr:`Action.EDIT_STRATEGY` (strategists and administrators) or a supervisor role, as
``app.domain.permissions`` grants them; a deactivated person may do nothing. Every refusal is a
:class:`NotAllowed` naming who could.
"""

from __future__ import annotations

from app.domain.enums import Role, StrategyItemType
from app.domain.permissions import GRANTS, Action, Actor, Place, covers
from app.services.access import NOBODY, NotAllowed
from app.storage.ports import StorageUnitOfWork

T = StrategyItemType


def actor_of(uow: StorageUnitOfWork, person_id: int) -> Actor:
    """The active person acting.

    Raises:
        NotAllowed: nobody has that id, or they are deactivated.
    """
    actor = uow.directory.actor(person_id)
    if actor is None:
        raise NotAllowed(NOBODY)
    if not actor.active:
        raise NotAllowed(f"{actor.name} is deactivated and can no longer act in this workspace.")
    return actor


def place_of(uow: StorageUnitOfWork, unit_id: int | None) -> Place:
    """The unit's place (None: the root of the tree).

    Raises:
        KeyError: there is no such unit.
    """
    place = uow.directory.place(unit_id)
    if place is None:
        if unit_id is not None:
            raise KeyError(f"There is no unit {unit_id} in this workspace.")
        return Place("/", "this workspace")
    return place


def _strategist(actor: Actor, place: Place) -> bool:
    return any(
        Action.EDIT_STRATEGY in GRANTS[g.role] and covers(g, place.unit_path) for g in actor.grants
    )


def _head(uow: StorageUnitOfWork, actor: Actor, unit_id: int | None, place: Place) -> bool:
    if unit_id is None:
        return False
    unit = uow.units.get(unit_id)
    if unit is not None and unit.head_id == actor.person_id:
        return True
    return any(g.role == Role.SUPERVISOR and covers(g, place.unit_path) for g in actor.grants)


def _sponsor(uow: StorageUnitOfWork, actor: Actor) -> bool:
    return uow.strategy.sponsor_id() == actor.person_id


def require_sponsor(uow: StorageUnitOfWork, actor: Actor, doing: str) -> None:
    """The executive sponsor, or a strategist or an administrator of the root.

    Raises:
        NotAllowed: naming who could.
    """
    root = place_of(uow, None)
    if _sponsor(uow, actor) or _strategist(actor, root):
        return
    raise NotAllowed(
        f"Only the executive sponsor, a strategist or an administrator of {root.unit_name} "
        f"can {doing}."
    )


def require_item(
    uow: StorageUnitOfWork, actor: Actor, kind: StrategyItemType, unit_id: int | None
) -> None:
    """May ``actor`` add, change or delete an item of ``kind`` in ``unit_id``?

    Raises:
        NotAllowed: naming who could.
        KeyError: there is no such unit.
    """
    place = place_of(uow, unit_id)
    if kind == T.BUSINESS_GOAL:
        require_sponsor(uow, actor, "edit the business goals")
        return
    if _strategist(actor, place):
        return
    name = place.unit_name
    if kind == T.DEPARTMENT_GOAL:
        if _head(uow, actor, unit_id, place):
            return
        raise NotAllowed(
            f"Only the head of {name}, a supervisor, a strategist or an administrator of {name} "
            "can edit its department goals."
        )
    if kind == T.AUDIENCE_INSIGHT:
        raise NotAllowed(
            f"Only a strategist or an administrator of {name} can edit its audience insights."
        )
    if _head(uow, actor, unit_id, place):
        return
    what = "social goals" if kind == T.SOCIAL_GOAL else "tactics"
    if unit_id is None:
        raise NotAllowed(
            f"Only a strategist or an administrator of {name} can edit the {what} of the whole "
            "organization."
        )
    raise NotAllowed(
        f"Only the head of {name}, a supervisor, a strategist or an administrator of {name} "
        f"can edit its {what}."
    )


def require_some_part(uow: StorageUnitOfWork, actor: Actor, doing: str) -> None:
    """Whether the person may edit at least some part of the strategy.

    Raises:
        NotAllowed: they may edit none of it.
    """
    if _sponsor(uow, actor) or any(
        Action.EDIT_STRATEGY in GRANTS[g.role] or g.role == Role.SUPERVISOR for g in actor.grants
    ):
        return
    for unit in uow.units.all():
        if unit.head_id == actor.person_id:
            return
    raise NotAllowed(
        f"Only the executive sponsor, a unit's head, a strategist or an administrator can "
        f"{doing}: {actor.name} holds no such role."
    )
