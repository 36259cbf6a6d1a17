"""A strategy file as the editor's source: no workspace, no network, the same funnel rules.

:class:`FileSource` holds the file's :class:`~app.domain.strategy_doc.StrategyDoc` in memory.
Each change is checked with the rules the workspace's service applies (``check_fields``,
``check_parents``, no cycles, from :mod:`app.domain.strategy_funnel`) and refused in the same
words, so a person sees a problem as they make it; what was already wrong in a file written by
hand is listed (:func:`~app.domain.strategy_doc.validate`) for them to put right.

Saving writes through ``StrategyFile.render`` (comments a person added stay) to a temporary
file beside the target, then replaces the target in one step: a crash mid-save never leaves
half a file. One lock guards the doc: calls may come from any thread, one at a time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import uuid4

from app.domain.enums import Horizon, PolicyKind, StrategyItemType
from app.domain.strategy_doc import (
    PolicyLineDoc,
    StrategyDoc,
    StrategyItemDoc,
    incomplete,
    sorted_items,
    sorted_lines,
    validate,
)
from app.domain.strategy_file import (
    StrategyFile,
    StrategyFileError,
    dump_strategy,
    read_strategy,
    read_strategy_file,
)
from app.domain.strategy_funnel import (
    FUNNEL_ORDER,
    FunnelError,
    FunnelNode,
    ItemFields,
    check_fields,
    check_parents,
    deletion_consequences,
    would_cycle,
)
from app.domain.strategy_gaps import doc_gaps, item_horizon_end
from app.services.files import write_atomically
from app.services.strategy_editing import (
    GAP_SECTIONS,
    Choice,
    DependentRow,
    EditFields,
    EditorItem,
    EditorNames,
    GapEntry,
    GapSection,
    GoalServed,
    PolicyEdit,
    PolicyRow,
    ProblemRow,
    Refused,
    ServedDraftRow,
    StrategyState,
    TaggedConversationRow,
    sentence,
)

__all__ = ["NO_UNITS_IN_A_FILE", "FileSource", "StrategyFileError"]

NO_UNITS_IN_A_FILE = "Only the workspace can tell: a file has no list of its units."
NO_CONTENT_IN_A_FILE = (
    "A strategy file holds the strategy only: the posts, replies and conversations that served "
    "a goal are in the workspace."
)
INCOMPLETE = "Items lacking a part they need"
INCOMPLETE_NOTE = (
    "An import takes them as they are, but an item added or changed there needs every part."
)
NOTE_MAX = 500


def _has(text: str | None) -> bool:
    return bool(text and text.strip())


def _text(value: str | None) -> str | None:
    return value.strip() if value is not None and value.strip() else None


class FileSource:
    """One strategy file being edited (or a doc not saved anywhere yet, when ``path`` is None)."""

    has_served = False
    has_units = False
    writes_through = False  # the file changes on save()

    def __init__(
        self,
        doc: StrategyDoc,
        *,
        path: Path | None = None,
        file: StrategyFile | None = None,
        today: date | None = None,
        hints: EditorNames | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._doc = doc
        self._saved = doc
        self._path = path
        self._file = file
        self._today = today
        self._born: set[str] = set()  # ids made here: deleting one records nothing
        self._hints = hints  # names a workspace knows, to complete a person's typing

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        today: date | None = None,
        hints: EditorNames | None = None,
    ) -> FileSource:
        """Read the file; a doc that breaks the funnel opens, with its problems listed.

        ``hints``: names a workspace knows (paths, e-mails, handles) to complete typing with.

        Raises:
            StrategyFileError: not a strategy file (not YAML, a wrong field, a duplicate id…),
                naming the line and the item.
            OSError: it cannot be read.
        """
        file = read_strategy_file(path, check_funnel=False)
        return cls(file.doc, path=Path(path), file=file, today=today, hints=hints)

    # -- what it holds ----------------------------------------------------------------------

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def doc(self) -> StrategyDoc:
        with self._lock:
            return self._doc

    @property
    def dirty(self) -> bool:
        """Whether there are changes not saved yet."""
        with self._lock:
            return self._doc != self._saved

    def today(self) -> date:
        return self._today or datetime.now(UTC).date()

    # -- reads ------------------------------------------------------------------------------

    def load(self) -> StrategyState:
        with self._lock:
            doc = self._doc
        today = self.today()
        children: dict[str, list[str]] = {}
        for item in doc.items.values():
            for parent in item.parents:
                children.setdefault(parent, []).append(item.id)
        items = tuple(_editor_item(i, children.get(i.id, ())) for i in sorted_items(doc))
        return StrategyState(
            mission=doc.mission,
            items=items,
            policy=tuple(_policy_row(line) for line in sorted_lines(doc)),
            missing=_sections(doc, today),
            problems=tuple(ProblemRow(p.item_id, sentence(p.message)) for p in validate(doc)),
            names=_names(doc, self._hints),
            today=today,
        )

    def dependents(self, key: str) -> tuple[DependentRow, ...]:
        with self._lock:
            doc = self._doc
            self._item(key)
            going, unlinked = _consequences(doc, key)
        rows = [
            DependentRow(i, doc.items[i].type, doc.items[i].title, True) for i in going if i != key
        ] + [DependentRow(i, doc.items[i].type, doc.items[i].title, False) for i in unlinked]
        order = {t: n for n, t in enumerate(FUNNEL_ORDER)}
        return tuple(sorted(rows, key=lambda d: (not d.deleted, order.get(d.type, 9), d.key)))

    def served(self, key: str) -> GoalServed:
        raise Refused(NO_CONTENT_IN_A_FILE)

    def served_drafts(
        self, key: str, after: tuple[datetime, int] | None = None
    ) -> list[ServedDraftRow]:
        raise Refused(NO_CONTENT_IN_A_FILE)

    def served_conversations(
        self, key: str, after: tuple[datetime, int] | None = None
    ) -> list[TaggedConversationRow]:
        raise Refused(NO_CONTENT_IN_A_FILE)

    # -- changes ----------------------------------------------------------------------------

    def create(
        self,
        kind: str,
        fields: EditFields,
        parents: Sequence[str],
        position: int | None = None,
    ) -> str:
        item_type = _type(kind)
        with self._lock:
            clean = _checked(item_type, fields)
            wanted = self._checked_parents(item_type, parents)
            new_id = str(uuid4())
            same = [i for i in sorted_items(self._doc) if i.type == item_type]
            blank = StrategyItemDoc(
                id=new_id,
                type=item_type,
                title="",
                parents=tuple(wanted),
                position=max((i.position for i in same), default=-1) + 1,
                created=self.today(),
            )
            item = _with_fields(blank, clean)
            items = dict(self._doc.items)
            items[new_id] = item
            self._doc = replace(self._doc, items=items)
            self._born.add(new_id)
            if position is not None and position < len(same):
                self._place(new_id, position)
            return new_id

    def update(self, key: str, fields: EditFields, parents: Sequence[str]) -> None:
        with self._lock:
            item = self._item(key)
            clean = _checked(item.type, fields)
            wanted = self._checked_parents(item.type, parents)
            if key in wanted or self._would_cycle(key, wanted):
                raise Refused(
                    f"{clean.title!r} cannot derive from itself or from what derives from it: "
                    "the links would go round in a circle."
                )
            changed = _with_fields(replace(item, parents=tuple(wanted)), clean)
            if changed != item:
                items = dict(self._doc.items)
                items[key] = changed
                self._doc = replace(self._doc, items=items)

    def move(self, key: str, position: int) -> None:
        with self._lock:
            self._item(key)
            self._place(key, position)

    def delete(self, key: str) -> None:
        with self._lock:
            self._item(key)
            going, unlinked = _consequences(self._doc, key)
            items = {k: v for k, v in self._doc.items.items() if k not in going}
            for k in unlinked:
                items[k] = replace(
                    items[k], parents=tuple(p for p in items[k].parents if p not in going)
                )
            self._doc = replace(self._doc, items=items, deleted=self._deleted(going))

    def set_mission(self, text: str) -> None:
        with self._lock:
            self._doc = replace(self._doc, mission=text.strip())

    def add_policy_line(self, line: PolicyEdit) -> str:
        with self._lock:
            new_id = str(uuid4())
            policy = dict(self._doc.policy)
            policy[new_id] = _checked_line(new_id, line)
            self._doc = replace(self._doc, policy=policy)
            self._born.add(new_id)
            return new_id

    def edit_policy_line(self, key: str, line: PolicyEdit) -> None:
        with self._lock:
            if key not in self._doc.policy:
                raise Refused("That policy line is not in the file any more.")
            policy = dict(self._doc.policy)
            policy[key] = _checked_line(key, line)
            self._doc = replace(self._doc, policy=policy)

    def delete_policy_line(self, key: str) -> None:
        with self._lock:
            if key not in self._doc.policy:
                raise Refused("That policy line is not in the file any more.")
            policy = {k: v for k, v in self._doc.policy.items() if k != key}
            self._doc = replace(self._doc, policy=policy, deleted=self._deleted({key}))

    # -- saving -----------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the doc to ``path`` (default: where it was read from); comments stay.

        Calls come one at a time (the editor's worker); the doc is not locked while it is
        written, so reading it (:attr:`doc`, :attr:`dirty`) never waits on a save.

        Raises:
            Refused: no place to save to, or the file cannot be written there (in words).
        """
        with self._lock:  # the doc as it is now; rendering it may take a while for a big one
            target = Path(path) if path is not None else self._path
            doc, file = self._doc, self._file
        if target is None:
            raise Refused("Choose where to save the strategy file first (Save as…).")
        text = file.render(doc) if file is not None else dump_strategy(doc)
        try:
            write_atomically(target, text)
        except OSError as e:
            raise Refused(
                f"The strategy file could not be saved to {target} ({e.strerror or e}). "
                "Nothing was changed there: choose another place with Save as…."
            ) from e
        read_back = read_strategy(text, check_funnel=False) if file is None else None
        with self._lock:
            if self._file is None:
                self._file = read_back  # later saves keep what a person adds by hand
            self._saved, self._path = doc, target
        return target

    # -- helpers (the lock is held) ---------------------------------------------------------

    def _item(self, key: str) -> StrategyItemDoc:
        item = self._doc.items.get(key)
        if item is None:
            raise Refused(f"There is no strategy item {key} in the file.")
        return item

    def _checked_parents(self, kind: StrategyItemType, parents: Sequence[str]) -> list[str]:
        wanted = sorted(set(parents))
        nodes = []
        for n, parent_id in enumerate(wanted):
            parent = self._doc.items.get(parent_id)
            if parent is None:
                raise Refused(f"There is no strategy item {parent_id} to derive from.")
            nodes.append(FunnelNode(n, parent.type, parent.title))
        try:
            check_parents(kind, nodes)
        except FunnelError as e:
            raise Refused(str(e)) from e
        return wanted

    def _would_cycle(self, key: str, wanted: Sequence[str]) -> bool:
        number = {k: n for n, k in enumerate(self._doc.items)}
        parents_of = {
            number[i.id]: [number[p] for p in i.parents if p in number]
            for i in self._doc.items.values()
        }
        return would_cycle(parents_of, number[key], [number[p] for p in wanted])

    def _place(self, key: str, position: int) -> None:
        """Put the item at ``position`` among the items of its type; the others renumbered."""
        kind = self._doc.items[key].type
        order = [i.id for i in sorted_items(self._doc) if i.type == kind and i.id != key]
        order.insert(max(0, min(position, len(order))), key)
        items = dict(self._doc.items)
        for n, item_id in enumerate(order):
            if items[item_id].position != n:
                items[item_id] = replace(items[item_id], position=n)
        self._doc = replace(self._doc, items=items)

    def _deleted(self, gone: set[str] | frozenset[str]) -> dict[str, int | None]:
        """The doc's deleted ids with ``gone`` added (None: not in any revision yet)."""
        deleted = dict(self._doc.deleted)
        for key in gone:
            if key not in self._born:  # made and dropped here: nothing to tell a merge
                deleted.setdefault(key, None)
        return deleted


