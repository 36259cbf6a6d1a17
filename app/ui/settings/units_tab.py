"""Settings > Units: the unit tree edited in place, and the selected unit's settings.

Every rule and permission is the service's (``services.units``): this tab asks, shows refusals
as plain text, and disables what the current operator may not change, saying why at its top.
A rename typed in the tree and a drop onto another unit are requests: the model asks the tab
(queued, after the view is done with its editor or drag), the tab asks the service, and the
tree is rebuilt from what was stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QByteArray, QMimeData, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app.domain.hours import WEEKDAY_NAMES, WEEKDAYS, HoursError, standard_week
from app.domain.permissions import Decision
from app.domain.units import (
    MAX_TARGET_H,
    UnitDetails,
    UnitError,
    describe_holdings,
    format_day_spans,
    new_unit_name,
    parse_day_spans,
)
from app.services.access import NotAllowed
from app.services.container import Services
from app.ui.dialogs import confirm
from app.ui.labels import plain_label, plain_tooltip

UNIT_ID_ROLE = Qt.ItemDataRole.UserRole + 1
MIME = "application/x-quiver-unit-id"
_Index = QModelIndex | QPersistentModelIndex
_REFUSALS = (NotAllowed, UnitError, HoursError, KeyError)


# -- what the tab asks a person (tests replace these) -----------------------------------------


def tell(parent: QWidget, title: str, text: str) -> None:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(text)
    box.exec()


def pick_colour(parent: QWidget, current: str) -> str | None:
    colour = QColorDialog.getColor(QColor(current), parent, "Unit colour")
    return colour.name() if colour.isValid() else None


def choose_parent(parent: QWidget, title: str, options: Sequence[tuple[int, str]]) -> int | None:
    """Which unit to move below (``options``: id and indented name)."""
    labels = [label for _id, label in options]
    label, ok = QInputDialog.getItem(parent, title, "Move below:", labels, 0, False)
    return options[labels.index(label)][0] if ok and label in labels else None


class DestinationDialog(QDialog):
    """Where a deleted unit's conversations, accounts and sub-units go."""

    def __init__(
        self, message: str, options: Sequence[tuple[int, str]], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Delete unit")
        self.setMinimumWidth(440)
        self.choice = QComboBox()
        for unit_id, label in options:
            self.choice.addItem(label, unit_id)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Move them and delete")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(plain_label(message))
        form.addRow("Move them to", self.choice)
        form.addRow(buttons)


def choose_destination(
    parent: QWidget, message: str, options: Sequence[tuple[int, str]]
) -> int | None:
    dialog = DestinationDialog(message, options, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return int(dialog.choice.currentData())


# -- the tree model ---------------------------------------------------------------------------


class UnitsModel(QStandardItemModel):
    """The unit tree; a rename or a drop is asked for through a signal, never done here."""

    rename_requested = Signal(int, str)  # unit id, new name
    move_requested = Signal(int, int, int)  # unit id, new parent id, position (-1: last)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 1, parent)
        self.setHorizontalHeaderLabels(["Unit"])
        self._items: dict[int, QStandardItem] = {}
        self._units: dict[int, UnitDetails] = {}

    def set_units(self, units: Sequence[UnitDetails], editable: set[int]) -> None:
        """Rebuild from ``units`` in tree order; only ``editable`` ones can be renamed."""
        self.removeRows(0, self.rowCount())
        self._items.clear()
        self._units = {u.id: u for u in units}
        for unit in units:
            item = QStandardItem(unit.name)
            item.setData(unit.id, UNIT_ID_ROLE)
            item.setData(QColor(unit.colour), Qt.ItemDataRole.DecorationRole)
            tip = unit.kind.capitalize() + (" · Triage queue" if unit.is_triage else "")
            item.setToolTip(plain_tooltip(f"{unit.name}\n{tip}"))
            item.setEditable(unit.id in editable)
            item.setDragEnabled(unit.id in editable and unit.parent_id is not None)
            item.setDropEnabled(True)
            parent = self._items.get(unit.parent_id) if unit.parent_id is not None else None
            (parent or self.invisibleRootItem()).appendRow(item)
            self._items[unit.id] = item
        self.invisibleRootItem().setDropEnabled(False)

    def index_of(self, unit_id: int) -> QModelIndex:
        item = self._items.get(unit_id)
        return item.index() if item else QModelIndex()

    def unit_at(self, index: _Index) -> UnitDetails | None:
        if not index.isValid():
            return None
        return self._units.get(index.data(UNIT_ID_ROLE))

    # -- editing: asked, not done -------------------------------------------------------------

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        unit = self.unit_at(index)
        if role == Qt.ItemDataRole.EditRole and unit is not None:
            text = str(value)
            if text != unit.name:
                self.rename_requested.emit(unit.id, text)
            return False
        return super().setData(index, value, role)

    # -- drag and drop ------------------------------------------------------------------------

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        data = QMimeData()
        unit = self.unit_at(indexes[0]) if indexes else None
        if unit is not None:
            data.setData(MIME, QByteArray(str(unit.id).encode()))
        return data

    def _dragged(self, data: QMimeData) -> UnitDetails | None:
        if not data.hasFormat(MIME):
            return None
        try:
            return self._units.get(int(bytes(data.data(MIME).data()).decode()))
        except ValueError:
            return None

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: _Index
    ) -> bool:
        unit, target = self._dragged(data), self.unit_at(parent)
        return (
            unit is not None
            and target is not None
            and unit.parent_id is not None
            and not target.path.startswith(unit.path)
        )

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: _Index
    ) -> bool:
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        unit, target = self._dragged(data), self.unit_at(parent)
        assert unit is not None
        assert target is not None
        position = row
        if row >= 0 and unit.parent_id == target.id:
            old = self.index_of(unit.id).row()
            position = row - 1 if old < row else row
        self.move_requested.emit(unit.id, target.id, position)
        return False  # the tree is rebuilt from what the service stored; nothing to remove


