"""The calendar grid: a week (seven columns) or a month (six weeks of cells) of outbox chips.

A painted widget: days are local days of this computer; each draft is a chip in its day, in
time order, with its state as a colour *and* a mark and word (✓ Published, ✗ Failed, ◷
Scheduled, ⌛ Waiting), its time, its accounts and its first words. Untrusted text is drawn as
plain text (``QPainter.drawText``), never as rich text.

Moving: drag a chip that may move to another day (it keeps its time of day), or press ``M`` for
a dialog with a date and time; the grid only asks (:attr:`CalendarGrid.move_requested`), and
the chip stays where the stored time puts it until the service has moved it.

Keys: ←/→ a day, ↑/↓ a week in the month (the previous/next chip in the week), J/K the
next/previous chip of the day, Page Up/Down the previous/next week or month, Home (or T) today,
Enter open in compose, M move.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QApplication, QSizePolicy, QWidget

from app.domain.enums import DraftState
from app.services.publishing import OutboxRow
from app.ui.publishing.style import CHIP_WORDS, STATE_COLOURS, STATE_FILLS, STATE_MARKS, local

WEEK, MONTH = "week", "month"
_HEADER = 30
_GAP = 3
_WEEK_CHIP = 74
_MONTH_CHIP = 19
_DAY_NUMBER = 20


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def words(text: str, n: int = 8) -> str:
    parts = text.split()
    return " ".join(parts[:n]) + (" …" if len(parts) > n else "")


class CalendarGrid(QWidget):
    """The days of a week or a month with their chips; asks for moves, never makes them."""

    #: A chip was dropped on another day, or moved with the keyboard: draft id, new aware time.
    move_requested = Signal(int, object)
    #: ``M`` on a chip: the page opens its "Move to…" dialog (draft id).
    move_dialog_requested = Signal(int)
    #: Enter or a double click on a chip (draft id).
    open_requested = Signal(int)
    #: The chip selected (an OutboxRow, or None).
    selection_changed = Signal(object)
    #: The days shown changed (another week or month): the page reads them.
    range_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("calendarGrid")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(560, 360)
        self.mode = WEEK
        self.focused_day: date = date.today()
        self.selected: int | None = None
        self._rows: list[OutboxRow] = []
        self._by_day: dict[date, list[OutboxRow]] = {}
        self._press: tuple[QPoint, OutboxRow] | None = None
        self._drag_at: QPoint | None = None
        self._small = QFont(self.font())
        self._small.setPointSizeF(max(7.0, self.font().pointSizeF() * 0.9))
        self._bold = QFont(self._small)
        self._bold.setBold(True)

    # -- what is shown ------------------------------------------------------------------------

    def days(self) -> list[date]:
        """The days on screen, in order (7 for a week, 42 for a month)."""
        if self.mode == WEEK:
            first = monday_of(self.focused_day)
            return [first + timedelta(days=i) for i in range(7)]
        first = monday_of(self.focused_day.replace(day=1))
        return [first + timedelta(days=i) for i in range(42)]

    def span(self) -> tuple[datetime, datetime]:
        """The days shown as aware instants: local midnight of the first, of the day after."""
        days = self.days()
        start = datetime.combine(days[0], time()).astimezone()
        end = datetime.combine(days[-1] + timedelta(days=1), time()).astimezone()
        return start, end

    def title(self) -> str:
        days = self.days()
        if self.mode == MONTH:
            return f"{self.focused_day:%B %Y}"
        first, last = days[0], days[-1]
        if first.month == last.month:
            return f"{first.day} - {last.day} {last:%B %Y}"
        return f"{first.day} {first:%b} - {last.day} {last:%b %Y}"

    def set_mode(self, mode: str) -> None:
        if mode != self.mode:
            self.mode = mode
            self.range_changed.emit()
            self.update()

    def set_rows(self, rows: list[OutboxRow]) -> None:
        """The drafts of the days shown (the page reads them for :meth:`span`)."""
        self._rows = list(rows)
        self._by_day = {}
        for row in self._rows:
            self._by_day.setdefault(local(row.due).date(), []).append(row)
        for chips in self._by_day.values():
            chips.sort(key=lambda r: (r.due, r.draft_id))
        if self.selected is not None and self.row(self.selected) is None:
            self._select(None)
        self.update()

    def rows(self) -> list[OutboxRow]:
        return list(self._rows)

    def chips_on(self, day: date) -> list[OutboxRow]:
        return list(self._by_day.get(day, ()))

    def row(self, draft_id: int) -> OutboxRow | None:
        return next((r for r in self._rows if r.draft_id == draft_id), None)

    def selected_row(self) -> OutboxRow | None:
        return None if self.selected is None else self.row(self.selected)

    def go_to(self, day: date) -> None:
        """Focus ``day``; another week or month is read when it leaves the days shown."""
        before = self.days()
        self.focused_day = day
        if self.days() != before:
            self._select(None)
            self.range_changed.emit()
        else:  # the day's first chip, so the keyboard always shows what is there
            chips = self._by_day.get(day, [])
            if not any(r.draft_id == self.selected for r in chips):
                self._select(chips[0] if chips else None)
        self.update()

    def step(self, periods: int) -> None:
        """The previous (-1) or next (+1) week or month."""
        if self.mode == WEEK:
            self.go_to(self.focused_day + timedelta(weeks=periods))
            return
        month = self.focused_day.month - 1 + periods
        year = self.focused_day.year + month // 12
        self.go_to(date(year, month % 12 + 1, 1))

    def select(self, draft_id: int | None) -> None:
        """Select a chip (and focus its day)."""
        row = None if draft_id is None else self.row(draft_id)
        if row is not None:
            self.focused_day = local(row.due).date()
        self._select(row)

    def _select(self, row: OutboxRow | None) -> None:
        new = None if row is None else row.draft_id
        if new != self.selected:
            self.selected = new
            self.selection_changed.emit(row)
        self.update()

    # -- geometry -----------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        return QSize(980, 620)

    def cell_rect(self, day: date) -> QRect:
        days = self.days()
        i = days.index(day)
        cols, rows = (7, 1) if self.mode == WEEK else (7, 6)
        w = self.width() / cols
        h = (self.height() - _HEADER) / rows
        col, line = i % 7, i // 7
        return QRect(int(col * w), int(_HEADER + line * h), int(w) - 1, int(h) - 1)

    def _chip_rects(self, day: date) -> list[tuple[QRect, OutboxRow]]:
        cell = self.cell_rect(day)
        height = _WEEK_CHIP if self.mode == WEEK else _MONTH_CHIP
        top = cell.top() + (_GAP if self.mode == WEEK else _DAY_NUMBER)
        placed = []
        for row in self._by_day.get(day, ()):
            rect = QRect(cell.left() + _GAP, top, cell.width() - 2 * _GAP, height)
            if rect.bottom() > cell.bottom() - _MONTH_CHIP:  # room for "+n more"
                break
            placed.append((rect, row))
            top += height + _GAP
        return placed

    def chip_rect(self, draft_id: int) -> QRect | None:
        """Where a chip is drawn (None: not on screen)."""
        for day in self.days():
            for rect, row in self._chip_rects(day):
                if row.draft_id == draft_id:
                    return rect
        return None

    def _chip_at(self, pos: QPoint) -> OutboxRow | None:
        day = self._day_at(pos)
        if day is None:
            return None
        return next((r for rect, r in self._chip_rects(day) if rect.contains(pos)), None)

    def _day_at(self, pos: QPoint) -> date | None:
        return next((d for d in self.days() if self.cell_rect(d).contains(pos)), None)

    # -- painting -----------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        p.fillRect(self.rect(), pal.base())
        today = date.today()
        days = self.days()
        w = self.width() / 7
        p.setFont(self._bold)
        for i in range(7):
            label = (
                f"{days[i]:%a} {days[i].day} {days[i]:%b}" if self.mode == WEEK else f"{days[i]:%a}"
            )
            rect = QRect(int(i * w), 0, int(w), _HEADER)
            if self.mode == WEEK and days[i] == today:
                p.fillRect(rect.adjusted(2, 2, -2, -2), QColor("#dbe9f8"))
            p.setPen(pal.text().color())
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)
        drop_day = self._day_at(self._drag_at) if self._drag_at is not None else None
        for day in days:
            self._paint_day(p, day, today, drop_day)
        if self._drag_at is not None and self._press is not None:
            ghost = QRect(self._drag_at - QPoint(60, 10), QSize(120, _MONTH_CHIP))
            p.setOpacity(0.8)
            self._paint_chip(p, ghost, self._press[1], compact=True)
            p.setOpacity(1.0)
        p.end()

    def _paint_day(self, p: QPainter, day: date, today: date, drop_day: date | None) -> None:
        cell = self.cell_rect(day)
        outside = self.mode == MONTH and day.month != self.focused_day.month
        fill = QColor("#f4f4f4") if outside else self.palette().base().color()
        if day == drop_day:
            fill = QColor("#fff8d6")
        p.fillRect(cell, fill)
        p.setBrush(Qt.BrushStyle.NoBrush)  # a chip's fill must not flood the next cell
        p.setPen(QPen(QColor("#d0d0d0"), 1))
        p.drawRect(cell)
        if self.mode == MONTH:
            p.setFont(self._bold if day == today else self._small)
            p.setPen(
                QColor("#1565c0") if day == today else QColor("#9e9e9e" if outside else "#424242")
            )
            number = f"Today {day.day}" if day == today else str(day.day)
            p.drawText(
                cell.adjusted(6, 2, -6, 0),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                number,
            )
        placed = self._chip_rects(day)
        for rect, row in placed:
            self._paint_chip(p, rect, row, compact=self.mode == MONTH)
        hidden = len(self._by_day.get(day, ())) - len(placed)
        if hidden > 0:
            p.setFont(self._small)
            p.setPen(QColor("#616161"))
            more = QRect(
                cell.left() + 6, cell.bottom() - _MONTH_CHIP, cell.width() - 12, _MONTH_CHIP
            )
            p.drawText(
                more, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"+{hidden} more"
            )
        if day == self.focused_day and self.hasFocus():
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(QColor("#1565c0"), 2))
            p.drawRect(cell.adjusted(1, 1, -1, -1))

    def _paint_chip(self, p: QPainter, rect: QRect, row: OutboxRow, *, compact: bool) -> None:
        colour = QColor(STATE_COLOURS[row.state])
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(STATE_FILLS[row.state]))
        p.drawRoundedRect(rect, 4, 4)
        p.fillRect(QRect(rect.left(), rect.top(), 4, rect.height()), colour)
        if row.draft_id == self.selected:
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(colour, 2))
            p.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 4, 4)
        mark = STATE_MARKS[row.state]
        at = f"{local(row.due):%H:%M}"
        word = CHIP_WORDS.get(row.state, row.state_label)
        if row.state is DraftState.FAILED and row.published_on:
            word = f"Failed on {len(row.failed_on)} of {len(row.targets)}"
        inner = rect.adjusted(8, 1, -4, -1)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        p.setPen(QColor("#212121"))
        if compact:
            first = row.accounts[0] if row.accounts else ""
            more = f" +{len(row.accounts) - 1}" if len(row.accounts) > 1 else ""
            line = f"{mark} {at} {first}{more} · {words(row.text, 6)}"
            p.setFont(self._small)
            _draw_elided(p, inner, flags, line)
            return
        lh = inner.height() // 4
        heading = QRect(inner.left(), inner.top(), inner.width(), lh)
        p.setFont(self._bold)
        p.setPen(colour)
        _draw_elided(p, heading, flags, f"{mark} {at}  {word}")
        p.setFont(self._small)
        p.setPen(QColor("#424242"))
        _draw_elided(p, heading.translated(0, lh), flags, ", ".join(row.accounts))
        p.setPen(QColor("#212121"))
        for n, line in enumerate(_lines(p, row.text, inner.width(), 2)):
            _draw_elided(p, heading.translated(0, (2 + n) * lh), flags, line)

    # -- mouse --------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        row = self._chip_at(pos)
        day = self._day_at(pos)
        if day is not None:
            self.focused_day = day
        self._select(row)
        self._press = (pos, row) if row is not None and row.may_move else None
        self._drag_at = None
        self.setFocus()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        # Followed while a chip is pressed (the press is ours to remember: tests and some
        # platforms deliver moves without the button state).
        if self._press is None:
            return
        pos = event.position().toPoint()
        distance = (pos - self._press[0]).manhattanLength()
        if self._drag_at is not None or distance >= QApplication.startDragDistance():
            self._drag_at = pos
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        pressed, dragged = self._press, self._drag_at
        self._press, self._drag_at = None, None
        self.update()
        if pressed is None or dragged is None:
            return
        row = pressed[1]
        day = self._day_at(event.position().toPoint())
        was = local(row.due)
        if day is None or day == was.date():
            return
        self.move_requested.emit(row.draft_id, datetime.combine(day, was.timetz()))

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        row = self._chip_at(event.position().toPoint())
        if row is not None:
            self.open_requested.emit(row.draft_id)

    # -- keyboard -----------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        k = Qt.Key
        if key == k.Key_Left:
            self.go_to(self.focused_day - timedelta(days=1))
        elif key == k.Key_Right:
            self.go_to(self.focused_day + timedelta(days=1))
        elif key in (k.Key_Up, k.Key_Down) and self.mode == MONTH:
            self.go_to(self.focused_day + timedelta(days=7 if key == k.Key_Down else -7))
        elif key in (k.Key_Up, k.Key_K):
            self._next_chip(-1)
        elif key in (k.Key_Down, k.Key_J):
            self._next_chip(+1)
        elif key == k.Key_PageUp:
            self.step(-1)
        elif key == k.Key_PageDown:
            self.step(+1)
        elif key in (k.Key_Home, k.Key_T):
            self.go_to(date.today())
        elif key in (k.Key_Return, k.Key_Enter) and self.selected is not None:
            self.open_requested.emit(self.selected)
        elif key == k.Key_M and self.selected is not None:
            self.move_dialog_requested.emit(self.selected)
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def _next_chip(self, delta: int) -> None:
        chips = self._by_day.get(self.focused_day, [])
        if not chips:
            self._select(None)
            return
        ids = [r.draft_id for r in chips]
        if self.selected in ids:
            i = max(0, min(len(ids) - 1, ids.index(self.selected) + delta))
        else:
            i = 0 if delta > 0 else len(ids) - 1
        self._select(chips[i])


def _draw_elided(p: QPainter, box: QRect, flags: Qt.AlignmentFlag, text: str) -> None:
    p.drawText(
        box, flags, p.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, box.width())
    )


def _lines(p: QPainter, text: str, width: int, n: int) -> list[str]:
    """``text`` in at most ``n`` lines of ``width`` pixels, word by word (the last one elided)."""
    fm = p.fontMetrics()
    lines: list[str] = []
    rest = text.split()
    while rest and len(lines) < n - 1:
        line = rest.pop(0)
        while rest and fm.horizontalAdvance(f"{line} {rest[0]}") <= width:
            line = f"{line} {rest.pop(0)}"
        lines.append(line)
    if rest:
        lines.append(" ".join(rest))
    return lines
