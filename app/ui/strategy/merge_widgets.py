"""The parts of the import dialog: values in words, one conflict side by side, the changes.

Everything here shows text a file or a person wrote, so every label is plain text and long
"words" get break points (:func:`~app.ui.inbox.thread_view.breakable`); nothing is built as
rich text from it.
"""

from __future__ import annotations

import math
import re
import typing
from collections.abc import Sequence
from dataclasses import MISSING, dataclass, fields
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.strategy_doc import PolicyLineDoc, StrategyDoc, StrategyItemDoc
from app.domain.strategy_funnel import TYPE_NAMES
from app.domain.strategy_merge import DELETED, MISSION, Change, Conflict, MergeResult, Section
from app.ui.inbox.thread_view import breakable
from app.ui.labels import isolated, plain_label, plain_tooltip

NOTHING = "—"
CELL_MAX = 300  # characters a cell of the changes' tree shows; the tooltip has more
TIP_MAX = 4000
TIP_FROM = 40  # a cell's text longer than this gets a tooltip with all of it

# The column headings of a conflict, in the order they stand.
BASE_HEADING, OURS_HEADING, THEIRS_HEADING = (
    "When exported",
    "In the workspace now",
    "In the file",
)

_LABELS = {"kpi": "KPI", "kpi_target": "KPI target", "kpi_unit": "KPI unit", "id": "Id"}


def field_label(name: str) -> str:
    """A field's name as a person reads it: ``kpi_target`` is "KPI target"."""
    if name == DELETED:
        return "Deleted or kept"
    return _LABELS.get(name, name.replace("_", " ").capitalize())


# -- values in words ---------------------------------------------------------------------------


def _number(value: float) -> str:
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def shown(value: Any, plan: MergeResult | None = None) -> str:
    """A value as the dialog shows it: dates as 2025-06-30, None as "—", enums by their value.

    A tuple is a record's parents: each by its title when ``plan`` knows the id.
    """
    if value is None or value == "":
        return NOTHING
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, tuple):
        if not value:
            return NOTHING
        return "\n".join(_named(str(v), plan) for v in value)
    return str(value)


def _named(item_id: str, plan: MergeResult | None) -> str:
    record = find_record(plan, Section.ITEMS, item_id) if plan is not None else None
    if isinstance(record, StrategyItemDoc):
        return f"{_type_name(record)} “{isolated(record.title)}”"
    return item_id


def _type_name(item: StrategyItemDoc) -> str:
    return TYPE_NAMES.get(item.type, str(item.type))


def find_record(
    plan: MergeResult, section: Section, item_id: str
) -> StrategyItemDoc | PolicyLineDoc | None:
    """The record as the merged doc, the workspace, the file or the export has it (first found)."""
    docs: tuple[StrategyDoc, ...] = (plan.doc, plan.ours, plan.theirs, plan.base)
    for doc in docs:
        records: Any = doc.items if section is Section.ITEMS else doc.policy
        found = records.get(item_id)
        if found is not None:
            return found
    return None


def record_heading(record: StrategyItemDoc | PolicyLineDoc | None, fallback: str) -> str:
    """A record in a few words: "tactic “Reply desk”", "policy line banned_term “free”"."""
    if isinstance(record, StrategyItemDoc):
        return f"{_type_name(record)} “{isolated(one_line(record.title, 120))}”"
    if isinstance(record, PolicyLineDoc):
        return f"policy line {shown(record.kind)} “{isolated(one_line(record.value, 120))}”"
    return fallback


def heading(plan: MergeResult, section: Section, item_id: str | None) -> str:
    """What a conflict, a change or a problem is about, in a few words."""
    if section is Section.DOCUMENT or item_id is None:
        return "the mission"
    return record_heading(find_record(plan, section, item_id), item_id)


def capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def one_line(text: str, limit: int = CELL_MAX) -> str:
    """``text`` on one line (line breaks as ⏎), cut at ``limit`` characters with "…"."""
    flat = text.replace("\r\n", "\n").replace("\n", " ⏎ ")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def record_rows(
    records: Sequence[StrategyItemDoc | PolicyLineDoc | None],
) -> list[str]:
    """The fields worth a row when records are compared: those not at their default in all."""
    present = [r for r in records if r is not None]
    if not present:
        return []
    out = []
    for f in fields(present[0]):
        if f.name == "id":
            continue
        if f.default is MISSING or any(getattr(r, f.name, None) != f.default for r in present):
            out.append(f.name)
    return out


# -- what a person may type instead ------------------------------------------------------------


class Kind(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long text"
    NUMBER = "number"
    WHOLE = "whole number"
    DAY = "date"


@dataclass(frozen=True, slots=True)
class Editable:
    """How a field's own value is typed: its kind and whether it may be left empty (None)."""

    kind: Kind
    optional: bool


_LONG = frozenset({"body", "note", MISSION})
_HINTS = {
    Section.ITEMS: typing.get_type_hints(StrategyItemDoc),
    Section.POLICY: typing.get_type_hints(PolicyLineDoc),
}
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def editable(conflict: Conflict) -> Editable | None:
    """How "Write my own…" takes a value for this conflict's field; None: it cannot.

    Text, numbers and dates may be typed; a deletion, an enum (type, horizon, kind, network)
    and a tactic's social goal are chosen from the two sides only.
    """
    if conflict.section is Section.DOCUMENT:
        return Editable(Kind.LONG_TEXT, optional=False)
    if conflict.field == DELETED:
        return None
    hint = _HINTS[conflict.section].get(conflict.field)
    if hint is None:
        return None
    args = typing.get_args(hint)
    optional = type(None) in args
    kinds = {a for a in args if a is not type(None)} if args else {hint}
    if kinds == {str}:
        kind = Kind.LONG_TEXT if conflict.field in _LONG else Kind.TEXT
        return Editable(kind, optional)
    if kinds == {float}:
        return Editable(Kind.NUMBER, optional)
    if kinds == {int}:
        return Editable(Kind.WHOLE, optional)
    if kinds == {date}:
        return Editable(Kind.DAY, optional)
    return None


def parse(spec: Editable, text: str) -> Any:
    """The value typed, or ValueError saying how to write it.

    Raises:
        ValueError: not a number, a whole number or a date (YYYY-MM-DD) where one is due.
    """
    raw = text.strip()
    if spec.kind is Kind.LONG_TEXT:
        return text.strip("\n") if text.strip() or not spec.optional else None
    if not raw:
        if spec.optional:
            return None
        if spec.kind is Kind.TEXT:
            return ""
        raise ValueError(f"Write a {spec.kind}; this field may not be empty.")
    if spec.kind is Kind.TEXT:
        return raw
    if spec.kind is Kind.DAY:
        try:
            if not _DAY.fullmatch(raw):
                raise ValueError(raw)
            return date.fromisoformat(raw)
        except ValueError:
            raise ValueError("Write a date as YYYY-MM-DD, like 2025-06-30.") from None
    try:
        number = int(raw) if re.fullmatch(r"[+-]?\d+", raw) else float(raw)
    except ValueError:
        number = None
    if spec.kind is Kind.WHOLE:
        if not isinstance(number, int):
            raise ValueError("Write a whole number, like 3.")
        return number
    if number is None or not math.isfinite(number):
        raise ValueError("Write a number, like 30 or 720.5.")
    return number


def typed(value: Any) -> str:
    """A value as the editor starts with it (None and empty as nothing)."""
    return "" if value in (None, "") else shown(value)


class ValueEditor(QDialog):
    """A small editor for one field's own value; a value that does not parse is refused."""

    def __init__(
        self, what: str, spec: Editable, start: Any, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mergeValueEditor")
        self.setWindowTitle(f"Write my own: {one_line(what, 80)}")
        self.setMinimumWidth(440)
        self.spec = spec
        self.value: Any = None
        hints = {
            Kind.NUMBER: "A number, like 30 or 720.5.",
            Kind.WHOLE: "A whole number, like 3.",
            Kind.DAY: "A date as YYYY-MM-DD, like 2025-06-30.",
        }
        hint = hints.get(spec.kind, "The text as it should be.")
        if spec.optional:
            hint += " Leave it empty for none."
        self.hint = plain_label(hint, object_name="dialogHint")
        self.edit: QLineEdit | QPlainTextEdit
        if spec.kind is Kind.LONG_TEXT:
            self.edit = QPlainTextEdit()
            self.edit.setTabChangesFocus(True)
            self.edit.setPlainText(typed(start))
        else:
            self.edit = QLineEdit(typed(start))
        self.edit.setObjectName("mergeValueEdit")
        self.error = plain_label(object_name="dialogError")
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.use = buttons.addButton("Use this", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(f"{one_line(what, 200)}", object_name="dialogHint"))
        layout.addWidget(self.edit)
        layout.addWidget(self.hint)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.edit.setFocus()

    def text(self) -> str:
        edit = self.edit
        return edit.toPlainText() if isinstance(edit, QPlainTextEdit) else edit.text()

    def _on_buttons_accepted(self) -> None:
        try:
            self.value = parse(self.spec, self.text())
        except ValueError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.accept()


# -- one conflict side by side -----------------------------------------------------------------


def _value_label(text: str, *, name: str = "mergeValue") -> QLabel:
    label = plain_label(breakable(text), object_name=name, selectable=True)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return label


def _describe(conflict: Conflict) -> str:
    """What happened on each side, in a sentence."""
    if conflict.section is Section.DOCUMENT:
        return "The mission was changed differently in the workspace and in the file."
    if conflict.field != DELETED:
        return (
            f"{field_label(conflict.field)} was changed differently in the workspace and in "
            "the file."
        )
    marked = " (changed fields are marked)"
    if conflict.theirs is None:
        return f"The file deletes it; the workspace changed it since the export{marked}."
    if conflict.base is None:
        return "The file has it; the workspace deleted it."
    return f"The workspace deleted it; the file changed it since the export{marked}."


class ComparePanel(QWidget):
    """One conflict: the export's, the workspace's and the file's value in three columns.

    ``columns`` holds each column's labels (base, ours, theirs), so the chosen one can be marked.
    """

    def __init__(self, sub_headings: tuple[str, str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._subs = sub_headings
        self.title = plain_label(object_name="mergeConflictTitle")
        self.what = plain_label(object_name="mergeConflictWhat")
        self.area = QScrollArea()
        self.area.setObjectName("mergeCompareScroll")
        self.area.setWidgetResizable(True)
        self.area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.columns: tuple[list[QLabel], list[QLabel], list[QLabel]] = ([], [], [])
        self.grid = self._new_body()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.what)
        layout.addWidget(self.area, 1)

    def texts(self, column: int) -> list[str]:
        """What one column shows (0 base, 1 ours, 2 theirs), break points taken out."""
        return [label.text().replace("\u200b", "") for label in self.columns[column]]

    def show_conflict(self, plan: MergeResult, conflict: Conflict) -> None:
        self.grid = self._new_body()
        what = capitalized(heading(plan, conflict.section, conflict.item_id))
        if conflict.section is not Section.DOCUMENT:
            what += f" · {field_label(conflict.field)}"
        self.title.setText(what)
        self.what.setText(_describe(conflict))
        for col, (head, sub) in enumerate(
            zip((BASE_HEADING, OURS_HEADING, THEIRS_HEADING), self._subs, strict=True), start=1
        ):
            self.grid.addWidget(plain_label(head, object_name="mergeColumnHeading"), 0, col)
            self.grid.addWidget(plain_label(sub, object_name="dialogHint"), 1, col)
        values = (conflict.base, conflict.ours, conflict.theirs)
        if conflict.field == DELETED:
            self._records(plan, values)
        else:
            for col, value in enumerate(values):
                label = _value_label(shown(value, plan))
                self.columns[col].append(label)
                self.grid.addWidget(label, 2, col + 1)
        for col in (1, 2, 3):
            self.grid.setColumnStretch(col, 1)
        self.grid.setRowStretch(self.grid.rowCount(), 1)
        self.area.verticalScrollBar().setValue(0)

    def _records(self, plan: MergeResult, records: tuple[Any, Any, Any]) -> None:
        rows = record_rows(records)
        for row, name in enumerate(rows, start=2):
            label = plain_label(field_label(name), object_name="mergeFieldName", wrap=False)
            self.grid.addWidget(label, row, 0, Qt.AlignmentFlag.AlignTop)
        for col, record in enumerate(records):
            if record is None:
                gone = "deleted" if col else "not in the exported revision"
                label = _value_label(gone, name="mergeGone")
                self.columns[col].append(label)
                self.grid.addWidget(label, 2, col + 1)
                continue
            base = records[0]
            for row, name in enumerate(rows, start=2):
                value = getattr(record, name)
                label = _value_label(shown(value, plan))
                changed = col > 0 and base is not None and getattr(base, name) != value
                label.setProperty("changed", changed)
                self.columns[col].append(label)
                self.grid.addWidget(label, row, col + 1)

    def mark(self, column: int | None) -> None:
        """Mark the chosen column (1 ours, 2 theirs; None: none of them)."""
        for col, labels in enumerate(self.columns):
            for label in labels:
                label.setProperty("chosen", col == column)
                label.style().unpolish(label)
                label.style().polish(label)

    def _new_body(self) -> QGridLayout:
        """A fresh grid in the scroll area (the old one goes with its labels at once)."""
        body = QWidget()
        body.setObjectName("mergeCompare")
        grid = QGridLayout(body)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(6)
        self.area.setWidget(body)  # deletes the previous body
        self.columns = ([], [], [])
        return grid


# -- the changes that apply without a conflict -------------------------------------------------

_ACTIONS = {"added": "Added", "changed": "Changed", "deleted": "Deleted by the file"}


def _cell(item: QTreeWidgetItem, column: int, text: str) -> None:
    item.setText(column, one_line(text))
    if len(text) > TIP_FROM or "\n" in text:  # the cell may elide it
        item.setToolTip(column, plain_tooltip(text[:TIP_MAX]))


class ChangesTree(QTreeWidget):
    """Each change the import makes without a conflict, its fields before and after."""

    EXPAND_UP_TO = 100  # changes shown opened; more start closed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mergeChanges")
        self.setColumnCount(3)
        self.setHeaderLabels(["Change", OURS_HEADING, "After the import"])
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.header().setStretchLastSection(True)

    def show_changes(self, plan: MergeResult, changes: Sequence[Change]) -> None:
        self.clear()
        bold = QFont(self.font())
        bold.setBold(True)
        for change in changes:
            top = QTreeWidgetItem(self)
            what = heading(plan, change.section, change.item_id)
            _cell(top, 0, f"{_ACTIONS.get(change.action, change.action)}: {what}")
            top.setFont(0, bold)
            top.setFirstColumnSpanned(True)
            for name in self._rows(change):
                child = QTreeWidgetItem(top)
                _cell(child, 0, field_label(name))
                before, after = self._values(change, name)
                _cell(child, 1, "" if change.action == "added" else shown(before, plan))
                _cell(child, 2, "" if change.action == "deleted" else shown(after, plan))
        if len(changes) <= self.EXPAND_UP_TO:
            self.expandAll()
        self.setColumnWidth(0, 300)
        self.setColumnWidth(1, 300)

    @staticmethod
    def _rows(change: Change) -> list[str]:
        if change.section is Section.DOCUMENT:
            return [MISSION]
        if change.action == "changed":
            return list(change.fields)
        return record_rows([change.before, change.after])

    @staticmethod
    def _values(change: Change, name: str) -> tuple[Any, Any]:
        if change.section is Section.DOCUMENT:
            return change.before, change.after
        return getattr(change.before, name, None), getattr(change.after, name, None)
