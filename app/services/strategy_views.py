"""The strategy's reads: the outline, what is missing, what served each social goal, revisions.

Anyone active in the workspace may read the strategy (the compose pane offers its social goals
to every author); the operator is checked to be a known, active person. The outline costs two
queries for the funnel (every item with its unit's and owner's names, every link) and one for
the unit tree that orders the department goals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from app.domain.enums import StrategyItemType
from app.domain.strategy_funnel import (
    FUNNEL_ORDER,
    GapItem,
    GapUnit,
    ItemFields,
    kpi_complete,
)
from app.domain.strategy_funnel import gaps as find_gaps
from app.domain.units import tree_order
from app.services.strategy_access import actor_of
from app.storage.ports import Storage, StorageUnitOfWork
from app.storage.strategy import (
    DeletionRecord,
    ItemRecord,
    PolicyLineRecord,
    RevisionRecord,
    ServedDraftRow,
    TaggedConversationRow,
)

T = StrategyItemType
SNAPSHOT_FORMAT = 1


@dataclass(frozen=True, slots=True)
class OutlineItem:
    """An item in the outline with the ids of its parents and children."""

    item: ItemRecord
    parents: tuple[int, ...]
    children: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class StrategyOutline:
    """The whole funnel in order.

    Mission, business goals, department goals unit by unit (in tree order), audience insights,
    social goals, tactics; each section by position.
    """

    mission: str
    items: tuple[OutlineItem, ...]

    def of_type(self, kind: StrategyItemType) -> tuple[OutlineItem, ...]:
        return tuple(i for i in self.items if i.item.type == kind)


@dataclass(frozen=True, slots=True)
class Gap:
    """One thing the "what is missing" panel lists: an item or a unit."""

    id: int
    title: str


@dataclass(frozen=True, slots=True)
class Missing:
    units_without_goals: tuple[Gap, ...]
    goals_without_social_goals: tuple[Gap, ...]
    social_goals_without_kpi: tuple[Gap, ...]
    social_goals_without_tactic: tuple[Gap, ...]
    tactics_past_horizon: tuple[Gap, ...]

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.units_without_goals,
                self.goals_without_social_goals,
                self.social_goals_without_kpi,
                self.social_goals_without_tactic,
                self.tactics_past_horizon,
            )
        )


@dataclass(frozen=True, slots=True)
class GoalServed:
    """How much served a social goal: posts, replies (and direct messages), conversations."""

    posts: int
    replies: int
    conversations: int


class StrategyViews:
    """The read side of :class:`app.services.strategy.StrategyService`."""

    def __init__(self, db: Storage, *, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock

    def outline(self, operator: int) -> StrategyOutline:
        """The funnel in order, each item with its parents and children."""
        with self._db.uow() as uow:
            actor_of(uow, operator)
            items = uow.strategy.items()
            links = uow.strategy.links()
            unit_order = {u.id: n for n, u in enumerate(tree_order(uow.units.all()))}
            mission = uow.strategy.mission()
        parents: dict[int, list[int]] = {}
        children: dict[int, list[int]] = {}
        for child, parent in links:
            parents.setdefault(child, []).append(parent)
            children.setdefault(parent, []).append(child)
        rank = {t: n for n, t in enumerate(FUNNEL_ORDER)}

        def key(r: ItemRecord) -> tuple[int, int, int, int]:
            unit = unit_order.get(r.fields.unit_id or -1, -1) if r.type == T.DEPARTMENT_GOAL else 0
            return (rank[r.type], unit, r.position, r.id)

        return StrategyOutline(
            mission,
            tuple(
                OutlineItem(r, tuple(parents.get(r.id, ())), tuple(children.get(r.id, ())))
                for r in sorted(items, key=key)
            ),
        )

    def item(self, operator: int, item_id: int) -> ItemRecord:
        """One item.

        Raises:
            KeyError: there is no such item.
        """
        with self._db.uow() as uow:
            actor_of(uow, operator)
            return self._item(uow, item_id)

    def missing(self, operator: int, today: date | None = None) -> Missing:
        """What the strategy lacks (``today``: the clock's day).

        Units without department goals, goals no social goal serves, social goals without a
        complete KPI or without a tactic, tactics past their horizon.
        """
        with self._db.uow() as uow:
            actor_of(uow, operator)
            items = uow.strategy.items()
            links = uow.strategy.links()
            units = uow.units.all()
        parents_of: dict[int, list[int]] = {}
        for child, parent in links:
            parents_of.setdefault(child, []).append(parent)
        found = find_gaps(
            [
                GapItem(
                    r.id,
                    r.type,
                    r.fields.title,
                    r.created_at,
                    kpi_complete=r.type != T.SOCIAL_GOAL or kpi_complete(r.fields),
                    horizon=r.fields.horizon,
                )
                for r in items
            ],
            parents_of,
            [GapUnit(u.id, u.name, u.parent_id is not None and not u.is_triage) for u in units],
            {r.id: r.fields.unit_id for r in items if r.type == T.DEPARTMENT_GOAL},
            today or self._clock().date(),
        )
        titles = {r.id: r.fields.title for r in items}
        unit_names = {u.id: u.name for u in units}

        def of(ids: tuple[int, ...], names: dict[int, str]) -> tuple[Gap, ...]:
            return tuple(Gap(i, names[i]) for i in ids)

        return Missing(
            units_without_goals=of(found.units_without_goals, unit_names),
            goals_without_social_goals=of(found.goals_without_social_goals, titles),
            social_goals_without_kpi=of(found.social_goals_without_kpi, titles),
            social_goals_without_tactic=of(found.social_goals_without_tactic, titles),
            tactics_past_horizon=of(found.tactics_past_horizon, titles),
        )

    def goal_served(self, operator: int, goal_id: int) -> GoalServed:
        """How many posts and replies served the social goal, how many conversations it tags.

        Raises:
            KeyError: there is no such social goal.
        """
        with self._db.uow() as uow:
            actor_of(uow, operator)
            self._social_goal(uow, goal_id)
            return GoalServed(*uow.strategy.goal_counts(goal_id))

    def goal_drafts(
        self,
        operator: int,
        goal_id: int,
        *,
        after: tuple[datetime, int] | None = None,
        limit: int = 100,
    ) -> list[ServedDraftRow]:
        """The drafts that served the goal, newest change first, after the key ``after``."""
        with self._db.uow() as uow:
            actor_of(uow, operator)
            self._social_goal(uow, goal_id)
            return uow.strategy.goal_drafts(goal_id, after=after, limit=limit)

    def goal_conversations(
        self,
        operator: int,
        goal_id: int,
        *,
        after: tuple[datetime, int] | None = None,
        limit: int = 100,
    ) -> list[TaggedConversationRow]:
        """The conversations tagged with the goal, newest activity first, after ``after``."""
        with self._db.uow() as uow:
            actor_of(uow, operator)
            self._social_goal(uow, goal_id)
            return uow.strategy.goal_conversations(goal_id, after=after, limit=limit)

    def policy_lines(self, operator: int) -> list[PolicyLineRecord]:
        """Every line of the policy, by kind then id, each with its uuid."""
        with self._db.uow() as uow:
            actor_of(uow, operator)
            return uow.strategy.policy_lines()

    def revision(self, operator: int, number: int) -> RevisionRecord | None:
        """An exported revision with its snapshot (None: never exported)."""
        with self._db.uow() as uow:
            actor_of(uow, operator)
            return uow.strategy.revision(number)

    def revisions(self, operator: int) -> list[tuple[int, datetime, str, str]]:
        """Every exported revision's number, time, who and note, newest first."""
        with self._db.uow() as uow:
            actor_of(uow, operator)
            return uow.strategy.revisions()

    def deletions(self, operator: int, since_revision: int | None = None) -> list[DeletionRecord]:
        """What was deleted from the strategy (since revision ``since_revision`` was exported)."""
        with self._db.uow() as uow:
            actor_of(uow, operator)
            return uow.strategy.deletions(since_revision)

    def snapshot(self, operator: int) -> dict[str, Any]:
        """The strategy as a revision would keep it now (not stored)."""
        with self._db.uow() as uow:
            actor_of(uow, operator)
            return snapshot_of(uow, (uow.strategy.last_revision() or 0) + 1)

    # -- helpers ----------------------------------------------------------------------------

    def _item(self, uow: StorageUnitOfWork, item_id: int) -> ItemRecord:
        item = uow.strategy.get(item_id)
        if item is None:
            raise KeyError(f"There is no strategy item {item_id}.")
        return item

    def _social_goal(self, uow: StorageUnitOfWork, goal_id: int) -> ItemRecord:
        item = self._item(uow, goal_id)
        if item.type != T.SOCIAL_GOAL:
            raise KeyError(f"Strategy item {goal_id} is not a social goal.")
        return item


def fields_json(fields: ItemFields) -> dict[str, Any]:
    """An item's fields as JSON (the audit log's before and after, a revision's snapshot)."""
    out = asdict(fields)
    out["deadline"] = fields.deadline.isoformat() if fields.deadline else None
    return out


def line_json(line: PolicyLineRecord) -> dict[str, Any]:
    return {
        "uuid": line.uuid,
        "kind": line.kind,
        "value": line.value,
        "network": line.network,
        "unit_id": line.unit_id,
        "account_id": line.account_id,
        "note": line.note,
    }


def snapshot_of(uow: StorageUnitOfWork, number: int) -> dict[str, Any]:
    """The strategy as a revision keeps it: items and policy lines by uuid, parents by uuid."""
    items = uow.strategy.items()
    uuids = {r.id: r.uuid for r in items}
    parents: dict[int, list[str]] = {}
    for child, parent in uow.strategy.links():
        parents.setdefault(child, []).append(uuids[parent])
    return {
        "format": SNAPSHOT_FORMAT,
        "revision": number,
        "mission": uow.strategy.mission(),
        "items": {
            r.uuid: {
                "type": r.type.value,
                **fields_json(r.fields),
                "position": r.position,
                "parents": sorted(parents.get(r.id, [])),
                "created": r.created_at.date().isoformat(),
            }
            for r in items
        },
        "policy": {line.uuid: line_json(line) for line in uow.strategy.policy_lines()},
    }
