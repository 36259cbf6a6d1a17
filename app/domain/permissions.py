"""Who may do what where: one pure function over roles, actions and the unit tree.

A role is held in a unit and covers that unit and every unit below it (a supervisor of Customer
Care supervises Orders & Delivery too). An action is asked about one unit (the unit of the
account, conversation, draft or person concerned); workspace-wide actions are asked about the
root of the tree, so only a role in the root unit covers them. A deactivated person may do
nothing. Every refusal names what is missing, for a person to read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from app.domain.enums import Role


class Action(StrEnum):
    """Everything a service checks before it acts."""

    # administration
    MANAGE_ACCOUNTS = "manage_accounts"  # connect, disconnect, poll interval, Sandbox accounts
    MANAGE_UNITS = "manage_units"  # add, rename, move, colour, targets, delete sub-units
    MANAGE_PEOPLE = "manage_people"  # add, edit, deactivate, roles, CSV import, passphrase reset
    MANAGE_WORKSPACE = "manage_workspace"  # organization, sign-in, app credentials
    VIEW_AUDIT = "view_audit"
    # the work
    WORK_CONVERSATIONS = "work_conversations"  # read, claim, reply, hand over, resolve
    APPROVE_DRAFTS = "approve_drafts"
    EDIT_STRATEGY = "edit_strategy"


#: What each role may do in its units (and their sub-units).
GRANTS: dict[Role, frozenset[Action]] = {
    Role.AGENT: frozenset({Action.WORK_CONVERSATIONS}),
    Role.SUPERVISOR: frozenset(
        {Action.WORK_CONVERSATIONS, Action.APPROVE_DRAFTS, Action.VIEW_AUDIT}
    ),
    Role.STRATEGIST: frozenset({Action.EDIT_STRATEGY}),
    Role.ADMIN: frozenset(
        {
            Action.MANAGE_ACCOUNTS,
            Action.MANAGE_UNITS,
            Action.MANAGE_PEOPLE,
            Action.MANAGE_WORKSPACE,
            Action.VIEW_AUDIT,
            Action.WORK_CONVERSATIONS,
            Action.EDIT_STRATEGY,
        }
    ),
}

#: How a refusal says what the action is ("Only an administrator of Marketing can …").
_DOING: dict[Action, str] = {
    Action.MANAGE_ACCOUNTS: "change its accounts",
    Action.MANAGE_UNITS: "change its units",
    Action.MANAGE_PEOPLE: "change its people and their roles",
    Action.MANAGE_WORKSPACE: "change the workspace's settings",
    Action.VIEW_AUDIT: "read its audit log",
    Action.WORK_CONVERSATIONS: "work on its conversations",
    Action.APPROVE_DRAFTS: "approve its drafts",
    Action.EDIT_STRATEGY: "edit its strategy",
}
ROLE_NAMES: dict[Role, str] = {
    Role.AGENT: "an agent",
    Role.SUPERVISOR: "a supervisor",
    Role.STRATEGIST: "a strategist",
    Role.ADMIN: "an administrator",
}


def deactivated(name: str) -> str:
    """The refusal for a person who is deactivated, whatever they tried."""
    return f"{name} is deactivated and can no longer act in this workspace."


@dataclass(frozen=True, slots=True)
class Grant:
    """A role held in a unit, known by the unit's materialised path ("/1/4/")."""

    role: Role
    unit_path: str


@dataclass(frozen=True, slots=True)
class Actor:
    """The person acting, as the permission check needs them."""

    person_id: int
    name: str
    active: bool
    grants: tuple[Grant, ...]


@dataclass(frozen=True, slots=True)
class Place:
    """The unit an action concerns."""

    unit_path: str
    unit_name: str


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str = ""  # why not, for a person to read (empty when allowed)


def roles_for(action: Action) -> tuple[Role, ...]:
    """The roles that grant ``action``, most specific first (the one a refusal names)."""
    order = (Role.AGENT, Role.SUPERVISOR, Role.STRATEGIST, Role.ADMIN)
    return tuple(r for r in order if action in GRANTS[r])


def covers(grant: Grant, unit_path: str) -> bool:
    """Whether a role held in ``grant.unit_path`` reaches the unit at ``unit_path``."""
    return unit_path.startswith(grant.unit_path)


def decide(actor: Actor, action: Action, place: Place, *, doing: str | None = None) -> Decision:
    """May ``actor`` do ``action`` in ``place``? With the reason when not.

    Args:
        actor: Who acts (their roles and whether they are active).
        action: What they want to do.
        place: The unit it concerns (the root unit for workspace-wide actions).
        doing: What the refusal should say they tried ("change its accounts' poll interval");
            defaults to the action's general wording.
    """
    if not actor.active:
        return Decision(False, deactivated(actor.name))
    if any(action in GRANTS[g.role] and covers(g, place.unit_path) for g in actor.grants):
        return Decision(True)
    return Decision(
        False, f"Only {_who(action)} of {place.unit_name} can {doing or _DOING[action]}."
    )


def decide_anywhere(actor: Actor, action: Action, *, doing: str) -> Decision:
    """Say whether ``actor`` may do ``action`` in at least one unit (a screen's first check).

    The unit an action finally concerns is checked with :func:`decide` when it happens.
    """
    if not actor.active:
        return decide(actor, action, Place("/", ""))  # the deactivated person's refusal
    if any(action in GRANTS[g.role] for g in actor.grants):
        return Decision(True)
    return Decision(False, f"Only {_who(action)} can {doing}: {actor.name} holds no such role.")


def _who(action: Action) -> str:
    """The roles granting ``action`` as a refusal names them ("a supervisor or an …")."""
    names = [ROLE_NAMES[r] for r in roles_for(action)]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def allowed_units(actor: Actor, action: Action, unit_paths: Iterable[str]) -> tuple[str, ...]:
    """Of ``unit_paths``, those where ``actor`` may do ``action`` (to offer only those)."""
    return tuple(p for p in unit_paths if decide(actor, action, Place(p, "")).allowed)
