"""The strategy funnel's use cases: edit it within the funnel's rules, permitted and audited.

Every call takes the operator first. Changes are checked against the roles
(``app.services.strategy_access``: who may edit which part) and the funnel
(``app.domain.strategy_funnel``: what each item needs, which parents it may have, no cycles);
each leaves one audit entry (``entity = 'strategy_item'``, ``'policy_line'``, ``'strategy'``)
in its own transaction. A deletion that would take other items with it (a tactic never survives
its social goal; a social goal never its last goal or last insight) is refused unless the
caller says ``with_dependents=True``; every deleted item and policy line is recorded in
``strategy_deletions`` with the newest exported revision, so a later import's merge knows it
went. Reads (outline, what is missing, per-goal content) are in ``strategy_views``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from app.domain.enums import PolicyKind, StrategyItemType
from app.domain.strategy_funnel import (
    TYPE_NAMES,
    FunnelError,
    FunnelNode,
    ItemFields,
    check_fields,
    check_parents,
    deletion_consequences,
    would_cycle,
)
from app.services.auditing import record_change
from app.services.strategy_access import (
    actor_of,
    place_of,
    require_item,
    require_some_part,
    require_sponsor,
)
from app.services.strategy_views import StrategyViews, fields_json, line_json, snapshot_of
from app.storage.ports import Storage, StorageUnitOfWork
from app.storage.strategy import DeletionRecord, PolicyLineRecord, RevisionRecord

__all__ = ["Dependent", "FunnelError", "HasDependents", "ItemFields", "StrategyService"]


@dataclass(frozen=True, slots=True)
class Dependent:
    """An item that depends on one about to be deleted, and what would happen to it."""

    id: int
    type: StrategyItemType
    title: str
    deleted: bool  # True: it cannot exist without it; False: it only loses the link


class HasDependents(FunnelError):  # noqa: N818 - reads as what it is
    """Deleting the item would take others with it; ``dependents`` lists them."""

    def __init__(self, message: str, dependents: tuple[Dependent, ...]) -> None:
        super().__init__(message)
        self.dependents = dependents


class StrategyService(StrategyViews):
    """The Strategy screen's and the CLI's use cases; one unit of work per call (any thread)."""

    def __init__(
        self, db: Storage, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        super().__init__(db, clock=clock)

    # -- items ------------------------------------------------------------------------------

    def create(
        self,
        operator: int,
        kind: str,
        fields: ItemFields,
        *,
        parents: Sequence[int] = (),
        position: int | None = None,
    ) -> int:
        """Add an item of ``kind`` deriving from (or serving) ``parents``; returns its id.

        A department goal with no owner is owned by its unit's head.

        Raises:
            NotAllowed: the operator may not edit this part of the strategy.
            FunnelError: a field is missing, or the parents do not fit the funnel.
            KeyError: there is no such unit.
        """
        item_type = StrategyItemType(kind)
        with self._db.uow() as uow:
            actor = actor_of(uow, operator)
            require_item(uow, actor, item_type, fields.unit_id)
            clean = self._checked_fields(uow, item_type, fields)
            nodes = self._parents(uow, parents)
            check_parents(item_type, nodes)
            now = self._clock()
            top = uow.strategy.next_position(item_type)
            at = top if position is None else max(0, min(position, top))
            item_id = uow.strategy.add(item_type, str(uuid4()), clean, position=top, at=now)
            uow.strategy.set_parents(item_id, [n.id for n in nodes])
            if at != top:
                self._place_at(uow, item_type, item_id, at)
            after = {"type": item_type.value, **fields_json(clean)}
            after["parents"] = sorted(n.id for n in nodes)
            self._audit(uow, operator, "strategy.item_added", item_id, None, after)
            uow.commit()
        return item_id

    def edit(self, operator: int, item_id: int, fields: ItemFields) -> None:
        """Replace the item's fields (its type and parents stay).

        Raises:
            NotAllowed: the operator may not edit the item where it is or where it would go.
            FunnelError: a field the item's type needs is missing.
            KeyError: there is no such item or unit.
        """
        with self._db.uow() as uow:
            item = self._item(uow, item_id)
            actor = actor_of(uow, operator)
            require_item(uow, actor, item.type, item.fields.unit_id)
            if fields.unit_id != item.fields.unit_id:
                require_item(uow, actor, item.type, fields.unit_id)
            clean = self._checked_fields(uow, item.type, fields)
            if clean == item.fields:
                return
            before, after = fields_json(item.fields), fields_json(clean)
            changed = [k for k in after if after[k] != before[k]]
            uow.strategy.update(item_id, clean, self._clock())
            self._audit(
                uow,
                operator,
                "strategy.item_edited",
                item_id,
                {k: before[k] for k in changed},
                {k: after[k] for k in changed},
            )
            uow.commit()

    def move(self, operator: int, item_id: int, position: int) -> None:
        """Put the item at ``position`` among the items of its type (0: first).

        Raises:
            NotAllowed: the operator may not edit the item.
            KeyError: there is no such item.
        """
        with self._db.uow() as uow:
            item = self._item(uow, item_id)
            require_item(uow, actor_of(uow, operator), item.type, item.fields.unit_id)
            before = self._order(uow, item.type).index(item_id)
            after = self._place_at(uow, item.type, item_id, position)
            if before == after:
                return
            self._audit(
                uow,
                operator,
                "strategy.item_moved",
                item_id,
                {"position": before},
                {"position": after},
            )
            uow.commit()

    def set_parents(self, operator: int, item_id: int, parent_ids: Sequence[int]) -> None:
        """The item derives from (or serves) exactly ``parent_ids`` from now on.

        Raises:
            NotAllowed: the operator may not edit the item.
            FunnelError: a parent is missing or of the wrong type, the item would lack its
                inputs, or the links would close a loop.
            KeyError: there is no such item.
        """
        with self._db.uow() as uow:
            item = self._item(uow, item_id)
            require_item(uow, actor_of(uow, operator), item.type, item.fields.unit_id)
            nodes = self._parents(uow, parent_ids)
            check_parents(item.type, nodes)
            new = sorted(n.id for n in nodes)
            old = uow.strategy.parents(item_id)
            if new == old:
                return
            parents_of: dict[int, list[int]] = {}
            for child, parent in uow.strategy.links():
                parents_of.setdefault(child, []).append(parent)
            if item_id in new or would_cycle(parents_of, item_id, new):
                raise FunnelError(
                    f"{item.fields.title!r} cannot derive from itself or from what derives "
                    "from it: the links would go round in a circle."
                )
            uow.strategy.set_parents(item_id, new)
            self._audit(
                uow, operator, "strategy.parents_set", item_id, {"parents": old}, {"parents": new}
            )
            uow.commit()

    def link(self, operator: int, child_id: int, parent_id: int) -> None:
        """Add ``parent_id`` to the child's parents (see :meth:`set_parents`)."""
        with self._db.uow() as uow:
            parents = uow.strategy.parents(child_id)
        if parent_id not in parents:
            self.set_parents(operator, child_id, [*parents, parent_id])

    def unlink(self, operator: int, child_id: int, parent_id: int) -> None:
        """Take ``parent_id`` from the child's parents (refused if it needs it)."""
        with self._db.uow() as uow:
            parents = uow.strategy.parents(child_id)
        if parent_id in parents:
            self.set_parents(operator, child_id, [p for p in parents if p != parent_id])

    def dependents(self, operator: int, item_id: int) -> tuple[Dependent, ...]:
        """What depends on the item: deleted with it, or only unlinked from it.

        Raises:
            NotAllowed: nobody with that id, or deactivated.
            KeyError: there is no such item.
        """
        with self._db.uow() as uow:
            actor_of(uow, operator)
            self._item(uow, item_id)
            return self._dependents(uow, item_id)

    def delete(self, operator: int, item_id: int, *, with_dependents: bool = False) -> None:
        """Delete the item (and, when told to, what cannot exist without it).

        Raises:
            HasDependents: something would be deleted with it and ``with_dependents`` is False.
            NotAllowed: the operator may not delete the item or one of those going with it.
            KeyError: there is no such item.
        """
        with self._db.uow() as uow:
            item = self._item(uow, item_id)
            actor = actor_of(uow, operator)
            dependents = self._dependents(uow, item_id)
            going = [d for d in dependents if d.deleted]
            if going and not with_dependents:
                names = "; ".join(f"the {TYPE_NAMES[d.type]} {d.title!r}" for d in going)
                raise HasDependents(
                    f"Deleting {item.fields.title!r} would delete {names} too, which cannot "
                    "exist without it. Delete them with it, or give them other parents first.",
                    dependents,
                )
            doomed = [item, *uow.strategy.many([d.id for d in going])]
            for gone in doomed:
                require_item(uow, actor, gone.type, gone.fields.unit_id)
            now = self._clock()
            after_revision = uow.strategy.last_revision()
            uow.strategy.record_deletions(
                [
                    DeletionRecord(
                        uuid=g.uuid,
                        type=g.type.value,
                        title=g.fields.title,
                        deleted_at=now,
                        after_revision=after_revision,
                        person_id=operator,
                        person_name=actor.name,
                    )
                    for g in doomed
                ]
            )
            uow.strategy.delete([g.id for g in doomed])
            before = {
                "items": [
                    {"id": g.id, "uuid": g.uuid, "type": g.type.value, **fields_json(g.fields)}
                    for g in doomed
                ]
            }
            unlinked = sorted(d.id for d in dependents if not d.deleted)
            self._audit(
                uow, operator, "strategy.item_deleted", item_id, before, {"unlinked": unlinked}
            )
            uow.commit()

    def set_mission(self, operator: int, text: str) -> None:
        """The organization's mission, the top of the funnel.

        Raises:
            NotAllowed: only the executive sponsor, or a strategist or an administrator of the
                root may.
        """
        clean = text.strip()
        with self._db.uow() as uow:
            require_sponsor(uow, actor_of(uow, operator), "edit the mission")
            before = uow.strategy.mission()
            if before == clean:
                return
            uow.strategy.set_mission(clean)
            record_change(
                uow,
                at=self._clock(),
                person_id=operator,
                action="strategy.mission_set",
                entity="strategy",
                before={"mission": before},
                after={"mission": clean},
            )
            uow.commit()

    # -- the policy -------------------------------------------------------------------------

    def add_policy_line(
        self,
        operator: int,
        kind: str,
        value: str,
        *,
        network: str | None = None,
        unit_id: int | None = None,
        account_id: int | None = None,
        note: str = "",
    ) -> PolicyLineRecord:
        """Add a line of the social media policy (with a new stable uuid).

        Raises:
            NotAllowed: only the sponsor, or a strategist or an administrator of the root may.
            FunnelError: the kind is unknown, the value empty, a length limit not a number.
        """
        line = _checked_line(
            PolicyLineRecord(0, str(uuid4()), kind, value, network, unit_id, account_id, note)
        )
        with self._db.uow() as uow:
            require_sponsor(uow, actor_of(uow, operator), "edit the social media policy")
            if unit_id is not None:
                place_of(uow, unit_id)
            line_id = uow.strategy.add_policy_line(line)
            self._audit_line(uow, operator, "policy.line_added", line_id, None, line)
            uow.commit()
        return PolicyLineRecord(line_id, *_fields(line)[1:])

    def edit_policy_line(
        self,
        operator: int,
        line_id: int,
        *,
        kind: str,
        value: str,
        network: str | None = None,
        unit_id: int | None = None,
        account_id: int | None = None,
        note: str = "",
    ) -> None:
        """Replace a policy line's fields (its uuid stays).

        Raises:
            NotAllowed: as :meth:`add_policy_line`.
            FunnelError: as :meth:`add_policy_line`.
            KeyError: there is no such line.
        """
        with self._db.uow() as uow:
            require_sponsor(uow, actor_of(uow, operator), "edit the social media policy")
            old = uow.strategy.policy_line(line_id)
            if old is None:
                raise KeyError(f"There is no policy line {line_id}.")
            new = _checked_line(
                PolicyLineRecord(line_id, old.uuid, kind, value, network, unit_id, account_id, note)
            )
            if new == old:
                return
            uow.strategy.update_policy_line(new)
            self._audit_line(uow, operator, "policy.line_edited", line_id, old, new)
            uow.commit()

    def delete_policy_line(self, operator: int, line_id: int) -> None:
        """Delete a policy line (recorded as deleted, for a later merge).

        Raises:
            NotAllowed: as :meth:`add_policy_line`.
            KeyError: there is no such line.
        """
        with self._db.uow() as uow:
            actor = actor_of(uow, operator)
            require_sponsor(uow, actor, "edit the social media policy")
            old = uow.strategy.policy_line(line_id)
            if old is None:
                raise KeyError(f"There is no policy line {line_id}.")
            uow.strategy.record_deletions(
                [
                    DeletionRecord(
                        uuid=old.uuid,
                        type="policy_line",
                        title=f"{old.kind}: {old.value}"[:300],
                        deleted_at=self._clock(),
                        after_revision=uow.strategy.last_revision(),
                        person_id=operator,
                        person_name=actor.name,
                    )
                ]
            )
            uow.strategy.delete_policy_line(line_id)
            self._audit_line(uow, operator, "policy.line_deleted", line_id, old, None)
            uow.commit()

    # -- revisions --------------------------------------------------------------------------

    def export_revision(self, operator: int, note: str = "") -> RevisionRecord:
        """Keep the strategy as it is now as a new revision (an export's base for its merge).

        Raises:
            NotAllowed: the operator may edit no part of the strategy.
        """
        with self._db.uow() as uow:
            revision = new_revision(uow, operator, note, self._clock())
            uow.commit()
        return revision

    # -- helpers ----------------------------------------------------------------------------

    def _checked_fields(
        self, uow: StorageUnitOfWork, kind: StrategyItemType, fields: ItemFields
    ) -> ItemFields:
        if kind == StrategyItemType.DEPARTMENT_GOAL and fields.owner_id is None and fields.unit_id:
            unit = uow.units.get(fields.unit_id)
            if unit is not None and unit.head_id is not None:
                fields = ItemFields(**{**asdict(fields), "owner_id": unit.head_id})
        return check_item_fields(uow, kind, fields)

    def _parents(self, uow: StorageUnitOfWork, parent_ids: Sequence[int]) -> list[FunnelNode]:
        wanted = sorted(set(parent_ids))
        found = {r.id: r for r in uow.strategy.many(wanted)}
        for parent_id in wanted:
            if parent_id not in found:
                raise FunnelError(f"There is no strategy item {parent_id} to derive from.")
        return [FunnelNode(p, found[p].type, found[p].fields.title) for p in wanted]

    def _dependents(self, uow: StorageUnitOfWork, item_id: int) -> tuple[Dependent, ...]:
        items = {r.id: r for r in uow.strategy.items()}
        parents_of: dict[int, list[int]] = {}
        for child, parent in uow.strategy.links():
            parents_of.setdefault(child, []).append(parent)
        result = deletion_consequences({i: r.type for i, r in items.items()}, parents_of, [item_id])
        rows = [
            Dependent(i, items[i].type, items[i].fields.title, True)
            for i in result.deleted
            if i != item_id
        ] + [Dependent(i, items[i].type, items[i].fields.title, False) for i in result.unlinked]
        order = {t: n for n, t in enumerate(StrategyItemType)}
        return tuple(sorted(rows, key=lambda d: (not d.deleted, order[d.type], d.id)))

    def _order(self, uow: StorageUnitOfWork, kind: StrategyItemType) -> list[int]:
        return [r.id for r in uow.strategy.items() if r.type == kind]

    def _place_at(
        self, uow: StorageUnitOfWork, kind: StrategyItemType, item_id: int, position: int
    ) -> int:
        order = [i for i in self._order(uow, kind) if i != item_id]
        at = max(0, min(position, len(order)))
        order.insert(at, item_id)
        uow.strategy.set_positions({i: n for n, i in enumerate(order)})
        return at

    def _audit(
        self,
        uow: StorageUnitOfWork,
        operator: int,
        action: str,
        item_id: int,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        record_change(
            uow,
            at=self._clock(),
            person_id=operator,
            action=action,
            entity="strategy_item",
            entity_id=item_id,
            before=before,
            after=after,
        )

    def _audit_line(
        self,
        uow: StorageUnitOfWork,
        operator: int,
        action: str,
        line_id: int,
        before: PolicyLineRecord | None,
        after: PolicyLineRecord | None,
    ) -> None:
        record_change(
            uow,
            at=self._clock(),
            person_id=operator,
            action=action,
            entity="policy_line",
            entity_id=line_id,
            before=None if before is None else line_json(before),
            after=None if after is None else line_json(after),
        )


def _fields(line: PolicyLineRecord) -> tuple[Any, ...]:
    return (
        line.id,
        line.uuid,
        line.kind,
        line.value,
        line.network,
        line.unit_id,
        line.account_id,
        line.note,
    )


def _checked_line(line: PolicyLineRecord) -> PolicyLineRecord:
    kinds = {k.value for k in PolicyKind}
    if line.kind not in kinds:
        raise FunnelError(f"A policy line is one of {', '.join(sorted(kinds))}, not {line.kind!r}.")
    value = line.value.strip()
    if not value:
        raise FunnelError("A policy line needs a value.")
    if line.kind == PolicyKind.LENGTH_LIMIT and (not value.isdigit() or int(value) <= 0):
        raise FunnelError(f"A length limit is a whole number of characters, not {value!r}.")
    if line.kind == PolicyKind.LENGTH_LIMIT and not line.network:
        raise FunnelError("A length limit names the network it applies to.")
    return PolicyLineRecord(
        line.id,
        line.uuid,
        line.kind,
        value,
        line.network or None,
        line.unit_id,
        line.account_id,
        line.note.strip()[:500],
    )


def check_item_fields(
    uow: StorageUnitOfWork, kind: StrategyItemType, fields: ItemFields
) -> ItemFields:
    """The fields cleaned, or why not: the funnel's needs, a real unit, an active owner.

    Raises:
        FunnelError: a part is missing, or the owner is unknown or deactivated.
        KeyError: there is no such unit.
    """
    clean = check_fields(kind, fields)
    if clean.unit_id is not None:
        place_of(uow, clean.unit_id)
    if clean.owner_id is not None:
        active = uow.strategy.person_active(clean.owner_id)
        if active is None:
            raise FunnelError(f"There is no person {clean.owner_id} to own it.")
        if not active:
            raise FunnelError("A deactivated person cannot own a strategy item.")
    return clean


def new_revision(uow: StorageUnitOfWork, operator: int, note: str, at: datetime) -> RevisionRecord:
    """Keep the strategy as a new revision, audited, in the caller's unit of work.

    Raises:
        NotAllowed: the operator may edit no part of the strategy.
    """
    actor = actor_of(uow, operator)
    require_some_part(uow, actor, "export the strategy")
    number = (uow.strategy.last_revision() or 0) + 1
    snapshot = snapshot_of(uow, number)
    revision = RevisionRecord(
        number=number,
        created_at=at,
        person_id=operator,
        person_name=actor.name,
        note=note.strip()[:500],
        snapshot=snapshot,
    )
    uow.strategy.add_revision(revision)
    record_change(
        uow,
        at=at,
        person_id=operator,
        action="strategy.exported",
        entity="strategy",
        entity_id=number,
        after={"revision": number, "items": len(snapshot["items"])},
    )
    return revision
