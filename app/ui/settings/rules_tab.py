"""Settings > Routing rules: the ordered list, the selected rule's form, and a live preview.

Every rule and permission is the service's (``services.rules``): the tab asks and shows what it
answers as plain text. Ticking a rule's box and dropping it elsewhere in the list are requests:
the model emits them (queued, after the view is done with its drag), the tab asks the service,
and the list is read again from what was stored. The preview runs on the thread pool a moment
after the last keystroke (debounced), and only the newest answer is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QListView,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.permissions import Decision
from app.domain.rows import PersonRow
from app.services.container import Services
from app.services.rules import (
    NotAllowed,
    PreviewMatch,
    RuleChanged,
    RuleDraft,
    RuleError,
    RulePreview,
    RuleView,
)
from app.storage.rules import RuleRecord
from app.ui.dialogs import confirm
from app.ui.labels import plain_label, plain_tooltip
from app.ui.settings.rule_form import RuleForm
from app.ui.tasks import TaskRunner

MIME = "application/x-quiver-rule-id"
RULE_ID_ROLE = Qt.ItemDataRole.UserRole + 1
PREVIEW_DELAY_MS = 300  # after the last keystroke; a preview takes ~10-40 ms on the demo
_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
_REFUSALS = (NotAllowed, RuleError, RuleChanged, KeyError)


# -- the ordered list -------------------------------------------------------------------------


class RulesModel(QAbstractListModel):
    """The rules in evaluation order; a tick or a drop is asked for, never done here."""

    enable_requested = Signal(int, bool)  # rule id, on
    move_requested = Signal(int, int)  # rule id, new index (0: first)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rules: list[RuleView] = []
        self.editable = False

    def set_rules(self, rules: Sequence[RuleView], *, editable: bool) -> None:
        self.beginResetModel()
        self._rules = list(rules)
        self.editable = editable
        self.endResetModel()

    def rule_at(self, row: int) -> RuleView | None:
        return self._rules[row] if 0 <= row < len(self._rules) else None

    def row_of(self, rule_id: int) -> int:
        return next((i for i, r in enumerate(self._rules) if r.record.id == rule_id), -1)

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rules)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        view = self.rule_at(index.row()) if index.isValid() else None
        if view is None:
            return None
        record = view.record
        if role == Qt.ItemDataRole.DisplayRole:
            words = view.problem or view.summary
            off = "" if record.enabled else "  (switched off)"
            return f"{index.row() + 1}. {record.name}{off}\n{words}"
        if role == Qt.ItemDataRole.CheckStateRole:
            return Qt.CheckState.Checked if record.enabled else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tooltip(f"{record.name}\n{view.problem or view.summary}")
        if role == Qt.ItemDataRole.ForegroundRole and (view.problem or not record.enabled):
            return QColor("#b3261e") if view.problem else QColor("#757575")
        if role == RULE_ID_ROLE:
            return record.id
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled if self.editable else Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self.editable:
            flags |= Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsDragEnabled
        return flags

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        view = self.rule_at(index.row()) if index.isValid() else None
        if view is not None and role == Qt.ItemDataRole.CheckStateRole and self.editable:
            on = Qt.CheckState(value) == Qt.CheckState.Checked
            if on != view.record.enabled:
                self.enable_requested.emit(view.record.id, on)
        return False  # the list is read again from what the service stored

    # -- drag and drop --------------------------------------------------------------------

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        data = QMimeData()
        view = self.rule_at(indexes[0].row()) if indexes else None
        if view is not None:
            data.setData(MIME, QByteArray(str(view.record.id).encode()))
        return data

    def _dragged(self, data: QMimeData) -> int | None:
        if not data.hasFormat(MIME):
            return None
        try:
            rule_id = int(bytes(data.data(MIME).data()).decode())
        except ValueError:
            return None
        return rule_id if self.row_of(rule_id) >= 0 else None

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: _Index
    ) -> bool:
        return self.editable and self._dragged(data) is not None

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: _Index
    ) -> bool:
        rule_id = self._dragged(data)
        if not self.editable or rule_id is None:
            return False
        if row < 0:  # dropped onto an item: before it; below the last: at the end
            row = parent.row() if parent.isValid() else len(self._rules)
        old = self.row_of(rule_id)
        index = row - 1 if old < row else row
        if index != old:
            self.move_requested.emit(rule_id, index)
        return False  # nothing to remove: the list is rebuilt from what was stored


# -- the preview's table ----------------------------------------------------------------------


class PreviewModel(QAbstractTableModel):
    """The sample messages the edited rule matches (plain text, as written)."""

    HEADERS = ("Message", "Author", "This rule", "Lands in (→ moves)")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: tuple[PreviewMatch, ...] = ()

    def set_matches(self, rows: tuple[PreviewMatch, ...]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def rowCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        m = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            text = " ".join(m.text.split())[:300]
            moved = f"→ {m.lands_in}" if m.moves else m.lands_in
            return (text, m.author, m.does, moved)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            if index.column() == 3:
                return plain_tooltip(f"{m.lands_in}, by {m.routed_by}\n{m.reason}")
            return plain_tooltip(f"{m.text}\n\n{m.reason}")
        return None


# -- the tab ----------------------------------------------------------------------------------


class RulesTab(QWidget):
    """The rules in order (tick, drag, move up/down), the selected rule's form, the preview."""

    rules_changed = Signal()

    def __init__(self, services: Services, operator: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._operator = operator  # read at the moment of acting: a switch reaches this tab
        self._tasks = TaskRunner(self)
        self._decision = Decision(False)
        self._loaded: RuleRecord | None = None  # the stored rule in the form (None: new)
        self._dirty = False
        self._generation = 0  # the newest preview asked for; older answers are dropped
        self._preview_pending = False  # asked for while hidden: runs when the tab is shown
        self._shown = False
        self.preview_result: RulePreview | None = None
        self.access_note = plain_label(object_name="accessNote")
        self.error = plain_label(object_name="rulesError")
        self.error.setStyleSheet("color: #b3261e;")

        self.model = RulesModel(self)
        self.list = QListView()
        self.list.setObjectName("rulesList")
        self.list.setModel(self.model)
        self.list.setWordWrap(True)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)  # re-wrap the lines on resize
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.setDropIndicatorShown(True)
        self.new_button = QPushButton("New rule")
        self.up_button = QPushButton("Move up")
        self.up_button.setToolTip("Ctrl+Up")
        self.down_button = QPushButton("Move down")
        self.down_button.setToolTip("Ctrl+Down")
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(plain_label("Rules run in this order on every new conversation."))
        left.addWidget(self.list, 1)
        left.addLayout(_buttons(self.new_button, self.up_button, self.down_button))
        left_box = QWidget()
        left_box.setLayout(left)

        self.form = RuleForm()
        self.title = plain_label(object_name="ruleTitle")
        self.title.setStyleSheet("font-weight: 600;")
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(self.form.minimumSizeHint().width() + 24)
        scroll.setWidget(self.form)
        self.save_button = QPushButton("Save")
        self.save_button.setDefault(True)
        self.revert_button = QPushButton("Revert")
        self.delete_button = QPushButton("Delete…")
        middle = QVBoxLayout()
        middle.setContentsMargins(0, 0, 0, 0)
        middle.addWidget(self.title)
        middle.addWidget(scroll, 1)
        middle.addLayout(_buttons(self.delete_button, None, self.revert_button, self.save_button))
        middle_box = QWidget()
        middle_box.setLayout(middle)

        self.preview_summary = plain_label(object_name="previewSummary")
        self.preview_summary.setStyleSheet("font-weight: 600;")
        self.preview_note = plain_label(object_name="previewNote")
        self.preview_note.setObjectName("placeholderBody")
        self.preview_model = PreviewModel(self)
        self.preview_table = QTableView()
        self.preview_table.setObjectName("previewTable")
        self.preview_table.setModel(self.preview_model)
        self.preview_table.setWordWrap(False)
        self.preview_table.verticalHeader().setVisible(False)
        self.preview_table.verticalHeader().setDefaultSectionSize(24)
        self.preview_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.preview_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 105), (2, 135), (3, 135)):
            header.resizeSection(col, width)
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(plain_label("Preview against the newest 1,000 conversations"))
        right.addWidget(self.preview_summary)
        right.addWidget(self.preview_note)
        right.addWidget(self.preview_table, 1)
        right_box = QWidget()
        right_box.setLayout(right)

        splitter = QSplitter()
        splitter.addWidget(left_box)
        splitter.addWidget(middle_box)
        splitter.addWidget(right_box)
        splitter.setSizes([290, 500, 610])
        splitter.setStretchFactor(2, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.addWidget(self.access_note)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.error)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PREVIEW_DELAY_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        q = Qt.ConnectionType.QueuedConnection
        self.model.enable_requested.connect(self._on_enable_requested, q)
        self.model.move_requested.connect(self._on_move_requested, q)
        self.list.selectionModel().currentChanged.connect(self._on_current_changed)
        self.form.edited.connect(self._on_form_edited)
        self.new_button.clicked.connect(self._on_new_clicked)
        self.up_button.clicked.connect(lambda: self._step(-1))
        self.down_button.clicked.connect(lambda: self._step(1))
        self.save_button.clicked.connect(self._on_save_clicked)
        self.revert_button.clicked.connect(self._on_revert_clicked)
        self.delete_button.clicked.connect(self._on_delete_clicked)
        for keys, step in (("Ctrl+Up", -1), ("Ctrl+Down", 1)):
            shortcut = QShortcut(QKeySequence(keys), self.list)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(lambda step=step: self._step(step))
        changed = getattr(operator, "changed", None)
        if changed is not None:
            changed.connect(self._on_operator_changed)
        self.refresh()

    # -- state ------------------------------------------------------------------------------

    @property
    def may_edit(self) -> bool:
        return self._decision.allowed

    def selected(self) -> RuleView | None:
        return self.model.rule_at(self.list.currentIndex().row())

    def select(self, rule_id: int) -> None:
        row = self.model.row_of(rule_id)
        if row >= 0:
            self.list.setCurrentIndex(self.model.index(row))

    def refresh(self, select: int | None = None) -> None:
        """Read the rules, the choices and what the operator may do again."""
        keep = select if select is not None else (self._loaded.id if self._loaded else None)
        self._decision = self._services.rules.decision(self._operator.id)
        self.form.set_choices(
            self._services.inbox.units(),
            self._services.directory.people(),
            self._services.directory.accounts(),
        )
        self.model.set_rules(self._services.rules.rules(), editable=self.may_edit)
        self._apply_access()
        if keep is not None and self.model.row_of(keep) >= 0:
            self._loaded = None
            self.select(keep)
        elif self.model.rowCount():
            self._loaded = None
            self.list.setCurrentIndex(self.model.index(0))
        else:
            self._on_new_clicked()

    def _apply_access(self) -> None:
        may = self.may_edit
        reason = self._decision.reason
        self.access_note.setText(
            "" if may else f"{reason} You can read the rules, not change them."
        )
        self.access_note.setVisible(not may)
        self.form.set_read_only(not may)
        for b in (
            self.new_button,
            self.up_button,
            self.down_button,
            self.save_button,
            self.revert_button,
            self.delete_button,
        ):
            b.setEnabled(may)
        self.list.setDragEnabled(may)
        self.list.setAcceptDrops(may)
        if may:
            self.delete_button.setEnabled(self._loaded is not None)

    def _on_operator_changed(self, _person: PersonRow) -> None:
        self.error.clear()
        self.refresh()

    def _show(self, record: RuleRecord | None) -> None:
        """Put a stored rule (None: a new one) into the form and preview it."""
        self._loaded = record
        self._dirty = False
        self.error.clear()
        if record is None:
            self.title.setText("New rule (not saved yet)")
            self.form.load("", {}, {}, enabled=True, stop=False)
        else:
            self.title.setText(f"Rule {self.model.row_of(record.id) + 1}: {record.name}")
            self.form.load(
                record.name,
                record.conditions,
                record.actions,
                enabled=record.enabled,
                stop=record.stop,
            )
        self.delete_button.setEnabled(self.may_edit and record is not None)
        self.request_preview(now=True)

    def _leave(self) -> bool:
        """Whether the form may be replaced (unsaved edits: the person decides)."""
        if not self._dirty or not self.may_edit:
            return True
        name = self.form.name.text() or "the new rule"
        return confirm(self, "Unsaved changes", f"Discard your changes to {name}?")

    def showEvent(self, event: QShowEvent) -> None:
        """Shown again (its tab chosen): read what other workstations changed meanwhile."""
        super().showEvent(event)
        if event.spontaneous():
            return
        if self._shown and not self._dirty:
            self.refresh()
        elif self._preview_pending:
            self.request_preview(now=True)
        self._shown = True

    # -- the preview ------------------------------------------------------------------------

    def request_preview(self, *, now: bool = False) -> None:
        """Preview the form after a pause in typing (``now``: at once).

        A tab nobody looks at previews nothing: the first preview loads the language model
        (about a second of a worker thread), which must not slow the window's start.
        """
        if not self.isVisible():
            self._preview_pending = True
            return
        self._preview_pending = False
        if now:
            self._timer.stop()
            self._on_timer_timeout()
        else:
            self._timer.start()

    def _on_form_edited(self) -> None:
        self._dirty = True
        self.request_preview()

    def _on_timer_timeout(self) -> None:
        self._generation += 1
        generation = self._generation
        draft = self.form.draft()
        rule_id = self._loaded.id if self._loaded is not None else None
        rules = self._services.rules
        self.preview_summary.setText("Testing the rule…")
        self._tasks.submit(
            lambda: rules.preview(draft, rule_id=rule_id),
            lambda result: self._on_preview_done(generation, result),
            lambda message: self._on_preview_failed(generation, message),
        )

    def _on_preview_done(self, generation: int, result: RulePreview) -> None:
        if generation != self._generation:
            return  # the person typed on: a newer preview is coming
        self.preview_result = result
        self.preview_summary.setText(result.summary)
        notes = [result.note] if result.note else []
        if result.shadowed:
            notes.append(
                f"On its own it would match {result.alone_matched:,}: rules above it that stop "
                f"evaluation take {result.shadowed:,} of them first."
            )
        self.preview_note.setText(" ".join(notes))
        self.preview_note.setVisible(bool(notes))
        self.preview_model.set_matches(result.matches)

    def _on_preview_failed(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self.preview_summary.setText(f"The preview failed: {message}")
            self.preview_model.set_matches(())

    # -- acting -----------------------------------------------------------------------------

    def _act(self, what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
        """Call the service as the operator now; a refusal is shown, not raised."""
        try:
            result = call(self._operator.id, *args, **kwargs)
        except _REFUSALS as exc:  # nothing changed: what the person typed stays to be fixed
            self.error.setText(f"{what}: {exc.args[0] if exc.args else exc}")
            return None
        self.error.clear()
        return result if result is not None else True

    def _done(self, select: int | None) -> None:
        self._dirty = False
        self.refresh(select)
        self.rules_changed.emit()

    def _on_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        view = self.model.rule_at(current.row())
        if view is None or (self._loaded is not None and view.record.id == self._loaded.id):
            return
        if not self._leave():
            self.list.selectionModel().blockSignals(True)
            self.list.setCurrentIndex(previous)
            self.list.selectionModel().blockSignals(False)
            return
        self._show(view.record)

    def _on_new_clicked(self) -> None:
        if self._loaded is not None and not self._leave():
            return
        self.list.selectionModel().blockSignals(True)
        self.list.clearSelection()
        self.list.setCurrentIndex(QModelIndex())
        self.list.selectionModel().blockSignals(False)
        self._show(None)
        self.form.name.setFocus()

    def _on_save_clicked(self) -> None:
        draft: RuleDraft = self.form.draft()
        rules = self._services.rules
        if self._loaded is None:
            rule_id = self._act("Not saved", rules.add, draft)
            if rule_id:
                self._done(int(rule_id))
            return
        saved = self._act("Not saved", rules.update, self._loaded.id, draft, expected=self._loaded)
        if saved:
            self._loaded = None  # shown again from what was stored
            self._done(saved.id)

    def _on_revert_clicked(self) -> None:
        if self._loaded is None:
            self._show(None)
            return
        try:
            record = self._services.rules.get(self._loaded.id)
        except KeyError:
            self.error.setText("This rule was deleted meanwhile.")
            self._done(None)
            return
        self.model.set_rules(self._services.rules.rules(), editable=self.may_edit)
        self.select(record.id)
        self._show(record)

    def _on_delete_clicked(self) -> None:
        if self._loaded is None:
            return
        name = self._loaded.name
        if not confirm(
            self,
            "Delete rule",
            f"Delete the rule “{name}”? Conversations it routed keep their reason; new ones "
            "are no longer routed by it.",
        ):
            return
        if self._act("Not deleted", self._services.rules.delete, self._loaded.id):
            self._loaded = None
            self._done(None)

    def _on_enable_requested(self, rule_id: int, on: bool) -> None:
        if self._act("Not switched", self._services.rules.set_enabled, rule_id, on):
            keep = self._loaded
            self.model.set_rules(self._services.rules.rules(), editable=self.may_edit)
            if keep is not None:
                self.select(keep.id)
                if keep.id == rule_id and not self._dirty:
                    self._show(self._services.rules.get(rule_id))
                elif keep.id == rule_id:
                    self.form.enabled.setChecked(on)
            self.rules_changed.emit()

    def _on_move_requested(self, rule_id: int, index: int) -> None:
        if self._act("Not moved", self._services.rules.move, rule_id, index):
            keep = self._loaded
            self.model.set_rules(self._services.rules.rules(), editable=self.may_edit)
            self.list.selectionModel().blockSignals(True)
            if keep is not None:
                self.select(keep.id)
            self.list.selectionModel().blockSignals(False)
            if keep is not None:
                self.title.setText(f"Rule {self.model.row_of(keep.id) + 1}: {keep.name}")
            self.request_preview(now=True)
            self.rules_changed.emit()

    def _step(self, step: int) -> None:
        view = self.selected()
        if view is None or not self.may_edit:
            return
        row = self.model.row_of(view.record.id) + step
        if 0 <= row < self.model.rowCount():
            self._on_move_requested(view.record.id, row)


def _buttons(*buttons: QPushButton | None) -> QHBoxLayout:
    """A row of buttons; ``None`` is the stretch between the left and right ones."""
    row = QHBoxLayout()
    for b in buttons:
        if b is None:
            row.addStretch(1)
        else:
            row.addWidget(b)
    if None not in buttons:
        row.addStretch(1)
    return row
