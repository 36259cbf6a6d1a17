"""The left pane's saved views: the operator's named filters with their counts.

Choosing a view emits ``view_chosen(FeedFilter)``; "Save view…" saves the inbox's current
filter under a name asked for; a view's menu renames, moves or deletes it. Counts are computed
by a worker (one count query per view) and fill in when they arrive. Refusals from the service
are shown as they are worded there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import Shiboken

from app.domain.rows import FeedFilter
from app.services.views import (
    NotAllowed,
    SavedViewError,
    SavedViewRow,
    SavedViewsService,
    ViewCount,
)
from app.ui.dialogs import confirm
from app.ui.labels import plain_tooltip
from app.ui.tasks import TaskRunner

log = logging.getLogger("quiver.ui.inbox")

VIEW_ID_ROLE = Qt.ItemDataRole.UserRole + 1


class SavedViewsPanel(QWidget):
    """The list of views, "Save view…", and each view's menu (rename, move, delete)."""

    view_chosen = Signal(object)  # FeedFilter
    counts_loaded = Signal()

    def __init__(
        self,
        views: SavedViewsService,
        operator: Callable[[], int],
        current_filter: Callable[[], FeedFilter],
        tasks: TaskRunner,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._views = views
        self._operator = operator
        self._current_filter = current_filter
        self._tasks = tasks  # the page's runner: the page waits for it when it closes
        self._rows: list[SavedViewRow] = []
        self.counts: dict[int, ViewCount] = {}

        self.list = QListWidget()
        self.list.setObjectName("savedViews")
        self.list.setUniformItemSizes(True)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.save_button = QPushButton("Save view…")
        self.save_button.setObjectName("saveView")
        self.save_button.setToolTip("Save the current filters and search as a view of your own")
        self.empty = QLabel("No saved views yet: set filters, then “Save view…”.")
        self.empty.setTextFormat(Qt.TextFormat.PlainText)
        self.empty.setWordWrap(True)
        self.empty.setObjectName("emptyNote")
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)
        layout.addLayout(buttons)

        self.list.itemActivated.connect(self._on_list_item_activated)
        self.list.itemClicked.connect(self._on_list_item_activated)
        self.list.customContextMenuRequested.connect(self._on_list_context_menu)
        self.save_button.clicked.connect(self._on_save_clicked)

    # -- reading ------------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the operator's views (a small indexed read), then count them in a worker."""
        self._rows = self._views.views(self._operator())
        self._show()
        self.refresh_counts()

    def refresh_counts(self) -> None:
        operator = self._operator()
        self._tasks.submit(
            lambda: (operator, self._views.counts(operator)),
            self._on_counts_done,
            self._on_counts_failed,
        )

    def rows(self) -> list[SavedViewRow]:
        return list(self._rows)

    # -- changing -----------------------------------------------------------------------------

    def save_current(self, name: str) -> int | None:
        """Save the inbox's current filter as ``name``; ``None`` when refused (and said why)."""
        try:
            view_id = self._views.create(self._operator(), name, self._current_filter())
        except (SavedViewError, NotAllowed) as exc:
            self._refused("The view was not saved", exc)
            return None
        self.reload()
        return view_id

    def rename(self, view_id: int, name: str) -> bool:
        try:
            self._views.rename(self._operator(), view_id, name)
        except (SavedViewError, NotAllowed) as exc:
            self._refused("The view was not renamed", exc)
            return False
        self.reload()
        return True

    def delete(self, view_id: int) -> None:
        try:
            self._views.delete(self._operator(), view_id)
        except (SavedViewError, NotAllowed) as exc:
            self._refused("The view was not deleted", exc)
        self.reload()

    def move_view(self, view_id: int, step: int) -> None:
        ids = [r.id for r in self._rows]
        i = ids.index(view_id)
        j = max(0, min(len(ids) - 1, i + step))
        if i == j:
            return
        ids.insert(j, ids.pop(i))
        try:
            self._views.reorder(self._operator(), ids)
        except (SavedViewError, NotAllowed) as exc:
            self._refused("The views were not reordered", exc)
        self.reload()

    # The dialogs, apart so tests can answer them.
    def ask_name(self, title: str, current: str = "") -> str | None:
        name, ok = QInputDialog.getText(self, title, "Name of the view:", text=current)
        return name if ok else None

    def confirm_delete(self, name: str) -> bool:
        return confirm(self, "Delete view", f"Delete the saved view “{name}”?")

    def _refused(self, title: str, exc: Exception) -> None:
        self.last_refusal = str(exc)
        box = QMessageBox(QMessageBox.Icon.Warning, title, str(exc), parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.open()

    # -- slots --------------------------------------------------------------------------------

    def _on_save_clicked(self) -> None:
        name = self.ask_name("Save view")
        if name is not None:
            self.save_current(name)

    def _on_list_item_activated(self, item: QListWidgetItem) -> None:
        row = self._row(item)
        if row is None:
            return
        if row.filter is None:
            self._refused("The view cannot be shown", ValueError(row.problem))
            return
        self.view_chosen.emit(row.filter)

    def _on_list_context_menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        row = self._row(item) if item is not None else None
        if row is None:
            return
        menu = QMenu(self)
        rename = menu.addAction("Rename…")
        up = menu.addAction("Move up")
        down = menu.addAction("Move down")
        menu.addSeparator()
        delete = menu.addAction("Delete")
        chosen = menu.exec(self.list.viewport().mapToGlobal(pos))
        if chosen is rename:
            name = self.ask_name("Rename view", row.name)
            if name is not None:
                self.rename(row.id, name)
        elif chosen is up:
            self.move_view(row.id, -1)
        elif chosen is down:
            self.move_view(row.id, 1)
        elif chosen is delete and self.confirm_delete(row.name):
            self.delete(row.id)

    def _on_counts_done(self, result: tuple[int, dict[int, ViewCount]]) -> None:
        if not Shiboken.isValid(self):  # the window closed while the worker counted
            return
        operator, counts = result
        if operator != self._operator():  # someone else acts now: their counts will come
            return
        self.counts = counts
        self._show()
        self.counts_loaded.emit()

    def _on_counts_failed(self, message: str) -> None:
        log.warning("could not count the saved views: %s", message)

    # -- helpers ------------------------------------------------------------------------------

    def _row(self, item: QListWidgetItem) -> SavedViewRow | None:
        view_id = item.data(VIEW_ID_ROLE)
        return next((r for r in self._rows if r.id == view_id), None)

    def _show(self) -> None:
        self.list.clear()
        for row in self._rows:
            count = self.counts.get(row.id)
            label = row.name if count is None else f"{row.name}  ·  {count.text()}"
            item = QListWidgetItem(label)
            item.setData(VIEW_ID_ROLE, row.id)
            item.setToolTip(plain_tooltip(row.problem or row.name))
            self.list.addItem(item)
        self.empty.setVisible(not self._rows)
