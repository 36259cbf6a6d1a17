"""The three-way merge of two strategies against the revision they both started from.

``merge(base, ours, theirs)``: ``base`` is the workspace revision a file was exported from,
``ours`` the workspace now, ``theirs`` the file. Items and policy lines are merged id by id
and field by field, and so is the mission:

- a field changed on one side only takes that side's value; changed to the same value on both
  is no conflict; changed to different values on both is a :class:`Conflict` (the merged doc
  keeps ours until a person decides, :func:`resolve`);
- an item's ``created`` day is the workspace's record, never a conflict: the file's only fills
  it where the workspace has none;
- a social goal's parents (its goals and insights) merge as a set: a link added on either side
  is added, a link removed on either side is removed. A tactic's one social goal is a plain
  field;
- a record new on either side is added; deleted on one side and untouched on the other is
  deleted (and recorded in ``deleted``); deleted on one side and edited on the other is a
  conflict on the field :data:`DELETED`, and so is a record the file brings back that the
  workspace has recorded as deleted.

Nothing is silently overwritten. The merged doc is validated (:func:`validate`), and every item
the merge adds or changes must have the parts its type needs (:func:`incomplete`); a merge
whose result breaks the funnel lists its problems and is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Any, TypeVar

from app.domain.enums import StrategyItemType
from app.domain.strategy_doc import (
    PolicyLineDoc,
    Problem,
    StrategyDoc,
    StrategyItemDoc,
    incomplete,
    validate,
)

__all__ = [
    "DELETED",
    "MISSION",
    "Change",
    "Conflict",
    "Custom",
    "MergeResult",
    "Section",
    "changed_fields",
    "merge",
    "resolve",
]

DELETED = "deleted"  # the conflict's field when one side deleted what the other kept or edited
MISSION = "mission"
CREATED = "created"  # when an item was made: the workspace's, filled from the file if unknown


class Section(StrEnum):
    DOCUMENT = "document"
    ITEMS = "items"
    POLICY = "policy"


Record = StrategyItemDoc | PolicyLineDoc
R = TypeVar("R", StrategyItemDoc, PolicyLineDoc)


@dataclass(frozen=True, slots=True)
class Conflict:
    """Both sides changed ``field`` of ``item_id`` to different values (None: the document).

    For :data:`DELETED` the three values are whole records, None where that side has none.
    """

    item_id: str | None
    field: str
    base: Any
    ours: Any
    theirs: Any
    section: Section = Section.ITEMS

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.item_id, self.field)


@dataclass(frozen=True, slots=True)
class Change:
    """What the merge changes in the workspace (``ours``): for the audit log and a dry run."""

    section: Section
    item_id: str | None
    action: str  # "added", "deleted", "changed"
    before: Any  # the record (or the mission) as the workspace has it; None when added
    after: Any  # as merged; None when deleted

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields that differ (all of them for an added or deleted record)."""
        if self.section is Section.DOCUMENT:
            return (MISSION,)
        if self.before is None or self.after is None:
            record = self.after if self.after is not None else self.before
            return tuple(f.name for f in fields(record))
        return changed_fields(self.before, self.after)


def changed_fields(before: Record, after: Record) -> tuple[str, ...]:
    """The fields of a record whose values differ between two versions of it, in order."""
    return tuple(f.name for f in fields(after) if getattr(before, f.name) != getattr(after, f.name))


@dataclass(frozen=True, slots=True)
class Custom:
    """A resolution that is neither side's value: what the person typed."""

    value: Any


@dataclass(frozen=True, slots=True)
class MergeResult:
    """The merged doc (conflicts left at ours), its conflicts, changes and funnel problems."""

    doc: StrategyDoc
    conflicts: tuple[Conflict, ...]
    changes: tuple[Change, ...]
    problems: tuple[Problem, ...]
    base: StrategyDoc
    ours: StrategyDoc
    theirs: StrategyDoc

    @property
    def refused(self) -> bool:
        """The merged doc breaks the funnel: nothing may be applied."""
        return bool(self.problems)

    @property
    def nothing_to_do(self) -> bool:
        return not self.changes and not self.conflicts and not self.problems


