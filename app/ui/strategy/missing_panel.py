"""What the strategy lacks, section by section; a click on an entry goes to it.

Units without department goals, goals no social goal derives from, social goals without a
complete KPI or without a tactic, tactics past their horizon; in a file, first what breaks the
funnel there (an import refuses the file until it is put right). A section that cannot be told
from where the strategy is (a file has no list of units) says so instead of listing nothing.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from app.services.strategy_editing import GapEntry, StrategyState
from app.ui.labels import plain_label, plain_tooltip

ENTRY_ROLE = Qt.ItemDataRole.UserRole + 3
PROBLEMS = "Problems in this file (an import refuses it until they are put right)"
MUTED = QColor("#7b8794")
PROBLEM = QColor("#b42318")


class MissingPanel(QWidget):
    """The "what is missing" list; :attr:`entry_activated` carries the entry clicked."""

    entry_activated = Signal(object)  # GapEntry

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = plain_label("What is missing", object_name="sectionLabel")
        self.summary = plain_label(object_name="threadFacts")
        self.tree = QTreeWidget()
        self.tree.setObjectName("missingList")
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setWordWrap(False)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.tree.setIndentation(14)
        self.tree.itemClicked.connect(self._on_tree_item_clicked)
        self.tree.itemActivated.connect(self._on_tree_item_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.setSpacing(4)
        layout.addWidget(self.heading)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)

    def set_state(self, state: StrategyState) -> None:
        self.tree.clear()
        total = 0
        if state.problems:
            section = self._section(PROBLEMS, len(state.problems), PROBLEM)
            for problem in state.problems:
                key = problem.key or ""
                item = state.item(key)
                title = item.title if item is not None else ""
                text = f"{title}: {problem.message}" if title else problem.message
                self._entry(section, GapEntry(key, text), PROBLEM)
            total += len(state.problems)
        for gap in state.missing:
            unknown = bool(gap.note) and not gap.entries  # cannot be told from here
            section = self._section(gap.name, None if unknown else len(gap.entries), None)
            for entry in gap.entries:
                self._entry(section, entry, None)
            if gap.note:
                self._note(section, gap.note)
            elif not gap.entries:
                self._note(section, "Nothing: every one is there.")
            total += len(gap.entries)
        self.tree.expandAll()
        if not state.items:
            summary = "The strategy is empty: start with a business goal (Add)."
        elif total == 0:
            summary = "Nothing is missing."
        else:
            summary = f"{total} thing{'s' if total != 1 else ''} to look at. Click one to go to it."
        self.summary.setText(summary)

    def entries(self) -> list[tuple[str, GapEntry]]:
        """Every entry listed, with its section's name (for tests and the palette)."""
        found = []
        for n in range(self.tree.topLevelItemCount()):
            section = self.tree.topLevelItem(n)
            if section is None:
                continue
            name = str(section.data(0, ENTRY_ROLE))
            for c in range(section.childCount()):
                child = section.child(c)
                entry = child.data(0, ENTRY_ROLE) if child is not None else None
                if isinstance(entry, GapEntry):
                    found.append((name, entry))
        return found

    def _section(self, name: str, n: int | None, colour: QColor | None) -> QTreeWidgetItem:
        item = QTreeWidgetItem([f"{name}  ({'—' if n is None else n})"])
        item.setData(0, ENTRY_ROLE, name)
        font = QFont(self.font())
        font.setBold(True)
        item.setFont(0, font)
        if colour is not None:
            item.setForeground(0, QBrush(colour))
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        item.setToolTip(0, plain_tooltip(name))
        self.tree.addTopLevelItem(item)
        return item

    def _entry(self, section: QTreeWidgetItem, entry: GapEntry, colour: QColor | None) -> None:
        item = QTreeWidgetItem([" ".join(entry.title.split())])
        item.setData(0, ENTRY_ROLE, entry)
        item.setToolTip(0, plain_tooltip(entry.title))
        if colour is not None:
            item.setForeground(0, QBrush(colour))
        section.addChild(item)

    def _note(self, section: QTreeWidgetItem, text: str) -> None:
        item = QTreeWidgetItem([text])
        item.setForeground(0, QBrush(MUTED))
        item.setToolTip(0, plain_tooltip(text))
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        section.addChild(item)

    def _on_tree_item_clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        entry = item.data(0, ENTRY_ROLE)
        if isinstance(entry, GapEntry):
            self.entry_activated.emit(entry)
