"""The unit tree: materialised paths and sub-tree resolution, pure functions."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


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


# -- editing the tree: the rules a change must keep ------------------------------------------

MAX_NAME = 200
MAX_REGION = 100
MAX_TARGET_H = 720.0  # thirty days: a first-response target beyond that is no target
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")

#: ISO 639-1: the two-letter language codes (a unit answers in these).
_ISO_639_1 = (
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv "
    "cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr "
    "ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw "
    "ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv "
    "ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr "
    "ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi "
    "yo za zh zu"
)
ISO_639_1 = frozenset(_ISO_639_1.split())


class UnitError(ValueError):
    """A change to the unit tree that its rules refuse; the message says why, for a person."""


@dataclass(frozen=True, slots=True)
class UnitDetails:
    """Everything the units editor shows about one unit."""

    id: int
    parent_id: int | None
    path: str
    name: str
    kind: str
    colour: str
    head_id: int | None
    region: str
    languages: str  # "de,en"
    is_triage: bool
    sort_order: int
    first_response_target_h: float | None  # None: no target
    business_hours: dict[str, Any] | None  # None: the organization's hours

    @property
    def node(self) -> UnitNode:
        return UnitNode(self.id, self.parent_id, self.name, self.path)


@dataclass(frozen=True, slots=True)
class UnitHoldings:
    """What a unit holds itself (its sub-units' own holdings are theirs)."""

    conversations: int = 0
    accounts: int = 0
    drafts: int = 0
    roles: int = 0
    sub_units: int = 0

    @property
    def empty(self) -> bool:
        return not (self.conversations or self.accounts or self.drafts or self.roles) and not (
            self.sub_units
        )


def check_name(name: str, sibling_names: Iterable[str]) -> str:
    """The name as stored (trimmed), if no sibling already has it (whatever its case).

    Raises:
        UnitError: empty, longer than 200 characters, or a sibling's name.
    """
    cleaned = " ".join(name.split())
    if not cleaned:
        raise UnitError("A unit needs a name.")
    if len(cleaned) > MAX_NAME:
        raise UnitError(f"A unit's name has at most {MAX_NAME} characters.")
    if any(cleaned.casefold() == other.casefold() for other in sibling_names):
        raise UnitError(f"There is already a unit called “{cleaned}” there: choose another name.")
    return cleaned


def check_colour(colour: str) -> str:
    """The colour as stored (``#rrggbb``, lower case).

    Raises:
        UnitError: not six hexadecimal digits after ``#``.
    """
    value = colour.strip()
    if not _COLOUR.match(value):
        raise UnitError(f"“{colour}” is not a colour: write it as #rrggbb, e.g. #1e88e5.")
    return value.lower()


def check_languages(text: str) -> str:
    """Languages as stored: ISO 639-1 codes, lower case, comma-separated, each once ("de,en").

    Raises:
        UnitError: a part that is not a two-letter ISO 639-1 code.
    """
    out: list[str] = []
    for part in re.split(r"[,\s;]+", text.strip()):
        if not part:
            continue
        code = part.lower()
        if code not in ISO_639_1:
            raise UnitError(
                f"“{part}” is not a language code: use two-letter ISO 639-1 codes such as de, en."
            )
        if code not in out:
            out.append(code)
    return ",".join(out)


def check_region(text: str) -> str:
    cleaned = " ".join(text.split())
    if len(cleaned) > MAX_REGION:
        raise UnitError(f"A region has at most {MAX_REGION} characters.")
    return cleaned


def check_target(hours: float | None) -> float | None:
    """A first-response target in business hours (None: no target).

    Raises:
        UnitError: zero, negative, not a number, or more than 720 hours.
    """
    if hours is None:
        return None
    if not math.isfinite(hours) or hours <= 0:
        raise UnitError("A first-response target is a number of hours above zero.")
    if hours > MAX_TARGET_H:
        raise UnitError(f"A first-response target is at most {MAX_TARGET_H:g} hours (30 days).")
    return float(hours)


def is_root(unit: UnitNode) -> bool:
    return unit.parent_id is None


def check_move(units: Iterable[UnitNode], unit_id: int, new_parent_id: int) -> None:
    """Whether ``unit_id`` may go below ``new_parent_id``.

    Raises:
        UnitError: the unit is the root, or the new parent is the unit or one of its sub-units.
        KeyError: either unit is unknown.
    """
    by_id = {u.id: u for u in units}
    unit, parent = by_id[unit_id], by_id[new_parent_id]
    if is_root(unit):
        raise UnitError(f"{unit.name} is the top of the tree: it cannot move below another unit.")
    if parent.path.startswith(unit.path):
        where = "itself" if parent.id == unit.id else f"its own sub-unit {parent.name}"
        raise UnitError(f"{unit.name} cannot move below {where}.")


def moved_paths(units: Iterable[UnitNode], unit_id: int, new_parent_id: int) -> dict[int, str]:
    """The new path of the unit and of every unit below it after the move (checked first).

    Raises:
        UnitError: as :func:`check_move`.
    """
    nodes = list(units)
    check_move(nodes, unit_id, new_parent_id)
    by_id = {u.id: u for u in nodes}
    old = by_id[unit_id].path
    new = make_path(by_id[new_parent_id].path, unit_id)
    return {u.id: new + u.path[len(old) :] for u in nodes if u.path.startswith(old)}


def allowed_parents(units: Iterable[UnitNode], unit_id: int) -> tuple[int, ...]:
    """The units ``unit_id`` may move below: all but itself, its sub-units and its parent."""
    nodes = list(units)
    by_id = {u.id: u for u in nodes}
    unit = by_id[unit_id]
    if is_root(unit):
        return ()
    return tuple(
        u.id
        for u in sorted(nodes, key=lambda u: u.path)
        if not u.path.startswith(unit.path) and u.id != unit.parent_id
    )


def check_deletable(unit: UnitNode, *, is_triage: bool) -> None:
    """The root and the Triage unit stay.

    Raises:
        UnitError: the unit is the root or the Triage unit.
    """
    if is_root(unit):
        raise UnitError(f"{unit.name} is the top of the tree and cannot be deleted.")
    if is_triage:
        raise UnitError(
            f"{unit.name} is the Triage queue: conversations no rule claims land there, "
            "so it cannot be deleted."
        )


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def describe_holdings(name: str, held: UnitHoldings) -> str:
    """What a unit holds, as a refusal to delete it says it ("Marketing holds 2 accounts: …")."""
    parts = [
        _plural(n, one, many)
        for n, one, many in (
            (held.conversations, "conversation", "conversations"),
            (held.accounts, "account", "accounts"),
            (held.drafts, "draft", "drafts"),
            (held.roles, "role assignment", "role assignments"),
            (held.sub_units, "sub-unit", "sub-units"),
        )
        if n
    ]
    if not parts:
        return f"{name} holds nothing: it can be deleted."
    listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    return f"{name} holds {listed}: choose where they go."


def new_unit_name(sibling_names: Iterable[str], base: str = "New unit") -> str:
    """A name for a new unit: "New unit", or "New unit 2" … if a sibling has it already."""
    taken = {n.casefold() for n in sibling_names}
    if base.casefold() not in taken:
        return base
    n = 2
    while f"{base} {n}".casefold() in taken:
        n += 1
    return f"{base} {n}"


def tree_order(units: Iterable[UnitDetails]) -> list[UnitDetails]:
    """Parents before children; siblings by their position, then by name (case-insensitive)."""
    nodes = list(units)
    rank = {u.id: (u.sort_order, u.name.casefold(), u.id) for u in nodes}

    def key(u: UnitDetails) -> list[tuple[int, str, int]]:
        return [rank[int(p)] for p in u.path.strip("/").split("/") if int(p) in rank]

    return sorted(nodes, key=key)


def parse_day_spans(text: str) -> list[list[str]]:
    """One day's opening hours as a person types them ("09:00-12:00, 13:00-17:00"; "" closed).

    The spans are only split here; ``app.domain.hours.check_schedule`` checks the times.

    Raises:
        UnitError: a part that is not two times joined by "-".
    """
    spans: list[list[str]] = []
    for part in re.split(r"[,;]", text):
        part = part.strip()
        if not part:
            continue
        ends = [t.strip() for t in re.split(r"\s*[-\u2013]\s*", part)]
        if len(ends) != 2 or not all(ends):
            raise UnitError(f"“{part}” is not a span of hours: write it as 09:00-17:00.")
        spans.append(ends)
    return spans


def format_day_spans(spans: Iterable[Iterable[str]]) -> str:
    """The text :func:`parse_day_spans` reads back to ``spans``."""
    return ", ".join("-".join(span) for span in spans)
