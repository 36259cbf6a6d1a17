"""The set-up assistant's editors: a time zone chooser, a week of hours, the first units."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QByteArray, Qt, QTime, QTimeZone, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from app.domain.hours import WEEKDAY_NAMES, WEEKDAYS, Schedule, standard_week, time_zones
from app.domain.setup import TRIAGE, name_key

ZONE_ROLE = Qt.ItemDataRole.UserRole + 1
TRIAGE_ROLE = Qt.ItemDataRole.UserRole + 2


HINT_STYLE = "color: #52606d;"
HEADING_STYLE = "font-weight: 600;"


def plain(text: str = "", *, wrap: bool = True, name: str | None = None) -> QLabel:
    """A label that never reads its text as rich text."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    if name:
        label.setObjectName(name)
    return label


def hint(text: str = "", *, wrap: bool = True) -> QLabel:
    """A quieter plain-text label for explanations."""
    label = plain(text, wrap=wrap)
    label.setStyleSheet(HINT_STYLE)
    return label


def heading(text: str = "") -> QLabel:
    label = plain(text, wrap=False)
    label.setStyleSheet(HEADING_STYLE)
    return label


def system_time_zone() -> str:
    """This computer's IANA zone, if Python knows it too; else UTC."""
    raw = QTimeZone.systemTimeZoneId()
    zone = bytes(raw.data()).decode("ascii", "replace") if isinstance(raw, QByteArray) else ""
    return zone if zone in set(time_zones()) else "UTC"


