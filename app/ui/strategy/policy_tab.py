"""The social media policy, as the strategy holds it: one line per term, disclaimer, domain, limit.

Each line has a kind (banned term: blocks; risky term: warns and asks for an approval; required
disclaimer; allowed link domain; length limit), a value, an optional scope (a network, a unit,
an account) and a note, and keeps its stable id through every edit. The table lists them; the
form below adds a line, saves changes to the selected one, or deletes it; the outcome (or the
refusal, in words) is shown beside the buttons.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import Network, PolicyKind
from app.services.strategy_editing import PolicyEdit, PolicyRow, StrategyState
from app.ui.labels import plain_label, plain_tooltip
from app.ui.strategy.item_form import show_outcome
from app.ui.strategy.pickers import RefPicker

KIND_LABELS: dict[str, str] = {
    PolicyKind.BANNED_TERM: "Banned term (blocks)",
    PolicyKind.RISKY_TERM: "Risky term (warns, asks for approval)",
    PolicyKind.DISCLAIMER: "Required disclaimer",
    PolicyKind.LINK_DOMAIN: "Allowed link domain",
    PolicyKind.LENGTH_LIMIT: "Length limit (characters)",
}
SHORT_LABELS: dict[str, str] = {
    PolicyKind.BANNED_TERM: "Banned term",
    PolicyKind.RISKY_TERM: "Risky term",
    PolicyKind.DISCLAIMER: "Required disclaimer",
    PolicyKind.LINK_DOMAIN: "Allowed link domain",
    PolicyKind.LENGTH_LIMIT: "Length limit",
}
COLUMNS = ("Kind", "Value", "Network", "Unit", "Account", "Note", "Id")
KEY_ROLE = Qt.ItemDataRole.UserRole + 5
INTRO = (
    "The compose pane checks every draft against these lines as it is typed, and the outbox "
    "checks again before publishing. Each line keeps its id, so an offline edit merges back "
    "line by line."
)


class PolicyTab(QWidget):
    """The policy's lines and a form for one of them."""

    add_requested = Signal(object)  # PolicyEdit
    edit_requested = Signal(str, object)  # key, PolicyEdit
    delete_requested = Signal(str, str)  # key, what it reads as

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: tuple[PolicyRow, ...] = ()
        self.key: str | None = None
        self.intro = plain_label(INTRO, object_name="threadFacts")
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.table = QTableView()
        self.table.setObjectName("policyTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(30)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        for column, width in enumerate((170, 300, 100, 170, 150, 260, 100)):
            self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row_changed)

        self.kind = QComboBox()
        for kind, label in KIND_LABELS.items():
            self.kind.addItem(label, str(kind))
        self.value = QLineEdit()
        self.value.setObjectName("policyValue")
        self.value.setPlaceholderText("a term, a disclaimer's text, a domain, a number")
        self.network = QComboBox()
        self.network.addItem("Every network", None)
        for network in Network:
            self.network.addItem(network.label, network.value)
        self.unit = RefPicker("Every unit")
        self.account = RefPicker("Every account")
        self.note = QLineEdit()
        self.note.setMaxLength(500)
        self.note.setPlaceholderText("why: what a person sees beside the finding")
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        for label, widget in (
            ("Kind", self.kind),
            ("Value", self.value),
            ("Network", self.network),
            ("Unit", self.unit),
            ("Account", self.account),
            ("Note", self.note),
        ):
            form.addRow(plain_label(label, wrap=False), widget)
        self.new_button = QPushButton("New line")
        self.new_button.clicked.connect(self.clear_form)
        self.add_button = QPushButton("Add the line")
        self.add_button.clicked.connect(self._on_add_clicked)
        self.save_button = QPushButton("Save changes")
        self.save_button.clicked.connect(self._on_save_clicked)
        self.delete_button = QPushButton("Delete the line…")
        self.delete_button.clicked.connect(self._on_delete_clicked)
        self.outcome = plain_label(object_name="composeOutcome")
        self.outcome.hide()
        buttons = QHBoxLayout()
        for button in (self.new_button, self.add_button, self.save_button, self.delete_button):
            button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            buttons.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        buttons.addWidget(self.outcome, 1)
        buttons.addStretch(0)
        self.form_title = plain_label("New line", object_name="sectionLabel")
        editor = QWidget()
        editor.setObjectName("policyForm")
        editor.setMaximumWidth(880)
        inner = QVBoxLayout(editor)
        inner.setContentsMargins(0, 8, 0, 0)
        inner.addWidget(self.form_title)
        inner.addLayout(form)
        inner.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(self.intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(editor)
        self.clear_form()

    def set_state(self, state: StrategyState) -> None:
        names = state.names
        self.unit.set_choices(names.units, free_text=names.free_text)
        self.account.set_choices(names.accounts, free_text=names.free_text)
        self.rows = state.policy
        wanted = self.key
        self.model.removeRows(0, self.model.rowCount())
        for row in state.policy:
            line = row.line
            network = Network(line.network).label if line.network in set(Network) else ""
            cells = [
                SHORT_LABELS.get(line.kind, line.kind),
                line.value,
                network or (line.network or ""),
                row.unit_label.rsplit("/", 1)[-1],
                row.account_label,
                line.note,
                row.uuid[:8],
            ]
            items = []
            for text in cells:
                cell = QStandardItem(text)
                cell.setData(row.key, KEY_ROLE)
                cell.setToolTip(plain_tooltip(text))
                items.append(cell)
            items[-1].setToolTip(plain_tooltip(f"Stable id: {row.uuid}"))
            items[3].setToolTip(plain_tooltip(row.unit_label))
            self.model.appendRow(items)
        if wanted is not None and self.select(wanted):
            return
        self.clear_form()

    def select(self, key: str) -> bool:
        for row in range(self.model.rowCount()):
            if self.model.item(row, 0).data(KEY_ROLE) == key:
                self.table.selectRow(row)
                self.table.setCurrentIndex(self.model.index(row, 0))
                self._show(self.rows[row])
                return True
        return False

    def row_of(self, value: str) -> PolicyRow | None:
        return next((r for r in self.rows if r.line.value == value), None)

    def clear_form(self) -> None:
        self.key = None
        self.table.clearSelection()
        self.form_title.setText("New line")
        self.kind.setCurrentIndex(0)
        self.value.clear()
        self.network.setCurrentIndex(0)
        self.unit.set_value(None)
        self.account.set_value(None)
        self.note.clear()
        self.save_button.setEnabled(False)
        self.delete_button.setEnabled(False)
        self.add_button.setEnabled(True)

    def show_outcome(self, text: str, *, ok: bool) -> None:
        show_outcome(self.outcome, text, ok=ok)

    def edit(self) -> PolicyEdit:
        return PolicyEdit(
            kind=str(self.kind.currentData()),
            value=self.value.text(),
            network=self.network.currentData(),
            unit=self.unit.value(),
            account=self.account.value(),
            note=self.note.text(),
        )

    def _show(self, row: PolicyRow) -> None:
        self.key = row.key
        line = row.line
        self.form_title.setText(f"Line {row.uuid}")
        self.kind.setCurrentIndex(max(0, self.kind.findData(line.kind)))
        self.value.setText(line.value)
        self.network.setCurrentIndex(max(0, self.network.findData(line.network)))
        self.unit.set_value(line.unit, row.unit_label)
        self.account.set_value(line.account, row.account_label)
        self.note.setText(line.note)
        self.save_button.setEnabled(True)
        self.delete_button.setEnabled(True)

    def _on_current_row_changed(self, current: object, _previous: object) -> None:
        row = getattr(current, "row", lambda: -1)()
        if 0 <= row < len(self.rows):
            self._show(self.rows[row])

    def _on_add_clicked(self) -> None:
        self.show_outcome("Adding…", ok=True)
        self.add_requested.emit(self.edit())

    def _on_save_clicked(self) -> None:
        if self.key is not None:
            self.show_outcome("Saving…", ok=True)
            self.edit_requested.emit(self.key, self.edit())

    def _on_delete_clicked(self) -> None:
        if self.key is not None:
            line = self.edit()
            self.delete_requested.emit(self.key, f"{self.kind.currentText()}: {line.value}")
