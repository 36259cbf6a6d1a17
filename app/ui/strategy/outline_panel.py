"""The outline's side of the editor: the tree of the funnel and its tools (add, delete, move).

Delete and Alt+Up / Alt+Down act on the selected item where the tree has the focus; the panel
only asks (``delete_requested``, ``move_requested``), the editor does it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QMenu,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import StrategyItemType
from app.domain.strategy_funnel import FUNNEL_ORDER, TYPE_NAMES
from app.ui.labels import plain_label
from app.ui.strategy.outline import OutlineModel


def _tool(text: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setObjectName("actionButton")
    button.setText(text)
    button.setToolTip(tip)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    return button


class OutlinePanel(QWidget):
    """The tree over ``model`` and the buttons above it; ``add_actions`` per item type."""

    delete_requested = Signal()
    move_requested = Signal(int)  # -1 up, +1 down

    def __init__(self, model: OutlineModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidePanel")
        self.tree = QTreeView()
        self.tree.setObjectName("strategyOutline")
        self.tree.setModel(model)
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.add_menu = QMenu(self)
        self.add_actions: dict[StrategyItemType, QAction] = {}
        for kind in FUNNEL_ORDER:
            text = TYPE_NAMES[kind].capitalize()
            if kind == StrategyItemType.TACTIC:
                text += " (under the selected social goal)"
            action = self.add_menu.addAction(text)
            action.setData(kind.value)
            self.add_actions[kind] = action
        self.add_button = _tool("Add", "add an item to the funnel")
        self.add_button.setMenu(self.add_menu)
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.delete_button = _tool("Delete…", "delete the selected item (Delete)")
        self.delete_button.clicked.connect(self.delete_requested)
        self.up_button = _tool("Move up", "earlier in its level (Alt+Up)")
        self.up_button.clicked.connect(self._on_up_button_clicked)
        self.down_button = _tool("Move down", "later in its level (Alt+Down)")
        self.down_button.clicked.connect(self._on_down_button_clicked)
        tools = QHBoxLayout()
        tools.setSpacing(4)
        for button in (self.add_button, self.delete_button, self.up_button, self.down_button):
            tools.addWidget(button)
        tools.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 8, 8)
        layout.addWidget(plain_label("The funnel", object_name="sectionLabel"))
        layout.addLayout(tools)
        layout.addWidget(self.tree, 1)
        for keys, slot in (
            (QKeySequence(Qt.Key.Key_Delete), self.delete_requested.emit),
            (QKeySequence("Alt+Up"), self._on_up_button_clicked),
            (QKeySequence("Alt+Down"), self._on_down_button_clicked),
        ):
            shortcut = QShortcut(keys, self.tree, slot)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)

    def _on_up_button_clicked(self) -> None:
        self.move_requested.emit(-1)

    def _on_down_button_clicked(self) -> None:
        self.move_requested.emit(1)
