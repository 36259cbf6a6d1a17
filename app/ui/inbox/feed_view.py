"""The conversation list's view: fixed rows, j/k and Enter, and a note while a page loads."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QWidget

from app.ui.formatting import KIND_LABELS, NETWORK_LABELS, STATUS_LABELS
from app.ui.inbox.feed_model import (
    COL_COUNT,
    COL_FROM,
    COL_KIND,
    COL_MARK,
    COL_NETWORK,
    COL_PREVIEW,
    COL_SLA,
    COL_STATUS,
    COL_TIME,
    ConversationFeedModel,
)

ROW_HEIGHT = 30
#: A first page that takes longer than this shows "Loading…"; a faster one just replaces the
#: rows (a note flashing for 30 ms reads as flicker).
LOADING_DELAY_MS = 150
LOADING_TEXT = "Loading conversations…"
OPEN = None  # Enter, among the keys held while new rows load (j and k are +1 and -1)
HELD_KEYS_MAX = 50


class FeedView(QTableView):
    """The conversation list: fixed row heights, whole-row selection, j/k navigation.

    While a first page is read for longer than :data:`LOADING_DELAY_MS`, a "Loading…" line
    floats over the top of the list and the rows still listed are greyed (the style sheet's
    ``[stale="true"]``); a fast page just replaces the rows: no flicker.
    """

    painted = Signal()
    open_requested = Signal()  # Enter on the list

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("feedView")
        # A child of the scroll area, not of its viewport: scrolling the rows does not move it.
        self.loading_note = QLabel(LOADING_TEXT, self)
        self.loading_note.setObjectName("loadingNote")
        self.loading_note.setTextFormat(Qt.TextFormat.PlainText)
        self.loading_note.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.loading_note.hide()
        self._loading_delay = QTimer(self)
        self._loading_delay.setSingleShot(True)
        self._loading_delay.setInterval(LOADING_DELAY_MS)
        self._loading_delay.timeout.connect(self._on_loading_delay_timeout)
        self._held: list[int | None] = []  # keys pressed while a new filter's rows load
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setAlternatingRowColors(True)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vertical = self.verticalHeader()
        vertical.setVisible(False)
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(ROW_HEIGHT)
        vertical.setMinimumSectionSize(ROW_HEIGHT)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() > 0:
            self.painted.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_J, Qt.Key.Key_K) and not event.modifiers():
            self.press(1 if key == Qt.Key.Key_J else -1)
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers():
            self.press(OPEN)
            return
        super().keyPressEvent(event)

    # -- keys typed ahead of a new filter's rows ----------------------------------------------

    def rows_pending(self) -> bool:
        """A new filter's first page is loading: the rows shown are still the previous filter's."""
        model = self.model()
        return (
            isinstance(model, ConversationFeedModel)
            and model.loading
            and model.filter != model.listed_filter
        )

    def press(self, step: int | None) -> None:
        """j/k (``step`` ±1) or Enter (:data:`OPEN`); kept for the new rows while they load.

        Someone who picks a unit and presses Enter means that unit's first conversation, not
        the one of the list being replaced.
        """
        if self.rows_pending():
            if len(self._held) < HELD_KEYS_MAX:
                self._held.append(step)
            return
        if step is OPEN:
            self.open_requested.emit()
        else:
            self.move_selection(step)

    def replay_held(self) -> None:
        """The new rows are listed: do the keys pressed meanwhile, in order."""
        held, self._held = self._held, []
        for step in held:
            self.press(step)

    def drop_held(self) -> None:
        """The new rows could not be read: forget the keys pressed for them."""
        self._held.clear()

    def move_selection(self, step: int) -> None:
        model = self.model()
        if model is None or model.rowCount() == 0:
            return
        current = self.currentIndex().row()
        if current < 0 or not self.selectionModel().hasSelection():
            target = max(current, 0)  # nothing open yet: open the row under the cursor
        else:
            target = max(0, min(model.rowCount() - 1, current + step))
        if target == model.rowCount() - 1 and model.canFetchMore(QModelIndex()):
            model.fetchMore(QModelIndex())
        index = model.index(target, 0)
        self.setCurrentIndex(index)  # selects the whole row (SelectRows) and moves the cursor
        self.scrollTo(index)

    # -- loading ------------------------------------------------------------------------------

    def show_loading(self, loading: bool) -> None:
        """A first page is being read (the note shows if it takes a while), or it is done."""
        if loading:
            if not self.loading_note.isVisible() and not self._loading_delay.isActive():
                self._loading_delay.start()
        else:
            self._loading_delay.stop()
            self.loading_note.hide()
            self._set_stale(False)

    def _on_loading_delay_timeout(self) -> None:
        self.loading_note.adjustSize()
        self._place_loading_note()
        self.loading_note.show()
        self.loading_note.raise_()
        self._set_stale(True)

    def _set_stale(self, stale: bool) -> None:
        """Grey the rows listed while they wait to be replaced (the note says why)."""
        if bool(self.property("stale")) == stale:
            return
        self.setProperty("stale", stale)
        self.style().unpolish(self)  # a dynamic property: the style sheet looks again
        self.style().polish(self)
        self.viewport().update()

    def _place_loading_note(self) -> None:
        area = self.viewport().geometry()
        note = self.loading_note
        width = min(note.sizeHint().width(), max(area.width() - 16, 0))
        note.setGeometry(area.center().x() - width // 2, area.top() + 10, width, note.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.loading_note.isVisible():
            self._place_loading_note()


def fit_columns(view: QTableView) -> None:
    """The preview stretches; every other column is as wide as the longest thing it can show.

    Widths come from the labels' vocabulary and the font, not from measuring rows: a list of
    100,000 rows is never read to lay out its header.
    """
    header = view.horizontalHeader()
    metrics = view.fontMetrics()
    # Room for the cell padding and the header's margins.
    pad = 2 * view.style().pixelMetric(view.style().PixelMetric.PM_HeaderMargin) + 16

    def fit(*texts: str) -> int:
        return max(metrics.horizontalAdvance(t) for t in texts) + pad

    widths = {
        COL_MARK: fit("!!"),
        COL_NETWORK: fit("Network", *NETWORK_LABELS.values()),
        COL_KIND: fit("Kind", *KIND_LABELS.values()),
        COL_FROM: fit("Maria Fernández"),  # longer names elide; the thread shows all
        COL_COUNT: fit("Msgs", "999"),
        COL_STATUS: fit("Status", *STATUS_LABELS.values()),
        COL_SLA: fit("Reply due", "overdue 23 h 59 min"),
        COL_TIME: fit("Last activity", "Wed 23:59", "30 Sep 2026"),
    }
    for col, width in widths.items():
        header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(col, width)
    header.setSectionResizeMode(COL_PREVIEW, QHeaderView.ResizeMode.Stretch)
    header.setStretchLastSection(False)
