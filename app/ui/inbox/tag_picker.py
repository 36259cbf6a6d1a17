"""Tag a conversation: type (existing tags complete), Enter adds; Delete removes a listed tag."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from app.services.triage import MAX_TAG
from app.ui.labels import plain_label

HINT = "Enter adds the typed tags (commas separate several) and saves · Del removes a tag"


class _TagList(QListWidget):
    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.currentItem():
            self.takeItem(self.currentRow())
            return
        super().keyPressEvent(event)


class TagPicker(QDialog):
    """Edits the conversation's tags; :meth:`changes` says what to add and what to remove."""

    def __init__(
        self,
        current: Sequence[str],
        known: Sequence[str],
        parent: QWidget | None = None,
        *,
        goals: Sequence[tuple[int, str]] = (),
        goal: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("tagPicker")
        self.setWindowTitle("Tags")
        self.setMinimumWidth(380)
        self._before = list(current)
        self.edit = QLineEdit()
        self.edit.setObjectName("tagEdit")
        self.edit.setPlaceholderText("Tag name")
        self.edit.setMaxLength(MAX_TAG * 4)  # several, comma-separated
        completer = QCompleter(list(known), self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.edit.setCompleter(completer)
        self.list = _TagList()
        self.list.setObjectName("tagList")
        self.list.addItems(list(current))
        # The social goal the conversation served (the Strategy screen lists them per goal).
        self._goal_before = goal
        self.goal = QComboBox()
        self.goal.setObjectName("goalCombo")
        self.goal.addItem("No social goal", None)
        for goal_id, title in goals:
            self.goal.addItem(title, goal_id)
        self.goal.setCurrentIndex(max(0, self.goal.findData(goal)))
        self.goal.setToolTip("the social goal of the strategy this conversation serves")
        self.goal.setVisible(bool(goals) or goal is not None)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.edit.returnPressed.connect(self._on_edit_return_pressed)
        layout = QVBoxLayout(self)
        layout.addWidget(self.edit)
        layout.addWidget(plain_label(HINT, object_name="dialogHint"))
        layout.addWidget(self.list)
        if self.goal.isVisibleTo(self):
            layout.addWidget(plain_label("Serves the social goal", object_name="dialogHint"))
        layout.addWidget(self.goal)
        layout.addWidget(buttons)
        self.edit.setFocus()

    def tags(self) -> list[str]:
        """The tags as they stand in the dialog, typed ones included."""
        shown = [self.list.item(i).text() for i in range(self.list.count())]
        for name in self.edit.text().split(","):
            name = " ".join(name.split())
            if name and name not in shown:
                shown.append(name)
        return shown

    def changes(self) -> tuple[list[str], list[str]]:
        """(tags to add, tags to remove)."""
        after = self.tags()
        return [t for t in after if t not in self._before], [
            t for t in self._before if t not in after
        ]

    def goal_change(self) -> tuple[bool, int | None]:
        """(whether the social goal changed, the one chosen; None: none)."""
        chosen = self.goal.currentData()
        return chosen != self._goal_before, chosen

    def _on_edit_return_pressed(self) -> None:
        popup = self.edit.completer().popup()
        if popup is not None and popup.isVisible():  # Enter picks the completion first
            return
        self.accept()
