"""Editing the unit tree: add, rename, move, settings, delete; permitted, checked, audited.

Every change needs :attr:`Action.MANAGE_UNITS` on the unit concerned (a role in a unit covers
its sub-units; only a role in the root covers the root), on the new parent for a move and on
the destination for a delete. The tree's rules are the domain's (``app.domain.units``); every
change leaves an audit entry (``entity = 'unit'``) with what was before and after, and drops
the inbox's cached tree so the inbox follows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from app.domain.enums import UnitKind
from app.domain.hours import check_schedule
from app.domain.permissions import Action, Decision, Place, decide
from app.domain.units import (
    UnitDetails,
    UnitError,
    UnitHoldings,
    allowed_parents,
    check_colour,
    check_deletable,
    check_languages,
    check_move,
    check_name,
    check_region,
    check_target,
    describe_holdings,
    tree_order,
)
from app.services.access import decide_in, require_in
from app.services.auditing import record_change
from app.services.inbox import InboxService
from app.storage.ports import Storage, StorageUnitOfWork

__all__ = ["UnitDetails", "UnitError", "UnitHoldings", "UnitsService"]

DEFAULT_COLOUR = "#607d8b"


class UnitsService:
    """The units editor's use cases; safe from any thread (one unit of work per call)."""

    def __init__(
        self,
        db: Storage,
        inbox: InboxService | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self._inbox = inbox
        self._clock = clock

    # -- reading ----------------------------------------------------------------------------

    def tree(self) -> list[UnitDetails]:
        """Every unit in tree order (parents first, siblings by position then name)."""
        with self._db.uow() as uow:
            return tree_order(uow.units.all())

    def get(self, unit_id: int) -> UnitDetails:
        """The unit.

        Raises:
            KeyError: there is no such unit.
        """
        with self._db.uow() as uow:
            return self._unit(uow, unit_id)

    def holdings(self, unit_id: int) -> UnitHoldings:
        """What the unit holds itself (what deleting it would have to hand on)."""
        with self._db.uow() as uow:
            return uow.units.holdings(unit_id)

    def decisions(self, operator_id: int) -> dict[int, Decision]:
        """For every unit, whether the person may change it, and why not (for the editor)."""
        with self._db.uow() as uow:
            actor = uow.directory.actor(operator_id)
            units = uow.units.all()
        if actor is None:
            nobody = Decision(False, "Nobody with that id works in this workspace.")
            return {u.id: nobody for u in units}
        return {u.id: decide(actor, Action.MANAGE_UNITS, Place(u.path, u.name)) for u in units}

    def parents_for(self, operator_id: int, unit_id: int) -> list[UnitDetails]:
        """Where the operator may move the unit: allowed by the tree and by their roles."""
        with self._db.uow() as uow:
            units = uow.units.all()
            ok = set(allowed_parents([u.node for u in units], unit_id))
            return [
                u
                for u in tree_order(units)
                if u.id in ok and decide_in(uow, operator_id, Action.MANAGE_UNITS, u.id).allowed
            ]

    def destinations_for(self, operator_id: int, unit_id: int) -> list[UnitDetails]:
        """Where a deleted unit's conversations, accounts and sub-units may go."""
        with self._db.uow() as uow:
            units = uow.units.all()
            gone = self._unit(uow, unit_id).path
            return [
                u
                for u in tree_order(units)
                if not u.path.startswith(gone)
                and decide_in(uow, operator_id, Action.MANAGE_UNITS, u.id).allowed
            ]

    # -- changing ---------------------------------------------------------------------------

    def add(
        self,
        operator_id: int,
        parent_id: int,
        name: str,
        *,
        kind: str = UnitKind.DEPARTMENT,
        colour: str = DEFAULT_COLOUR,
    ) -> int:
        """Add a sub-unit of ``parent_id``; returns its id.

        Raises:
            NotAllowed: the operator may not change the parent's units.
            UnitError: the name is empty, too long or a sibling's; the colour is not #rrggbb.
            KeyError: there is no such parent.
        """
        with self._db.uow() as uow:
            units = uow.units.all()
            parent = self._unit(uow, parent_id)
            require_in(uow, operator_id, Action.MANAGE_UNITS, parent.id, doing="add units to it")
            siblings = [u for u in units if u.parent_id == parent.id]
            clean = check_name(name, (u.name for u in siblings))
            colour = check_colour(colour)
            kind = UnitKind(kind).value
            position = max((u.sort_order for u in siblings), default=-1) + 1
            unit_id = uow.units.add(parent.id, clean, kind=kind, colour=colour, sort_order=position)
            after = {"name": clean, "parent_id": parent.id, "kind": kind, "colour": colour}
            self._audit(uow, operator_id, "unit.added", unit_id, None, after)
            uow.commit()
        self._changed()
        return unit_id

    def rename(self, operator_id: int, unit_id: int, name: str) -> None:
        with self._db.uow() as uow:
            unit = self._checked(uow, operator_id, unit_id)
            siblings = (
                u.name for u in uow.units.all() if u.parent_id == unit.parent_id and u.id != unit.id
            )
            clean = check_name(name, siblings)
            if clean == unit.name:
                return
            uow.units.rename(unit_id, clean)
            self._audit(
                uow, operator_id, "unit.renamed", unit_id, {"name": unit.name}, {"name": clean}
            )
            uow.commit()
        self._changed()

    def move(
        self, operator_id: int, unit_id: int, new_parent_id: int, position: int | None = None
    ) -> None:
        """Put the unit (with its sub-units) below ``new_parent_id``.

        ``position`` is its place among its new siblings (None: last).

        Raises:
            NotAllowed: the operator may not change the unit or the new parent's units.
            UnitError: the move would put the unit below itself or one of its sub-units, or
                a sibling there has its name.
        """
        with self._db.uow() as uow:
            unit = self._checked(uow, operator_id, unit_id, doing="move its units")
            parent = self._unit(uow, new_parent_id)
            require_in(
                uow, operator_id, Action.MANAGE_UNITS, parent.id, doing="move units below it"
            )
            units = uow.units.all()
            check_move([u.node for u in units], unit_id, new_parent_id)
            siblings = tree_order(
                u for u in units if u.parent_id == new_parent_id and u.id != unit_id
            )
            if new_parent_id != unit.parent_id:
                check_name(unit.name, (u.name for u in siblings))
            order = [u.id for u in siblings]
            at = len(order) if position is None else max(0, min(position, len(order)))
            order.insert(at, unit_id)
            moved = uow.units.move(unit_id, new_parent_id)
            uow.units.set_sort_orders({uid: i for i, uid in enumerate(order)})
            after_unit = self._unit(uow, unit_id)
            self._audit(
                uow,
                operator_id,
                "unit.moved",
                unit_id,
                {"parent_id": unit.parent_id, "path": unit.path, "position": unit.sort_order},
                {
                    "parent_id": new_parent_id,
                    "path": after_unit.path,
                    "position": at,
                    "paths_rewritten": moved,
                },
            )
            uow.commit()
        self._changed()

    def set_colour(self, operator_id: int, unit_id: int, colour: str) -> None:
        self._set(operator_id, unit_id, "colour", check_colour(colour))

    def set_region(self, operator_id: int, unit_id: int, region: str) -> None:
        self._set(operator_id, unit_id, "region", check_region(region))

    def set_languages(self, operator_id: int, unit_id: int, languages: str) -> None:
        self._set(operator_id, unit_id, "languages", check_languages(languages))

    def set_target(self, operator_id: int, unit_id: int, hours: float | None) -> None:
        """The first-response target in business hours (None: no target)."""
        self._set(operator_id, unit_id, "first_response_target_h", check_target(hours))

    def set_hours(self, operator_id: int, unit_id: int, schedule: Mapping[str, Any] | None) -> None:
        """The unit's own business hours (None: the organization's).

        Raises:
            HoursError: a span that ends before it starts, overlapping spans, an unknown day.
        """
        checked = None if schedule is None else check_schedule(schedule)
        self._set(operator_id, unit_id, "business_hours", checked)

    def set_head(self, operator_id: int, unit_id: int, person_id: int | None) -> None:
        """Who heads the unit (None: nobody); an active person.

        Raises:
            UnitError: no such person, or they are deactivated.
        """
        if person_id is not None:
            with self._db.uow() as uow:
                person = uow.directory.actor(person_id)
            if person is None:
                raise UnitError("Nobody with that id works in this workspace.")
            if not person.active:
                raise UnitError(f"{person.name} is deactivated and cannot head a unit.")
        self._set(operator_id, unit_id, "head_id", person_id)

    def delete(self, operator_id: int, unit_id: int, move_to: int | None = None) -> UnitHoldings:
        """Delete the unit; what it holds and its sub-units go to ``move_to``; what moved.

        Raises:
            NotAllowed: the operator may not change the unit or the destination's units.
            UnitError: the root or Triage; it holds something and no destination was given
                ("Marketing holds 1,204 conversations and 2 accounts: choose where they go.");
                the destination is the unit or below it; a sub-unit's name is taken there.
        """
        with self._db.uow() as uow:
            unit = self._checked(uow, operator_id, unit_id, doing="delete its units")
            check_deletable(unit.node, is_triage=unit.is_triage)
            held = uow.units.holdings(unit_id)
            if move_to is None:
                if not held.empty:
                    raise UnitError(describe_holdings(unit.name, held))
                uow.units.delete(unit_id)
                self._audit(uow, operator_id, "unit.deleted", unit_id, _snapshot(unit), None)
                uow.commit()
                self._changed()
                return UnitHoldings()
            dest = self._unit(uow, move_to)
            if dest.path.startswith(unit.path):
                raise UnitError(
                    f"What {unit.name} holds cannot go to {dest.name}: it is deleted with it."
                )
            require_in(
                uow,
                operator_id,
                Action.MANAGE_UNITS,
                dest.id,
                doing="take over what a deleted unit held",
            )
            units = uow.units.all()
            children = tree_order(u for u in units if u.parent_id == unit_id)
            taken = [u.name for u in units if u.parent_id == dest.id]
            for child in children:
                try:
                    check_name(child.name, taken)
                except UnitError:
                    raise UnitError(
                        f"{dest.name} already has a unit called “{child.name}”: rename one of "
                        "them first."
                    ) from None
                taken.append(child.name)
            moved = uow.units.reassign(unit_id, dest.id)
            start = max((u.sort_order for u in units if u.parent_id == dest.id), default=-1) + 1
            for i, child in enumerate(children):
                n = uow.units.move(child.id, dest.id)
                uow.units.set_sort_orders({child.id: start + i})
                self._audit(
                    uow,
                    operator_id,
                    "unit.moved",
                    child.id,
                    {"parent_id": unit_id, "path": child.path},
                    {
                        "parent_id": dest.id,
                        "path": self._unit(uow, child.id).path,
                        "paths_rewritten": n,
                        "because": f"{unit.name} was deleted",
                    },
                )
            uow.units.delete(unit_id)
            self._audit(
                uow,
                operator_id,
                "unit.deleted",
                unit_id,
                {**_snapshot(unit), **_counts(held)},
                {
                    "unit_id": dest.id,
                    "moved_to": dest.name,
                    **_counts(moved),
                    "sub_units": len(children),
                },
            )
            uow.commit()
        self._changed()
        return UnitHoldings(
            conversations=moved.conversations,
            accounts=moved.accounts,
            drafts=moved.drafts,
            roles=moved.roles,
            sub_units=len(children),
        )

    # -- helpers ----------------------------------------------------------------------------

    def _set(self, operator_id: int, unit_id: int, field: str, value: Any) -> None:
        with self._db.uow() as uow:
            unit = self._checked(uow, operator_id, unit_id)
            before = getattr(unit, field)
            if before == value:
                return
            uow.units.set_field(unit_id, field, value)
            action = "unit." + {
                "first_response_target_h": "target",
                "business_hours": "hours",
                "head_id": "head",
            }.get(field, field)
            self._audit(uow, operator_id, action, unit_id, {field: before}, {field: value})
            uow.commit()
        self._changed()

    def _checked(
        self, uow: StorageUnitOfWork, operator_id: int, unit_id: int, *, doing: str | None = None
    ) -> UnitDetails:
        unit = self._unit(uow, unit_id)
        require_in(uow, operator_id, Action.MANAGE_UNITS, unit.id, doing=doing)
        return unit

    @staticmethod
    def _unit(uow: StorageUnitOfWork, unit_id: int) -> UnitDetails:
        unit = uow.units.get(unit_id)
        if unit is None:
            raise KeyError(f"no unit {unit_id}")
        return unit

    def _changed(self) -> None:
        if self._inbox is not None:
            self._inbox.forget_units()

    def _audit(
        self,
        uow: StorageUnitOfWork,
        operator_id: int,
        action: str,
        unit_id: int,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        record_change(
            uow,
            at=self._clock(),
            person_id=operator_id,
            action=action,
            entity="unit",
            entity_id=unit_id,
            before=before,
            after=after,
        )


def _snapshot(unit: UnitDetails) -> dict[str, Any]:
    return {
        "name": unit.name,
        "parent_id": unit.parent_id,
        "path": unit.path,
        "kind": unit.kind,
        "colour": unit.colour,
        "head_id": unit.head_id,
        "region": unit.region,
        "languages": unit.languages,
        "first_response_target_h": unit.first_response_target_h,
        "business_hours": unit.business_hours,
    }


def _counts(held: UnitHoldings) -> dict[str, int]:
    return {
        "conversations": held.conversations,
        "accounts": held.accounts,
        "drafts": held.drafts,
        "roles": held.roles,
    }
