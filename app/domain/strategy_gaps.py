"""What a strategy file lacks: the funnel's "what is missing" over a :class:`StrategyDoc`.

The same rules as the workspace's (:func:`app.domain.strategy_funnel.gaps`): goals no social
goal derives from, social goals without a complete KPI or without a tactic, tactics past their
horizon. A file names units only by their path and holds no list of them, so which units have
no department goal cannot be told from a file; that list is the workspace's alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time

from app.domain.strategy_doc import StrategyDoc, StrategyItemDoc, sorted_items
from app.domain.strategy_funnel import (
    FUNNEL_ORDER,
    GapItem,
    ItemFields,
    horizon_end,
    kpi_complete,
)
from app.domain.strategy_funnel import gaps as funnel_gaps

__all__ = ["DocGaps", "doc_gaps", "item_horizon_end"]


@dataclass(frozen=True, slots=True)
class DocGaps:
    """What a file's strategy lacks, each list of item ids in file order."""

    goals_without_social_goals: tuple[str, ...]
    social_goals_without_kpi: tuple[str, ...]
    social_goals_without_tactic: tuple[str, ...]
    tactics_past_horizon: tuple[str, ...]


def item_horizon_end(item: StrategyItemDoc) -> date | None:
    """The day a tactic's horizon ends, counted from its ``created`` day (None: not known)."""
    if item.created is None:
        return None
    return horizon_end(datetime.combine(item.created, time.min), item.horizon)


def _complete(item: StrategyItemDoc) -> bool:
    # kpi_complete reads the KPI's parts only; the title is not among them.
    return kpi_complete(
        ItemFields(
            title=item.title,
            kpi=item.kpi.strip(),
            kpi_target=item.kpi_target,
            kpi_unit=item.kpi_unit.strip(),
            baseline=item.baseline,
            deadline=item.deadline,
        )
    )


def doc_gaps(doc: StrategyDoc, today: date) -> DocGaps:
    """What the doc's strategy lacks on ``today``.

    A tactic with no ``created`` day (written by hand) has no known horizon end, so it is never
    counted as past it. Items of an unknown type and dangling parents are left out here:
    :func:`app.domain.strategy_doc.validate` reports them.
    """
    known = [i for i in sorted_items(doc) if i.type in FUNNEL_ORDER]
    number: Mapping[str, int] = {item.id: n for n, item in enumerate(known)}
    gap_items = [
        GapItem(
            id=number[item.id],
            type=item.type,
            title=item.title,
            # Without a created day the horizon is left out, so this time is never read.
            created_at=datetime.combine(item.created or today, time.min),
            kpi_complete=item.type != "social_goal" or _complete(item),
            horizon=item.horizon if item.created is not None else None,
        )
        for item in known
    ]
    parents_of = {
        number[item.id]: [number[p] for p in item.parents if p in number] for item in known
    }
    found = funnel_gaps(gap_items, parents_of, (), {}, today)
    ids = [item.id for item in known]

    def back(numbers: tuple[int, ...]) -> tuple[str, ...]:
        return tuple(ids[n] for n in numbers)

    return DocGaps(
        goals_without_social_goals=back(found.goals_without_social_goals),
        social_goals_without_kpi=back(found.social_goals_without_kpi),
        social_goals_without_tactic=back(found.social_goals_without_tactic),
        tactics_past_horizon=back(found.tactics_past_horizon),
    )
