"""Settings: accounts (X with OAuth in the browser; a Facebook Page by Facebook Login or token)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import Network
from app.domain.permissions import Action
from app.domain.polling import MAX_POLL_INTERVAL_S, POLL_FLOORS_S, poll_floor_s
from app.domain.rows import AccountRow, PersonRow
from app.services.accounts import REDIRECT_PORT
from app.services.container import Services
from app.ui.formatting import NETWORK_LABELS, STATE_LABELS, account_detail
from app.ui.labels import plain_tooltip
from app.ui.operator import OperatorBinding
from app.ui.settings.audit_tab import AuditTab
from app.ui.settings.people_tab import PeopleTab
from app.ui.settings.rules_tab import RulesTab
from app.ui.settings.signin_tab import SignInTab
from app.ui.settings.spam_tab import SpamTab
from app.ui.settings.units_tab import UnitsTab
from app.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.connectors.facebook_login import PageChoice

log = logging.getLogger("quiver.ui.settings")


def open_in_browser(url: str) -> None:
    """Open the authorization page in the system browser (tests replace this)."""
    QDesktopServices.openUrl(QUrl(url))


def tell(parent: QWidget, title: str, text: str, *, error: bool = True) -> None:
    """A plain-text message for the person (tests replace this)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning if error else QMessageBox.Icon.Information)
    box.setWindowTitle(title)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(text)
    box.exec()


