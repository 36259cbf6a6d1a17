"""The tactics over time: one lane per horizon, each tactic a bar from its making to its horizon.

Short, medium and long horizons last 3, 12 and 36 months from the day a tactic was made
(:data:`app.domain.strategy_funnel.HORIZON_MONTHS`); today is a line across the lanes, and a
tactic past its horizon is drawn in red and says so. A tactic of a file written by hand may
have no day it was made: it is drawn from today, dashed, and its tooltip says why. Painted
(no widget per tactic); a click on a bar selects the tactic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from app.domain.enums import Horizon, StrategyItemType
from app.domain.strategy_funnel import HORIZON_MONTHS, add_months
from app.services.strategy_editing import EditorItem
from app.ui.labels import plain_tooltip

GUTTER = 170  # the lanes' names
RIGHT = 24
AXIS = 40
BAR = 24
GAP = 8
LANE_PAD = 12
LANES: tuple[Horizon, ...] = (Horizon.SHORT, Horizon.MEDIUM, Horizon.LONG)
COLOURS = {
    Horizon.SHORT: QColor("#3b82f6"),
    Horizon.MEDIUM: QColor("#0d9488"),
    Horizon.LONG: QColor("#7c3aed"),
}
FILLS = {
    Horizon.SHORT: QColor("#dbeafe"),
    Horizon.MEDIUM: QColor("#ccfbf1"),
    Horizon.LONG: QColor("#ede9fe"),
}
PAST = QColor("#b42318")
PAST_FILL = QColor("#fdecea")
TODAY = QColor("#1f2933")
GRID = QColor("#e3e7ec")
MUTED = QColor("#52606d")
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
EMPTY = "No tactics yet. Add one under a social goal (Funnel > Add > Tactic)."


@dataclass(frozen=True, slots=True)
class Bar:
    """One tactic as drawn: where it starts and ends, and whether its horizon is past."""

    key: str
    title: str
    horizon: Horizon
    start: date
    end: date
    past: bool
    known_start: bool
    tooltip: str


def bars(tactics: list[EditorItem], today: date) -> list[Bar]:
    """The bars for ``tactics`` (those without a horizon cannot be placed and are left out)."""
    out = []
    for t in tactics:
        if t.type != StrategyItemType.TACTIC or t.fields.horizon not in {h.value for h in LANES}:
            continue
        horizon = Horizon(t.fields.horizon)
        known = t.created is not None and t.horizon_end is not None
        start = t.created if known and t.created is not None else today
        end = (
            t.horizon_end
            if known and t.horizon_end is not None
            else add_months(today, HORIZON_MONTHS[horizon])
        )
        past = known and end < today
        lines = [t.title, f"{t.fields.channel} · {t.fields.cadence}".strip(" ·")]
        if t.owner_label:
            lines.append(f"Owner: {t.owner_label}")
        if known:
            lines.append(f"{start.isoformat()} → {end.isoformat()} ({horizon.value} horizon)")
        else:
            lines.append("No day it was made in the file: drawn from today.")
        if past:
            lines.append("Past its horizon: review it, renew it or drop it.")
        out.append(Bar(t.key, t.title, horizon, start, end, past, known, "\n".join(lines)))
    return out


class TacticTimeline(QWidget):
    """Lanes short, medium, long; a bar per tactic; today marked."""

    tactic_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tacticTimeline")
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.MinimumExpanding)
        self.bars: list[Bar] = []
        self.today = date.today()
        self.selected: str | None = None
        self._rects: list[tuple[QRectF, Bar]] = []

    def set_tactics(self, tactics: list[EditorItem], today: date) -> None:
        self.today = today
        self.bars = bars(tactics, today)
        self.updateGeometry()
        self.update()

    def select(self, key: str | None) -> None:
        self.selected = key
        self.update()

    # -- geometry -----------------------------------------------------------------------------

    def _lane_rows(self) -> dict[Horizon, list[Bar]]:
        rows: dict[Horizon, list[Bar]] = {h: [] for h in LANES}
        for bar in sorted(self.bars, key=lambda b: (b.start, b.title.casefold(), b.key)):
            rows[bar.horizon].append(bar)
        return rows

    def _lane_height(self, n: int) -> int:
        return max(1, n) * (BAR + GAP) - GAP + 2 * LANE_PAD

    def sizeHint(self) -> QSize:
        rows = self._lane_rows()
        return QSize(900, AXIS + sum(self._lane_height(len(r)) for r in rows.values()) + 12)

    def minimumSizeHint(self) -> QSize:
        return QSize(500, self.sizeHint().height())

    def _span(self) -> tuple[date, date]:
        starts = [b.start for b in self.bars] + [self.today]
        ends = [b.end for b in self.bars] + [add_months(self.today, 3)]
        first = add_months(min(starts).replace(day=1), -1)  # room before the first bar
        last = add_months(max(ends).replace(day=1), 1)
        return first, last

    # -- painting -----------------------------------------------------------------------------

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        self._rects = []
        if not self.bars:
            painter.setPen(MUTED)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, EMPTY)
            painter.end()
            return
        first, last = self._span()
        days = max(1, (last - first).days)
        width = max(1, self.width() - GUTTER - RIGHT)

        def x(day: date) -> float:
            return GUTTER + (day - first).days / days * width

        bottom = self._paint_lanes(painter, x, bars=False)
        self._paint_axis(painter, x, first, last, bottom)
        self._paint_today(painter, x(self.today), bottom)
        self._paint_lanes(painter, x, bars=True)
        painter.end()

    def _paint_axis(
        self, painter: QPainter, x: Callable[[date], float], first: date, last: date, bottom: int
    ) -> None:
        month_px = (self.width() - GUTTER - RIGHT) / max(1, (last - first).days) * 30.4
        step = 1 if month_px >= 46 else 3 if month_px * 3 >= 46 else 6 if month_px * 6 >= 46 else 12
        at = first
        while at <= last:
            px = x(at)
            painter.setPen(QPen(GRID, 1))
            painter.drawLine(QPointF(px, AXIS - 6), QPointF(px, bottom))
            if (at.month - 1) % step == 0:
                name = MONTHS[at.month - 1]
                label = f"{name} {at.year}" if at.month == 1 or at == first else name
                painter.setPen(MUTED)
                painter.drawText(QPointF(px + 3, AXIS - 12), label)
            at = add_months(at, 1)
        painter.setPen(MUTED)
        painter.drawText(QPointF(8, AXIS - 12), "Horizon")

    def _paint_lanes(self, painter: QPainter, x: Callable[[date], float], *, bars: bool) -> int:
        """The lanes' bands and names (``bars`` False), or their bars over the grid (True)."""
        top = AXIS
        metrics = QFontMetrics(painter.font())
        bold = QFont(painter.font())
        bold.setBold(True)
        for n, (horizon, lane) in enumerate(self._lane_rows().items()):
            height = self._lane_height(len(lane))
            if bars:
                for row, bar in enumerate(lane):
                    y = top + LANE_PAD + row * (BAR + GAP)
                    left, right = x(bar.start), max(x(bar.end), x(bar.start) + 6)
                    rect = QRectF(left, y, right - left, BAR)
                    self._paint_bar(painter, rect, bar, metrics)
                    self._rects.append((rect, bar))
                top += height
                continue
            band = QRectF(0, top, self.width(), height)
            painter.fillRect(band, QColor("#fafbfc") if n % 2 == 0 else QColor("#ffffff"))
            painter.setPen(QPen(GRID, 1))
            painter.drawLine(QPointF(0, top), QPointF(self.width(), top))
            painter.setFont(bold)
            painter.setPen(COLOURS[horizon])
            painter.drawText(QPointF(12, top + LANE_PAD + 16), horizon.value.capitalize())
            painter.setFont(self.font())
            painter.setPen(MUTED)
            months = HORIZON_MONTHS[horizon]
            painter.drawText(
                QPointF(12, top + LANE_PAD + 34),
                f"{months} months · {len(lane)} tactic{'s' if len(lane) != 1 else ''}"
                + (f" · {past} past" if (past := sum(b.past for b in lane)) else ""),
            )
            top += height
        painter.setPen(QPen(GRID, 1))
        painter.drawLine(QPointF(0, top), QPointF(self.width(), top))
        return top

    def _paint_bar(self, painter: QPainter, rect: QRectF, bar: Bar, metrics: QFontMetrics) -> None:
        colour = PAST if bar.past else COLOURS[bar.horizon]
        fill = PAST_FILL if bar.past else FILLS[bar.horizon]
        pen = QPen(colour, 2.5 if bar.key == self.selected else 1.2)
        if not bar.known_start:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, 4, 4)
        text = bar.title + ("  — past its horizon" if bar.past else "")
        inside = rect.adjusted(8, 0, -6, 0)
        painter.setPen(PAST if bar.past else QColor("#102a43"))
        if metrics.horizontalAdvance(text) <= inside.width():
            painter.drawText(inside, Qt.AlignmentFlag.AlignVCenter, text)
            return
        room = self.width() - RIGHT - rect.right() - 8
        if room >= 120:  # beside the bar, where it fits
            beside = QRectF(rect.right() + 8, rect.top(), room, rect.height())
            painter.drawText(
                beside,
                Qt.AlignmentFlag.AlignVCenter,
                metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(room)),
            )
        else:
            painter.drawText(
                inside,
                Qt.AlignmentFlag.AlignVCenter,
                metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(inside.width())),
            )

    def _paint_today(self, painter: QPainter, px: float, bottom: int) -> None:
        pen = QPen(TODAY, 1.5, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawLine(QPointF(px, AXIS - 4), QPointF(px, bottom))
        painter.setPen(TODAY)
        bold = QFont(painter.font())
        bold.setBold(True)
        painter.setFont(bold)
        painter.drawText(QPointF(px + 4, AXIS - 26), f"today {self.today.isoformat()}")
        painter.setFont(self.font())

    # -- pointing -----------------------------------------------------------------------------

    def bar_at(self, x: float, y: float) -> Bar | None:
        for rect, bar in self._rects:
            if rect.adjusted(-2, -2, 2, 2).contains(QPointF(x, y)):
                return bar
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        bar = self.bar_at(event.position().x(), event.position().y())
        if bar is not None and event.button() == Qt.MouseButton.LeftButton:
            self.select(bar.key)
            self.tactic_clicked.emit(bar.key)
            return
        super().mousePressEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            bar = self.bar_at(event.pos().x(), event.pos().y())
            if bar is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), plain_tooltip(bar.tooltip), self)
            return True
        return super().event(event)
