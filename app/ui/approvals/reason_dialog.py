"""The reason for a rejection or a request for changes (required): Ctrl+Enter sends it."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QVBoxLayout, QWidget

from app.services.drafts import MAX_REASON
from app.ui.labels import plain_label


class ReasonDialog(QDialog):
    """Asks what is wrong (reject) or what to change (request changes); never empty."""

    def __init__(self, title: str, prompt: str, button: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reasonDialog")
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        self.prompt = plain_label(prompt, object_name="dialogHint")
        self.edit = QPlainTextEdit()
        self.edit.setObjectName("reasonEdit")
        self.edit.setPlaceholderText("The author reads this with the draft. Ctrl+Enter sends it.")
        self.edit.setTabChangesFocus(True)
        self.error = plain_label(object_name="dialogError")
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.send = buttons.addButton(button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self._on_buttons_accepted)
        layout = QVBoxLayout(self)
        layout.addWidget(self.prompt)
        layout.addWidget(self.edit)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.edit.setFocus()

    def text(self) -> str:
        return self.edit.toPlainText().strip()

    def _on_buttons_accepted(self) -> None:
        text = self.text()
        if not text:
            self._refuse("A reason is needed: say what is wrong or what to change.")
        elif len(text) > MAX_REASON:
            self._refuse(f"The reason is longer than {MAX_REASON:,} characters.")
        else:
            self.accept()

    def _refuse(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