def _type(kind: str) -> StrategyItemType:
    try:
        return StrategyItemType(kind)
    except ValueError:
        raise Refused(
            f"A strategy item is one of {', '.join(FUNNEL_ORDER)}, not {kind!r}."
        ) from None


def _checked(kind: StrategyItemType, fields: EditFields) -> EditFields:
    """The fields cleaned, or the workspace's own refusal for them.

    :func:`check_fields` reads the unit and the owner only as there or not, so a stand-in id
    marks a named one.
    """
    owner = _text(fields.owner)
    if owner is not None and "@" not in owner:
        raise Refused(
            f"A strategy file names an owner by their e-mail (name@example.org), not {owner!r}."
        )
    probe = ItemFields(
        title=fields.title,
        body=fields.body,
        unit_id=0 if _has(fields.unit) else None,
        owner_id=0 if owner else None,
        kpi=fields.kpi,
        kpi_target=fields.kpi_target,
        kpi_unit=fields.kpi_unit,
        baseline=fields.baseline,
        deadline=fields.deadline,
        channel=fields.channel,
        cadence=fields.cadence,
        horizon=fields.horizon,
    )
    try:
        clean = check_fields(kind, probe)
    except FunnelError as e:
        raise Refused(str(e)) from e
    return EditFields(
        title=clean.title,
        body=clean.body,
        unit=_text(fields.unit),
        owner=owner,
        kpi=clean.kpi,
        kpi_target=clean.kpi_target,
        kpi_unit=clean.kpi_unit,
        baseline=clean.baseline,
        deadline=clean.deadline,
        channel=clean.channel,
        cadence=clean.cadence,
        horizon=clean.horizon,
    )


