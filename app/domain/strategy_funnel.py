"""The strategy funnel's rules: what each item needs, which parents it may have, what breaks.

The funnel runs mission and business goals → department goals → audience insights → social
goals → tactics. Parents (``StrategyLink``: child derives from or serves parent) may only be of
the types :data:`ALLOWED_PARENTS` names: a department goal derives from business goals or from
another unit's department goal, a social goal from at least one business or department goal and
at least one audience insight, a tactic serves exactly one social goal. Department goals may
derive from department goals, so a cycle is possible in principle and refused
(:func:`would_cycle`). Every refusal is a :class:`FunnelError` whose message a person can read.

Horizons count from a tactic's creation: short 3 months, medium 12, long 36
(:data:`HORIZON_MONTHS`); a tactic past its horizon is due for review in "what is missing".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Protocol

from app.domain.enums import Horizon, StrategyItemType

T = StrategyItemType
GOALS = frozenset({T.BUSINESS_GOAL, T.DEPARTMENT_GOAL})

#: The funnel's order (the outline's sections, top to bottom).
FUNNEL_ORDER: tuple[StrategyItemType, ...] = (
    T.BUSINESS_GOAL,
    T.DEPARTMENT_GOAL,
    T.AUDIENCE_INSIGHT,
    T.SOCIAL_GOAL,
    T.TACTIC,
)

#: The types an item of each type may derive from (or, for a tactic, serve).
ALLOWED_PARENTS: dict[StrategyItemType, frozenset[StrategyItemType]] = {
    T.BUSINESS_GOAL: frozenset(),
    T.DEPARTMENT_GOAL: frozenset({T.BUSINESS_GOAL, T.DEPARTMENT_GOAL}),
    T.AUDIENCE_INSIGHT: frozenset(),
    T.SOCIAL_GOAL: frozenset({T.BUSINESS_GOAL, T.DEPARTMENT_GOAL, T.AUDIENCE_INSIGHT}),
    T.TACTIC: frozenset({T.SOCIAL_GOAL}),
}

#: Months a tactic's horizon lasts, counted from its creation.
HORIZON_MONTHS: dict[Horizon, int] = {Horizon.SHORT: 3, Horizon.MEDIUM: 12, Horizon.LONG: 36}

TYPE_NAMES: dict[StrategyItemType, str] = {
    T.BUSINESS_GOAL: "business goal",
    T.DEPARTMENT_GOAL: "department goal",
    T.AUDIENCE_INSIGHT: "audience insight",
    T.SOCIAL_GOAL: "social goal",
    T.TACTIC: "tactic",
}

TITLE_MAX = 300


class FunnelError(ValueError):
    """The change would break the funnel; the message says what is missing or wrong."""


@dataclass(frozen=True, slots=True)
class ItemFields:
    """What a person edits on a strategy item (its type and parents are set apart)."""

    title: str
    body: str = ""
    unit_id: int | None = None
    owner_id: int | None = None
    kpi: str = ""  # the KPI's name ("median first response")
    kpi_target: float | None = None
    kpi_unit: str = ""  # what the target and baseline count ("hours")
    baseline: float | None = None
    deadline: date | None = None
    channel: str = ""
    cadence: str = ""
    horizon: str | None = None  # a Horizon (tactics)


@dataclass(frozen=True, slots=True)
class FunnelNode:
    """An item as the funnel's graph rules read it."""

    id: int
    type: StrategyItemType
    title: str


class HasParts(Protocol):
    """What :func:`missing_parts` reads: an item's fields in the workspace or in a file."""

    @property
    def kpi(self) -> str: ...
    @property
    def kpi_target(self) -> float | None: ...
    @property
    def kpi_unit(self) -> str: ...
    @property
    def baseline(self) -> float | None: ...
    @property
    def deadline(self) -> date | None: ...
    @property
    def channel(self) -> str: ...
    @property
    def cadence(self) -> str: ...
    @property
    def horizon(self) -> str | None: ...


HORIZONS = frozenset(h.value for h in Horizon)


