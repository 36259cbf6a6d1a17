"""The unit tree in SQL: read, add, rename, move (a sub-tree's paths in one statement), delete.

A move rewrites the materialised path of the unit and of every unit below it with one
``UPDATE … SET path = :new || substr(path, :n) WHERE path LIKE :old%``: the old prefix is
replaced by the new one, so the sub-tree keeps its shape. No new path can collide with a
stored one (a path ends with its own unit's id), so the unique index on ``path`` holds row by
row on PostgreSQL too. Deleting a unit first hands what it holds to another unit
(:meth:`SqlUnits.reassign`): conversations, accounts, drafts, policy and approval rules,
strategy items, role assignments and routing rules that route to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import uuid4

from sqlalchemy import and_, delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from app.domain.units import UnitDetails, UnitHoldings, make_path
from app.models import (
    Account,
    ApprovalRule,
    Conversation,
    Draft,
    PolicyRule,
    RoleAssignment,
    RoutingRule,
    StrategyItem,
    Unit,
)

#: The columns :meth:`SqlUnits.set_field` may change (the rest have their own methods).
SETTABLE = frozenset(
    {
        "colour",
        "head_id",
        "region",
        "languages",
        "first_response_target_h",
        "business_hours",
        "kind",
    }
)

_DETAILS = (
    Unit.id,
    Unit.parent_id,
    Unit.path,
    Unit.name,
    Unit.kind,
    Unit.colour,
    Unit.head_id,
    Unit.region,
    Unit.languages,
    Unit.is_triage,
    Unit.sort_order,
    Unit.first_response_target_h,
    Unit.business_hours,
)


def _details(row: Any) -> UnitDetails:
    return UnitDetails(
        id=row.id,
        parent_id=row.parent_id,
        path=row.path,
        name=row.name,
        kind=row.kind,
        colour=row.colour,
        head_id=row.head_id,
        region=row.region or "",
        languages=row.languages or "",
        is_triage=bool(row.is_triage),
        sort_order=row.sort_order,
        first_response_target_h=row.first_response_target_h,
        business_hours=row.business_hours,
    )


class SqlUnits:
    """:class:`app.storage.ports.UnitRepository` on a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def all(self) -> list[UnitDetails]:
        """Every unit, by path."""
        return [_details(r) for r in self._s.execute(select(*_DETAILS).order_by(Unit.path))]

    def get(self, unit_id: int) -> UnitDetails | None:
        row = self._s.execute(select(*_DETAILS).where(Unit.id == unit_id)).first()
        return None if row is None else _details(row)

    def add(self, parent_id: int, name: str, *, kind: str, colour: str, sort_order: int) -> int:
        """Add a unit below ``parent_id``; returns its id (its path is known once it has one)."""
        parent_path = self._s.execute(select(Unit.path).where(Unit.id == parent_id)).scalar_one()
        unit_id = self._s.execute(
            insert(Unit)
            .values(
                parent_id=parent_id,
                path=f"/pending/{uuid4()}/",
                name=name,
                kind=kind,
                colour=colour,
                sort_order=sort_order,
            )
            .returning(Unit.id)
        ).scalar_one()
        self._s.execute(
            update(Unit).where(Unit.id == unit_id).values(path=make_path(parent_path, unit_id))
        )
        return int(unit_id)

    def rename(self, unit_id: int, name: str) -> None:
        self._s.execute(update(Unit).where(Unit.id == unit_id).values(name=name))

    def move(self, unit_id: int, new_parent_id: int) -> int:
        """Put the unit below ``new_parent_id``, its sub-tree with it; how many paths changed.

        The caller checked the move (``app.domain.units.check_move``).
        """
        old = self._s.execute(select(Unit.path).where(Unit.id == unit_id)).scalar_one()
        parent_path = self._s.execute(
            select(Unit.path).where(Unit.id == new_parent_id)
        ).scalar_one()
        new = make_path(parent_path, unit_id)
        self._s.execute(update(Unit).where(Unit.id == unit_id).values(parent_id=new_parent_id))
        if new == old:
            return 0
        result = self._s.execute(
            update(Unit)
            .where(Unit.path.startswith(old, autoescape=True))
            .values(path=literal(new) + func.substr(Unit.path, len(old) + 1))
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def set_sort_orders(self, orders: Mapping[int, int]) -> None:
        for unit_id, position in orders.items():
            self._s.execute(update(Unit).where(Unit.id == unit_id).values(sort_order=position))

    def set_field(self, unit_id: int, field: str, value: Any) -> None:
        """Set one of :data:`SETTABLE` (checked by the service first).

        Raises:
            ValueError: not a column this method sets.
        """
        if field not in SETTABLE:
            raise ValueError(f"{field!r} is not a unit setting")
        self._s.execute(update(Unit).where(Unit.id == unit_id).values({field: value}))

    def holdings(self, unit_id: int) -> UnitHoldings:
        """What the unit holds itself (not counting what its sub-units hold)."""

        def n(column: Any) -> int:
            return int(self._s.execute(select(func.count()).where(column == unit_id)).scalar_one())

        return UnitHoldings(
            conversations=n(Conversation.unit_id),
            accounts=n(Account.unit_id),
            drafts=n(Draft.unit_id),
            roles=n(RoleAssignment.unit_id),
            sub_units=n(Unit.parent_id),
        )

    def reassign(self, from_id: int, to_id: int) -> UnitHoldings:
        """Hand everything ``from_id`` holds to ``to_id`` (sub-units excepted); what moved.

        A role a person holds in both units is kept once, in ``to_id``.
        """

        def move(column: Any) -> int:
            table = column.class_
            result = self._s.execute(
                update(table)
                .where(column == from_id)
                .values({column.key: to_id})
                .execution_options(synchronize_session=False)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

        conversations = move(Conversation.unit_id)
        accounts = move(Account.unit_id)
        drafts = move(Draft.unit_id)
        for column in (
            PolicyRule.unit_id,
            ApprovalRule.unit_id,
            ApprovalRule.approver_unit_id,
            StrategyItem.unit_id,
        ):
            move(column)
        kept = RoleAssignment.__table__.alias("kept")
        duplicates = select(RoleAssignment.id).where(
            RoleAssignment.unit_id == from_id,
            select(kept.c.id)
            .where(
                and_(
                    kept.c.unit_id == to_id,
                    kept.c.person_id == RoleAssignment.person_id,
                    kept.c.role == RoleAssignment.role,
                )
            )
            .exists(),
        )
        dropped = [r for (r,) in self._s.execute(duplicates)]
        if dropped:
            self._s.execute(
                delete(RoleAssignment)
                .where(RoleAssignment.id.in_(dropped))
                .execution_options(synchronize_session=False)
            )
        roles = move(RoleAssignment.unit_id) + len(dropped)
        # Routing rules name their unit inside their JSON actions: few rows, rewritten here.
        for rule_id, actions in self._s.execute(select(RoutingRule.id, RoutingRule.actions)):
            if isinstance(actions, dict) and actions.get("route_to_unit") == from_id:
                self._s.execute(
                    update(RoutingRule)
                    .where(RoutingRule.id == rule_id)
                    .values(actions={**actions, "route_to_unit": to_id})
                )
        return UnitHoldings(
            conversations=conversations, accounts=accounts, drafts=drafts, roles=roles
        )

    def delete(self, unit_id: int) -> None:
        """Delete the unit (the database refuses while anything still refers to it)."""
        self._s.execute(
            delete(Unit).where(Unit.id == unit_id).execution_options(synchronize_session=False)
        )
