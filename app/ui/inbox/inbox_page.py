"""The inbox screen: units and accounts, the filtered conversation list, and the thread."""

from __future__ import annotations

import logging

from PySide6.QtCore import QItemSelection, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import DraftKind, MessageKind, Network
from app.domain.rows import AccountRow, ConversationRow, FeedFilter, PersonRow, UnitCount
from app.services.container import Services
from app.services.threads import ThreadSearchOutcome
from app.services.triage import TriageDetails
from app.ui.compose.compose_pane import ComposePane
from app.ui.formatting import NETWORK_LABELS, STATE_LABELS, account_detail
from app.ui.inbox.actions import TriageActions
from app.ui.inbox.feed_model import ConversationFeedModel
from app.ui.inbox.feed_view import OPEN, FeedView, fit_columns
from app.ui.inbox.filter_bar import BACKLOG_LABEL, NETWORK_CHOICES, STATUS_CHOICES, FilterBar
from app.ui.inbox.reroute_dialog import RerouteDialog
from app.ui.inbox.saved_views import SavedViewsPanel
from app.ui.inbox.thread_view import ThreadPane
from app.ui.inbox.unit_tree import UnitTree
from app.ui.labels import plain_tooltip
from app.ui.operator import OperatorBinding
from app.ui.tasks import TaskRunner

__all__ = ["NETWORK_CHOICES", "STATUS_CHOICES", "FeedView", "InboxPage"]
ACCOUNT_ID_ROLE = Qt.ItemDataRole.UserRole + 1

log = logging.getLogger("quiver.ui.inbox")

COUNTS_THROTTLE_MS = 3000  # recount at most this often while conversations stream in

EMPTY_FILTERED = "No conversations match these filters."
SEARCH_CAPPED = "the newest matches of this search: add words or filters to see older ones"
EMPTY_NO_ACCOUNTS = (
    "No account is connected yet, so nothing has arrived.\n\n"
    "An administrator connects one in Settings > Accounts: a Sandbox training account "
    "streams practice conversations at once; X and Facebook Pages connect through your "
    "organization's apps."
)
LOAD_FAILED = "The conversations could not be read ({error}). F5 tries again."