def missing_parts(
    kind: StrategyItemType, fields: HasParts, *, has_unit: bool, has_owner: bool
) -> list[str]:
    """What an item of ``kind`` lacks, in words ("a KPI", "an owner"); empty when whole.

    The one statement of what each item needs, for the service (:func:`check_fields`) and for
    a strategy file (:func:`app.domain.strategy_doc.validate`) alike.
    """
    missing: list[str] = []
    if kind == T.DEPARTMENT_GOAL and not has_unit:
        missing.append("its unit")
    if kind == T.SOCIAL_GOAL:
        if not fields.kpi.strip():
            missing.append("a KPI")
        if not _number(fields.kpi_target):
            missing.append("a numeric target")
        if not fields.kpi_unit.strip():
            missing.append("the target's unit")
        if not _number(fields.baseline):
            missing.append("a baseline")
        if fields.deadline is None:
            missing.append("a deadline")
        if not has_owner:
            missing.append("an owner")
    if kind == T.TACTIC:
        if not fields.channel.strip():
            missing.append("a channel")
        if not fields.cadence.strip():
            missing.append("a cadence")
        if not has_owner:
            missing.append("an owner")
        if not fields.horizon:
            missing.append("a horizon (short, medium or long)")
    return missing


def inputs_missing(kind: StrategyItemType, parent_types: Sequence[StrategyItemType]) -> str | None:
    """Why parents of these types are not enough for an item of ``kind`` (None: they are)."""
    if kind == T.SOCIAL_GOAL:
        gaps = []
        if not any(p in GOALS for p in parent_types):
            gaps.append("at least one business or department goal")
        if T.AUDIENCE_INSIGHT not in parent_types:
            gaps.append("at least one audience insight")
        if gaps:
            return f"A social goal derives from {_listed(gaps)}."
    if kind == T.TACTIC and len(parent_types) != 1:
        return "A tactic serves exactly one social goal" + (
            " (it has none)." if not parent_types else f" (not {len(parent_types)})."
        )
    return None


def check_fields(kind: StrategyItemType, fields: ItemFields) -> ItemFields:
    """The fields cleaned (text stripped), or why they do not do for an item of ``kind``.

    Raises:
        FunnelError: naming everything missing at once.
    """
    clean = replace(
        fields,
        title=fields.title.strip(),
        body=fields.body.strip(),
        kpi=fields.kpi.strip(),
        kpi_unit=fields.kpi_unit.strip(),
        channel=fields.channel.strip(),
        cadence=fields.cadence.strip(),
        horizon=(fields.horizon or None),
    )
    name = TYPE_NAMES[kind]
    if not clean.title:
        raise FunnelError(f"A {name} needs a title.")
    if len(clean.title) > TITLE_MAX:
        raise FunnelError(f"A title has at most {TITLE_MAX} characters.")
    if clean.horizon is not None and clean.horizon not in HORIZONS:
        raise FunnelError(f"A horizon is short, medium or long, not {clean.horizon!r}.")
    missing = missing_parts(
        kind, clean, has_unit=clean.unit_id is not None, has_owner=clean.owner_id is not None
    )
    if missing:
        raise FunnelError(f"A {name} needs {_listed(missing)}.")
    if kind != T.TACTIC and clean.horizon is not None:
        raise FunnelError(f"Only tactics have a horizon, not a {name}.")
    return clean


def check_parents(kind: StrategyItemType, parents: Sequence[FunnelNode]) -> None:
    """Whether an item of ``kind`` may have exactly these parents.

    Raises:
        FunnelError: a parent of a type the funnel does not allow there, or inputs missing.
    """
    name = TYPE_NAMES[kind]
    allowed = ALLOWED_PARENTS[kind]
    for parent in parents:
        if parent.type not in allowed:
            if not allowed:
                raise FunnelError(f"A {name} derives from nothing in the funnel.")
            raise FunnelError(
                f"A {name} cannot derive from the {TYPE_NAMES[parent.type]} "
                f"{parent.title!r}: only from {_listed(sorted(TYPE_NAMES[t] for t in allowed))}."
            )
    problem = inputs_missing(kind, [p.type for p in parents])
    if problem:
        raise FunnelError(problem)


def would_cycle(
    parents_of: Mapping[int, Iterable[int]], child: int, new_parents: Iterable[int]
) -> bool:
    """Whether giving ``child`` the parents ``new_parents`` would close a loop.

    ``parents_of`` holds the stored links (child → its parents); ``child``'s own are replaced.
    """
    seen: set[int] = set()
    stack = list(new_parents)
    while stack:
        at = stack.pop()
        if at == child:
            return True
        if at in seen:
            continue
        seen.add(at)
        stack.extend(parents_of.get(at, ()))
    return False


@dataclass(frozen=True, slots=True)
class Consequences:
    """What deleting items takes with it: deleted too, or only unlinked (still valid)."""

    deleted: frozenset[int]  # the items asked for, and what cannot exist without them
    unlinked: frozenset[int]  # items that keep existing, with one parent fewer