# -- the tab ----------------------------------------------------------------------------------


class UnitsTab(QWidget):
    """The unit tree (add, rename, drag or "Move to…", delete) and the selected unit's settings."""

    units_changed = Signal()

    def __init__(self, services: Services, operator: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._operator = operator  # read at the moment of acting: a switch reaches this tab
        self._decisions: dict[int, Decision] = {}
        self._units: list[UnitDetails] = []
        self.access_note = plain_label(object_name="accessNote")
        self.error = plain_label(object_name="unitsError")
        self.error.setStyleSheet("color: #b3261e;")

        self.model = UnitsModel(self)
        self.tree = QTreeView()
        self.tree.setObjectName("unitsTree")
        self.tree.setModel(self.model)
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.tree.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.tree.setDragEnabled(True)
        self.tree.setAcceptDrops(True)
        self.tree.setDropIndicatorShown(True)
        self.tree.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.add_button = QPushButton("Add sub-unit")
        self.move_button = QPushButton("Move to…")
        self.delete_button = QPushButton("Delete…")
        tree_buttons = QHBoxLayout()
        for b in (self.add_button, self.move_button, self.delete_button):
            tree_buttons.addWidget(b)
        tree_buttons.addStretch(1)
        left = QVBoxLayout()
        left.addWidget(self.tree, 1)
        left.addLayout(tree_buttons)

        self.form_box = QGroupBox("Selected unit")
        self.name = QLineEdit()
        self.name.setMaxLength(200)
        self.colour = QPushButton()
        self.colour.setObjectName("unitColour")
        self._colour = "#607d8b"
        self.head = QComboBox()
        self.region = QLineEdit()
        self.region.setMaxLength(100)
        self.region.setPlaceholderText("e.g. DACH, Iberia & LatAm")
        self.languages = QLineEdit()
        self.languages.setPlaceholderText("ISO 639-1 codes, e.g. de,en")
        self.target = QDoubleSpinBox()
        self.target.setRange(0, MAX_TARGET_H)
        self.target.setDecimals(1)
        self.target.setSpecialValueText("No target")
        self.target.setSuffix(" h (business hours)")
        self.same_hours = QCheckBox("Same as the organization")
        self.days: dict[str, QLineEdit] = {}
        hours = QGridLayout()
        hours.addWidget(self.same_hours, 0, 0, 1, 2)
        for i, day in enumerate(WEEKDAYS, start=1):
            edit = QLineEdit()
            edit.setPlaceholderText("closed (or e.g. 09:00-12:00, 13:00-17:00)")
            self.days[day] = edit
            hours.addWidget(QLabel(WEEKDAY_NAMES[day]), i, 0)
            hours.addWidget(edit, i, 1)
        self.save_button = QPushButton("Save changes")
        self.save_button.setDefault(True)
        self.revert_button = QPushButton("Revert")
        form = QFormLayout(self.form_box)
        form.addRow("Name", self.name)
        form.addRow("Colour", self.colour)
        form.addRow("Head", self.head)
        form.addRow("Region", self.region)
        form.addRow("Languages", self.languages)
        form.addRow("First response within", self.target)
        form.addRow("Business hours", hours)
        actions = QHBoxLayout()
        actions.addStretch(1)
        actions.addWidget(self.revert_button)
        actions.addWidget(self.save_button)
        form.addRow(actions)

        body = QHBoxLayout()
        body.addLayout(left, 2)
        body.addWidget(self.form_box, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.addWidget(self.access_note)
        layout.addLayout(body, 1)
        layout.addWidget(self.error)

        q = Qt.ConnectionType.QueuedConnection
        self.model.rename_requested.connect(self._on_rename_requested, q)
        self.model.move_requested.connect(self._on_move_requested, q)
        self.tree.selectionModel().currentChanged.connect(self._on_current_changed)
        self.add_button.clicked.connect(self._on_add_clicked)
        self.move_button.clicked.connect(self._on_move_clicked)
        self.delete_button.clicked.connect(self._on_delete_clicked)
        self.colour.clicked.connect(self._on_colour_clicked)
        self.same_hours.toggled.connect(self._on_same_hours_toggled)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.revert_button.clicked.connect(self._show_selected)
        changed = getattr(operator, "changed", None)
        if changed is not None:
            changed.connect(self._on_operator_changed)
        self.refresh()

    # -- state --------------------------------------------------------------------------------

    def selected(self) -> UnitDetails | None:
        return self.model.unit_at(self.tree.currentIndex())

    def select(self, unit_id: int) -> None:
        index = self.model.index_of(unit_id)
        if index.isValid():
            self.tree.setCurrentIndex(index)

    def refresh(self) -> None:
        """Read the tree and what the operator may change again; keep the selection."""
        keep = self.selected()
        self._units = self._services.units.tree()
        self._decisions = self._services.units.decisions(self._operator.id)
        editable = {uid for uid, d in self._decisions.items() if d.allowed}
        self.model.set_units(self._units, editable)
        self.tree.expandAll()
        people = self._services.directory.people()
        self.head.clear()
        self.head.addItem("Nobody", None)
        for p in people:
            self.head.addItem(p.name, p.id)
        self.select(keep.id if keep else (self._units[0].id if self._units else -1))
        self._show_selected()

    def _on_operator_changed(self, _person: object) -> None:
        self.error.clear()
        self.refresh()

    def _show_selected(self) -> None:
        unit = self.selected()
        if not any(d.allowed for d in self._decisions.values()):
            root = next(iter(self._decisions.values()), Decision(False, "There are no units."))
            self.access_note.setText(f"{root.reason} You can look at the units, not change them.")
        elif unit is not None and not self._decisions[unit.id].allowed:
            self.access_note.setText(self._decisions[unit.id].reason)
        else:
            self.access_note.setText("")
        self.access_note.setVisible(bool(self.access_note.text()))
        may = unit is not None and self._decisions.get(unit.id, Decision(False)).allowed
        self.form_box.setEnabled(may)
        self.add_button.setEnabled(may)
        self.move_button.setEnabled(may and unit is not None and unit.parent_id is not None)
        self.delete_button.setEnabled(
            may and unit is not None and unit.parent_id is not None and not unit.is_triage
        )
        if unit is None:
            return
        self.form_box.setTitle(unit.name)
        self.name.setText(unit.name)
        self._set_colour(unit.colour)
        if unit.head_id is not None and self.head.findData(unit.head_id) < 0:
            # A deactivated head: kept as is unless someone else is chosen.
            self.head.addItem(f"person #{unit.head_id} (deactivated)", unit.head_id)
        self.head.setCurrentIndex(max(0, self.head.findData(unit.head_id)))
        self.region.setText(unit.region)
        self.languages.setText(unit.languages)
        self.target.setValue(unit.first_response_target_h or 0)
        own = unit.business_hours
        self.same_hours.setChecked(own is None)
        week = own or standard_week()
        for day, edit in self.days.items():
            edit.setText(format_day_spans(week.get(day, [])))
        self._on_same_hours_toggled(own is None)

    def _set_colour(self, colour: str) -> None:
        self._colour = colour
        self.colour.setText(f"{colour}  Choose…")
        swatch = QPixmap(16, 16)
        swatch.fill(QColor(colour))
        self.colour.setIcon(QIcon(swatch))

    def _on_current_changed(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        self.error.clear()
        self._show_selected()

    def _on_same_hours_toggled(self, same: bool) -> None:
        for edit in self.days.values():
            edit.setEnabled(not same)

    def _on_colour_clicked(self) -> None:
        chosen = pick_colour(self, self._colour)
        if chosen:
            self._set_colour(chosen)

    # -- acting -------------------------------------------------------------------------------

    def _act(self, what: str, call: Any, *args: Any) -> bool:
        """Call the service as the operator now; a refusal is shown, not raised."""
        try:
            call(self._operator.id, *args)
        except _REFUSALS as exc:  # nothing changed: what the person typed stays to be fixed
            self.error.setText(f"{what}: {exc.args[0] if exc.args else exc}")
            return False
        self.error.clear()
        return True

    def _done(self, select: int | None = None) -> None:
        self.refresh()
        if select is not None:
            self.select(select)
        self.units_changed.emit()

    def _on_rename_requested(self, unit_id: int, name: str) -> None:
        if self._act("Not renamed", self._services.units.rename, unit_id, name):
            self._done(unit_id)

    def _on_move_requested(self, unit_id: int, parent_id: int, position: int) -> None:
        where = None if position < 0 else position
        if self._act("Not moved", self._services.units.move, unit_id, parent_id, where):
            self._done(unit_id)

    def _on_add_clicked(self) -> None:
        parent = self.selected()
        if parent is None:
            return
        name = new_unit_name(u.name for u in self._units if u.parent_id == parent.id)
        try:
            unit_id = self._services.units.add(self._operator.id, parent.id, name)
        except _REFUSALS as exc:
            self.error.setText(f"Not added: {exc}")
            return
        self._done(unit_id)
        self.tree.edit(self.model.index_of(unit_id))  # name it in place

    def _on_move_clicked(self) -> None:
        unit = self.selected()
        if unit is None:
            return
        options = self._options(self._services.units.parents_for(self._operator.id, unit.id))
        if not options:
            self.error.setText(f"There is no unit you may move {unit.name} below.")
            return
        target = choose_parent(self, f"Move {unit.name}", options)
        if target is not None:
            self._on_move_requested(unit.id, target, -1)

    def _on_delete_clicked(self) -> None:
        unit = self.selected()
        if unit is None:
            return
        held = self._services.units.holdings(unit.id)
        move_to: int | None = None
        if held.empty:
            if not confirm(self, "Delete unit", f"Delete {unit.name}? It holds nothing."):
                return
        else:
            others = self._services.units.destinations_for(self._operator.id, unit.id)
            options = self._options(others)
            message = describe_holdings(unit.name, held)
            if not options:
                self.error.setText(f"{message} You may change no other unit to take them.")
                return
            move_to = choose_destination(self, message, options)
            if move_to is None:
                return
        parent = unit.parent_id
        if self._act("Not deleted", self._services.units.delete, unit.id, move_to):
            self._done(move_to or parent)

    def _on_save_clicked(self) -> None:
        """Apply each changed setting in turn; stop at the first refusal and say it."""
        unit = self.selected()
        if unit is None:
            return
        units = self._services.units
        steps: list[tuple[str, Any, Any]] = []
        if self.name.text() != unit.name:
            steps.append(("Not renamed", units.rename, self.name.text()))
        if self._colour != unit.colour:
            steps.append(("Colour not changed", units.set_colour, self._colour))
        if self.head.currentData() != unit.head_id:
            steps.append(("Head not changed", units.set_head, self.head.currentData()))
        if self.region.text() != unit.region:
            steps.append(("Region not changed", units.set_region, self.region.text()))
        if self.languages.text() != unit.languages:
            steps.append(("Languages not changed", units.set_languages, self.languages.text()))
        target = self.target.value() or None
        if target != unit.first_response_target_h:
            steps.append(("Target not changed", units.set_target, target))
        try:
            hours = None if self.same_hours.isChecked() else self._week()
        except UnitError as exc:
            self.error.setText(f"Hours not changed: {exc}")
            return
        if hours != unit.business_hours:
            steps.append(("Hours not changed", units.set_hours, hours))
        for what, call, value in steps:
            if not self._act(what, call, unit.id, value):
                return
        self._done(unit.id)

    def _week(self) -> dict[str, list[list[str]]]:
        out: dict[str, list[list[str]]] = {}
        for day, edit in self.days.items():
            try:
                out[day] = parse_day_spans(edit.text())
            except UnitError as exc:
                raise UnitError(f"{WEEKDAY_NAMES[day]}: {exc}") from None
        return out

    def _options(self, units: Sequence[UnitDetails]) -> list[tuple[int, str]]:
        return [(u.id, "    " * (u.path.count("/") - 2) + u.name) for u in units]