def _with_fields(item: StrategyItemDoc, fields: EditFields) -> StrategyItemDoc:
    return replace(
        item,
        title=fields.title,
        body=fields.body,
        unit=fields.unit,
        owner=fields.owner,
        kpi=fields.kpi,
        kpi_target=fields.kpi_target,
        kpi_unit=fields.kpi_unit,
        baseline=fields.baseline,
        deadline=fields.deadline,
        channel=fields.channel,
        cadence=fields.cadence,
        horizon=Horizon(fields.horizon) if fields.horizon else None,
    )


def _checked_line(key: str, edit: PolicyEdit) -> PolicyLineDoc:
    account = _text(edit.account)
    line = PolicyLineDoc(
        id=key,
        kind=edit.kind,  # type: ignore[arg-type]  # coerced to PolicyKind, or reported below
        value=edit.value.strip(),
        network=edit.network or None,  # type: ignore[arg-type]  # as kind
        unit=_text(edit.unit),
        account=account.lstrip("@") if account else None,
        note=edit.note.strip()[:NOTE_MAX],
    )
    problems = validate(StrategyDoc(policy={key: line}))
    if problems:
        raise Refused(sentence(problems[0].message))
    if line.kind == PolicyKind.LENGTH_LIMIT and line.network is None:
        raise Refused("A length limit names the network it applies to.")
    return line


