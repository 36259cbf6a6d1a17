"""A small manager of a unit's saved replies: add, edit, delete (the service checks who may)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.saved_replies import PLACEHOLDERS
from app.services.container import Services
from app.services.saved_replies import NotAllowed, SavedReplyError, SavedReplyRow
from app.ui.labels import plain_label, plain_tooltip
from app.ui.tasks import SerialTaskRunner

REPLY_ID_ROLE = Qt.ItemDataRole.UserRole + 1


class SavedRepliesDialog(QDialog):
    """The saved replies offered in a unit; the ones of that unit can be changed here."""

    changed = Signal()  # a reply was added, edited or deleted

    def __init__(
        self,
        services: Services,
        operator: int,
        unit_id: int,
        unit_name: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Saved replies of {unit_name}")
        self.resize(640, 460)
        self._services = services
        self._operator = operator
        self._unit_id = unit_id
        self._runner = SerialTaskRunner(self)
        self.rows: list[SavedReplyRow] = []
        layout = QVBoxLayout(self)
        hint = ", ".join(f"{{{name}}} ({what})" for name, what in PLACEHOLDERS.items())
        layout.addWidget(plain_label(f"Placeholders: {hint}.", object_name="dialogHint"))
        body = QHBoxLayout()
        self.list = QListWidget()
        self.list.setObjectName("savedRepliesList")
        self.list.currentItemChanged.connect(self._on_list_current_item_changed)
        body.addWidget(self.list, 1)
        form = QVBoxLayout()
        self.title = QLineEdit()
        self.title.setPlaceholderText("Title")
        self.title.setMaxLength(100)
        self.body = QPlainTextEdit()
        self.body.setPlaceholderText("Hi {author_name}, …")
        form.addWidget(self.title)
        form.addWidget(self.body, 1)
        buttons = QHBoxLayout()
        self.new_button = QPushButton("New")
        self.save_button = QPushButton("Save")
        self.delete_button = QPushButton("Delete")
        for button in (self.new_button, self.save_button, self.delete_button):
            buttons.addWidget(button)
        self.new_button.clicked.connect(self.start_new)
        self.save_button.clicked.connect(self.save)
        self.delete_button.clicked.connect(self.delete)
        form.addLayout(buttons)
        body.addLayout(form, 2)
        layout.addLayout(body, 1)
        self.message = plain_label(object_name="dialogMessage")
        layout.addWidget(self.message)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self.start_new()
        self.reload()

    def reload(self) -> None:
        services, me, unit = self._services, self._operator, self._unit_id
        self._runner.submit(lambda: services.saved_replies.for_unit(me, unit), self._on_loaded)

    def _on_loaded(self, rows: list[SavedReplyRow]) -> None:
        self.rows = list(rows)
        current = self._current_id()
        self.list.clear()
        for row in self.rows:
            label = row.title if row.unit_id == self._unit_id else f"{row.title} ({row.unit_name})"
            item = QListWidgetItem(label)
            item.setData(REPLY_ID_ROLE, row.id)
            item.setToolTip(plain_tooltip(row.body))
            self.list.addItem(item)
            if row.id == current:
                self.list.setCurrentItem(item)

    def _current_id(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None else int(item.data(REPLY_ID_ROLE))

    def _on_list_current_item_changed(self, item: QListWidgetItem | None, _old: object) -> None:
        row = next((r for r in self.rows if item and r.id == item.data(REPLY_ID_ROLE)), None)
        if row is not None:
            self.title.setText(row.title)
            self.body.setPlainText(row.body)

    def start_new(self) -> None:
        self.list.setCurrentRow(-1)
        self.title.clear()
        self.body.clear()
        self.title.setFocus()

    def save(self) -> None:
        title, body = self.title.text(), self.body.toPlainText()
        services, me, unit, reply_id = self._services, self._operator, self._unit_id, None
        reply_id = self._current_id()

        def write() -> str:
            if reply_id is None:
                services.saved_replies.create(me, unit, title, body)
                return f"“{title.strip()}” added."
            services.saved_replies.edit(me, reply_id, title, body)
            return f"“{title.strip()}” saved."

        self._runner.submit(lambda: _attempt(write), self._on_written)

    def delete(self) -> None:
        reply_id = self._current_id()
        if reply_id is None:
            return
        services, me = self._services, self._operator

        def write() -> str:
            services.saved_replies.delete(me, reply_id)
            return "Deleted."

        self._runner.submit(lambda: _attempt(write), self._on_written)
        self.start_new()

    def _on_written(self, result: tuple[bool, str]) -> None:
        ok, message = result
        self.message.setText(message)
        if ok:
            self.changed.emit()
            self.reload()


def _attempt(write: Callable[[], str]) -> tuple[bool, str]:
    try:
        return True, write()
    except (SavedReplyError, NotAllowed) as e:
        return False, str(e)
