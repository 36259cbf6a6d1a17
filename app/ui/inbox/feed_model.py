"""The conversation list's model: keyset pages from SQL, loaded as the view scrolls.

The first page of a filter is read in a worker: the GUI thread never waits on it (a search
with filters can take a few hundred milliseconds on a large workspace). The next pages, the
rows of a window, arrivals and refreshed rows are single indexed reads (keyset, ~20 ms) and stay
on the GUI thread, after the first page is in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont

from app.domain.enums import ConversationStatus, Priority
from app.domain.rows import SORT_DUE, ConversationRow, FeedFilter
from app.domain.sla import SlaClock, SlaState, sla_state
from app.services.inbox import InboxService
from app.ui.formatting import KIND_LABELS, NETWORK_LABELS, STATUS_LABELS, long_time, short_time
from app.ui.labels import author_line
from app.ui.tasks import SerialTaskRunner

COLUMNS = (
    "",
    "Network",
    "Kind",
    "From",
    "Conversation",
    "Msgs",
    "Status",
    "Reply due",
    "Last activity",
)
(
    COL_MARK,
    COL_NETWORK,
    COL_KIND,
    COL_FROM,
    COL_PREVIEW,
    COL_COUNT,
    COL_STATUS,
    COL_SLA,
    COL_TIME,
) = range(9)
PRIORITY_MARK: dict[str, str] = {
    Priority.URGENT: "!!",
    Priority.HIGH: "!",
    Priority.NORMAL: "",
    Priority.LOW: "",
}
ROW_ROLE = Qt.ItemDataRole.UserRole + 1

_Index = QModelIndex | QPersistentModelIndex


class ConversationFeedModel(QAbstractTableModel):
    """Holds the rows fetched so far; ``fetchMore`` asks the service for the next page.

    :meth:`set_filter` returns at once: the filter's first page is read in a worker and replaces
    the rows (one reset) when it arrives, then ``loaded`` is emitted. Until then the previous
    rows stay listed and nothing else pages (no ``fetchMore``, no jump to the end). A page read
    for a filter that was replaced meanwhile is dropped, never shown; at most one first page is
    read at a time, and of the filters asked for meanwhile only the last one is read next.

    Jumping to the end loads only the remaining keys (two integers each); their rows are read
    from SQL for the part of the list that is looked at, a window at a time (Anki's shape).
    """

    PAGE = 200
    WINDOW = 200  # rows loaded around a row the view asks for

    #: A first page is being read (True), or it arrived or failed (False).
    loading_changed = Signal(bool)
    #: The first page of the filter asked for last is listed.
    loaded = Signal()
    #: That page could not be read: why, in words for the person (``error`` holds it too).
    load_failed = Signal(str)

    def __init__(self, inbox: InboxService, parent: Any = None) -> None:
        super().__init__(parent)
        self._inbox = inbox
        self._filter = FeedFilter()  # the filter of the rows listed
        self._wanted = FeedFilter()  # the filter asked for last (listed once its page is in)
        self._rows: list[ConversationRow | None] = []  # None: not loaded yet
        self._keys: list[tuple[int, int]] = []  # (last_activity_ms, id) of every row
        self._done = True
        self._colours: dict[int, QColor] = {}
        self._bold = QFont()
        self._bold.setBold(True)
        self.me: int | None = None  # the person reading the list: what "assigned to me" means
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        # Why the last first page could not be read (its first line: no SQL); "" once one was.
        self.error = ""
        # One first page at a time, on a thread of its own: never queued behind counts.
        self._tasks = SerialTaskRunner(self)
        self._generation = 0  # counts the filters asked for: a page of an older one is stale
        self._loading = False  # a filter asked for is not listed yet
        self._reading = False  # a first page is being read in the worker
        # What changed while a first page was read (it may have read before): done again on it.
        self._arrived = False
        self._touched: set[int] = set()

    # -- state --------------------------------------------------------------------------------

    @property
    def filter(self) -> FeedFilter:
        """The filter asked for last: listed, or listed once its first page is in."""
        return self._wanted

    @property
    def listed_filter(self) -> FeedFilter:
        """The filter of the rows listed now."""
        return self._filter

    @property
    def loading(self) -> bool:
        """True from :meth:`set_filter` until its first page is listed (or failed)."""
        return self._loading

    def set_unit_colours(self, colours: Mapping[int, str]) -> None:
        self._colours = {uid: QColor(c) for uid, c in colours.items()}

    def set_filter(self, new: FeedFilter) -> None:
        """List what ``new`` selects, from its first page, read in a worker.

        Returns at once; ``loaded`` (or ``load_failed``) follows. The rows listed now stay until
        the page arrives.
        """
        self._wanted = new
        self._generation += 1
        if not self._loading:
            self._loading = True
            self.loading_changed.emit(True)
        if not self._reading:  # else it is read once the page being read now has come back
            self._read_first_page()

    def reload(self) -> None:
        """Read the list again from its first page (in a worker, like :meth:`set_filter`)."""
        self.set_filter(self._wanted)

    def _read_first_page(self) -> None:
        generation, query, me, inbox, limit = (
            self._generation,
            self._wanted,
            self.me,
            self._inbox,
            self.PAGE,
        )
        self._reading = True
        self._arrived = False
        self._touched.clear()
        self._tasks.submit(
            lambda: inbox.page(query, limit=limit, me=me),  # in the worker: touches no Qt object
            lambda page: self._on_first_page_read(generation, query, page),
            lambda message: self._on_first_page_failed(generation, message),
        )

    def wait(self, msecs: int = 2000) -> bool:
        """Wait for a first page being read (closing the window)."""
        return self._tasks.wait(msecs)

    def _on_first_page_read(
        self, generation: int, query: FeedFilter, first: list[ConversationRow]
    ) -> None:
        self._reading = False
        if generation != self._generation:  # the filter changed meanwhile: read the new one
            self._read_first_page()
            return
        self.beginResetModel()
        self._filter = query
        self._rows = list(first)
        self._keys = [r.key_for(query.sort) for r in first]
        self._done = len(first) < self.PAGE
        self.endResetModel()
        self.error = ""
        self._loading = False
        self.loading_changed.emit(False)
        # Arrivals and triage changes that came while the page was read (it may predate them).
        touched, self._touched = self._touched, set()
        if touched:
            self.refresh_rows(touched)
        if self._arrived:
            self._arrived = False
            self.merge_newer()
        self.loaded.emit()

    def _on_first_page_failed(self, generation: int, message: str) -> None:
        self._reading = False
        if generation != self._generation:
            self._read_first_page()
            return
        if self._wanted != self._filter:
            # The rows listed are another filter's: list nothing rather than the wrong rows.
            self.beginResetModel()
            self._filter = self._wanted
            self._rows, self._keys, self._done = [], [], True
            self.endResetModel()
        self.error = message.splitlines()[0] if message else "unknown error"
        self._loading = False
        self.loading_changed.emit(False)
        self.load_failed.emit(self.error)

    def row_at(self, row: int) -> ConversationRow:
        found = self._rows[row]
        if found is None:
            self._load_around(row)
            found = self._rows[row]
            assert found is not None
        return found

    def row_of(self, conversation_id: int) -> int | None:
        return next((i for i, k in enumerate(self._keys) if k[1] == conversation_id), None)

    def refresh_rows(self, conversation_ids: Iterable[int]) -> int:
        """Re-read these conversations' rows and repaint them where they are (no reset).

        Their places stay (a triage action does not change a row's activity time); rows no
        longer in the list are skipped. Returns how many rows were refreshed.
        """
        wanted = set(conversation_ids)
        if self._reading:  # the page being read may have been read before the change
            self._touched |= wanted
        places = {cid: i for i, (_, cid) in enumerate(self._keys) if cid in wanted}
        found = self._inbox.rows(list(places)) if places else {}
        for cid, i in places.items():
            if cid in found:
                self._rows[i] = found[cid]
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))
        return len(found)

    def _load_around(self, row: int) -> None:
        lo, hi = max(0, row - self.WINDOW // 2), min(len(self._rows), row + self.WINDOW // 2)
        wanted = [self._keys[i][1] for i in range(lo, hi) if self._rows[i] is None]
        found = self._inbox.rows(wanted)
        for i in range(lo, hi):
            if self._rows[i] is None:
                at, cid = self._keys[i]
                self._rows[i] = found.get(cid) or _gone(at, cid)

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
        # While a new first page is read, the rows listed are not the ones to page on.
        return not parent.isValid() and not self._done and not self._loading

    def fetchMore(self, parent: _Index) -> None:
        if parent.isValid() or self._done or self._loading:
            return
        self._append(self.PAGE)

    def fetch_to_end(self) -> None:
        """Take every remaining row into the list at once ("jump to the oldest").

        Only their keys are read now; rows load when looked at. Nothing happens while a first
        page is being read.
        """
        if self._done or self._loading:
            return
        keys = self._inbox.keys(
            self._filter, after=self._keys[-1] if self._keys else None, me=self.me
        )
        self._done = True
        if keys:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(keys) - 1)
            self._keys.extend(keys)
            self._rows.extend([None] * len(keys))
            self.endInsertRows()

    def merge_newer(self) -> int:
        """Put conversations with newer activity at the top, without a reset.

        Rows that moved up (a new message in an older conversation) leave their old place, so
        no conversation is listed twice; selection and persistent indexes follow their rows.

        While a first page is read, this waits for it: once listed, it is checked for newer
        rows (in the due-time order, read again).

        Returns:
            How many rows were added at the top (in the due-time order, or while a first page
            is read: none yet).
        """
        if self._loading:
            self._arrived = True
            return 0
        if not self._rows or self._filter.sort == SORT_DUE:
            # In the due-time order an arrival belongs anywhere (or nowhere): read it again.
            self.reload()
            return 0
        newer = self._inbox.newer(self._filter, than=self._keys[0], me=self.me)
        if not newer:
            return 0
        moved = {r.id for r in newer}
        for i in range(len(self._rows) - 1, -1, -1):
            if self._keys[i][1] in moved:
                self.beginRemoveRows(QModelIndex(), i, i)
                del self._rows[i]
                del self._keys[i]
                self.endRemoveRows()
        self.beginInsertRows(QModelIndex(), 0, len(newer) - 1)
        self._rows[0:0] = newer
        self._keys[0:0] = [r.key for r in newer]
        self.endInsertRows()
        return len(newer)

    def _append(self, limit: int) -> None:
        after = self._keys[-1] if self._keys else None
        page = self._inbox.page(self._filter, after=after, limit=limit, me=self.me)
        self._done = len(page) < limit
        if page:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(page) - 1)
            self._rows.extend(page)
            self._keys.extend(r.key_for(self._filter.sort) for r in page)
            self.endInsertRows()

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self.row_at(index.row())
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_SLA:
                return sla_text(row, self.clock())
            return self._display(row, col)
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.ToolTipRole and col == COL_TIME:
            return long_time(row.last_activity_ms)  # our own text only: never a message
        if role == Qt.ItemDataRole.ToolTipRole and col == COL_SLA and row.sla_due_ms is not None:
            return f"First response due {long_time(row.sla_due_ms)}"
        if role == Qt.ItemDataRole.ForegroundRole and col == COL_SLA:
            state = sla_state_of(row, self.clock())
            if state == SlaState.OVERDUE:
                return QColor("#c62828")
        if role == Qt.ItemDataRole.DecorationRole and col == COL_MARK:
            return self._colours.get(row.unit_id)
        if (
            role == Qt.ItemDataRole.FontRole
            and row.status == ConversationStatus.NEW
            and col in (COL_FROM, COL_PREVIEW)
        ):
            return self._bold
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and col == COL_MARK
            and row.priority == Priority.URGENT
        ):
            return QColor("#c62828")
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (COL_COUNT, COL_SLA):
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
            return author_line(row.author_name, row.author_handle, unknown="Unknown")
        if col == COL_PREVIEW:
            return row.preview.replace("\n", " ")
        if col == COL_COUNT:
            return str(row.message_count)
        if col == COL_STATUS:
            return STATUS_LABELS.get(row.status, row.status)
        if col == COL_TIME:
            return short_time(row.last_activity_ms)
        return None


def _utc(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


_NO_CLOCK = (ConversationStatus.RESOLVED, ConversationStatus.SPAM)


def sla_clock(row: ConversationRow, now: datetime) -> SlaClock:
    """The first-response clock of a row; resolved and spam conversations wait for nobody."""
    if row.status in _NO_CLOCK:
        return SlaClock(SlaState.NONE, 0.0)
    return sla_state(
        _utc(row.first_inbound_ms), _utc(row.first_response_ms), _utc(row.sla_due_ms), now
    )


def sla_state_of(row: ConversationRow, now: datetime) -> SlaState:
    return sla_clock(row, now).state


def duration(minutes: float) -> str:
    """Whole minutes as "35 min", "1 h 20 min" or "3 d 4 h" (the two largest parts)."""
    total = int(minutes)
    days, rest = divmod(total, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


def sla_text(row: ConversationRow, now: datetime) -> str:
    """Time left or over for the first response; nothing when answered or without a clock."""
    clock = sla_clock(row, now)
    if clock.state == SlaState.DUE_IN:
        return f"due in {duration(clock.minutes)}"
    if clock.state == SlaState.OVERDUE:
        return f"overdue {duration(clock.minutes)}"
    return ""


def _gone(at: int, cid: int) -> ConversationRow:
    """A row whose conversation was deleted after the list was read."""
    return ConversationRow(
        cid, at, "", "", "", "", 0, 0, "(no longer available)", 0, None, "", None
    )