_MISSING: Any = object()


def _merge_set(base: tuple[str, ...], ours: tuple[str, ...], theirs: tuple[str, ...]) -> Any:
    b, o, t = set(base), set(ours), set(theirs)
    return tuple(sorted((o & t) | (o - b) | (t - b)))


def _merge_fields(section: Section, base: R | None, ours: R, theirs: R, out: list[Conflict]) -> R:
    values: dict[str, Any] = {}
    for f in fields(ours):
        name = f.name
        o, t = getattr(ours, name), getattr(theirs, name)
        if o == t:
            continue
        if name == CREATED:  # the workspace's record of it, never a person's edit
            if o is None:
                values[name] = t
            continue
        b = getattr(base, name) if base is not None else _MISSING
        if o == b:
            values[name] = t
        elif t == b:
            continue
        elif (
            name == "parents"
            and base is not None
            and isinstance(ours, StrategyItemDoc)
            and ours.type != StrategyItemType.TACTIC
            and getattr(theirs, "type", None) != StrategyItemType.TACTIC
        ):
            values[name] = _merge_set(b, o, t)
        else:
            out.append(Conflict(ours.id, name, None if b is _MISSING else b, o, t, section))
    return replace(ours, **values) if values else ours


def _merge_records(
    section: Section,
    base: Mapping[str, R],
    ours: Mapping[str, R],
    theirs: Mapping[str, R],
    ours_deleted: Mapping[str, int | None],
    conflicts: list[Conflict],
    deleted_now: set[str],
) -> dict[str, R]:
    merged: dict[str, R] = {}
    for rid in sorted(base.keys() | ours.keys() | theirs.keys()):
        b, o, t = base.get(rid), ours.get(rid), theirs.get(rid)
        if o is not None and t is not None:
            if o == t or t == b:
                merged[rid] = o
            elif o == b:
                merged[rid] = t
            else:
                merged[rid] = _merge_fields(section, b, o, t, conflicts)
        elif o is not None:  # the file has no such record
            if b is None or o == b:
                if b is None:
                    merged[rid] = o  # new in the workspace since the export
                else:
                    deleted_now.add(rid)  # deleted in the file, untouched here
            else:
                conflicts.append(Conflict(rid, DELETED, b, o, None, section))
                merged[rid] = o
        elif t is not None:  # the workspace has no such record
            if b is None and rid not in ours_deleted:
                merged[rid] = t  # new in the file
            elif b is not None and t == b:
                pass  # deleted here, untouched in the file: stays deleted
            else:
                conflicts.append(Conflict(rid, DELETED, b, None, t, section))
    return merged


def _changes(section: Section, ours: Mapping[str, R], merged: Mapping[str, R]) -> list[Change]:
    out: list[Change] = []
    for rid in sorted(ours.keys() | merged.keys()):
        o, m = ours.get(rid), merged.get(rid)
        if o == m:
            continue
        action = "added" if o is None else "deleted" if m is None else "changed"
        out.append(Change(section, rid, action, o, m))
    return out


def _finish(
    merged: StrategyDoc,
    conflicts: list[Conflict],
    base: StrategyDoc,
    ours: StrategyDoc,
    theirs: StrategyDoc,
) -> MergeResult:
    changes: list[Change] = []
    if merged.mission != ours.mission:
        changes.append(Change(Section.DOCUMENT, None, "changed", ours.mission, merged.mission))
    changes += _changes(Section.ITEMS, ours.items, merged.items)
    changes += _changes(Section.POLICY, ours.policy, merged.policy)
    # An item the merge adds or changes must be whole, as the service asks of any edit; one it
    # leaves alone may stay as it was (a workspace may hold items from before a rule).
    touched = {c.item_id for c in changes if c.section is Section.ITEMS and c.after is not None}
    lacking = [p for p in incomplete(merged) if p.item_id in touched]
    return MergeResult(
        merged,
        tuple(conflicts),
        tuple(changes),
        tuple(validate(merged)) + tuple(lacking),
        base,
        ours,
        theirs,
    )


