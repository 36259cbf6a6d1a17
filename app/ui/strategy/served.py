"""What served a social goal: how many posts, replies and conversations, and the lists of them.

The counts and each list's pages are read in workers: a list reads its first page when a goal
is shown and the next (keyset-paged, newest first) as it is scrolled to its end. Results for a
goal no longer shown are dropped. A file holds no posts or conversations, and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import QAbstractItemView, QListView, QVBoxLayout, QWidget

from app.services.strategy_editing import (
    PAGE,
    GoalServed,
    ServedDraftRow,
    StrategySource,
    TaggedConversationRow,
)
from app.services.strategy_file_editing import NO_CONTENT_IN_A_FILE
from app.ui.formatting import NETWORK_LABELS
from app.ui.labels import plain_label, plain_tooltip
from app.ui.tasks import TaskRunner

Index = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()  # Qt's default parent: no row's
Fetch = Callable[[Any], list[Any]]
NO_GOAL = "Select a social goal to see the posts, replies and conversations that served it."
PREVIEW = 140


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW else flat[: PREVIEW - 1] + "…"


def draft_line(row: ServedDraftRow) -> str:
    day = row.updated_at.astimezone(UTC).astimezone().strftime("%d %b %Y")
    kind = {"post": "Post", "reply": "Reply", "dm": "Direct message"}.get(row.kind, row.kind)
    return f"{kind} · {row.state.replace('_', ' ')} · {day} — {_one_line(row.text)}"


def conversation_line(row: TaggedConversationRow) -> str:
    day = row.last_activity_at.astimezone(UTC).astimezone().strftime("%d %b %Y")
    network = NETWORK_LABELS.get(row.network, row.network)
    return f"{network} · {row.status} · {day} — {_one_line(row.preview)}"


class PagedModel(QAbstractListModel):
    """Rows read a page at a time in a worker; ``fetchMore`` asks for the next page."""

    page_loaded = Signal()
    failed = Signal(str)

    def __init__(
        self, line: Callable[[Any], str], runner: TaskRunner, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._line = line
        self._runner = runner
        self._rows: list[Any] = []
        self._fetch: Fetch | None = None
        self._generation = 0
        self._busy = False
        self.done = True

    def reset(self, fetch: Fetch | None) -> None:
        """Show the rows ``fetch(after)`` gives (None: nothing), reading the first page."""
        self.beginResetModel()
        self._generation += 1
        self._rows, self._fetch, self._busy, self.done = [], fetch, False, fetch is None
        self.endResetModel()
        if fetch is not None:
            self._request()

    def rows(self) -> list[Any]:
        return list(self._rows)

    def _request(self) -> None:
        fetch = self._fetch
        if fetch is None or self._busy or self.done:
            return
        self._busy = True
        generation = self._generation
        after = self._rows[-1].key if self._rows else None
        self._runner.submit(lambda: (generation, fetch(after)), self._on_page, self._on_failed)

    def _on_page(self, result: tuple[int, list[Any]]) -> None:
        generation, page = result
        if generation != self._generation:
            return  # for a goal no longer shown
        self._busy = False
        self.done = len(page) < PAGE
        if page:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(page) - 1)
            self._rows.extend(page)
            self.endInsertRows()
        self.page_loaded.emit()

    def _on_failed(self, message: str) -> None:
        self._busy = False
        self.done = True
        self.failed.emit(message)

    def canFetchMore(self, parent: Index = ROOT) -> bool:
        return not parent.isValid() and not self.done and not self._busy

    def fetchMore(self, parent: Index = ROOT) -> None:
        if not parent.isValid():
            self._request()

    def rowCount(self, parent: Index = ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._line(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tooltip(str(getattr(row, "text", "") or getattr(row, "preview", "")))
        return None


def _list_view(model: PagedModel, name: str) -> QListView:
    view = QListView()
    view.setObjectName(name)
    view.setModel(model)
    view.setUniformItemSizes(True)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return view


class ServedPanel(QWidget):
    """The selected social goal's posts, replies and conversations."""

    #: The counts of the goal shown arrived (posts, replies, conversations).
    counts_shown = Signal(object)

    def __init__(self, source: StrategySource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self._runner = TaskRunner(self)
        self.key: str | None = None
        self.heading = plain_label("What served this goal", object_name="sectionLabel")
        self.goal = plain_label(object_name="threadFacts")
        self.counts = plain_label(object_name="detailText")
        self.note = plain_label(object_name="emptyNote")
        self.drafts = PagedModel(draft_line, self._runner, self)
        self.conversations = PagedModel(conversation_line, self._runner, self)
        for model in (self.drafts, self.conversations):
            model.failed.connect(self._on_model_failed)
        self.drafts_label = plain_label("Posts and replies", object_name="sectionLabel")
        self.drafts_view = _list_view(self.drafts, "servedDrafts")
        self.conversations_label = plain_label(
            "Conversations tagged with it", object_name="sectionLabel"
        )
        self.conversations_view = _list_view(self.conversations, "servedConversations")
        self.drafts_empty = plain_label("No post or reply served it yet.", object_name="emptyState")
        self.conversations_empty = plain_label(
            "No conversation is tagged with it yet.", object_name="emptyState"
        )
        self.drafts.page_loaded.connect(self._on_page_loaded)
        self.conversations.page_loaded.connect(self._on_page_loaded)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 8)
        layout.setSpacing(4)
        for widget in (self.heading, self.goal, self.counts, self.note):
            layout.addWidget(widget)
        layout.addWidget(self.drafts_label)
        layout.addWidget(self.drafts_empty)
        layout.addWidget(self.drafts_view, 1)
        layout.addWidget(self.conversations_label)
        layout.addWidget(self.conversations_empty)
        layout.addWidget(self.conversations_view, 1)
        layout.addStretch(0)
        self.set_source(source)

    def shutdown(self, msecs: int = 3000) -> None:
        """Wait for the pages and counts being read (closing)."""
        self._runner.wait(msecs)

    def set_source(self, source: StrategySource) -> None:
        self._source = source
        self.show_goal(None, "")

    def show_goal(self, key: str | None, title: str) -> None:
        """Show what served the social goal ``key`` (None: no social goal is selected)."""
        self.key = key
        source = self._source
        lists = key is not None and source.has_served
        for widget in (
            self.counts,
            self.drafts_label,
            self.drafts_view,
            self.conversations_label,
            self.conversations_view,
        ):
            widget.setVisible(lists)
        self.drafts_empty.hide()
        self.conversations_empty.hide()
        self.goal.setText(f"“{title}”" if key is not None else "")
        self.goal.setVisible(key is not None)
        if key is None or not source.has_served:
            self.note.setText(NO_CONTENT_IN_A_FILE if not source.has_served else NO_GOAL)
            self.note.show()
            self.drafts.reset(None)
            self.conversations.reset(None)
            return
        self.note.hide()
        self.counts.setText("Counting…")
        self._runner.submit(lambda: (key, source.served(key)), self._on_counts, self._on_failed)
        self.drafts.reset(lambda after: source.served_drafts(key, after))
        self.conversations.reset(lambda after: source.served_conversations(key, after))

    def _on_page_loaded(self) -> None:
        for model, view, empty in (
            (self.drafts, self.drafts_view, self.drafts_empty),
            (self.conversations, self.conversations_view, self.conversations_empty),
        ):
            none = model.rowCount() == 0 and model.done
            view.setVisible(not none and self.key is not None)
            empty.setVisible(none and self.key is not None)

    def _on_counts(self, result: tuple[str, GoalServed]) -> None:
        key, served = result
        if key != self.key:
            return
        self.counts.setText(
            f"{served.posts} post{'s' if served.posts != 1 else ''} · "
            f"{served.replies} repl{'ies' if served.replies != 1 else 'y'} and messages · "
            f"{served.conversations} conversation{'s' if served.conversations != 1 else ''} "
            "tagged"
        )
        self.counts_shown.emit(served)

    def _on_failed(self, message: str) -> None:
        self.counts.setText(f"What served it could not be read ({message}).")

    def _on_model_failed(self, message: str) -> None:
        self.note.setText(f"The list could not be read ({message}).")
        self.note.show()
