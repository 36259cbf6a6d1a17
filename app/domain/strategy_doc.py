"""The strategy as a document: the funnel's items, the policy's lines, and the funnel's rules.

A :class:`StrategyDoc` is what a strategy file holds and what a three-way merge works on
(:mod:`app.domain.strategy_merge`): plain frozen values keyed by stable ids (uuid strings), with
units named by their path ("Acme Mobility/Marketing") and people by their e-mail, so a file
means the same thing in any workspace. :func:`validate` checks the funnel (mission and business
goals → department goals → audience insights → social goals → tactics) and returns every
problem with the item it is about; :func:`dependents` says what hangs off an item.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType

from app.domain.enums import Horizon, Network, PolicyKind, StrategyItemType
from app.domain.strategy_funnel import (
    ALLOWED_PARENTS,
    FUNNEL_ORDER,
    HORIZONS,
    TITLE_MAX,
    TYPE_NAMES,
    inputs_missing,
    missing_parts,
)

__all__ = [
    "ALLOWED_PARENTS",
    "FUNNEL_ORDER",
    "ITEM_FIELDS",
    "LINE_FIELDS",
    "SCHEMA_VERSION",
    "PolicyLineDoc",
    "Problem",
    "StrategyDoc",
    "StrategyItemDoc",
    "dependents",
    "incomplete",
    "sort_key",
    "sorted_items",
    "sorted_lines",
    "validate",
]

SCHEMA_VERSION = 1

T = StrategyItemType
# The funnel's order and which parents each type may have are the service's own rules.
_RANK = {kind: rank for rank, kind in enumerate(FUNNEL_ORDER)}
_POLICY_RANK = {kind: rank for rank, kind in enumerate(PolicyKind)}


def _coerce(record: object, name: str, kinds: type[StrEnum]) -> None:
    """The enum member for a plain string; an unknown value stays for :func:`validate`."""
    value = getattr(record, name)
    if value is not None and not isinstance(value, kinds):
        with contextlib.suppress(ValueError):
            object.__setattr__(record, name, kinds(value))


@dataclass(frozen=True, slots=True)
class StrategyItemDoc:
    """One item of the funnel.

    ``parents`` are the ids it derives from (a social goal's goals and insights, a tactic's
    social goal); they are kept sorted and without repeats, so two docs that link the same
    items are equal. The KPI fields matter for social goals, channel, cadence and horizon for
    tactics; the other types leave them empty.
    """

    id: str
    type: StrategyItemType
    title: str
    body: str = ""
    unit: str | None = None  # the unit's path, "Acme Mobility/Marketing"
    owner: str | None = None  # an e-mail
    kpi: str = ""
    kpi_target: float | None = None
    kpi_unit: str = ""
    baseline: float | None = None
    deadline: date | None = None
    channel: str = ""
    cadence: str = ""
    horizon: Horizon | None = None
    parents: tuple[str, ...] = ()
    position: int = 0
    created: date | None = None  # when it was made: a tactic's horizon counts from it

    def __post_init__(self) -> None:
        object.__setattr__(self, "parents", tuple(sorted(set(self.parents))))
        _coerce(self, "type", StrategyItemType)
        _coerce(self, "horizon", Horizon)


@dataclass(frozen=True, slots=True)
class PolicyLineDoc:
    """One line of the social media policy, scoped by network, unit path and account handle."""

    id: str
    kind: PolicyKind
    value: str
    network: Network | None = None
    unit: str | None = None
    account: str | None = None  # the account's handle
    note: str = ""

    def __post_init__(self) -> None:
        _coerce(self, "kind", PolicyKind)
        _coerce(self, "network", Network)


@dataclass(frozen=True, slots=True)
class StrategyDoc:
    """The whole strategy: mission, items and policy lines by id, and the ids known deleted.

    ``base_revision`` is the workspace revision a file was exported from (None for a
    workspace's own state or a file written from scratch); ``deleted`` maps an id to the
    revision it was deleted in (None: deleted here, not yet in any revision).
    """

    schema_version: int = SCHEMA_VERSION
    base_revision: int | None = None
    exported_at: datetime | None = None
    mission: str = ""
    items: Mapping[str, StrategyItemDoc] = field(default_factory=dict)
    policy: Mapping[str, PolicyLineDoc] = field(default_factory=dict)
    deleted: Mapping[str, int | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", MappingProxyType(dict(self.items)))
        object.__setattr__(self, "policy", MappingProxyType(dict(self.policy)))
        object.__setattr__(self, "deleted", MappingProxyType(dict(self.deleted)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StrategyDoc):
            return NotImplemented
        return (
            self.schema_version == other.schema_version
            and self.base_revision == other.base_revision
            and self.exported_at == other.exported_at
            and self.mission == other.mission
            and dict(self.items) == dict(other.items)
            and dict(self.policy) == dict(other.policy)
            and dict(self.deleted) == dict(other.deleted)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable-looking mappings: not hashable

    @classmethod
    def of(
        cls,
        items: Iterable[StrategyItemDoc] = (),
        policy: Iterable[PolicyLineDoc] = (),
        **rest: object,
    ) -> StrategyDoc:
        """A doc from lists of items and lines (keyed by their ids)."""
        return cls(
            items={i.id: i for i in items},
            policy={p.id: p for p in policy},
            **rest,  # type: ignore[arg-type]  # the remaining fields, passed through by name
        )


ITEM_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(StrategyItemDoc))
LINE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PolicyLineDoc))


def sort_key(item: StrategyItemDoc) -> tuple[int, int, str]:
    """Funnel order, then position, then id: the order a file lists items in."""
    return (_RANK.get(item.type, len(_RANK)), item.position, item.id)


def sorted_items(doc: StrategyDoc) -> list[StrategyItemDoc]:
    return sorted(doc.items.values(), key=sort_key)


def _line_key(line: PolicyLineDoc) -> tuple[int, str, str]:
    return (_POLICY_RANK.get(line.kind, len(_POLICY_RANK)), line.value, line.id)


def sorted_lines(doc: StrategyDoc) -> list[PolicyLineDoc]:
    return sorted(doc.policy.values(), key=_line_key)


# -- validation ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong, and with which item or policy line (None: the document itself)."""

    item_id: str | None
    message: str

    def __str__(self) -> str:
        return f"item {self.item_id}: {self.message}" if self.item_id else self.message


def _has(text: str | None) -> bool:
    return bool(text and text.strip())


def _check_item(item: StrategyItemDoc, doc: StrategyDoc) -> list[str]:
    out: list[str] = []
    if item.type not in _RANK:
        return [f"the type {item.type!r} is not one of {', '.join(FUNNEL_ORDER)}"]
    if not _has(item.title):
        out.append("has no title")
    allowed = ALLOWED_PARENTS[item.type]
    kinds: list[StrategyItemType] = []
    for parent_id in item.parents:
        if parent_id == item.id:
            out.append("names itself as a parent")
            continue
        parent = doc.items.get(parent_id)
        if parent is None:
            out.append(f"dangling reference: the parent {parent_id} does not exist")
        elif parent.type not in allowed:
            what = ", ".join(sorted(allowed)) or "nothing"
            out.append(
                f"the parent {parent_id} is a {parent.type}; a {item.type} derives from {what}"
            )
        else:
            kinds.append(parent.type)
    if len(item.title.strip()) > TITLE_MAX:
        out.append(f"a title has at most {TITLE_MAX} characters")
    if item.horizon is not None and item.horizon not in HORIZONS:
        out.append(f"the horizon {item.horizon!r} is not short, medium or long")
    elif item.horizon is not None and item.type != T.TACTIC:
        out.append(f"only tactics have a horizon, not a {TYPE_NAMES[item.type]}")
    known = [doc.items[p].type for p in item.parents if p in doc.items and p != item.id]
    if len(known) == len(item.parents):  # every parent known: are they enough?
        inputs = inputs_missing(item.type, known)
        if inputs:
            out.append(inputs[0].lower() + inputs[1:].rstrip("."))
    return out


def _cycles(doc: StrategyDoc) -> list[str]:
    """Ids on a cycle of parent links (each reported once, at the first id met)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    found: list[str] = []
    for start in sorted(doc.items):
        if state.get(start):
            continue
        stack: list[tuple[str, list[str]]] = [(start, list(doc.items[start].parents))]
        state[start] = 1
        while stack:
            node, todo = stack[-1]
            if not todo:
                state[node] = 2
                stack.pop()
                continue
            nxt = todo.pop()
            if nxt not in doc.items or nxt == node:
                continue
            if state.get(nxt) == 1:
                found.append(nxt)
            elif not state.get(nxt):
                state[nxt] = 1
                stack.append((nxt, list(doc.items[nxt].parents)))
    return found


def validate(doc: StrategyDoc) -> list[Problem]:
    """Every way the doc breaks the funnel, in file order; empty when it holds.

    Checks: ids match their keys and are not used twice (items, policy lines, deleted ids);
    parents exist, are of the right type and form no cycle; a tactic has exactly one social
    goal; a social goal derives from a business or department goal and an audience insight;
    a policy line has a known kind and a value. The parts each type needs (a KPI, an owner, a
    cadence…) are :func:`incomplete`'s.
    """
    problems: list[Problem] = []
    for key, item in doc.items.items():
        if key != item.id:
            problems.append(Problem(key, f"is filed under the id {key} but says {item.id}"))
    for key, line in doc.policy.items():
        if key != line.id:
            problems.append(Problem(key, f"is filed under the id {key} but says {line.id}"))
        if key in doc.items:
            problems.append(Problem(key, "duplicate id: both an item and a policy line"))
    for key in doc.deleted:
        if key in doc.items or key in doc.policy:
            problems.append(Problem(key, "duplicate id: listed as deleted and still present"))
    for item in sorted_items(doc):
        problems.extend(Problem(item.id, m) for m in _check_item(item, doc))
    problems.extend(Problem(i, "its parent links form a cycle") for i in _cycles(doc))
    for line in sorted_lines(doc):
        if line.kind not in _POLICY_RANK:
            kinds = ", ".join(PolicyKind)
            problems.append(Problem(line.id, f"the kind {line.kind!r} is not one of {kinds}"))
        if not _has(line.value):
            problems.append(Problem(line.id, "a policy line needs a value"))
        elif line.kind == PolicyKind.LENGTH_LIMIT and not (
            line.value.strip().isdigit() and int(line.value) > 0
        ):
            problems.append(Problem(line.id, f"a length limit is a whole number: {line.value!r}"))
        if line.network is not None and line.network not in tuple(Network):
            problems.append(Problem(line.id, f"the network {line.network!r} is not known"))
    return problems


def incomplete(doc: StrategyDoc) -> list[Problem]:
    """What each item still lacks of the parts its type needs (a KPI, an owner, a cadence…).

    Not a reason to refuse a file (a workspace may hold items from before a rule, and "what is
    missing" lists them); the service refuses to save an item that lacks them, so an import
    refuses an item it adds or changes without them.
    """
    out: list[Problem] = []
    for item in sorted_items(doc):
        if item.type not in _RANK:
            continue
        missing = missing_parts(
            item.type, item, has_unit=_has(item.unit), has_owner=_has(item.owner)
        )
        if missing:
            out.append(Problem(item.id, f"a {TYPE_NAMES[item.type]} needs {', '.join(missing)}"))
    return out


def dependents(doc: StrategyDoc, item_id: str) -> list[StrategyItemDoc]:
    """Every item that derives from ``item_id``, directly or through others, in file order.

    What deleting the item would leave hanging: a social goal under a deleted business goal,
    and that goal's tactics.
    """
    children: dict[str, list[str]] = {}
    for item in doc.items.values():
        for parent in item.parents:
            children.setdefault(parent, []).append(item.id)
    seen: set[str] = set()
    todo = list(children.get(item_id, ()))
    while todo:
        nxt = todo.pop()
        if nxt in seen or nxt == item_id:
            continue
        seen.add(nxt)
        todo.extend(children.get(nxt, ()))
    return sorted((doc.items[i] for i in seen), key=sort_key)
