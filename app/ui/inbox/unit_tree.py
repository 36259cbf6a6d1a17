"""The unit tree with backlog and total counts (counts arrive from a worker)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeView, QWidget

from app.domain.rows import UnitCount, UnitRow
from app.ui.formatting import count
from app.ui.inbox.filter_bar import BACKLOG_LABEL
from app.ui.labels import plain_tooltip

UNIT_ID_ROLE = Qt.ItemDataRole.UserRole + 1
KIND_ROLE = Qt.ItemDataRole.UserRole + 2


class UnitTreeModel(QStandardItemModel):
    """Name, backlog and total per unit; a small model, rebuilt only when units change."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 2, parent)
        self.setHorizontalHeaderLabels(["Unit", ""])  # hidden: the pane title names it
        self._items: dict[int, list[QStandardItem]] = {}

    def set_units(self, units: Sequence[UnitRow]) -> None:
        self.removeRows(0, self.rowCount())
        self._items.clear()
        for unit in units:
            name = QStandardItem(unit.name)
            name.setData(unit.id, UNIT_ID_ROLE)
            name.setData(QColor(unit.colour), Qt.ItemDataRole.DecorationRole)
            tip = unit.kind.capitalize()
            if unit.languages:
                tip += f" · answers in {unit.languages.replace(',', ', ')}"
            name.setData(tip, KIND_ROLE)
            name.setToolTip(plain_tooltip(tip))
            backlog = QStandardItem("")
            for item in (name, backlog):
                item.setEditable(False)
            backlog.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            backlog.setForeground(QColor("#5f6b7a"))
            parent = self._items[unit.parent_id][0] if unit.parent_id in self._items else None
            (parent or self.invisibleRootItem()).appendRow([name, backlog])
            self._items[unit.id] = [name, backlog]

    def set_counts(self, counts: Mapping[int, UnitCount]) -> None:
        """Backlog in the column; new, backlog and total in the tooltip (sub-units included)."""
        for unit_id, (name, backlog) in self._items.items():
            c = counts.get(unit_id)
            backlog.setText(count(c.backlog) if c else "")
            if c:
                detail = (
                    f"{name.data(KIND_ROLE)}\n{BACKLOG_LABEL}: {count(c.backlog)} "
                    f"(new, open and waiting) · new: {count(c.new)} · "
                    f"all statuses: {count(c.total)} (sub-units included)"
                )
                name.setToolTip(plain_tooltip(detail))

    def index_of(self, unit_id: int) -> QModelIndex:
        items = self._items.get(unit_id)
        return items[0].index() if items else QModelIndex()

    def backlog_shown(self, unit_id: int) -> str:
        return self._items[unit_id][1].text()


class UnitTree(QTreeView):
    """Emits ``unit_chosen(unit_id)`` when a person picks a unit."""

    unit_chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree_model = UnitTreeModel(self)
        self.setModel(self.tree_model)
        self.setObjectName("unitTree")
        self.setUniformRowHeights(True)
        self.setIndentation(14)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setHeaderHidden(True)  # the pane's title names the count column (BACKLOG_LABEL)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.selectionModel().selectionChanged.connect(self._on_selection_changed)

    def set_units(self, units: Sequence[UnitRow]) -> None:
        self.tree_model.set_units(units)
        self.expandAll()

    def select_unit(self, unit_id: int) -> None:
        index = self.tree_model.index_of(unit_id)
        if index.isValid():
            self.setCurrentIndex(index)

    def _on_selection_changed(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        if indexes:
            unit_id = self.tree_model.itemFromIndex(indexes[0].siblingAtColumn(0)).data(
                UNIT_ID_ROLE
            )
            if unit_id is not None:
                self.unit_chosen.emit(int(unit_id))
