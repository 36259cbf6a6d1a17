"""? : every key of the window in one sheet, read from the actions themselves (it cannot drift)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

# Keys a widget handles itself (no QAction behind them).
LIST_KEYS: tuple[tuple[str, str], ...] = (
    ("J", "next conversation (opens it)"),
    ("K", "previous conversation (opens it)"),
    ("Return", "open the conversation under the cursor"),
    ("Tab", "move between the list, the thread's buttons and the filters"),
    ("Esc", "close a dialog, the palette or this sheet"),
)


def _key_text(keys: QKeySequence) -> str:
    return keys.toString(QKeySequence.SequenceFormat.NativeText)


def window_keys(window: QWidget, first: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """Every shortcut of ``window``'s actions and shortcuts, after ``first``, each key once.

    An action says what it does with its status tip (else its text); a ``QShortcut`` with its
    ``whatsThis``.
    """
    rows = [(_key_text(QKeySequence(k)), what) for k, what in (*LIST_KEYS, *first)]
    seen = {k for k, _ in rows}
    for action in window.findChildren(QAction):
        for keys in action.shortcuts():
            key = _key_text(keys)
            if key and key not in seen:
                seen.add(key)
                text = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
                what = action.statusTip() or text
                rows.append((key, what))
    for shortcut in window.findChildren(QShortcut):
        key = _key_text(shortcut.key())
        if key and key not in seen:
            seen.add(key)
            rows.append((key, shortcut.whatsThis() or shortcut.objectName() or "—"))
    return rows


class ShortcutSheet(QDialog):
    def __init__(self, rows: Sequence[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shortcutSheet")
        self.setWindowTitle("Keyboard shortcuts")
        self.setMinimumSize(520, 560)
        self.table = QTableWidget(len(rows), 2)
        self.table.setObjectName("shortcutTable")
        self.table.setHorizontalHeaderLabels(["Key", "What it does"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for i, (key, what) in enumerate(rows):
            key_item = QTableWidgetItem(key)
            key_item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.table.setItem(i, 0, key_item)
            self.table.setItem(i, 1, QTableWidgetItem(what))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)

    def keys(self) -> list[str]:
        items = (self.table.item(i, 0) for i in range(self.table.rowCount()))
        return [item.text() for item in items if item is not None]
