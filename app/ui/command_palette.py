"""Ctrl+K: every action and every screen or view by name, filtered as you type, Enter runs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QDialog, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.ui.labels import plain_label


@dataclass(frozen=True)
class Command:
    """One thing the palette can do: its name, a hint (its key, or what kind it is), the call."""

    text: str
    hint: str
    run: Callable[[], None]


def fuzzy_score(query: str, text: str) -> int | None:
    """How well ``text`` matches ``query`` typed loosely; None when it does not match at all.

    Every character of the query (spaces ignored, case folded) must appear in the text in
    order. Characters that follow each other in the text, or start one of its words, score
    higher; a gap costs a little. An empty query matches everything with 0.
    """
    needle = "".join(query.casefold().split())
    hay = text.casefold()
    score, pos, previous = 0, 0, -2
    for ch in needle:
        found = hay.find(ch, pos)
        if found < 0:
            return None
        starts_word = found == 0 or not hay[found - 1].isalnum()
        score += 10 if found == previous + 1 else 0
        score += 8 if starts_word else 0
        score -= min(found - pos, 5)
        previous, pos = found, found + 1
    return score


def ranked(commands: Sequence[Command], query: str) -> list[Command]:
    """The commands matching ``query``, best first (ties keep their order)."""
    scored = [(fuzzy_score(query, c.text), i, c) for i, c in enumerate(commands)]
    return [c for s, _i, c in sorted((t for t in scored if t[0] is not None), key=_rank)]


def _rank(entry: tuple[int | None, int, Command]) -> tuple[int, int]:
    score, index, _ = entry
    return (-(score or 0), index)


class CommandPalette(QDialog):
    """A popup list over ``commands``; the chosen one runs after the palette has closed."""

    def __init__(self, commands: Sequence[Command], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("commandPalette")
        self.setWindowTitle("Command palette")
        self.setMinimumSize(560, 420)
        self._commands = list(commands)
        self._shown: list[Command] = []
        self.chosen: Command | None = None
        self.edit = QLineEdit()
        self.edit.setObjectName("paletteEdit")
        self.edit.setPlaceholderText("Type an action, a screen or a unit…")
        self.list = QListWidget()
        self.list.setObjectName("paletteList")
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # typing stays in the box
        self.list.setUniformItemSizes(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.edit)
        layout.addWidget(self.list, 1)
        layout.addWidget(
            plain_label("↑ ↓ choose · Enter runs · Esc closes", object_name="dialogHint")
        )
        self.edit.textChanged.connect(self._on_edit_text_changed)
        self.edit.returnPressed.connect(self._on_edit_return_pressed)
        self.list.itemActivated.connect(self._on_list_item_activated)
        self.edit.installEventFilter(self)
        self._on_edit_text_changed("")
        self.edit.setFocus()
        self.finished.connect(self._on_finished)

    def shown(self) -> list[str]:
        """The commands listed now, in order (for tests)."""
        return [c.text for c in self._shown]

    def _on_edit_text_changed(self, text: str) -> None:
        self._shown = ranked(self._commands, text)
        self.list.clear()
        for command in self._shown:
            label = f"{command.text}    {command.hint}" if command.hint else command.text
            self.list.addItem(QListWidgetItem(label))
        if self._shown:
            self.list.setCurrentRow(0)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1}.get(Qt.Key(event.key()))
            if step is not None and self._shown:
                row = max(0, min(len(self._shown) - 1, self.list.currentRow() + step))
                self.list.setCurrentRow(row)
                return True
        return super().eventFilter(watched, event)

    def _on_edit_return_pressed(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self._shown):
            self.chosen = self._shown[row]
            self.accept()

    def _on_list_item_activated(self, item: QListWidgetItem) -> None:
        self.chosen = self._shown[self.list.row(item)]
        self.accept()

    def _on_finished(self, result: int) -> None:
        # Run once the palette is gone, with the window active again (keys reach it at once).
        parent = self.parentWidget()
        if parent is not None:
            parent.activateWindow()
        if result == QDialog.DialogCode.Accepted and self.chosen is not None:
            self.chosen.run()
