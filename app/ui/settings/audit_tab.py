"""Settings > Audit log: every recorded change, newest first, filtered; before/after as text.

The list is paged from SQL as it scrolls (a keyset ``fetchMore`` model, like the inbox's feed);
who may read which entries is the service's decision (``services.audit``). The CSV export runs
on the thread pool, never in the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.access import NotAllowed
from app.services.audit import AuditFilter, AuditRow, render
from app.services.container import Services
from app.ui.formatting import long_time
from app.ui.labels import plain_label
from app.ui.tasks import TaskRunner

COLUMNS = ("When", "Who", "Action", "About", "After")
_Index = QModelIndex | QPersistentModelIndex
_SUMMARY = 140  # characters of "after" shown in the list; the detail pane has it all


def ask_save_path(parent: QWidget) -> str | None:
    """Where to write the CSV export (tests replace this)."""
    path, _filter = QFileDialog.getSaveFileName(
        parent, "Export the audit log", "audit-log.csv", "CSV files (*.csv)"
    )
    return path or None


def describe(row: AuditRow) -> str:
    """The detail pane's text for one entry: plain text, before and after as sorted JSON."""
    about = row.entity + (f" #{row.entity_id}" if row.entity_id is not None else "")
    who = row.person_name or "(nobody named)"
    lines = [
        f"{long_time(row.at_ms)} · {who} · {row.action} · {about}",
        "",
        "Before:",
        render(row.before, indent=2) or "(nothing)",
        "",
        "After:",
        render(row.after, indent=2) or "(nothing)",
    ]
    return "\n".join(lines)


