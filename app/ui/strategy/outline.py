"""The funnel's outline: the mission, then each level of the funnel with its items in order.

A two-level model over the editor's :class:`~app.services.strategy_editing.StrategyState`: the
top rows are the mission and the five levels, each level's items below it. It holds the rows
the state already has (no Qt object per item), so a strategy of thousands of items is reset in
a few milliseconds; every text is shown as plain text.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from app.domain.enums import StrategyItemType
from app.domain.strategy_funnel import FUNNEL_ORDER
from app.services.strategy_editing import EditorItem, StrategyState
from app.ui.labels import plain_tooltip

MISSION_KEY = "\0mission"  # no item's key: workspace keys are numbers, file keys ids
KEY_ROLE = Qt.ItemDataRole.UserRole + 1
KIND_ROLE = Qt.ItemDataRole.UserRole + 2

SECTION_NAMES: dict[StrategyItemType, str] = {
    StrategyItemType.BUSINESS_GOAL: "Business goals",
    StrategyItemType.DEPARTMENT_GOAL: "Department goals",
    StrategyItemType.AUDIENCE_INSIGHT: "Audience insights",
    StrategyItemType.SOCIAL_GOAL: "Social goals",
    StrategyItemType.TACTIC: "Tactics",
}
PROBLEM_COLOUR = QColor("#b42318")
GAP_COLOUR = QColor("#8a5a00")
SECTION_COLOUR = QColor("#52606d")
MISSION_CHARS = 70

Index = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()  # Qt's default parent: no row's


def item_label(item: EditorItem) -> str:
    """How an item reads in a list: department goals lead with their unit."""
    title = " ".join(item.title.split()) or "(no title)"
    if item.type == StrategyItemType.DEPARTMENT_GOAL and item.unit_label:
        return f"{item.unit_label.rsplit('/', 1)[-1]}: {title}"
    return title


class OutlineModel(QAbstractItemModel):
    """Mission and the funnel's levels (top rows), each level's items (their children)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._mission = ""
        self._sections: list[tuple[StrategyItemType, list[EditorItem]]] = [
            (kind, []) for kind in FUNNEL_ORDER
        ]
        self._problems: dict[str, list[str]] = {}
        self._gaps: dict[str, list[str]] = {}

    def set_state(self, state: StrategyState) -> None:
        self.beginResetModel()
        self._mission = state.mission
        by_type: dict[StrategyItemType, list[EditorItem]] = {kind: [] for kind in FUNNEL_ORDER}
        for item in state.items:
            by_type.setdefault(item.type, []).append(item)
        self._sections = [(kind, by_type[kind]) for kind in FUNNEL_ORDER]
        self._problems = {}
        for problem in state.problems:
            if problem.key is not None:
                self._problems.setdefault(problem.key, []).append(problem.message)
        self._gaps = {}
        for section in state.missing:
            for entry in section.entries:
                if not entry.is_unit:
                    self._gaps.setdefault(entry.key, []).append(section.name)
        self.endResetModel()

    # -- finding rows -------------------------------------------------------------------------

    def index_of(self, key: str) -> QModelIndex:
        if key == MISSION_KEY:
            return self.index(0, 0)
        for row, (_kind, items) in enumerate(self._sections, start=1):
            for n, item in enumerate(items):
                if item.key == key:
                    return self.index(n, 0, self.index(row, 0))
        return QModelIndex()

    def section_index(self, kind: StrategyItemType) -> QModelIndex:
        return self.index(FUNNEL_ORDER.index(kind) + 1, 0)

    def item_at(self, index: Index) -> EditorItem | None:
        if not index.isValid() or index.internalId() == 0:
            return None
        _kind, items = self._sections[index.internalId() - 1]
        return items[index.row()] if index.row() < len(items) else None

    def neighbour(self, key: str, step: int) -> EditorItem | None:
        """The item ``step`` rows away in the same level (None at either end)."""
        for _kind, items in self._sections:
            keys = [i.key for i in items]
            if key in keys:
                at = keys.index(key) + step
                return items[at] if 0 <= at < len(items) else None
        return None

    # -- the model ----------------------------------------------------------------------------

    def index(self, row: int, column: int, parent: Index = ROOT) -> QModelIndex:
        if column != 0 or row < 0:
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, 0, 0) if row <= len(self._sections) else QModelIndex()
        if parent.internalId() != 0 or parent.row() == 0:
            return QModelIndex()
        section = parent.row()
        if row >= len(self._sections[section - 1][1]):
            return QModelIndex()
        return self.createIndex(row, 0, section)

    def parent(self, index: Index = ROOT) -> QModelIndex:  # type: ignore[override]
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        return self.createIndex(index.internalId(), 0, 0)

    def rowCount(self, parent: Index = ROOT) -> int:
        if not parent.isValid():
            return len(self._sections) + 1
        if parent.internalId() != 0 or parent.row() == 0 or parent.column() != 0:
            return 0
        return len(self._sections[parent.row() - 1][1])

    def columnCount(self, parent: Index = ROOT) -> int:
        return 1

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if index.internalId() == 0:
            return self._top_data(index.row(), role)
        item = self.item_at(index)
        if item is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            mark = "⚠ " if item.key in self._problems else ""
            return mark + item_label(item)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [item.title]
            if item.fields.body:
                lines.append(item.fields.body)
            lines += self._problems.get(item.key, [])
            lines += [f"In “what is missing”: {g}" for g in self._gaps.get(item.key, [])]
            return plain_tooltip("\n".join(lines))
        if role == Qt.ItemDataRole.ForegroundRole:
            if item.key in self._problems:
                return QBrush(PROBLEM_COLOUR)
            if item.key in self._gaps:
                return QBrush(GAP_COLOUR)
            return None
        if role == KEY_ROLE:
            return item.key
        if role == KIND_ROLE:
            return item.type
        return None

    def _top_data(self, row: int, role: int) -> Any:
        if row == 0:
            if role == Qt.ItemDataRole.DisplayRole:
                text = " ".join(self._mission.split())
                if len(text) > MISSION_CHARS:
                    text = text[: MISSION_CHARS - 1] + "…"
                return f"Mission: {text}" if text else "Mission (not written yet)"
            if role == Qt.ItemDataRole.ToolTipRole:
                return plain_tooltip(self._mission or "The mission heads the strategy.")
            if role == KEY_ROLE:
                return MISSION_KEY
        else:
            kind, items = self._sections[row - 1]
            if role == Qt.ItemDataRole.DisplayRole:
                return f"{SECTION_NAMES[kind]}  ({len(items)})"
            if role == KIND_ROLE:
                return kind
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and row > 0:
            return QBrush(SECTION_COLOUR)
        return None