def deletion_consequences(
    types: Mapping[int, StrategyItemType],
    parents_of: Mapping[int, Iterable[int]],
    doomed: Iterable[int],
) -> Consequences:
    """What deleting ``doomed`` takes with it.

    A tactic never survives its social goal, nor a social goal its last goal or its last
    insight (and so on down); other children only lose the link.
    """
    gone = set(doomed)
    children: dict[int, set[int]] = {}
    for child, parents in parents_of.items():
        for parent in parents:
            children.setdefault(parent, set()).add(child)
    changed = True
    while changed:
        changed = False
        for item in list(gone):
            for child in children.get(item, ()):
                if child in gone:
                    continue
                left = [types[p] for p in parents_of.get(child, ()) if p not in gone]
                kind = types[child]
                if (kind == T.TACTIC and T.SOCIAL_GOAL not in left) or (
                    kind == T.SOCIAL_GOAL
                    and (not GOALS & set(left) or T.AUDIENCE_INSIGHT not in left)
                ):
                    gone.add(child)
                    changed = True
    unlinked = {c for g in gone for c in children.get(g, ()) if c not in gone}
    return Consequences(frozenset(gone), frozenset(unlinked))


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")  # pragma: no cover


def horizon_end(created: datetime, horizon: str | None) -> date | None:
    """The day a tactic's horizon ends (None: it has none)."""
    if horizon is None or horizon not in {h.value for h in Horizon}:
        return None
    return add_months(created.date(), HORIZON_MONTHS[Horizon(horizon)])


@dataclass(frozen=True, slots=True)
class GapItem:
    """An item as "what is missing" reads it."""

    id: int
    type: StrategyItemType
    title: str
    created_at: datetime
    kpi_complete: bool = True  # social goals: a KPI, numeric target, unit, baseline, deadline
    horizon: str | None = None


@dataclass(frozen=True, slots=True)
class GapUnit:
    id: int
    name: str
    needs_goals: bool  # not the root (its goals are business goals) and not the Triage queue


@dataclass(frozen=True, slots=True)
class Gaps:
    """What the strategy lacks, each list in the order given."""

    units_without_goals: tuple[int, ...]
    goals_without_social_goals: tuple[int, ...]
    social_goals_without_kpi: tuple[int, ...]
    social_goals_without_tactic: tuple[int, ...]
    tactics_past_horizon: tuple[int, ...]


def gaps(
    items: Sequence[GapItem],
    parents_of: Mapping[int, Iterable[int]],
    units: Sequence[GapUnit],
    goal_units: Mapping[int, int | None],
    today: date,
) -> Gaps:
    """What is missing.

    A business goal counts as served when a social goal derives from it or from a department
    goal derived from it; ``goal_units`` maps department goals to their unit.
    """
    types = {i.id: i.type for i in items}
    served: set[int] = set()
    has_tactic: set[int] = set()
    for child, parents in parents_of.items():
        if types.get(child) == T.SOCIAL_GOAL:
            served.update(p for p in parents if types.get(p) in GOALS)
        if types.get(child) == T.TACTIC:
            has_tactic.update(parents)
    stack = [s for s in served if types.get(s) == T.DEPARTMENT_GOAL]
    while stack:  # up the department goals a served one derives from
        for parent in parents_of.get(stack.pop(), ()):
            if parent not in served and types.get(parent) in GOALS:
                served.add(parent)
                if types[parent] == T.DEPARTMENT_GOAL:
                    stack.append(parent)
    with_goals = {u for g, u in goal_units.items() if types.get(g) == T.DEPARTMENT_GOAL}
    past = []
    for i in items:
        if i.type == T.TACTIC:
            end = horizon_end(i.created_at, i.horizon)
            if end is not None and end < today:
                past.append(i.id)
    return Gaps(
        units_without_goals=tuple(u.id for u in units if u.needs_goals and u.id not in with_goals),
        goals_without_social_goals=tuple(
            i.id for i in items if i.type in GOALS and i.id not in served
        ),
        social_goals_without_kpi=tuple(
            i.id for i in items if i.type == T.SOCIAL_GOAL and not i.kpi_complete
        ),
        social_goals_without_tactic=tuple(
            i.id for i in items if i.type == T.SOCIAL_GOAL and i.id not in has_tactic
        ),
        tactics_past_horizon=tuple(past),
    )


def kpi_complete(fields: ItemFields) -> bool:
    """Whether a social goal's KPI is whole (what :func:`check_fields` demands of one)."""
    return bool(
        fields.kpi
        and _number(fields.kpi_target)
        and fields.kpi_unit
        and _number(fields.baseline)
        and fields.deadline is not None
    )


def _number(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _listed(parts: Sequence[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    return f"{', '.join(parts[:-1])} and {parts[-1]}"