class InboxPage(QWidget):
    """Unit tree and accounts | filters and conversation list | thread."""

    counts_changed = Signal(object)  # dict[int, UnitCount]
    first_page_painted = Signal()
    status_message = Signal(str)  # what an action did or why it was refused, for the status bar
    conversation_refreshed = Signal(int)  # a triage action's outcome is on screen (row, thread)
    draft_submitted = Signal(int, str)  # a reply or message submitted: its id and new state

    def __init__(
        self,
        services: Services,
        parent: QWidget | None = None,
        *,
        operator: OperatorBinding | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._operator = operator
        self._open_id: int | None = None
        self._tasks = TaskRunner(self)
        self._painted_once = False
        # Asked for while a first page loads; done when it is listed.
        self._first_row_wanted = False  # Enter in the search box: go to the first result
        self._oldest_wanted = False  # Ctrl+End: jump to the oldest
        self._keeping_open = False  # re-selecting the open conversation in the new rows
        self._counts_pending = False
        self.counts: dict[int, UnitCount] = {}
        self._unit_names: dict[int, str] = {}
        self.reroute_dialog: RerouteDialog | None = None

        # Left: units and accounts.
        self.unit_tree = UnitTree()
        self.accounts = QListWidget()
        self.accounts.setObjectName("accountList")
        self.accounts.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.accounts.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.accounts.setTextElideMode(Qt.TextElideMode.ElideRight)
        left = QWidget()
        left.setObjectName("sidePanel")
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(10, 12, 6, 10)
        units_title = QHBoxLayout()
        units_title.addWidget(_section("Units"))
        units_title.addStretch(1)
        backlog_title = _section(BACKLOG_LABEL)
        backlog_title.setToolTip(plain_tooltip(f"{BACKLOG_LABEL}: new, open and waiting"))
        units_title.addWidget(backlog_title)
        left_layout.addLayout(units_title)
        left_layout.addWidget(self.unit_tree, 3)
        self.saved_views: SavedViewsPanel | None = None
        if operator is not None:  # saved views are a person's own
            self.saved_views = SavedViewsPanel(
                services.views, lambda: operator.id, self.current_filter, self._tasks
            )
            left_layout.addWidget(_section("Saved views"))
            left_layout.addWidget(self.saved_views, 2)
        left_layout.addWidget(_section("Accounts"))
        left_layout.addWidget(self.accounts, 1)

        # Centre: filters and the list.
        self.title = QLabel()
        self.title.setObjectName("listTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.filter_bar = FilterBar()
        self.network_filter: QComboBox = self.filter_bar.network
        self.status_filter: QComboBox = self.filter_bar.status
        self.model = ConversationFeedModel(services.inbox, self)
        self.model.me = operator.id if operator is not None else None
        self.view = FeedView()
        self.view.setModel(self.model)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        fit_columns(self.view)
        self.empty_note = QLabel(EMPTY_FILTERED)
        self.empty_note.setObjectName("emptyNote")
        self.empty_note.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_note.setWordWrap(True)
        self.empty_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_note.hide()
        # Why the list could not be read (the rows shown, if any, are the previous ones).
        self.feed_error = QLabel()
        self.feed_error.setObjectName("feedError")
        self.feed_error.setTextFormat(Qt.TextFormat.PlainText)
        self.feed_error.setWordWrap(True)
        self.feed_error.hide()
        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(8, 12, 8, 8)
        centre_layout.addWidget(self.title)
        centre_layout.addWidget(self.filter_bar)
        centre_layout.addWidget(self.feed_error)
        centre_layout.addWidget(self.view, 1)
        centre_layout.addWidget(self.empty_note)

        # Right: the thread, with the triage actions (none without an operator: read only).
        self.thread_pane = ThreadPane()
        self.triage_actions: TriageActions | None = None
        if operator is not None:
            self.triage_actions = TriageActions(services, operator, self.open_row, self)
            self.thread_pane.set_actions(self.triage_actions.bar_actions())
            self.triage_actions.follow(None)
            self.triage_actions.changed.connect(self._on_actions_changed)
            self.triage_actions.refused.connect(self._on_actions_refused)
            self.triage_actions.done.connect(self.status_message)
            self.triage_actions.open_requested.connect(self.open_current)
            self.triage_actions.reply_requested.connect(self.open_reply)
        self.composer: ComposePane | None = None  # the reply composer under the thread
        self._people = {p.id: p.name for p in services.directory.people()}

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(centre)
        splitter.addWidget(self.thread_pane)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 3)
        splitter.setStretchFactor(2, 2)
        splitter.setSizes([250, 1000, 270])
        splitter.setChildrenCollapsible(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        # Wiring.
        self.unit_tree.unit_chosen.connect(self._on_unit_tree_unit_chosen)
        self.filter_bar.changed.connect(self._on_filter_bar_changed)
        self.filter_bar.submitted.connect(self._on_filter_bar_submitted)
        self.accounts.itemClicked.connect(self._on_accounts_item_clicked)
        if self.saved_views is not None:
            self.saved_views.view_chosen.connect(self._on_saved_views_view_chosen)
        if operator is not None:
            operator.changed.connect(self._on_operator_changed)
        search_key = QShortcut(QKeySequence("/"), self, self.filter_bar.focus_search)
        search_key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.view.selectionModel().selectionChanged.connect(self._on_view_selection_changed)
        self.model.loading_changed.connect(self._on_model_loading_changed)
        self.model.loaded.connect(self._on_model_loaded)
        self.model.load_failed.connect(self._on_model_load_failed)
        self.view.painted.connect(self._on_view_painted)
        self.view.open_requested.connect(self.open_current)
        QShortcut(QKeySequence("Ctrl+End"), self.view, self.jump_to_oldest)

        units = services.inbox.units()
        self._unit_names = {u.id: u.name for u in units}
        self.model.set_unit_colours({u.id: u.colour for u in units})
        self.unit_tree.set_units(units)
        self.show_accounts(services.directory.accounts())
        self.filter_bar.set_people(services.directory.people())
        self.filter_bar.set_languages(services.inbox.languages())
        self.filter_bar.set_tags(services.inbox.tag_names())  # a handful of rows, by name
        if units:
            self.unit_tree.select_unit(units[0].id)  # the company: everything
        if self.saved_views is not None:
            self.saved_views.reload()
        self.refresh_counts()

    # -- filters ------------------------------------------------------------------------------

    def current_filter(self, unit_id: int | None = None) -> FeedFilter:
        unit = unit_id if unit_id is not None else self.model.filter.unit_id
        return self.filter_bar.value(unit)

    def apply_filter(self, query: FeedFilter) -> None:
        """Show ``query`` in the bar, the tree and the list (a saved view, a click)."""
        self.filter_bar.show_filter(query)
        if query.unit_id is not None and query.unit_id != self.model.filter.unit_id:
            self.unit_tree.blockSignals(True)
            self.unit_tree.select_unit(query.unit_id)
            self.unit_tree.blockSignals(False)
        self._apply(query)

    def _apply(self, query: FeedFilter) -> None:
        """List ``query``: its first page loads in a worker (see :meth:`_on_model_loaded`)."""
        self.model.set_filter(query)
        name = self._unit_names.get(query.unit_id or -1, "All units")
        self.title.setText(name)
        self._mark_account(query.account_ids)
        if query.text:  # does the search list everything it found? (asked in a worker)
            me = self.model.me
            self._tasks.submit(
                lambda: (query, self._services.inbox.search_capped(query, me=me)),
                self._on_search_counted,
            )

    def _on_search_counted(self, result: tuple[FeedFilter, bool]) -> None:
        query, capped = result
        if capped and query == self.model.filter:
            name = self._unit_names.get(query.unit_id or -1, "All units")
            self.title.setText(f"{name}  ·  {SEARCH_CAPPED}")

    def _on_unit_tree_unit_chosen(self, unit_id: int) -> None:
        self._apply(self.current_filter(unit_id))

    def _on_filter_bar_changed(self) -> None:
        self._apply(self.current_filter())

    def apply_rules_again(self) -> RerouteDialog | None:
        """Preview (and, if asked, apply) the routing rules again on the unit shown now."""
        unit_id = self.model.filter.unit_id
        if unit_id is None and self._unit_names:
            unit_id = next(iter(self._unit_names))  # all units: the company at the root
        if unit_id is None or self._operator is None:
            return None
        dialog = RerouteDialog(
            self._services,
            self._operator.id,
            unit_id,
            self._unit_names.get(unit_id, "this unit"),
            self,
        )
        dialog.applied.connect(self._on_reroute_dialog_applied)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.reroute_dialog = dialog
        return dialog

    def _on_reroute_dialog_applied(self, _outcome: object) -> None:
        self.model.reload()
        self.refresh_counts()

    def _on_filter_bar_submitted(self) -> None:
        """From the search box to its results: the list takes the keyboard, on the first row.

        While the results load, the first row is chosen once they are listed.
        """
        self.view.setFocus(Qt.FocusReason.ShortcutFocusReason)
        if self.model.loading:
            self._first_row_wanted = True
        elif self.model.rowCount() and not self.view.selectionModel().hasSelection():
            self.view.setCurrentIndex(self.model.index(0, 0))

    def _on_saved_views_view_chosen(self, query: FeedFilter) -> None:
        self.apply_filter(query)

    def _on_accounts_item_clicked(self, item: QListWidgetItem) -> None:
        """Filter by the account clicked; clicking the account filtered by shows every one."""
        account_id = int(item.data(ACCOUNT_ID_ROLE))
        already = self.model.filter.account_ids == (account_id,)
        self.filter_bar.set_account(None if already else account_id)

    def _mark_account(self, account_ids: tuple[int, ...]) -> None:
        for i in range(self.accounts.count()):
            item = self.accounts.item(i)
            font = item.font()
            font.setBold(item.data(ACCOUNT_ID_ROLE) in account_ids)
            item.setFont(font)

    def _on_operator_changed(self, person: PersonRow) -> None:
        self.model.me = person.id
        if self.saved_views is not None:
            self.saved_views.reload()
        self._apply(self.current_filter())

    def _on_model_loading_changed(self, loading: bool) -> None:
        self.view.show_loading(loading)
        self._show_empty_note()

    def _on_model_loaded(self) -> None:
        """A new first page is listed: keep the open conversation if it is still there."""
        self.feed_error.hide()
        self._show_empty_note()
        place = self.model.row_of(self._open_id) if self._open_id is not None else None
        if place is not None:
            self._keeping_open = True  # the thread is on screen already: not read again
            try:
                self.view.setCurrentIndex(self.model.index(place, 0))
            finally:
                self._keeping_open = False
            if self.triage_actions is not None:
                self.triage_actions.follow(self.open_row())
        else:
            self._close_conversation()
            if self._first_row_wanted and self.model.rowCount():
                self.view.setCurrentIndex(self.model.index(0, 0))
        self._first_row_wanted = False
        self.view.replay_held()  # j/k/Enter pressed while the rows loaded
        if self._oldest_wanted:
            self._oldest_wanted = False
            self.jump_to_oldest()

    def _on_model_load_failed(self, message: str) -> None:
        self._first_row_wanted = self._oldest_wanted = False
        self.view.drop_held()
        if self.model.rowCount() == 0:
            self._close_conversation()
        self.feed_error.setText(LOAD_FAILED.format(error=message))
        self.feed_error.show()
        self._show_empty_note()
        self.status_message.emit(f"The conversations could not be read: {message}")

    def _close_conversation(self) -> None:
        self.close_reply()
        self._open_id = None
        self.thread_pane.show_thread(None)
        if self.triage_actions is not None:
            self.triage_actions.follow(None)

    def _show_empty_note(self) -> None:
        """The "nothing matches" note, only when that is known (not loading, no error)."""
        self.empty_note.setVisible(
            self.model.rowCount() == 0 and not self.model.loading and not self.model.error
        )

    def jump_to_oldest(self) -> None:
        """Ctrl+End; while a first page loads, once it is listed."""
        if self.model.loading:
            self._oldest_wanted = True
            return
        self.model.fetch_to_end()
        self.view.scrollToBottom()

    # -- thread -------------------------------------------------------------------------------

    def _on_view_selection_changed(self, selected: QItemSelection, _d: QItemSelection) -> None:
        rows = {i.row() for i in selected.indexes()}
        if not rows or self._keeping_open:
            return
        row = self.model.row_at(min(rows))
        self._show_conversation(row.id)
        if row.network == Network.X:  # the rest of the thread (replies between other people)
            cid = row.id
            self._tasks.submit_network(
                lambda: (cid, self._services.search_opened_thread(cid)), self._on_thread_searched
            )

    def _on_thread_searched(self, result: tuple[int, ThreadSearchOutcome]) -> None:
        conversation_id, outcome = result
        if outcome.detail:
            log.info("searching thread %s: %s", conversation_id, outcome.detail)
        if not outcome.new_messages:
            return
        self.on_conversations_changed(
            outcome.new_conversation_ids, outcome.touched_conversation_ids
        )
        current = self.view.selectionModel().selectedRows()
        if current and self.model.row_at(current[0].row()).id == conversation_id:
            self._show_conversation(conversation_id)

    def _show_conversation(self, conversation_id: int) -> None:
        """The thread with its triage details (holder, tags, history, notes): two indexed reads."""
        if self.composer is not None and self.composer.conversation_id != conversation_id:
            self.close_reply()  # its draft is saved; r in that conversation brings it back
        thread = self._services.inbox.thread(conversation_id)
        details = None if thread is None else self._services.triage.details(conversation_id)
        self._open_id = None if thread is None else conversation_id
        self.thread_pane.show_thread(
            thread,
            details,
            units=self._unit_names,
            people=self._people,
            me=self._operator.id if self._operator is not None else None,
        )
        if self.triage_actions is not None:
            self.triage_actions.follow(self.open_row())

    def open_row(self) -> ConversationRow | None:
        """The conversation open in the thread pane, as the list shows it now."""
        if self._open_id is None:
            return None
        row = self.model.row_of(self._open_id)
        return None if row is None else self.model.row_at(row)

    def open_current(self) -> None:
        """Enter: open the conversation under the cursor (the first one if none).

        While a new filter's rows load, once they are listed (the palette's "Open" too).
        """
        if self.view.rows_pending():
            self.view.press(OPEN)
            return
        index = self.view.currentIndex()
        if not index.isValid() or not self.view.selectionModel().isRowSelected(index.row()):
            self.view.move_selection(0)
        if self._open_id is None and self.model.rowCount() == 0:
            self.status_message.emit("No conversation to open here.")

    # -- the reply composer -------------------------------------------------------------------

    def open_reply(self, row: ConversationRow | None = None) -> ComposePane | None:
        """r: the reply composer under the thread of the open conversation, its draft again."""
        row = row or self.open_row()
        if row is None or self._operator is None:
            return None
        if self.composer is not None and self.composer.conversation_id == row.id:
            self.composer.editor.setFocus()
            return self.composer
        self.close_reply()
        kind = DraftKind.DM if row.kind == MessageKind.DM else DraftKind.REPLY
        composer = ComposePane(
            self._services,
            self._operator,
            kind,
            conversation_id=row.id,
            unit_id=row.unit_id,
            compact=True,
        )
        composer.dismissed.connect(self._on_composer_dismissed)
        composer.submitted.connect(self._on_composer_submitted)
        self.composer = composer
        self.thread_pane.show_composer(composer)
        composer.editor.setFocus(Qt.FocusReason.ShortcutFocusReason)
        return composer

    def close_reply(self) -> None:
        """Take the composer away; what it holds is saved first (the draft stays)."""
        composer, self.composer = self.composer, None
        if composer is None:
            return
        self.thread_pane.take_composer()
        composer.shutdown(3000)
        composer.deleteLater()

    def _on_composer_dismissed(self) -> None:
        self.close_reply()
        self.view.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _on_composer_submitted(self, draft_id: int, state: str) -> None:
        self.status_message.emit(f"Draft {draft_id}: {state.replace('_', ' ')}.")
        self.draft_submitted.emit(draft_id, state)

    # -- triage actions -----------------------------------------------------------------------

    def _on_actions_changed(self, conversation_id: int, details: TriageDetails | None) -> None:
        """Repaint the one row (no list reload) and the open thread's header and activity.

        The thread's messages stay as they are; the unit counts follow a little later.
        """
        self.model.refresh_rows([conversation_id])
        row = self.open_row() if conversation_id == self._open_id else None
        if row is not None and details is not None:
            self.thread_pane.refresh_details(
                row,
                details,
                units=self._unit_names,
                people=self._people,
                me=self._operator.id if self._operator is not None else None,
            )
            if self.triage_actions is not None:
                self.triage_actions.follow(row)
        elif conversation_id == self._open_id:
            self._show_conversation(conversation_id)
        self._schedule_counts()
        self.conversation_refreshed.emit(conversation_id)

    def _on_actions_refused(self, message: str) -> None:
        self.thread_pane.show_notice(message)
        self.status_message.emit(message)

    # -- counts and accounts ------------------------------------------------------------------

    def refresh_counts(self) -> None:
        """Recount every unit in a worker; the tree fills in when the result arrives."""
        self._tasks.submit(
            self._services.inbox.unit_counts, self._on_counts_loaded, self._on_counts_failed
        )

    def _on_counts_loaded(self, counts: dict[int, UnitCount]) -> None:
        self.counts = counts
        self.unit_tree.tree_model.set_counts(counts)
        self.counts_changed.emit(counts)

    def _on_counts_failed(self, message: str) -> None:
        log.warning("could not count conversations: %s", message)

    def show_accounts(self, accounts: list[AccountRow]) -> None:
        self.accounts.clear()
        # With no account at all, the empty list says how to get conversations.
        self.empty_note.setText(EMPTY_FILTERED if accounts else EMPTY_NO_ACCOUNTS)
        self.filter_bar.set_accounts(accounts)
        for account in accounts:
            network = NETWORK_LABELS.get(account.network, account.network)
            label = (
                f"{network}  @{account.handle}  ·  {STATE_LABELS.get(account.state, account.state)}"
            )
            if account.network == Network.SANDBOX:
                label += "  (demo network)"
            item = QListWidgetItem(label)
            item.setData(ACCOUNT_ID_ROLE, account.id)
            tip = account.display_name
            if account_detail(account):
                tip += f"\n{account_detail(account)}"
            item.setToolTip(plain_tooltip(tip))
            self.accounts.addItem(item)

    def on_conversations_changed(self, _new: tuple, touched: tuple) -> None:
        """New or updated conversations were stored: show them without losing the person's place.

        The open conversation, when it is among them, shows its new messages (a customer's, or
        a reply the outbox sent).
        """
        view = self.view
        anchor = view.indexAt(view.viewport().rect().topLeft())
        anchor_id = self.model.row_at(anchor.row()).id if anchor.isValid() else None
        at_top = view.verticalScrollBar().value() == 0
        open_id = self._open_id
        self._keeping_open = True  # the open row may move up: its neighbour is not opened
        try:
            added = self.model.merge_newer()
            place = self.model.row_of(open_id) if open_id is not None else None
            if place is not None and view.currentIndex().row() != place:
                view.setCurrentIndex(self.model.index(place, 0))
        finally:
            self._keeping_open = False
        if added and not at_top and anchor_id is not None:
            row = self.model.row_of(anchor_id)
            if row is not None:
                view.scrollTo(self.model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtTop)
        self._show_empty_note()
        self._schedule_counts()
        if self._open_id is not None and self._open_id in touched:
            self._show_conversation(self._open_id)

    def _schedule_counts(self) -> None:
        if not self._counts_pending:
            self._counts_pending = True
            QTimer.singleShot(COUNTS_THROTTLE_MS, self, self._on_counts_timer)  # dies with the page

    def _on_counts_timer(self) -> None:
        self._counts_pending = False
        self.refresh_counts()

    def refresh(self) -> None:
        self.model.reload()
        self.refresh_counts()

    def shutdown(self) -> None:
        if self.composer is not None:
            self.composer.shutdown(3000)
        self.model.wait(2000)
        self._tasks.wait(2000)

    # -- first paint --------------------------------------------------------------------------

    def _on_view_painted(self) -> None:
        if not self._painted_once:
            self._painted_once = True
            QTimer.singleShot(0, self, self.first_page_painted.emit)


def _section(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setObjectName("sectionLabel")
    return label
