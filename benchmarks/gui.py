"""End-to-end inbox figures in the real main window (offscreen): from the action to rows painted."""

from __future__ import annotations

import statistics
import time
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtWidgets import QApplication, QTableView, QTreeView


def find_unit_index(tree: QTreeView, name: str) -> QModelIndex:
    model = tree.model()
    hits = model.match(
        model.index(0, 0),
        Qt.ItemDataRole.DisplayRole,
        name,
        1,
        Qt.MatchFlag.MatchStartsWith | Qt.MatchFlag.MatchRecursive,
    )
    if not hits:
        raise LookupError(f"no unit {name!r} in the tree")
    return hits[0]


def click_unit(tree: QTreeView, index: QModelIndex) -> None:
    """What a click does: make the unit current and selected (the inbox listens to that)."""
    tree.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)


def painted(view: QTableView) -> None:
    """Paint the list's viewport now (synchronously), as the next frame would."""
    view.viewport().repaint()
    QApplication.processEvents()


class InboxDriver:
    """Drives the real MainWindow's inbox the way a person does."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.tree = window.inbox.unit_tree
        self.view = window.inbox.view
        self.model = self.view.model()

    def switch_unit_ms(self, names: list[str], rounds: int = 5) -> list[float]:
        times: list[float] = []
        indexes = [find_unit_index(self.tree, n) for n in names]
        for _ in range(rounds):
            for index in indexes:
                t0 = time.perf_counter()
                click_unit(self.tree, index)
                painted(self.view)
                times.append((time.perf_counter() - t0) * 1000)
                assert self.model.rowCount() > 0, "a unit switch must list conversations"
        return times

    def next_page_ms(self, pages: int = 20) -> list[float]:
        times: list[float] = []
        for _ in range(pages):
            before = self.model.rowCount()
            t0 = time.perf_counter()
            self.model.fetchMore(QModelIndex())
            self.view.scrollToBottom()
            painted(self.view)
            times.append((time.perf_counter() - t0) * 1000)
            assert self.model.rowCount() > before, "next page added no rows"
        return times

    def scroll_to_end_ms(self) -> tuple[float, int]:
        t0 = time.perf_counter()
        self.window.inbox.jump_to_oldest()  # what Ctrl+End does
        painted(self.view)
        return (time.perf_counter() - t0) * 1000, self.model.rowCount()


def median(values: list[float]) -> float:
    return statistics.median(values)
