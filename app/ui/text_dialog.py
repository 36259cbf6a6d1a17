"""A dialog asking for a short plain text that may not be empty (a note, a reason).

Ctrl+Enter accepts; an empty or too long text is refused in words under the box and the dialog
stays open.
"""

from __future__ import annotations

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.labels import plain_label


class TextDialog(QDialog):
    """``edit`` holds the text; :meth:`text` is it stripped, once accepted."""

    def __init__(
        self,
        *,
        title: str,
        placeholder: str,
        accept: str,
        limit: int,
        empty: str,
        what: str,
        prompt: str = "",
        name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        """Build it; nothing is asked until it is opened.

        Args:
            title: The window's title.
            placeholder: What the empty box says.
            accept: The accepting button's text.
            limit: The most characters the text may have.
            empty: The refusal of an empty text.
            what: The text's name in the refusal of a long one ("The note").
            prompt: A line above the box (none when empty).
            name: The object names' stem ("note": ``noteDialog``, ``noteEdit``).
            parent: The window it belongs to.
        """
        super().__init__(parent)
        self._limit, self._empty, self._what = limit, empty, what
        if name:
            self.setObjectName(f"{name}Dialog")
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        self.prompt = plain_label(prompt, object_name="dialogHint")
        self.prompt.setVisible(bool(prompt))
        self.edit = QPlainTextEdit()
        if name:
            self.edit.setObjectName(f"{name}Edit")
        self.edit.setPlaceholderText(placeholder)
        self.edit.setTabChangesFocus(True)
        self.error = plain_label(object_name="dialogError")
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.send: QPushButton = buttons.addButton(accept, QDialogButtonBox.ButtonRole.AcceptRole)
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
            self._refuse(self._empty)
        elif len(text) > self._limit:
            self._refuse(f"{self._what} is longer than {self._limit:,} characters.")
        else:
            self.accept()

    def _refuse(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
