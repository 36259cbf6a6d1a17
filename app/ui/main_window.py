"""The main window: navigation between the screens, the inbox, menus and the status bar."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.config import LocalPrefs
from app.domain.enums import AccountState, Network
from app.domain.rows import AccountRow, FeedFilter, PersonRow, UnitCount
from app.services.container import Services
from app.ui.approvals.approvals_page import ApprovalsPage
from app.ui.approvals.notifications import (
    ApprovalWatcher,
    NotificationList,
    Notifier,
    TrayNotifier,
)
from app.ui.command_palette import Command, CommandPalette
from app.ui.compose.compose_page import COMPOSE_SCREEN, ComposePage
from app.ui.formatting import STATE_LABELS, account_detail, count
from app.ui.inbox.inbox_page import STATUS_CHOICES, InboxPage
from app.ui.operator import OperatorBinding
from app.ui.placeholders import SCREENS, PlaceholderScreen
from app.ui.polling import PollingController
from app.ui.publisher import PublisherController
from app.ui.publishing.publishing_page import PublishingPage
from app.ui.settings.settings_page import SettingsPage
from app.ui.shortcut_sheet import ShortcutSheet, window_keys

if TYPE_CHECKING:  # built when first wanted: start-up does not pay for the strategy editor
    from app.ui.strategy.file_window import StrategyFileWindow
    from app.ui.strategy.strategy_page import StrategyPage

SCREEN_NAMES = ("Inbox", *SCREENS)


ABOUT = """Quiver — the social command center.

What works in this version:
• One inbox of mentions, replies, comments and direct messages from X, Facebook Pages and the
  Sandbox demo network, polled in the background.
• Every new conversation routed by your rules (with a live preview in Settings), scored by the
  spam filter, and given its reply-due time in business hours.
• Triage from the keyboard: claim, hand over, resolve, spam, tags and notes, a command palette
  (Ctrl+K), filters, search and saved views.
• Drafts checked against the social media policy and the approval rules; the Approvals screen
  for supervisors; an outbox that publishes each approved draft once, even after a crash, with
  its queue and calendar.
• Workspaces in a SQLite file or on a PostgreSQL server shared by a team; quiver workspace copy
  moves one between the two.
• A new organization set up from scratch: units, people and their roles, permissions checked on
  every action, sign-in with a passphrase, and an audit log of every change.
• The strategy as a funnel (mission, business and department goals, audience insights, social
  goals with KPIs, tactics) with what is missing, a timeline of the tactics, what served each
  goal, and the social media policy; a strategy file edited offline in the same editor
  (File > Open strategy file…, or quiver strategy edit FILE).

