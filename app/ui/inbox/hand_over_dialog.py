"""Hand a conversation over to another unit: the unit, a reason (required) and a note."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.domain.rows import UnitRow
from app.services.triage import MAX_NOTE, MAX_REASON
from app.ui.labels import plain_label

REASONS = (
    "Not our department",
    "Needs a specialist",
    "Written in another language",
    "Sales enquiry",
    "Press or legal matter",
)


class HandOverDialog(QDialog):
    """Keyboard first: type the unit's name, Tab, the reason, Tab, a note; Ctrl+Enter hands over.

    Enter in the reason hands over too (the default button).
    """

    def __init__(
        self, units: Sequence[UnitRow], current_unit: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("handOverDialog")
        self.setWindowTitle("Hand over")
        self.setMinimumWidth(440)
        self.unit = QComboBox()
        self.unit.setObjectName("handOverUnit")
        for u in units:  # tree order; names alone, so typing a name's start finds it
            if u.id != current_unit:
                self.unit.addItem(u.name, u.id)
        self.unit.setCurrentIndex(-1)  # no guess: the person names the unit
        self.unit.setPlaceholderText("Type the unit's name")
        self.reason = QComboBox()
        self.reason.setObjectName("handOverReason")
        self.reason.setEditable(True)
        self.reason.addItems(list(REASONS))
        self.reason.setCurrentIndex(-1)
        self.reason.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        line = self.reason.lineEdit()
        assert line is not None  # an editable combo box has one
        line.setPlaceholderText("Why it goes there (required)")
        line.setMaxLength(MAX_REASON)
        self.note = QPlainTextEdit()
        self.note.setObjectName("handOverNote")
        self.note.setPlaceholderText("A note for the other unit (optional, internal)")
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self._on_buttons_accepted)
        self.note.setTabChangesFocus(True)
        self.note.setFixedHeight(80)
        self.error = plain_label(object_name="dialogError")
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Hand over")
        ok.setDefault(True)
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("To unit", self.unit)
        form.addRow("Reason", self.reason)
        form.addRow("Note", self.note)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.unit.setFocus()

    def chosen(self) -> tuple[int, str, str]:
        """The unit id, the reason and the note as typed (trimmed)."""
        return (
            int(self.unit.currentData()),
            self.reason.currentText().strip(),
            self.note.toPlainText().strip(),
        )

    def _on_buttons_accepted(self) -> None:
        # The service refuses these too; saying it here keeps what was typed.
        if self.unit.currentIndex() < 0:
            self._refuse("Choose the unit it goes to.")
        elif not self.reason.currentText().strip():
            self._refuse("Say why it goes to the other unit: a hand-over needs a reason.")
        elif len(self.note.toPlainText().strip()) > MAX_NOTE:
            self._refuse(f"The note is longer than {MAX_NOTE:,} characters.")
        else:
            self.accept()

    def _refuse(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