def utc_offset(zone: str, now: datetime | None = None) -> str:
    """How far the zone is from UTC today: "UTC+01:00"."""
    offset = (now or datetime.now(UTC)).astimezone(ZoneInfo(zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class TimeZoneChooser(QWidget):
    """Every zone this computer knows, with a filter ("berlin", "new york", "+05:30")."""

    zone_changed = Signal(str)

    def __init__(self, zone: str = "UTC", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter = QLineEdit()
        self.filter.setObjectName("zoneFilter")
        self.filter.setPlaceholderText("Type to filter: a city, a region or an offset")
        self.filter.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setObjectName("zoneList")
        self.list.setUniformItemSizes(True)
        now = datetime.now(UTC)
        for name in time_zones():
            item = QListWidgetItem(f"{name.replace('_', ' ')}   ({utc_offset(name, now)})")
            item.setData(ZONE_ROLE, name)
            self.list.addItem(item)
        self.chosen = hint(wrap=False)
        self.chosen.setObjectName("zoneChosen")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading("Time zone"))
        layout.addWidget(self.filter)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.chosen)
        self.filter.textChanged.connect(self._on_filter_text_changed)
        self.list.currentItemChanged.connect(self._on_list_current_item_changed)
        self.set_zone(zone)

    def zone(self) -> str:
        item = self.list.currentItem()
        return str(item.data(ZONE_ROLE)) if item is not None else ""

    def set_zone(self, zone: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(ZONE_ROLE) == zone:
                self.list.setCurrentRow(i)
                self.list.scrollToItem(self.list.item(i), QListWidget.ScrollHint.PositionAtCenter)
                return

    def _on_filter_text_changed(self, text: str) -> None:
        words = text.lower().replace("_", " ").split()
        first: QListWidgetItem | None = None
        for i in range(self.list.count()):
            item = self.list.item(i)
            hay = item.text().lower()
            hidden = not all(w in hay for w in words)
            item.setHidden(hidden)
            if not hidden and first is None:
                first = item
        current = self.list.currentItem()
        if (current is None or current.isHidden()) and first is not None:
            self.list.setCurrentItem(first)
        elif current is not None:
            self.list.scrollToItem(current)

    def _on_list_current_item_changed(self, current: QListWidgetItem | None, _prev: object) -> None:
        zone = self.zone()
        self.chosen.setText(f"Time zone: {zone} ({utc_offset(zone)} now)" if current else "")
        self.zone_changed.emit(zone)


class WeekHoursEditor(QWidget):
    """Opening hours per weekday: open or closed, from and to (one span a day)."""

    def __init__(self, schedule: Schedule | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        week = schedule or standard_week()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(4)
        self.open: dict[str, QCheckBox] = {}
        self.starts: dict[str, QTimeEdit] = {}
        self.ends: dict[str, QTimeEdit] = {}
        for row, day in enumerate(WEEKDAYS):
            spans = week.get(day) or []
            box = QCheckBox(WEEKDAY_NAMES[day])
            box.setObjectName(f"open_{day}")
            start, end = QTimeEdit(), QTimeEdit()
            for edit, default in ((start, "09:00"), (end, "17:00")):
                edit.setDisplayFormat("HH:mm")
                edit.setTime(QTime.fromString(default, "HH:mm"))
            start.setObjectName(f"start_{day}")
            end.setObjectName(f"end_{day}")
            if spans:
                start.setTime(QTime.fromString(spans[0][0], "HH:mm"))
                end.setTime(QTime.fromString(min(spans[-1][1], "23:59"), "HH:mm"))
            box.setChecked(bool(spans))
            closed = hint("closed", wrap=False)
            grid.addWidget(box, row, 0)
            grid.addWidget(start, row, 1)
            grid.addWidget(plain("to", wrap=False), row, 2)
            grid.addWidget(end, row, 3)
            grid.addWidget(closed, row, 4)
            box.toggled.connect(start.setEnabled)
            box.toggled.connect(end.setEnabled)
            box.toggled.connect(closed.setHidden)
            start.setEnabled(bool(spans))
            end.setEnabled(bool(spans))
            closed.setHidden(bool(spans))
            self.open[day], self.starts[day], self.ends[day] = box, start, end
        grid.setColumnStretch(5, 1)

    def schedule(self) -> Schedule:
        """The week as stored (check it with app.domain.hours.check_schedule)."""
        return {
            day: (
                [
                    [
                        self.starts[day].time().toString("HH:mm"),
                        self.ends[day].time().toString("HH:mm"),
                    ]
                ]
                if self.open[day].isChecked()
                else []
            )
            for day in WEEKDAYS
        }


class UnitsEditor(QWidget):
    """The first units: tick to keep, double-click to rename, add more; Triage always there."""

    def __init__(self, suggested: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.root = heading()
        self.list = QListWidget()
        self.list.setObjectName("setupUnits")
        self.list.setStyleSheet("QListWidget#setupUnits::item { padding: 5px 4px; }")
        self.list.setEditTriggers(
            QListWidget.EditTrigger.DoubleClicked
            | QListWidget.EditTrigger.EditKeyPressed
            | QListWidget.EditTrigger.SelectedClicked
        )
        for name in suggested:
            self._add_row(name)
        triage = QListWidgetItem(f"{TRIAGE} — always there: conversations no rule claims wait here")
        triage.setData(TRIAGE_ROLE, True)
        triage.setFlags(Qt.ItemFlag.ItemIsEnabled)  # neither renamed, nor left out
        triage.setCheckState(Qt.CheckState.Checked)
        triage.setForeground(Qt.GlobalColor.darkGray)
        self.list.addItem(triage)
        self.new_name = QLineEdit()
        self.new_name.setObjectName("newUnitName")
        self.new_name.setPlaceholderText("Another unit, e.g. Investor Relations or Office Munich")
        self.add_button = QPushButton("Add unit")
        self.add_button.setObjectName("addUnit")
        self.note = plain(name="setupError")
        add_row = QHBoxLayout()
        add_row.addWidget(self.new_name, 1)
        add_row.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.root)
        layout.addWidget(self.list, 1)
        layout.addLayout(add_row)
        layout.addWidget(self.note)
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.new_name.returnPressed.connect(self._on_add_button_clicked)

    def set_root_name(self, name: str) -> None:
        self.root.setText(f"Units of {name}:")

    def _add_row(self, name: str) -> QListWidgetItem:
        item = QListWidgetItem(name)
        item.setFlags(
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsEditable
            | Qt.ItemFlag.ItemIsUserCheckable
        )
        item.setCheckState(Qt.CheckState.Checked)
        item.setToolTip("Untick to leave this unit out; double-click (or F2) to rename it.")
        self.list.insertItem(max(0, self._triage_row()), item)
        return item

    def _triage_row(self) -> int:
        for i in range(self.list.count()):
            if self.list.item(i).data(TRIAGE_ROLE):
                return i
        return self.list.count()

    def _on_add_button_clicked(self) -> None:
        name = " ".join(self.new_name.text().split())
        if not name:
            self.note.setText("Type the new unit's name first.")
            return
        taken = {name_key(TRIAGE)} | {name_key(n) for n in self.names(all_rows=True)}
        if name_key(name) in taken:
            self.note.setText(f"There is a unit called “{name}” already.")
            return
        item = self._add_row(name)
        self.list.setCurrentItem(item)
        self.new_name.clear()
        self.note.setText("")

    def names(self, *, all_rows: bool = False) -> list[str]:
        """The units to create, in order (ticked ones, or every row but Triage)."""
        out = []
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(TRIAGE_ROLE):
                continue
            if all_rows or item.checkState() == Qt.CheckState.Checked:
                out.append(item.text())
        return out

    def item_named(self, name: str) -> QListWidgetItem | None:
        for i in range(self.list.count()):
            if self.list.item(i).text() == name:
                return self.list.item(i)
        return None
