"""Pickers for units, owners and accounts: a list in a workspace, completed free text in a file."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QCompleter, QWidget

from app.services.strategy_editing import Choice


class RefPicker(QComboBox):
    """Chooses one :class:`Choice` (its ``value``), or none.

    In a workspace only the listed choices can be picked. In a file (``free_text``) a person
    may type any path, e-mail or handle; the choices complete what they type.
    """

    def __init__(self, none_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._none = none_label
        self._free = False
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(18)
        self.setMaxVisibleItems(16)

    def set_choices(self, choices: tuple[Choice, ...], *, free_text: bool) -> None:
        self._free = free_text
        self.blockSignals(True)
        self.clear()
        self.setEditable(free_text)
        if free_text:
            line = self.lineEdit()
            if line is not None:
                line.setPlaceholderText(self._none)
            for choice in choices:
                self.addItem(choice.label, choice.value)
            completer = QCompleter([c.label for c in choices], self)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            self.setCompleter(completer)
            self.setCurrentIndex(-1)
            self.setEditText("")
        else:
            self.addItem(self._none, None)
            for choice in choices:
                self.addItem(choice.label, choice.value)
        self.blockSignals(False)

    def set_value(self, value: str | None, label: str = "") -> None:
        """Show ``value``; one not among the choices (a deactivated owner) is added as it is."""
        if value is None or not value.strip():
            if self._free:
                self.setCurrentIndex(-1)
                self.setEditText("")
            else:
                self.setCurrentIndex(0)
            return
        index = self.findData(value)
        if index < 0:
            self.addItem(label or value, value)
            index = self.count() - 1
        self.setCurrentIndex(index)
        if self._free:
            self.setEditText(self.itemText(index))

    def value(self) -> str | None:
        if not self._free:
            data = self.currentData()
            return None if data is None else str(data)
        text = self.currentText().strip()
        if not text:
            return None
        index = self.findText(text, Qt.MatchFlag.MatchFixedString)
        return str(self.itemData(index)) if index >= 0 else text
