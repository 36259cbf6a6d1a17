"""The conversation list's model: keyset pages from SQL, loaded as the view scrolls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from app.domain.rows import ConversationRow, FeedFilter
from app.services.inbox import InboxService
from app.ui.formatting import KIND_LABELS, NETWORK_LABELS, STATUS_LABELS, long_time, short_time

COLUMNS = ("", "Network", "Kind", "From", "Conversation", "Msgs", "Status", "Last activity")
COL_MARK, COL_NETWORK, COL_KIND, COL_FROM, COL_PREVIEW, COL_COUNT, COL_STATUS, COL_TIME = range(8)
PRIORITY_MARK = {"urgent": "!!", "high": "!", "normal": "", "low": ""}
ROW_ROLE = Qt.ItemDataRole.UserRole + 1

_Index = QModelIndex | QPersistentModelIndex


class ConversationFeedModel(QAbstractTableModel):
    """Holds only the rows fetched so far; ``fetchMore`` asks the service for the next page."""

    PAGE = 200
    CHUNK = 20_000  # rows per query when jumping to the end

    def __init__(self, inbox: InboxService, parent: Any = None) -> None:
        super().__init__(parent)
        self._inbox = inbox
        self._filter = FeedFilter()
        self._rows: list[ConversationRow] = []
        self._done = True
        self._colours: dict[int, QColor] = {}
        self._bold = QFont()
        self._bold.setBold(True)

    # -- state --------------------------------------------------------------------------------

    @property
    def filter(self) -> FeedFilter:
        return self._filter

    def set_unit_colours(self, colours: Mapping[int, str]) -> None:
        self._colours = {uid: QColor(c) for uid, c in colours.items()}

    def set_filter(self, new: FeedFilter) -> None:
        """Show what ``new`` selects, starting over with its first page."""
        first = self._inbox.page(new, limit=self.PAGE)
        self.beginResetModel()
        self._filter = new
        self._rows = first
        self._done = len(first) < self.PAGE
        self.endResetModel()

    def reload(self) -> None:
        self.set_filter(self._filter)

    def row_at(self, row: int) -> ConversationRow:
        return self._rows[row]

    def row_of(self, conversation_id: int) -> int | None:
        return next((i for i, r in enumerate(self._rows) if r.id == conversation_id), None)

    @property
    def exhausted(self) -> bool:
        return self._done

    # -- Qt model -----------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def canFetchMore(self, parent: _Index) -> bool:
        return not parent.isValid() and not self._done

    def fetchMore(self, parent: _Index) -> None:
        if parent.isValid() or self._done:
            return
        self._append(self.PAGE)

    def fetch_to_end(self) -> None:
        """Load every remaining row in large keyset chunks, inserted at once ("jump to oldest")."""
        rows: list[ConversationRow] = []
        after = self._rows[-1].key if self._rows else None
        while not self._done:
            page = self._inbox.page(self._filter, after=after, limit=self.CHUNK)
            self._done = len(page) < self.CHUNK
            if page:
                rows.extend(page)
                after = page[-1].key
        if rows:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()

    def merge_newer(self) -> int:
        """Put conversations with newer activity at the top, without a reset.

        Rows that moved up (a new message in an older conversation) leave their old place, so
        no conversation is listed twice; selection and persistent indexes follow their rows.

        Returns:
            How many rows were added at the top.
        """
        if not self._rows:
            self.reload()
            return self.rowCount()
        newer = self._inbox.newer(self._filter, than=self._rows[0].key)
        if not newer:
            return 0
        moved = {r.id for r in newer}
        for i in range(len(self._rows) - 1, -1, -1):
            if self._rows[i].id in moved:
                self.beginRemoveRows(QModelIndex(), i, i)
                del self._rows[i]
                self.endRemoveRows()
        self.beginInsertRows(QModelIndex(), 0, len(newer) - 1)
        self._rows[0:0] = newer
        self.endInsertRows()
        return len(newer)

    def _append(self, limit: int) -> None:
        after = self._rows[-1].key if self._rows else None
        page = self._inbox.page(self._filter, after=after, limit=limit)
        self._done = len(page) < limit
        if page:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(page) - 1)
            self._rows.extend(page)
            self.endInsertRows()

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, col)
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.ToolTipRole and col == COL_TIME:
            return long_time(row.last_activity_ms)  # our own text only: never a message
        if role == Qt.ItemDataRole.DecorationRole and col == COL_MARK:
            return self._colours.get(row.unit_id)
        if (
            role == Qt.ItemDataRole.FontRole
            and row.status == "new"
            and col in (COL_FROM, COL_PREVIEW)
        ):
            return self._bold
        if role == Qt.ItemDataRole.ForegroundRole and col == COL_MARK and row.priority == "urgent":
            return QColor("#c62828")
        if role == Qt.ItemDataRole.TextAlignmentRole and col == COL_COUNT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _display(row: ConversationRow, col: int) -> str | None:
        if col == COL_MARK:
            return PRIORITY_MARK.get(row.priority, "")
        if col == COL_NETWORK:
            return NETWORK_LABELS.get(row.network, row.network)
        if col == COL_KIND:
            return KIND_LABELS.get(row.kind, row.kind)
        if col == COL_FROM:
            handle = f"  @{row.author_handle}" if row.author_handle else ""
            return f"{row.author_name or 'Unknown'}{handle}"
        if col == COL_PREVIEW:
            return row.preview.replace("\n", " ")
        if col == COL_COUNT:
            return str(row.message_count)
        if col == COL_STATUS:
            return STATUS_LABELS.get(row.status, row.status)
        if col == COL_TIME:
            return short_time(row.last_activity_ms)
        return None