Not in this version yet: reports. Its screen says so."""


class MainWindow(QMainWindow):
    """Everything a community manager works in; services come in through the constructor."""

    first_page_painted = Signal()
    operator_switch_requested = Signal()
    new_workspace_requested = Signal()  # File > New workspace… (app.ui.setup.first_run)

    def __init__(
        self,
        services: Services,
        operator: PersonRow,
        prefs: LocalPrefs,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        # Every screen acts as whoever this binding names at the moment it acts.
        self.operator_binding = OperatorBinding(operator, self)
        self._prefs = prefs
        org = services.directory.organization_name()
        self.setWindowTitle(f"Quiver — {org} — {Path(services.workspace_name).name}")
        self._fit_to_screen()

        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(176)
        self.nav.addItems(list(SCREEN_NAMES))
        self.nav.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.nav.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.stack = QStackedWidget()
        self.inbox = InboxPage(services, operator=self.operator_binding)
        self.stack.addWidget(self.inbox)
        self.placeholders: dict[str, PlaceholderScreen] = {}
        self.settings = SettingsPage(services, self.operator_binding)
        # "Compose & Publishing": tabs "Queue" and "Calendar" (the compose pane adds its own).
        self.publishing = PublishingPage(services, self.operator_binding)
        self.publishing.status_message.connect(self._on_inbox_status_message)
        self.approvals = ApprovalsPage(services, self.operator_binding)
        self.compose_page = ComposePage(services, self.operator_binding)
        # The Strategy screen is built the first time it is wanted (shown, or a file opened).
        self._strategy: StrategyPage | None = None
        self.strategy_slot = QWidget()
        self.strategy_slot.setObjectName("strategySlot")
        slot_layout = QVBoxLayout(self.strategy_slot)
        slot_layout.setContentsMargins(0, 0, 0, 0)
        self.strategy_windows: list[StrategyFileWindow] = []  # kept, or they would be collected
        self.publishing.insertTab(0, self.compose_page, "New post")
        self.publishing.setCurrentIndex(0)
        for name in SCREENS:
            if name == "Settings":
                self.stack.addWidget(self.settings)
                continue
            if name == "Compose & Publishing":
                self.stack.addWidget(self.publishing)
                continue
            if name == "Approvals":
                self.stack.addWidget(self.approvals)
                continue
            if name == "Strategy":
                self.stack.addWidget(self.strategy_slot)
                continue
            screen = PlaceholderScreen(name)
            self.placeholders[name] = screen
            self.stack.addWidget(screen)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.stack.currentChanged.connect(self._on_stack_current_changed)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.nav.setCurrentRow(0)

        self._build_menus()
        self._build_status_bar()
        self.polling: PollingController | None = None
        self.publisher: PublisherController | None = None
        self.inbox.counts_changed.connect(self._on_inbox_counts_changed)
        self.inbox.first_page_painted.connect(self.first_page_painted)
        self.inbox.status_message.connect(self._on_inbox_status_message)
        self.settings.accounts.accounts_changed.connect(self._show_account_states)
        self._wire_approvals()

    def _fit_to_screen(self) -> None:
        area = self.screen().availableGeometry()
        self.resize(min(1680, int(area.width() * 0.94)), min(1020, int(area.height() * 0.94)))

    # -- navigation ---------------------------------------------------------------------------

    def show_screen(self, name: str) -> None:
        self.nav.setCurrentRow(SCREEN_NAMES.index(name))

    def current_screen(self) -> str:
        return SCREEN_NAMES[self.stack.currentIndex()]

    # -- menus --------------------------------------------------------------------------------

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.new_post_action = QAction("New post…", self)
        self.new_post_action.setShortcut(QKeySequence("Ctrl+N"))
        self.new_post_action.setStatusTip("write a post to one or several accounts")
        self.new_post_action.triggered.connect(self.new_post)
        file_menu.addAction(self.new_post_action)
        self.new_workspace_action = QAction("New workspace…", self)
        self.new_workspace_action.triggered.connect(self.new_workspace_requested)
        file_menu.addAction(self.new_workspace_action)
        self.open_strategy_action = QAction("Open strategy file…", self)
        self.open_strategy_action.setStatusTip("edit a strategy file offline, in its own window")
        self.open_strategy_action.triggered.connect(self.open_strategy_file)
        file_menu.addAction(self.open_strategy_action)
        file_menu.addSeparator()
        switch = QAction("Switch operator…", self)
        switch.triggered.connect(self.operator_switch_requested)
        file_menu.addAction(switch)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        view_menu = self.menuBar().addMenu("&View")
        refresh = QAction("&Refresh", self)
        refresh.setShortcut(QKeySequence("F5"))
        refresh.triggered.connect(self.inbox.refresh)
        view_menu.addAction(refresh)
        self.reroute_action = QAction("Apply the rules again to this unit…", self)
        self.reroute_action.setStatusTip("what the routing rules would move now, then move it")
        self.reroute_action.triggered.connect(self._on_reroute_action_triggered)
        view_menu.addAction(self.reroute_action)
        view_menu.addSeparator()
        for i, name in enumerate(SCREEN_NAMES):
            go = QAction(name.replace("&", "&&"), self)  # "Compose & Publishing" as written
            go.setStatusTip(f"go to {name}")
            go.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
            go.setData(name)
            go.triggered.connect(self._on_go_action_triggered)
            view_menu.addAction(go)
        self.palette_action = QAction("Command palette…", self)
        self.palette_action.setShortcut(QKeySequence("Ctrl+K"))
        self.palette_action.setStatusTip("every action, screen and unit by name")
        self.palette_action.triggered.connect(self.open_palette)
        view_menu.addSeparator()
        view_menu.addAction(self.palette_action)
        help_menu = self.menuBar().addMenu("&Help")
        self.sheet_action = QAction("Keyboard shortcuts", self)
        # "?" as a keyboard sends it (Shift+/ on many layouts) and as a test sends it
        self.sheet_action.setShortcuts([QKeySequence("?"), QKeySequence("Shift+?")])
        self.sheet_action.setStatusTip("this list of every key")
        self.sheet_action.triggered.connect(self.open_shortcut_sheet)
        help_menu.addAction(self.sheet_action)
        about = QAction("&About Quiver", self)
        about.triggered.connect(self._on_about_triggered)
        help_menu.addAction(about)

    def new_post(self) -> None:
        """Ctrl+N: the compose pane for a new post (the post being written, if there is one)."""
        self.show_screen(COMPOSE_SCREEN)
        self.publishing.setCurrentWidget(self.compose_page)
        self.compose_page.focus_editor()

    @property
    def strategy(self) -> StrategyPage:
        """The Strategy screen (built now if it was not yet)."""
        return self._built_strategy()

    def _built_strategy(self) -> StrategyPage:
        if self._strategy is None:
            from app.ui.strategy.strategy_page import StrategyPage

            page = StrategyPage(self.services, self.operator_binding)
            page.open_file_requested.connect(self.open_strategy_file)
            # An import from a file window ends on the Strategy screen, with the result in it.
            page.transfer.imported.connect(self._on_strategy_imported)
            layout = self.strategy_slot.layout()
            assert layout is not None
            layout.addWidget(page)
            page.setVisible(True)  # a child added to a shown slot stays hidden otherwise
            self._strategy = page
        return self._strategy

    def _on_stack_current_changed(self, index: int) -> None:
        if self.stack.widget(index) is self.strategy_slot:
            self._built_strategy()  # on first showing

    def open_strategy_file(self, path: str | None = None) -> StrategyFileWindow | None:
        """A strategy file in a window of its own (no workspace needed); asks which if not given."""
        from app.ui.strategy.file_window import StrategyFileWindow, choose_file_to_open

        if not path:
            path = choose_file_to_open(self, str(Path.home()))
            if not path:
                return None
        for closed in [w for w in self.strategy_windows if not w.isVisible()]:
            self.strategy_windows.remove(closed)  # closed since: let them go
            closed.deleteLater()
        window = StrategyFileWindow(hints=self.strategy.source.file_hints)
        window.offer_import(
            Path(self.services.workspace_name).name, self.strategy.transfer.start_import
        )
        self.strategy_windows.append(window)
        window.resize(min(1600, self.width()), min(960, self.height()))
        window.show()
        window.open_file(path)
        return window

    def _on_strategy_imported(self, _plan: object) -> None:
        self.show_screen("Strategy")
        self.activateWindow()

    def _on_reroute_action_triggered(self) -> None:
        self.show_screen("Inbox")
        self.inbox.apply_rules_again()

    # -- keyboard: the palette and the sheet ----------------------------------------------------

    def commands(self) -> list[Command]:
        """Everything the palette offers: the inbox's actions, the menus, screens and views."""
        found: list[Command] = []
        if self.inbox.triage_actions is not None:
            for action in self.inbox.triage_actions.actions.values():
                if action.isEnabled():
                    key = action.shortcut().toString() or "Enter"
                    found.append(Command(action.text(), key, action.trigger))
        for menu in self.menuBar().findChildren(QMenu):
            for action in menu.actions():
                if action.isSeparator() or action is self.palette_action:
                    continue
                name = _without_mnemonic(action.text())
                if action.data() in SCREEN_NAMES:
                    name = f"Go to {action.data()}"
                found.append(Command(name, action.shortcut().toString(), action.trigger))
        for unit in self.services.inbox.units():
            found.append(Command(f"Show unit: {unit.name}", "unit", self._show_unit(unit.id)))
        for i, (label, _) in enumerate(STATUS_CHOICES):
            found.append(Command(f"Show status: {label}", "view", self._show_status(i)))
        panel = self.inbox.saved_views
        for view in panel.rows() if panel is not None else ():
            if view.filter is not None:
                found.append(
                    Command(f"Show view: {view.name}", "view", self._show_view(view.filter))
                )
        return found

    def _show_view(self, query: FeedFilter) -> Callable[[], None]:
        def run() -> None:
            self.show_screen("Inbox")
            self.inbox.apply_filter(query)
            self.inbox.view.setFocus()

        return run

    def _show_unit(self, unit_id: int) -> Callable[[], None]:
        def run() -> None:
            self.show_screen("Inbox")
            self.inbox.unit_tree.select_unit(unit_id)
            self.inbox.view.setFocus()

        return run

    def _show_status(self, index: int) -> Callable[[], None]:
        def run() -> None:
            self.show_screen("Inbox")
            self.inbox.status_filter.setCurrentIndex(index)
            self.inbox.view.setFocus()

        return run

    def open_palette(self) -> None:
        self.command_palette = CommandPalette(self.commands(), self)
        self.command_palette.finished.connect(self.command_palette.deleteLater)
        self.command_palette.open()

    def open_shortcut_sheet(self) -> None:
        self.sheet = ShortcutSheet(window_keys(self), self)
        self.sheet.finished.connect(self.sheet.deleteLater)
        self.sheet.open()

    def _on_go_action_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.show_screen(str(action.data()))

    def _on_about_triggered(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("About Quiver")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(ABOUT)
        box.exec()

    # -- status bar ---------------------------------------------------------------------------

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.workspace_label = QLabel(f"Workspace: {self.services.workspace_name}")
        self.operator_label = QLabel(f"Acting as {self.operator.name}")
        self.trust_label = QLabel("Sign-in off: anyone here can act as anyone")
        self.trust_label.setToolTip(
            "Choosing who you are is a matter of trust at this workstation. An "
            "administrator can turn on passphrases in Settings > Sign-in."
        )
        self.trust_label.setObjectName("trustWarning")
        self.trust_label.setTextFormat(Qt.TextFormat.PlainText)
        self.trust_label.setVisible(not self.services.signin.required())
        self.counts_label = QLabel("Counting conversations…")
        accounts = self.services.directory.accounts()
        self.accounts_label = QLabel(_accounts_summary(accounts))
        for label in (
            self.workspace_label,
            self.operator_label,
            self.counts_label,
            self.accounts_label,
        ):
            label.setTextFormat(Qt.TextFormat.PlainText)
        bar.addWidget(self.workspace_label, 1)
        self.outbox_label = QLabel("Outbox: …")
        self.outbox_label.setTextFormat(Qt.TextFormat.PlainText)
        self.outbox_label.setToolTip(
            "accounts still to publish on: approved, scheduled or being retried "
            "(Compose & Publishing)"
        )
        bar.addPermanentWidget(self.counts_label)
        bar.addPermanentWidget(self.outbox_label)
        bar.addPermanentWidget(self.accounts_label)
        self.sandbox_label = QLabel("Sandbox = demo network")
        self.sandbox_label.setObjectName("sandboxHint")
        bar.addPermanentWidget(self.sandbox_label)
        self.sandbox_label.setVisible(any(a.network == Network.SANDBOX for a in accounts))
        bar.addPermanentWidget(self.trust_label)
        bar.addPermanentWidget(self.operator_label)

    def _on_inbox_counts_changed(self, counts: dict[int, UnitCount]) -> None:
        units = self.services.inbox.units()
        if not units:
            self.counts_label.setText("No units yet")
            return
        root = counts.get(units[0].id, UnitCount(0, 0, 0))
        self.counts_label.setText(
            f"{count(root.total)} conversations · {count(root.backlog)} need attention"
        )

    # -- approvals and notifications ----------------------------------------------------------

    def _wire_approvals(self) -> None:
        """The Approvals screen's messages and count; notifications (checked once polling runs)."""
        self.approvals.status_message.connect(self._on_inbox_status_message)
        self.approvals.count_changed.connect(self._on_approvals_count_changed)
        self.approvals.outcome_shown.connect(self._wake_publisher)
        self.inbox.draft_submitted.connect(self._on_draft_submitted)
        self.compose_page.pane.submitted.connect(self._on_draft_submitted)
        self.notifications = NotificationList(self)
        self.notifications.opened.connect(self.open_draft)
        self.statusBar().addPermanentWidget(self.notifications.button)
        notifiers: list[Notifier] = [self.notifications]
        self.tray: TrayNotifier | None = None
        if TrayNotifier.available():
            self.tray = TrayNotifier(self)
            self.tray.opened.connect(self.open_draft)
            notifiers.append(self.tray)
        self.watcher = ApprovalWatcher(self.services.drafts, self.operator_binding, notifiers, self)
        self.watcher.news_arrived.connect(self._on_watcher_news_arrived)
        self.operator_binding.changed.connect(self._on_operator_binding_changed)

    def open_draft(self, draft_id: int) -> None:
        """Go to the draft in Approvals (a notification was clicked)."""
        self.show_screen("Approvals")
        self.approvals.show_draft(draft_id)
        self.activateWindow()

    def _on_watcher_news_arrived(self, _items: tuple) -> None:
        self.approvals.reload()  # what waits changed: the list and its count

    def _on_operator_binding_changed(self, _person: PersonRow) -> None:
        self.notifications.clear()  # they were for the person acting before

    def _on_approvals_count_changed(self, n: int, more: bool) -> None:
        item = self.nav.item(SCREEN_NAMES.index("Approvals"))
        item.setText(f"Approvals  ({n}{'+' if more else ''})" if n else "Approvals")

    # -- background polling -------------------------------------------------------------------

    def start_polling(self) -> None:
        """Poll the connected accounts in a worker thread; the inbox follows what arrives."""
        if self.polling is not None or not self.isVisible():
            return  # already polling, or the window was closed before polling began
        self.polling = PollingController(self.services.polling, self)
        self.polling.batch_stored.connect(self._on_polling_batch_stored)
        self.polling.account_state_changed.connect(self._on_polling_account_state_changed)
        self.polling.tick_failed.connect(self._on_polling_failed)
        self.polling.start()
        self.start_publisher()
        self.watcher.start()
        self.approvals.reload()  # the count in the navigation, read in a worker

    def start_publisher(self) -> None:
        """Send approved drafts when due, from a worker thread (reconciling a crash first)."""
        if self.publisher is not None:
            return
        self.publisher = PublisherController(self.services.publisher, self)
        self.publisher.round_done.connect(self._on_publisher_round_done)
        self.publisher.round_failed.connect(self._on_publisher_round_failed)
        self.publisher.start()

    def _on_publisher_round_done(self, conversations: tuple, finished: tuple, waiting: int) -> None:
        self.outbox_label.setText(f"Outbox: {count(waiting)}" if waiting else "Outbox: empty")
        if conversations:
            self.inbox.on_conversations_changed((), conversations)
        if conversations or finished:
            self.publishing.refresh()
        for draft_id, state in finished:
            if state == "failed":
                self.statusBar().showMessage(
                    f"Draft {draft_id} could not be published everywhere: see Publishing.", 15_000
                )

    def _on_draft_submitted(self, _draft_id: int, _state: str) -> None:
        self._wake_publisher()  # approved at once when no rule asks for an approval
        self.publishing.refresh()
        self.approvals.reload()  # the count in the navigation

    def _wake_publisher(self, *_: object) -> None:
        """Something may have become due (a draft approved here): the outbox looks now."""
        if self.publisher is not None:
            self.publisher.wake()

    def _on_publisher_round_failed(self, message: str) -> None:
        self.statusBar().showMessage(f"The outbox is retrying after an error: {message}", 15_000)

    def _on_polling_batch_stored(self, _account_id: int, new: tuple, touched: tuple) -> None:
        self.inbox.on_conversations_changed(new, touched)

    def _on_polling_account_state_changed(self, _account_id: int, _state: str, _d: str) -> None:
        self._show_account_states()

    def _on_inbox_status_message(self, message: str) -> None:
        self.statusBar().showMessage(message, 10_000)

    def _on_polling_failed(self, message: str) -> None:
        """Polling could not read the workspace: say so (it retries by itself)."""
        self.statusBar().showMessage(f"Polling is retrying after an error: {message}", 15_000)

    def _show_account_states(self) -> None:
        accounts = self.services.directory.accounts()
        self.inbox.show_accounts(accounts)
        self.accounts_label.setText(_accounts_summary(accounts))
        self.sandbox_label.setVisible(any(a.network == Network.SANDBOX for a in accounts))

    @property
    def operator(self) -> PersonRow:
        """The person acting now."""
        return self.operator_binding.person

    def set_operator(self, operator: PersonRow) -> None:
        """Act as ``operator`` from now on, in every screen at once."""
        self.operator_binding.switch(operator)
        self.operator_label.setText(f"Acting as {operator.name}")

    def show_sign_in_state(self) -> None:
        """Say plainly, when sign-in is off, that choosing who you are is a matter of trust."""
        self.trust_label.setVisible(not self.services.signin.required())

    # -- closing ------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.polling is not None:
            self.polling.shutdown(2000)
        if self.publisher is not None:
            self.publisher.shutdown(2000)
        self.watcher.stop()
        self.inbox.shutdown()
        self.approvals.shutdown()
        self.compose_page.shutdown()
        if self._strategy is not None:
            self._strategy.shutdown()
        self.settings.accounts.shutdown()
        self.publishing.shutdown()
        super().closeEvent(event)


def _accounts_summary(accounts: list[AccountRow]) -> str:
    """Polling accounts as a count; every account that needs attention by name and state."""
    polling = sum(a.state == AccountState.CONNECTED for a in accounts)
    paused = sum(a.state == AccountState.PAUSED for a in accounts)
    parts = [f"{polling} polling"] if polling else []
    attention = (AccountState.RATE_LIMITED, AccountState.NEEDS_RECONNECT, AccountState.OFFLINE)
    for a in accounts:
        if a.state in attention:
            state = STATE_LABELS.get(a.state, a.state)
            if a.state == AccountState.RATE_LIMITED and account_detail(a):
                state = account_detail(a)  # "rate limited until 14:05", local time
            parts.append(f"@{a.handle} {state}")
    if paused:
        parts.append(f"{paused} paused")
    return "Accounts: " + " · ".join(parts) if parts else "No accounts yet"


def _without_mnemonic(text: str) -> str:
    """A menu text as it reads: "&Refresh" is "Refresh", "A && B" is "A & B"."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")
