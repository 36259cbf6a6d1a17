"""Write an internal note (plain text, never sent): Ctrl+Enter saves."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QVBoxLayout, QWidget

from app.services.triage import MAX_NOTE
from app.ui.labels import plain_label


class NoteDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noteDialog")
        self.setWindowTitle("Internal note")
        self.setMinimumWidth(440)
        self.edit = QPlainTextEdit()
        self.edit.setObjectName("noteEdit")
        self.edit.setPlaceholderText("Only people in Quiver read this. Ctrl+Enter saves.")
        self.edit.setTabChangesFocus(True)
        self.error = plain_label(object_name="dialogError")
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self._on_buttons_accepted)
        layout = QVBoxLayout(self)
        layout.addWidget(self.edit)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.edit.setFocus()

    def text(self) -> str:
        return self.edit.toPlainText().strip()

    def _on_buttons_accepted(self) -> None:
        text = self.text()
        if not text:
            self._refuse("The note is empty.")
        elif len(text) > MAX_NOTE:
            self._refuse(f"The note is longer than {MAX_NOTE:,} characters.")
        else:
            self.accept()

    def _refuse(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