def _deleted(
    ours: StrategyDoc, theirs: StrategyDoc, now: set[str], items: Mapping[str, Any], policy: Any
) -> dict[str, int | None]:
    out: dict[str, int | None] = dict(theirs.deleted)
    out.update(ours.deleted)
    for rid in now:
        out.setdefault(rid, None)
    return {k: v for k, v in sorted(out.items()) if k not in items and k not in policy}


def merge(base: StrategyDoc, ours: StrategyDoc, theirs: StrategyDoc) -> MergeResult:
    """Merge the file (``theirs``) into the workspace (``ours``) against ``base``.

    Args:
        base: the workspace revision the file was exported from.
        ours: the workspace now.
        theirs: the file.

    Returns:
        The merged doc (ours' schema version, revision and export time; conflicts at ours),
        the conflicts, the changes it makes to ours, and the funnel problems of the result.
    """
    conflicts: list[Conflict] = []
    mission = ours.mission
    if ours.mission != theirs.mission:
        if ours.mission == base.mission:
            mission = theirs.mission
        elif theirs.mission != base.mission:
            conflicts.append(
                Conflict(
                    None, MISSION, base.mission, ours.mission, theirs.mission, Section.DOCUMENT
                )
            )
    now: set[str] = set()
    items = _merge_records(
        Section.ITEMS, base.items, ours.items, theirs.items, ours.deleted, conflicts, now
    )
    policy = _merge_records(
        Section.POLICY, base.policy, ours.policy, theirs.policy, ours.deleted, conflicts, now
    )
    merged = replace(
        ours,
        mission=mission,
        items=items,
        policy=policy,
        deleted=_deleted(ours, theirs, now, items, policy),
    )
    return _finish(merged, conflicts, base, ours, theirs)


def _chosen(conflict: Conflict, choice: Any) -> Any:
    if isinstance(choice, Custom):
        return choice.value
    if choice == "ours":
        return conflict.ours
    if choice == "theirs":
        return conflict.theirs
    return choice


def resolve(result: MergeResult, resolutions: Mapping[tuple[str | None, str], Any]) -> MergeResult:
    """Apply a person's decisions: ``{(item_id, field): "ours" | "theirs" | value}``.

    A value that is literally ``"ours"`` or ``"theirs"`` is given as :class:`Custom`. For a
    :data:`DELETED` conflict the value is a whole record, or None to delete. Conflicts not
    named stay; the result is validated again.

    Raises:
        KeyError: a resolution names no conflict of ``result``.
    """
    by_key = {c.key: c for c in result.conflicts}
    unknown = [k for k in resolutions if k not in by_key]
    if unknown:
        raise KeyError(f"no such conflict: {unknown[0]!r}")
    doc = result.doc
    items = dict(doc.items)
    policy: dict[str, PolicyLineDoc] = dict(doc.policy)
    deleted = dict(doc.deleted)
    mission = doc.mission
    for key, choice in resolutions.items():
        conflict = by_key[key]
        value = _chosen(conflict, choice)
        rid = conflict.item_id
        if conflict.section is Section.DOCUMENT:
            mission = value
            continue
        assert rid is not None  # only the document's own fields have no id
        target: dict[str, Any] = items if conflict.section is Section.ITEMS else policy
        if conflict.field == DELETED:
            if value is None:
                target.pop(rid, None)
                deleted.setdefault(rid, None)
            else:
                target[rid] = value
                deleted.pop(rid, None)
        else:
            target[rid] = replace(target[rid], **{conflict.field: value})
    merged = replace(doc, mission=mission, items=items, policy=policy, deleted=deleted)
    left = [c for c in result.conflicts if c.key not in resolutions]
    return _finish(merged, left, result.base, result.ours, result.theirs)