class AuditModel(QAbstractTableModel):
    """The entries fetched so far; ``fetchMore`` asks the service for the next page."""

    PAGE = 200

    def __init__(
        self, services: Services, operator_id: Callable[[], int], parent: Any = None
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._operator_id = operator_id
        self._filter = AuditFilter()
        self._rows: list[AuditRow] = []
        self._done = True
        self.refusal = ""

    @property
    def filter(self) -> AuditFilter:
        return self._filter

    def set_filter(self, new: AuditFilter) -> None:
        """Start over with ``new``'s first page (a refusal leaves the list empty)."""
        try:
            first = self._services.audit.page(self._operator_id(), new, limit=self.PAGE)
            self.refusal = ""
        except (NotAllowed, KeyError) as exc:
            first, self.refusal = [], str(exc)
        self.beginResetModel()
        self._filter, self._rows, self._done = new, list(first), len(first) < self.PAGE
        self.endResetModel()

    def row_at(self, row: int) -> AuditRow:
        return self._rows[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        row = self._rows[index.row()]
        column = index.column()
        if column == 0:
            return long_time(row.at_ms)
        if column == 1:
            return row.person_name
        if column == 2:
            return row.action
        if column == 3:
            return row.entity + (f" #{row.entity_id}" if row.entity_id is not None else "")
        text = render(row.after).replace("\n", " ")
        return text if len(text) <= _SUMMARY else text[: _SUMMARY - 1] + "…"

    def canFetchMore(self, parent: _Index) -> bool:
        return not parent.isValid() and not self._done

    def fetchMore(self, parent: _Index) -> None:
        if parent.isValid() or self._done:
            return
        after = self._rows[-1].key if self._rows else None
        try:
            page = self._services.audit.page(
                self._operator_id(), self._filter, after=after, limit=self.PAGE
            )
        except (NotAllowed, KeyError) as exc:
            self.refusal, page = str(exc), []
        self._done = len(page) < self.PAGE
        if page:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(page) - 1)
            self._rows.extend(page)
            self.endInsertRows()


class AuditTab(QWidget):
    """Filters (person, unit, kind, period), the entries, the selected entry, CSV export."""

    def __init__(self, services: Services, operator: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._operator = operator  # read at the moment of acting: a switch reaches this tab
        self._tasks = TaskRunner(self)
        self.exporting = False
        self._filling = False  # the choosers are being refilled: no filter per item added
        self.access_note = plain_label(object_name="accessNote")
        self.status = plain_label(object_name="auditStatus")

        self.person = QComboBox()
        self.unit = QComboBox()
        self.kind = QComboBox()
        self.kind.setEditable(True)
        self.kind.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        kind_edit = self.kind.lineEdit()
        assert kind_edit is not None  # editable
        kind_edit.setPlaceholderText("any kind (e.g. account. or unit.moved)")
        self.use_since, self.use_until = QCheckBox("From"), QCheckBox("to")
        today = QDate.currentDate()
        self.since, self.until = QDateEdit(today.addDays(-30)), QDateEdit(today)
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
        self.export_button = QPushButton("Export CSV…")
        filters = QHBoxLayout()
        for label, widget in (("Person", self.person), ("Unit", self.unit), ("Kind", self.kind)):
            filters.addWidget(QLabel(label))
            filters.addWidget(widget, 1)
        for w in (self.use_since, self.since, self.use_until, self.until):
            filters.addWidget(w)
        filters.addWidget(self.export_button)

        self.model = AuditModel(services, lambda: int(self._operator.id), self)
        self.table = QTableView()
        self.table.setObjectName("auditTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        for col, width in enumerate((170, 140, 170, 110)):
            header.resizeSection(col, width)
        self.detail = QPlainTextEdit()
        self.detail.setObjectName("auditDetail")
        self.detail.setReadOnly(True)
        self.detail.setPlaceholderText("Choose an entry to see what it changed.")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.addWidget(self.access_note)
        layout.addLayout(filters)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)

        self.person.currentIndexChanged.connect(self.apply_filter)
        self.unit.currentIndexChanged.connect(self.apply_filter)
        self.kind.activated.connect(self.apply_filter)
        kind_edit.editingFinished.connect(self.apply_filter)
        for box, edit in ((self.use_since, self.since), (self.use_until, self.until)):
            box.toggled.connect(edit.setEnabled)
            box.toggled.connect(self.apply_filter)
            edit.dateChanged.connect(self.apply_filter)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.export_button.clicked.connect(self._on_export_clicked)
        changed = getattr(operator, "changed", None)
        if changed is not None:
            changed.connect(self._on_operator_changed)
        self.refresh()

    # -- filters ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Check what the operator may read, refill the choosers, and show the first page."""
        allowed, reason = self._services.audit.decide_reading(self._operator.id)
        self.access_note.setText("" if allowed else reason)
        self.access_note.setVisible(not allowed)
        for w in (self.person, self.unit, self.kind, self.export_button, self.table):
            w.setEnabled(allowed)
        self._filling = True
        try:
            self._fill(allowed)
        finally:
            self._filling = False
        self.apply_filter()

    def _fill(self, allowed: bool) -> None:
        op = self._operator.id
        for combo, anything in ((self.person, "Anyone"), (self.unit, "Any unit")):
            combo.clear()
            combo.addItem(anything, None)
        self.kind.clear()
        self.kind.addItem("", "")
        if not allowed:
            return
        for person_id, name in self._services.audit.actors(op):
            if person_id is not None:
                self.person.addItem(name or f"person #{person_id}", person_id)
        for u in self._services.audit.units(op):
            self.unit.addItem("    " * (u.path.count("/") - 2) + u.name, u.id)
        for kind in self._services.audit.kinds(op):
            self.kind.addItem(kind, kind)

    def current_filter(self) -> AuditFilter:
        def midnight(d: QDate) -> datetime:
            return datetime.combine(date(d.year(), d.month(), d.day()), time()).astimezone()

        since = midnight(self.since.date()) if self.use_since.isChecked() else None
        until = (
            midnight(self.until.date()) + timedelta(days=1) if self.use_until.isChecked() else None
        )
        return AuditFilter(
            person_id=self.person.currentData(),
            unit_id=self.unit.currentData(),
            kind=self.kind.currentText().strip(),
            since=since,
            until=until,
        )

    def apply_filter(self, *_args: object) -> None:
        if self._filling:
            return
        wanted = self.current_filter()
        self.model.set_filter(wanted)
        self.detail.clear()
        if self.model.refusal:
            self.status.setText(self.model.refusal)
        elif self.model.rowCount() == 0:
            self.status.setText("No entry matches these filters.")
        else:
            self.status.setText("")

    def _on_operator_changed(self, _person: object) -> None:
        self.refresh()

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.detail.setPlainText(describe(self.model.row_at(rows[0].row())))
        else:
            self.detail.clear()

    # -- export -------------------------------------------------------------------------------

    def _on_export_clicked(self) -> None:
        path = ask_save_path(self)
        if not path:
            return
        operator_id, query = self._operator.id, self.current_filter()
        self.exporting = True
        self.export_button.setEnabled(False)
        self.status.setText("Exporting…")
        self._tasks.submit(
            lambda: (self._services.audit.export_csv(operator_id, query, path), path),
            self._on_exported,
            self._on_export_failed,
        )

    def _on_exported(self, result: tuple[int, str]) -> None:
        n, path = result
        self._export_done(f"Exported {n:,} entries to {path}.")

    def _on_export_failed(self, message: str) -> None:
        self._export_done("The export failed: " + message.split(": ", 1)[-1])

    def _export_done(self, text: str) -> None:
        self.exporting = False
        self.export_button.setEnabled(not self.access_note.isVisible())
        self.status.setText(text)
