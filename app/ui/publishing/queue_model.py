"""The outbox queue's model: keyset pages of :class:`OutboxRow`, every page read in a worker.

The GUI thread never reads the database here: :meth:`OutboxQueueModel.reload` and each
``fetchMore`` hand the read to a one-thread runner and insert the rows when they arrive. A page
read for an operator or a reload that was superseded meanwhile is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from app.domain.enums import DraftState, DraftTargetState
from app.services.publishing import OutboxRow, PublishingService
from app.ui.labels import plain_tooltip
from app.ui.publishing.style import STATE_COLOURS, STATE_MARKS, local
from app.ui.tasks import SerialTaskRunner

COLUMNS = ("Due", "State", "Accounts and outcomes", "Text", "Unit · author")
COL_DUE, COL_STATE, COL_TARGETS, COL_TEXT, COL_WHO = range(5)
ROW_ROLE = Qt.ItemDataRole.UserRole + 1

_Index = QModelIndex | QPersistentModelIndex
_TARGET_MARKS = {
    DraftTargetState.PUBLISHED: "✓",
    DraftTargetState.FAILED: "✗",
    DraftTargetState.PUBLISHING: "↑",
    DraftTargetState.PENDING: "○",
}


def targets_line(row: OutboxRow) -> str:
    """Each account with its own outcome's mark ("✓ @acme  ✗ Acme Mobility")."""
    return "  ".join(f"{_TARGET_MARKS[t.state]} {t.account}" for t in row.targets)


def first_line(text: str, limit: int = 120) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class OutboxQueueModel(QAbstractTableModel):
    """The rows read so far; ``fetchMore`` asks for the next page in the worker."""

    PAGE = 100

    #: The first page of the last reload is listed.
    loaded = Signal()
    #: A page could not be read: why, in words.
    load_failed = Signal(str)

    def __init__(
        self,
        publishing: PublishingService,
        operator: Callable[[], int],
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._publishing = publishing
        self._operator = operator
        self._rows: list[OutboxRow] = []
        self._done = True
        self._reading = False
        self._generation = 0
        self.loading = False
        self.error = ""
        self._tasks = SerialTaskRunner(self)

    # -- reading ------------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the queue again from its first page (the rows listed stay until it is in)."""
        self._generation += 1
        self.loading = True
        self._read(None, first=True)

    def _read(self, after: Any, *, first: bool) -> None:
        generation, operator, publishing, limit = (
            self._generation,
            self._operator(),
            self._publishing,
            self.PAGE,
        )
        self._reading = True
        self._tasks.submit(
            lambda: publishing.queue(operator, limit=limit, after=after),  # touches no Qt object
            lambda page: self._on_page_read(generation, first, page),
            lambda message: self._on_page_failed(generation, message),
        )

    def _on_page_read(self, generation: int, first: bool, page: list[OutboxRow]) -> None:
        self._reading = False
        if generation != self._generation:
            return  # a later reload is on its way
        if first:
            self.beginResetModel()
            self._rows = list(page)
            self.endResetModel()
        elif page:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(page) - 1)
            self._rows.extend(page)
            self.endInsertRows()
        self._done = len(page) < self.PAGE
        self.error = ""
        if first:
            self.loading = False
            self.loaded.emit()

    def _on_page_failed(self, generation: int, message: str) -> None:
        self._reading = False
        if generation != self._generation:
            return
        self.loading = False
        self._done = True
        self.error = message.split(": ", 1)[-1].splitlines()[0] if message else "unknown error"
        self.load_failed.emit(self.error)

    def wait(self, msecs: int = 2000) -> bool:
        return self._tasks.wait(msecs)

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008 - Qt's default
        return not parent.isValid() and not self._done and not self._reading

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008 - Qt's default
        if self.canFetchMore(parent) and self._rows:
            self._read(self._rows[-1].key, first=False)

    # -- rows ---------------------------------------------------------------------------------

    def row_at(self, row: int) -> OutboxRow:
        return self._rows[row]

    def rows(self) -> list[OutboxRow]:
        return list(self._rows)

    def row_of(self, draft_id: int) -> int | None:
        return next((i for i, r in enumerate(self._rows) if r.draft_id == draft_id), None)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's default
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's default
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, col)
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.ForegroundRole and col == COL_STATE:
            return QColor(STATE_COLOURS[row.state])
        if role == Qt.ItemDataRole.ToolTipRole and col in (COL_TARGETS, COL_STATE):
            # Qt guesses rich text in tooltips: the network's words are escaped, as plain text.
            return plain_tooltip("\n".join(t.text for t in row.targets))
        return None

    def _display(self, row: OutboxRow, col: int) -> str:
        if col == COL_DUE:
            due = local(row.due)
            when = f"{due:%a} {due.day} {due:%b %H:%M}"
            if row.schedule_at is None and row.state is DraftState.APPROVED:
                return f"{when} · next run"  # approved then, out as soon as the outbox runs
            return when
        if col == COL_STATE:
            label = row.state_label.capitalize()
            if row.state is DraftState.FAILED and row.published_on:
                label = "Partly failed"
            return f"{STATE_MARKS[row.state]} {label}"
        if col == COL_TARGETS:
            return targets_line(row)
        if col == COL_TEXT:
            return first_line(row.text)
        return f"{row.unit_name} · {row.author_name}"
