"""Applying the routing rules again to a unit (with its sub-units) or to chosen conversations.

:meth:`RoutingService.preview_again` lists what would move (from which unit to which, with the
new reason); :meth:`RoutingService.apply_again` moves them in one transaction, each move with a
``routed`` line in the conversation's history and an audit entry.

Decisions:

- Who: a supervisor of both units (the one a conversation is in and the one it would go to),
  as product.md has supervisors own their department's queue; a role above covers sub-units.
  The refusal names the unit and the role. Previewing needs it for the units looked at.
- What is evaluated: the conversation's first message with the language and sentiment stored at
  ingest (the text has not changed), the author's current follower count and spam flag, whether
  this conversation was the author's first. The spam filter is not run again (no sightings of
  the past); a rule's ``mark as spam`` does not change a status either: only the unit, the rule
  that routed it and the reason change.
- Never undone: a conversation a person handed over keeps its unit (product.md: rules never undo
  a person's decision). Resolved and spam conversations are left alone unless
  ``include_closed`` is set (moving finished work would show up in another team's counts).
- A moved conversation is nobody's (as after a hand-over: the old unit's agent does not work
  the new unit's queue); its status and priority stay.
- Conversations whose unit would not change are not listed. At most :data:`LIMIT` conversations
  (the most recently active) are looked at per call; :attr:`AgainOutcome.truncated` says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.domain.enums import ConversationEventKind, ConversationStatus
from app.domain.permissions import Action, Actor, Place, decide
from app.services.access import NotAllowed
from app.services.auditing import record_change
from app.storage.ingest import REASON, fit
from app.storage.ports import StorageUnitOfWork
from app.storage.rerouting import RerouteCandidate
from app.storage.triage import NewEvent

LIMIT = 20_000
DOING = "apply the routing rules again to its conversations"
OPEN_STATUSES = (
    ConversationStatus.NEW,
    ConversationStatus.OPEN,
    ConversationStatus.WAITING,
)


class RoutingAgainError(ValueError):
    """The request names no unit and no conversation, or a unit that does not exist."""


@dataclass(frozen=True, slots=True)
class RerouteRow:
    """One conversation that would move (preview) or moved (apply)."""

    conversation_id: int
    preview: str
    from_unit_id: int
    from_unit: str
    to_unit_id: int
    to_unit: str
    rule_id: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class AgainOutcome:
    rows: tuple[RerouteRow, ...]
    looked_at: int
    kept_hand_overs: int  # conversations a person had handed over, left where they are
    truncated: bool


def candidates(
    uow: StorageUnitOfWork,
    unit_id: int | None,
    conversation_ids: Sequence[int],
    include_closed: bool,
) -> list[RerouteCandidate]:
    """The conversations the request names (none without a unit or ids).

    Raises:
        RoutingAgainError: neither a unit nor conversations were given, or the unit is unknown.
    """
    if unit_id is None and not conversation_ids:
        raise RoutingAgainError("Choose a unit or some conversations to apply the rules to.")
    path: str | None = None
    if unit_id is not None:
        place = uow.directory.place(unit_id)
        if place is None:
            raise RoutingAgainError(f"There is no unit #{unit_id}.")
        path = place.unit_path
    return uow.rerouting.candidates(
        unit_path=path,
        conversation_ids=conversation_ids,
        statuses=None if include_closed else [str(s) for s in OPEN_STATUSES],
        limit=LIMIT + 1,
    )


def check_may(
    uow: StorageUnitOfWork, actor: Actor, unit_ids: Sequence[int], places: dict[int, Place]
) -> None:
    """Raise :class:`NotAllowed` unless ``actor`` supervises every unit of ``unit_ids``."""
    for unit_id in sorted(set(unit_ids)):
        place = places.get(unit_id)
        if place is None:
            place = uow.directory.place(unit_id) or Place("/", "this workspace")
            places[unit_id] = place
        verdict = decide(actor, Action.APPROVE_DRAFTS, place, doing=DOING)
        if not verdict.allowed:
            raise NotAllowed(verdict.reason)


def record_move(
    uow: StorageUnitOfWork, actor: Actor, c: RerouteCandidate, row: RerouteRow, at: datetime
) -> None:
    """The history line and the audit entry of one move."""
    before = {
        "unit_id": c.unit_id,
        "routed_by_rule_id": c.routed_by_rule_id,
        "routing_reason": c.routing_reason,
        "assignee_id": c.assignee_id,
    }
    after = {
        "unit_id": row.to_unit_id,
        "routed_by_rule_id": row.rule_id,
        "routing_reason": row.reason,
        "assignee_id": None,
    }
    uow.triage.append_event(
        NewEvent(
            conversation_id=c.conversation_id,
            at=at,
            person_id=actor.person_id,
            person_name=actor.name,
            kind=ConversationEventKind.ROUTED,
            before=before,
            after=after,
            unit_from=c.unit_id,
            unit_to=row.to_unit_id,
            rule_id=row.rule_id,
            reason=row.reason,
        )
    )
    record_change(
        uow,
        at=at,
        person_id=actor.person_id,
        person_name=actor.name,
        action="conversation.routed_again",
        entity="conversation",
        entity_id=c.conversation_id,
        before=before,
        after=after,
    )


def fitted(reason: str) -> str:
    return fit(reason, REASON)
