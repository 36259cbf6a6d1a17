"""The unit tree: materialised paths and sub-tree resolution, pure functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UnitNode:
    """One unit as the tree needs it."""

    id: int
    parent_id: int | None
    name: str
    path: str  # "/1/4/9/": the ids from the root down to this unit


def make_path(parent_path: str | None, unit_id: int) -> str:
    """Return the materialised path of a unit below ``parent_path`` (root: ``None``)."""
    return f"{parent_path or '/'}{unit_id}/"


def subtree_ids(units: Iterable[UnitNode], root_id: int) -> tuple[int, ...]:
    """Ids of ``root_id`` and every unit below it, in path order.

    Raises:
        KeyError: ``root_id`` is not among ``units``.
    """
    nodes = list(units)
    by_id = {u.id: u for u in nodes}
    prefix = by_id[root_id].path
    return tuple(u.id for u in sorted(nodes, key=lambda u: u.path) if u.path.startswith(prefix))


def rollup(units: Iterable[UnitNode], own: Mapping[int, int]) -> dict[int, int]:
    """Sum per-unit figures over each unit's sub-tree (a unit's figure includes its sub-units)."""
    nodes = list(units)
    totals = {u.id: 0 for u in nodes}
    for u in nodes:
        value = own.get(u.id, 0)
        if not value:
            continue
        for part in u.path.strip("/").split("/"):
            uid = int(part)
            if uid in totals:
                totals[uid] += value
    return totals