class FacebookPageDialog(QDialog):
    def __init__(self, units: list[tuple[int, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect a Facebook Page")
        self.page_id = QLineEdit()
        self.page_id.setPlaceholderText("e.g. 104000000000001")
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("Page access token (stored in the system keyring)")
        self.unit = QComboBox()
        for uid, name in units:
            self.unit.addItem(name, uid)
        form = QFormLayout(self)
        form.addRow("Page ID", self.page_id)
        form.addRow("Page access token", self.token)
        form.addRow("Owned by", self.unit)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class PagePickerDialog(QDialog):
    """The Pages the person manages, after Facebook Login: they choose the one to connect."""

    def __init__(self, pages: list[PageChoice], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose the Facebook Page to connect")
        self.pages = pages
        self.list = QListWidget()
        for page in pages:
            tasks = ", ".join(t.lower() for t in page.tasks) or "no tasks listed"
            item = QListWidgetItem(f"{page.name} ({page.id})\nyou may: {tasks}")
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Connect this Page")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Pages you manage with this Facebook login:"))
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)

    def chosen(self) -> PageChoice | None:
        row = self.list.currentRow()
        return self.pages[row] if 0 <= row < len(self.pages) else None


def choose_page(parent: QWidget, pages: list[PageChoice]) -> PageChoice | None:
    """Ask which Page to connect (tests replace this)."""
    dialog = PagePickerDialog(pages, parent)
    return dialog.chosen() if dialog.exec() == QDialog.DialogCode.Accepted else None


class SandboxAccountDialog(QDialog):
    """A training account on the Sandbox: its handle and the unit that owns it."""

    def __init__(
        self, units: list[tuple[int, str]], unit_id: int | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a Sandbox account (training)")
        about = QLabel(
            "The Sandbox is Quiver's demo network, for training: an account there needs no "
            "login, streams practice conversations into the inbox and takes replies and posts, "
            "none of which reaches a real network. It is labelled “demo network” wherever "
            "accounts are listed."
        )
        about.setTextFormat(Qt.TextFormat.PlainText)
        about.setWordWrap(True)
        about.setMinimumWidth(460)
        self.handle = QLineEdit()
        self.handle.setObjectName("sandboxHandle")
        self.handle.setPlaceholderText("e.g. acme_training (letters, digits, _)")
        self.handle.setMaxLength(31)
        self.unit = QComboBox()
        for uid, name in units:
            self.unit.addItem(name, uid)
        if unit_id is not None and self.unit.findData(unit_id) >= 0:
            self.unit.setCurrentIndex(self.unit.findData(unit_id))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Add account")
        form = QFormLayout(self)
        form.addRow(about)
        form.addRow("Handle  @", self.handle)
        form.addRow("Owned by", self.unit)
        form.addRow(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)


def ask_sandbox_account(
    parent: QWidget, units: list[tuple[int, str]], unit_id: int | None
) -> tuple[str, int] | None:
    """Ask for the handle and owner of a Sandbox account (tests replace this)."""
    dialog = SandboxAccountDialog(units, unit_id, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.handle.text(), int(dialog.unit.currentData())


class AccountsTab(QWidget):
    """The connected accounts, their state, and connect / disconnect."""

    accounts_changed = Signal()

    def __init__(
        self, services: Services, operator: OperatorBinding, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._operator = operator  # read at the moment of acting: a switch reaches this tab
        self._tasks = TaskRunner(self)
        self.access_note = QLabel()
        self.access_note.setObjectName("accessNote")
        self.access_note.setTextFormat(Qt.TextFormat.PlainText)
        self.access_note.setWordWrap(True)
        self._cancel = threading.Event()
        self.busy = False
        self.redirect_port = REDIRECT_PORT

        self.client_id = QLineEdit(services.accounts.x_client_id() or "")
        self.client_id.setPlaceholderText("Client ID of your organization's X app (OAuth 2.0)")
        save = QPushButton("Save")
        save.clicked.connect(self._on_save_clicked)

        self.fb_app_id = QLineEdit(services.accounts.facebook_app_id() or "")
        self.fb_app_id.setPlaceholderText("Meta app ID (for Facebook Login)")
        self.fb_app_secret = QLineEdit()
        self.fb_app_secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.fb_app_secret.setPlaceholderText(
            "saved in the system keyring"
            if services.accounts.facebook_app_ready()
            else "app secret (kept in the system keyring)"
        )
        save_fb = QPushButton("Save")
        save_fb.clicked.connect(self._on_save_fb_app_clicked)
        apps = QGridLayout()  # the organization's own apps on each network
        apps.addWidget(QLabel("X app client ID"), 0, 0)
        apps.addWidget(self.client_id, 0, 1, 1, 3)
        apps.addWidget(save, 0, 4)
        apps.addWidget(QLabel("Meta app ID"), 1, 0)
        apps.addWidget(self.fb_app_id, 1, 1)
        apps.addWidget(QLabel("app secret"), 1, 2)
        apps.addWidget(self.fb_app_secret, 1, 3)
        apps.addWidget(save_fb, 1, 4)
        apps.setColumnStretch(1, 1)
        apps.setColumnStretch(3, 1)

        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(
            ["Network", "Account", "Owned by", "State", "Polled every", "Detail"]
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        for col, width in enumerate((190, 300, 190, 130, 110)):
            header.resizeSection(col, width)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.connect_x_button = QPushButton("Connect X account…")
        self.login_fb_button = QPushButton("Log in with Facebook…")
        self.connect_fb_button = QPushButton("Connect Page with a token…")
        self.disconnect_button = QPushButton("Disconnect")
        self.interval = QSpinBox()
        self.interval.setRange(min(POLL_FLOORS_S.values()), MAX_POLL_INTERVAL_S)
        self.interval.setSuffix(" s")
        self.interval.setToolTip("How often the selected account's mentions or feed are polled")
        self.apply_interval_button = QPushButton("Set")
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        for b in (
            self.connect_x_button,
            self.login_fb_button,
            self.connect_fb_button,
            self.disconnect_button,
        ):
            buttons.addWidget(b)
        self.add_sandbox_button = QPushButton("Add Sandbox account (training)…")
        self.add_sandbox_button.setToolTip(
            "An account on the Sandbox, Quiver's demo network: practice conversations, no login"
        )
        buttons.addWidget(self.add_sandbox_button)
        buttons.addSpacing(12)
        buttons.addWidget(QLabel("Poll every"))
        buttons.addWidget(self.interval)
        buttons.addWidget(self.apply_interval_button)
        buttons.addStretch(1)
        self.unit_choice = QComboBox()
        for unit in services.inbox.units():
            self.unit_choice.addItem(unit.name, unit.id)
        buttons.addWidget(QLabel("New accounts belong to"))
        buttons.addWidget(self.unit_choice)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.addWidget(self.access_note)
        layout.addLayout(apps)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        note = QLabel(
            "Tokens are kept in the system keyring, never in the workspace, logs or "
            "exports. Disconnecting removes them and keeps the account's history."
        )
        note.setWordWrap(True)
        note.setObjectName("placeholderBody")
        layout.addWidget(note)
        self.connect_x_button.clicked.connect(self._on_connect_x_clicked)
        self.connect_fb_button.clicked.connect(self._on_connect_fb_clicked)
        self.login_fb_button.clicked.connect(self._on_login_fb_clicked)
        self.disconnect_button.clicked.connect(self._on_disconnect_clicked)
        self.add_sandbox_button.clicked.connect(self._on_add_sandbox_clicked)
        self.apply_interval_button.clicked.connect(self._on_apply_interval_clicked)
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)
        operator.changed.connect(self._on_operator_changed)
        self.refresh()
        self._apply_access()

    def _on_operator_changed(self, _person: PersonRow) -> None:
        self._apply_access()

    def _apply_access(self) -> None:
        """Say what the operator may not do here, instead of failing on click."""
        decision = self._services.access.anywhere(
            self._operator.id, Action.MANAGE_ACCOUNTS, doing="connect or change accounts"
        )
        self.access_note.setText(decision.reason)
        self.access_note.setVisible(not decision.allowed)
        for widget in (
            self.add_sandbox_button,
            self.connect_x_button,
            self.login_fb_button,
            self.connect_fb_button,
            self.disconnect_button,
            self.apply_interval_button,
            self.interval,
            self.client_id,
            self.fb_app_id,
            self.fb_app_secret,
        ):
            widget.setEnabled(decision.allowed)
        if decision.allowed:
            self._on_table_selection_changed()

    def refresh(self) -> None:
        units = {u.id: u.name for u in self._services.inbox.units()}
        accounts = self._services.directory.accounts()
        self.table.setRowCount(len(accounts))
        self._ids = [a.id for a in accounts]
        self._accounts = accounts
        for row, a in enumerate(accounts):
            network = NETWORK_LABELS.get(a.network, a.network)
            if a.network == Network.SANDBOX:
                network += " (demo network)"
            values = [
                network,
                f"@{a.handle} — {a.display_name}",
                units.get(a.unit_id, ""),
                STATE_LABELS.get(a.state, a.state),
                f"{a.poll_interval_s} s",
                account_detail(a),
            ]
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                if value:
                    item.setToolTip(plain_tooltip(value))
                self.table.setItem(row, col, item)

    def _selected(self) -> AccountRow | None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        return self._accounts[min(rows)] if rows else None

    def _on_table_selection_changed(self) -> None:
        account = self._selected()
        if account is not None:
            self.interval.setMinimum(poll_floor_s(account.network))
            self.interval.setValue(account.poll_interval_s)

    def _on_apply_interval_clicked(self) -> None:
        account = self._selected()
        if account is None:
            tell(self, "Poll every", "Choose the account first.")
            return
        try:
            self._services.accounts.set_poll_interval(
                self._operator.id, account.id, self.interval.value()
            )
        except Exception as exc:  # NotAllowed, ValueError: said to the person as they are
            tell(self, "Poll every", str(exc))
            return
        self.status.setText(
            f"@{account.handle} is polled every {self.interval.value()} s from its next poll."
        )
        self.refresh()

    def _unit(self) -> int:
        return int(self.unit_choice.currentData())

    def _on_save_clicked(self) -> None:
        try:
            self._services.accounts.set_x_client_id(self._operator.id, self.client_id.text())
        except (ValueError, PermissionError, Exception) as exc:
            tell(self, "X app client ID", str(exc))
            return
        self.status.setText("Saved the X app client ID.")

    def _on_save_fb_app_clicked(self) -> None:
        try:
            self._services.accounts.set_facebook_app(
                self._operator.id, self.fb_app_id.text(), self.fb_app_secret.text()
            )
        except Exception as exc:  # NotAllowed, ValueError: said to the person as they are
            tell(self, "Meta app", str(exc))
            return
        self.fb_app_secret.clear()
        self.fb_app_secret.setPlaceholderText("saved in the system keyring")
        self.status.setText("Saved the Meta app: Facebook Login can connect Pages now.")

    def _on_login_fb_clicked(self) -> None:
        accounts, operator = self._services.accounts, self._operator.id
        self._browser_flow(
            "Log in with Facebook",
            lambda: accounts.start_facebook_login(operator, port=self.redirect_port),
            lambda login, stop: accounts.finish_facebook_login(operator, login, stop=stop),
            self._on_fb_pages,
            "Waiting for you to log in to Facebook in your browser…",
        )

    def _browser_flow(
        self,
        title: str,
        start: Callable[[], Any],
        finish: Callable[[Any, threading.Event], Any],
        on_done: Callable[[Any], None],
        waiting: str,
    ) -> None:
        """An authorization in the system browser, for X and for Facebook alike.

        ``start`` runs here; ``finish`` (waiting for the redirect, then talking to the network)
        on a daemon thread; ``on_done`` back here with its result.
        """
        try:
            flow = start()
        except Exception as exc:  # NotAllowed, ValueError: said to the person as they are
            tell(self, title, str(exc))
            return
        self._cancel.clear()
        open_in_browser(flow.authorization_url())
        self.status.setText(waiting)
        self._set_busy(True)
        stop = self._cancel
        self._tasks.submit_network(lambda: finish(flow, stop), on_done, self._on_failed)

    def _on_fb_pages(self, pages: list[PageChoice]) -> None:
        self._done("")
        if not pages:
            tell(
                self,
                "Log in with Facebook",
                "This Facebook login manages no Page that Quiver may use. Log in as a person "
                "with a role on the Page, and grant Quiver access to it.",
            )
            return
        page = choose_page(self, pages)
        if page is None:
            return
        try:
            self._services.accounts.connect_facebook_page(
                self._operator.id, page, unit_id=self._unit()
            )
        except Exception as exc:
            tell(self, "The Page was not connected", str(exc))
            return
        self._on_connected(0)

    def _on_connect_x_clicked(self) -> None:
        accounts, operator, unit = self._services.accounts, self._operator.id, self._unit()
        self._browser_flow(
            "Connect an X account",
            lambda: accounts.start_x_authorization(operator, port=self.redirect_port),
            lambda auth, stop: accounts.finish_x_authorization(
                operator, auth, unit_id=unit, stop=stop
            ),
            self._on_connected,
            "Waiting for you to authorize Quiver in your browser…",
        )

    def _on_connect_fb_clicked(self) -> None:
        units = [(u.id, u.name) for u in self._services.inbox.units()]
        dialog = FacebookPageDialog(units, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        page, token, unit = dialog.page_id.text(), dialog.token.text(), dialog.unit.currentData()
        self.status.setText("Checking the Page token with Facebook…")
        self._run(
            lambda: self._services.accounts.connect_facebook_with_token(
                self._operator.id, page_id=page, page_token=token, unit_id=int(unit)
            )
        )

    def connect_facebook(self, page_id: str, token: str, unit_id: int) -> None:
        """The dialog's action, also used by tests."""
        self._run(
            lambda: self._services.accounts.connect_facebook_with_token(
                self._operator.id, page_id=page_id, page_token=token, unit_id=unit_id
            )
        )

    def _on_add_sandbox_clicked(self) -> None:
        units = [(u.id, u.name) for u in self._services.inbox.units()]
        chosen = ask_sandbox_account(self, units, self.unit_choice.currentData())
        if chosen is None:
            return
        handle, unit_id = chosen
        try:
            self._services.accounts.add_sandbox_account(self._operator.id, handle, unit_id)
        except Exception as exc:  # NotAllowed, ValueError: said to the person as they are
            tell(self, "The Sandbox account was not added", str(exc))
            return
        self.status.setText(
            f"Added @{handle.strip().removeprefix('@')} on the Sandbox (demo network): "
            "Quiver starts polling it now, and practice conversations arrive in the inbox."
        )
        self.refresh()
        self.accounts_changed.emit()

    def _on_disconnect_clicked(self) -> None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        if not rows:
            tell(self, "Disconnect", "Choose the account to disconnect first.")
            return
        try:
            self._services.accounts.disconnect(self._operator.id, self._ids[min(rows)])
        except Exception as exc:
            tell(self, "Disconnect", str(exc))
            return
        self.status.setText("Disconnected: its tokens were removed; its history stays.")
        self.refresh()
        self.accounts_changed.emit()

    def _run(self, job: Callable[[], int]) -> None:
        self._set_busy(True)
        self._tasks.submit_network(job, self._on_connected, self._on_failed)

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        for b in (self.connect_x_button, self.login_fb_button, self.connect_fb_button):
            b.setEnabled(not busy)

    def _on_connected(self, _account_id: int) -> None:
        self._done("Connected. Quiver starts polling it now.")
        self.refresh()
        self.accounts_changed.emit()

    def _on_failed(self, message: str) -> None:
        self._done("")
        tell(self, "The account was not connected", message.split(": ", 1)[-1])

    def _done(self, text: str) -> None:
        self._set_busy(False)
        self.status.setText(text)

    def shutdown(self) -> None:
        """Cancel a browser authorization still waiting; a network call in flight is dropped."""
        self._cancel.set()


class SettingsPage(QWidget):
    def __init__(
        self, services: Services, operator: OperatorBinding, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.tabs = QTabWidget()
        self.accounts = AccountsTab(services, operator)
        self.tabs.addTab(self.accounts, "Accounts")
        self.units = UnitsTab(services, operator)
        self.tabs.addTab(self.units, "Units")
        self.people = PeopleTab(services, operator)
        self.tabs.addTab(self.people, "People and roles")
        self.signin = SignInTab(services, operator)
        self.tabs.addTab(self.signin, "Sign-in")
        self.spam = SpamTab(services, operator)
        self.tabs.addTab(self.spam, "Spam filter")
        self.audit = AuditTab(services, operator)
        self.tabs.addTab(self.audit, "Audit log")
        self.rules = RulesTab(services, operator)
        self.tabs.addTab(self.rules, "Routing rules")
        for title, text in (
            (
                "Approval rules",
                "How many approvals, from whom and when, per unit, account and kind of draft.",
            ),
        ):
            page = QLabel(f"{text}\n\nNot available in this version of Quiver yet.")
            page.setTextFormat(Qt.TextFormat.PlainText)
            page.setAlignment(Qt.AlignmentFlag.AlignCenter)
            page.setObjectName("placeholderBody")
            self.tabs.addTab(page, title)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