def _consequences(doc: StrategyDoc, key: str) -> tuple[set[str], set[str]]:
    """What deleting ``key`` takes with it (ids), and what only loses a parent."""
    known = [i for i in doc.items.values() if i.type in FUNNEL_ORDER]
    number = {i.id: n for n, i in enumerate(known)}
    if key not in number:
        return {key}, set()
    ids = [i.id for i in known]
    found = deletion_consequences(
        {number[i.id]: i.type for i in known},
        {number[i.id]: [number[p] for p in i.parents if p in number] for i in known},
        [number[key]],
    )
    return {ids[n] for n in found.deleted}, {ids[n] for n in found.unlinked}


def _editor_item(item: StrategyItemDoc, children: Sequence[str]) -> EditorItem:
    return EditorItem(
        key=item.id,
        type=item.type,
        fields=EditFields(
            title=item.title,
            body=item.body,
            unit=item.unit,
            owner=item.owner,
            kpi=item.kpi,
            kpi_target=item.kpi_target,
            kpi_unit=item.kpi_unit,
            baseline=item.baseline,
            deadline=item.deadline,
            channel=item.channel,
            cadence=item.cadence,
            horizon=None if item.horizon is None else str(item.horizon),
        ),
        unit_label=item.unit or "",
        owner_label=item.owner or "",
        parents=item.parents,
        children=tuple(sorted(children, key=str)),
        position=item.position,
        created=item.created,
        horizon_end=item_horizon_end(item),
    )


def _policy_row(line: PolicyLineDoc) -> PolicyRow:
    network = None if line.network is None else str(line.network)
    return PolicyRow(
        key=line.id,
        uuid=line.id,
        line=PolicyEdit(str(line.kind), line.value, network, line.unit, line.account, line.note),
        unit_label=line.unit or "",
        account_label=f"@{line.account}" if line.account else "",
    )


def _names(doc: StrategyDoc, hints: EditorNames | None) -> EditorNames:
    """The names the file already uses and those ``hints`` knows, to complete typing with."""
    units = {i.unit for i in doc.items.values() if i.unit}
    units |= {line.unit for line in doc.policy.values() if line.unit}
    people = {i.owner for i in doc.items.values() if i.owner}
    accounts = {line.account for line in doc.policy.values() if line.account}

    def merged(
        used: Iterable[str | None], known: tuple[Choice, ...], label: str
    ) -> tuple[Choice, ...]:
        choices = {c.value: c for c in known}
        for value in used:
            if value is not None and value not in choices:
                choices[value] = Choice(value, label.format(value))
        return tuple(sorted(choices.values(), key=lambda c: c.label.casefold()))

    hints = hints or EditorNames()
    return EditorNames(
        units=merged(units, hints.units, "{}"),
        people=merged(people, hints.people, "{}"),
        accounts=merged(accounts, hints.accounts, "@{}"),
        free_text=True,
    )


def _sections(doc: StrategyDoc, today: date) -> tuple[GapSection, ...]:
    found = doc_gaps(doc, today)
    lists = {
        "goals": found.goals_without_social_goals,
        "kpi": found.social_goals_without_kpi,
        "tactic": found.social_goals_without_tactic,
        "horizon": found.tactics_past_horizon,
    }
    sections = [GapSection("units", GAP_SECTIONS["units"], (), NO_UNITS_IN_A_FILE)]
    for key, ids in lists.items():
        entries = tuple(GapEntry(i, doc.items[i].title) for i in ids)
        sections.append(GapSection(key, GAP_SECTIONS[key], entries))
    lacking = tuple(
        GapEntry(p.item_id, f"{doc.items[p.item_id].title}: {sentence(p.message)}")
        for p in incomplete(doc)
        if p.item_id is not None
    )
    sections.append(GapSection("parts", INCOMPLETE, lacking, INCOMPLETE_NOTE if lacking else ""))
    return tuple(sections)
