"""The approvals queue's model: keyset pages of the drafts waiting on a person, read in a worker.

Every page (the first and each ``fetchMore``) is read on a worker thread of its own
(:meth:`app.services.drafts.DraftsService.pending_for`, oldest first); the GUI thread only
inserts the rows. A page read for a person who is no longer the one asked for (an operator
switch, a reload) is dropped. A decided draft leaves the list (:meth:`remove_draft`); the next
page still starts after the last row read, so nothing is listed twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from app.services.approval_news import KIND_WORDS, preview
from app.services.drafts import DraftsService, PendingRow
from app.services.triage import ago
from app.ui.labels import isolated, plain_tooltip
from app.ui.tasks import SerialTaskRunner

ROW_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_HEIGHT = 58
_MIDDLE = Qt.AlignmentFlag.AlignVCenter

_Index = QModelIndex | QPersistentModelIndex


def headline(row: PendingRow) -> str:
    """The row's first line, "Jamal Carter · Post · Marketing" (the name isolated)."""
    kind = KIND_WORDS.get(row.kind, row.kind.value).capitalize()
    return f"{isolated(row.author_name)} · {kind} · {row.unit_name}"


class ApprovalQueueModel(QAbstractListModel):
    """The drafts waiting on one person, oldest first, a page at a time."""

    PAGE = 50

    #: The first page for the person asked for last is listed.
    loaded = Signal()
    #: A page could not be read: why, in words.
    load_failed = Signal(str)

    def __init__(self, drafts: DraftsService, parent: Any = None) -> None:
        super().__init__(parent)
        self._drafts = drafts
        self._rows: list[PendingRow] = []
        self._cursor: tuple[datetime, int] | None = None  # the last row read (kept on removal)
        self._done = True
        self._operator: int | None = None
        self._generation = 0
        self._loading = False  # a first page is being read
        self._fetching = False  # a next page is being read
        self.error = ""
        self.clock = lambda: datetime.now(UTC)
        self._tasks = SerialTaskRunner(self)

    # -- loading ------------------------------------------------------------------------------

    @property
    def loading(self) -> bool:
        return self._loading

    @property
    def operator(self) -> int | None:
        return self._operator

    @property
    def exhausted(self) -> bool:
        return self._done

    def load(self, operator: int) -> None:
        """List what waits on ``operator`` from the first page (read in a worker)."""
        self._operator = operator
        self._generation += 1
        self._loading = True
        self._fetching = False
        generation, drafts, limit = self._generation, self._drafts, self.PAGE
        self._tasks.submit(
            lambda: drafts.pending_for(operator, limit=limit),
            lambda rows: self._on_first_page_read(generation, rows),
            lambda message: self._on_failed(generation, message),
        )

    def _on_first_page_read(self, generation: int, rows: list[PendingRow]) -> None:
        if generation != self._generation:
            return
        self.beginResetModel()
        self._rows = list(rows)
        self._cursor = rows[-1].key if rows else None
        self._done = len(rows) < self.PAGE
        self.endResetModel()
        self._loading = False
        self.error = ""
        self.loaded.emit()

    def _on_failed(self, generation: int, message: str) -> None:
        if generation != self._generation:
            return
        self._loading = self._fetching = False
        self.error = message.splitlines()[0] if message else "unknown error"
        self.load_failed.emit(self.error)

    def canFetchMore(self, parent: _Index) -> bool:
        return not parent.isValid() and not (self._done or self._loading or self._fetching)

    def fetchMore(self, parent: _Index) -> None:
        if not self.canFetchMore(parent) or self._operator is None:
            return
        self._fetching = True
        generation, drafts, operator, after, limit = (
            self._generation,
            self._drafts,
            self._operator,
            self._cursor,
            self.PAGE,
        )
        self._tasks.submit(
            lambda: drafts.pending_for(operator, limit=limit, after=after),
            lambda rows: self._on_next_page_read(generation, rows),
            lambda message: self._on_failed(generation, message),
        )

    def _on_next_page_read(self, generation: int, rows: list[PendingRow]) -> None:
        if generation != self._generation:
            return
        self._fetching = False
        self._done = len(rows) < self.PAGE
        listed = {r.draft_id for r in self._rows}
        new = [r for r in rows if r.draft_id not in listed]
        if rows:
            self._cursor = rows[-1].key
        if new:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(new) - 1)
            self._rows.extend(new)
            self.endInsertRows()

    def wait(self, msecs: int = 2000) -> bool:
        return self._tasks.wait(msecs)

    # -- rows ---------------------------------------------------------------------------------

    def row_at(self, row: int) -> PendingRow:
        return self._rows[row]

    def row_of(self, draft_id: int) -> int | None:
        return next((i for i, r in enumerate(self._rows) if r.draft_id == draft_id), None)

    def rows(self) -> list[PendingRow]:
        return list(self._rows)

    def remove_draft(self, draft_id: int) -> int | None:
        """Take the draft out of the list; the row it was at (None: not listed)."""
        row = self.row_of(draft_id)
        if row is not None:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()
        return row

    # -- Qt model -----------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{headline(row)}\n{preview(row.text, 200)}"
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tooltip(row.text)  # untrusted: shown literally
        return None


def _styled() -> bool:
    app = QApplication.instance()
    return isinstance(app, QApplication) and bool(app.styleSheet())


class QueueDelegate(QStyledItemDelegate):
    """Two lines a row: who, what and for which unit (and how long ago); the text's start."""

    def __init__(self, model: ApprovalQueueModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return QSize(option.rect.width(), ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        row = index.data(ROW_ROLE)
        if not isinstance(row, PendingRow):
            return
        widget = option.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawPrimitive(
                QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, widget
            )
        rect = option.rect.adjusted(12, 8, -12, -8)
        painter.save()
        bold = QFont(option.font)
        bold.setBold(True)
        age = ago(row.created_at, self._model.clock())
        metrics = QFontMetrics(option.font)
        age_width = metrics.horizontalAdvance(age) + 8
        half = rect.height() // 2
        top = QRect(rect.left(), rect.top(), rect.width() - age_width, half)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        ink = option.palette.color(option.palette.ColorRole.Text)
        if selected and not _styled():  # Qt's own dark highlight; the style sheet's is light
            ink = option.palette.color(option.palette.ColorRole.HighlightedText)
        painter.setFont(bold)
        painter.setPen(ink)
        head = QFontMetrics(bold).elidedText(
            headline(row), Qt.TextElideMode.ElideRight, top.width()
        )
        painter.drawText(top, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), head)
        painter.setFont(option.font)
        muted = option.palette.color(option.palette.ColorRole.PlaceholderText)
        painter.setPen(muted)
        painter.drawText(
            QRect(rect.right() - age_width, rect.top(), age_width, half),
            int(Qt.AlignmentFlag.AlignRight | _MIDDLE),
            age,
        )
        bottom = QRect(rect.left(), rect.top() + half, rect.width(), rect.height() - half)
        text = metrics.elidedText(
            preview(row.text, 300), Qt.TextElideMode.ElideRight, bottom.width()
        )
        painter.setPen(option.palette.color(option.palette.ColorRole.Text))
        painter.drawText(
            bottom, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), text
        )
        painter.restore()
