"""A workspace's first run: the set-up assistant, the welcome, and File > New workspace."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QProcess, QProcessEnvironment, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.config import LocalPrefs
from app.domain.permissions import Action
from app.domain.rows import PersonRow
from app.services.container import Services, WorkspaceError
from app.services.organization import SetupDone
from app.ui.setup.assistant import SetupAssistant
from app.ui.setup.widgets import hint, plain

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

log = logging.getLogger("quiver.ui.setup")
OpenWorkspace = Callable[..., Services]
PROJECT_ROOT = Path(__file__).resolve().parents[3]  # where ``python -m app`` finds the package


def tell(parent: QWidget | None, title: str, text: str) -> None:
    """A plain-text message for the person (tests replace this)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(text)
    box.exec()


def run_assistant(services: Services, parent: QWidget | None = None) -> SetupDone | None:
    """Show the set-up assistant until Finish or Cancel; what it made, if anything."""
    assistant = SetupAssistant(services, services.workspace_name, parent)
    assistant.exec()
    done = assistant.outcome
    assistant.deleteLater()
    return done


def first_run(services: Services, prefs: LocalPrefs) -> PersonRow | None:
    """Set up a workspace with no organization; the administrator becomes the operator.

    Returns:
        The first administrator, or ``None`` when the person cancelled (nothing was written).
    """
    done = run_assistant(services)
    if done is None:
        return None
    services.inbox.forget_units()
    prefs.set_operator(services.workspace_url, done.administrator.id)
    return done.administrator


# -- the welcome: how to connect a first account -------------------------------------------------

WELCOME = (
    "{org} is ready, and its inbox is empty until an account is connected.\n\n"
    "To try Quiver now, add a Sandbox account: the Sandbox is Quiver's demo network, for "
    "training. It needs no login and streams practice conversations into the inbox; nothing "
    "answered there reaches a real network.\n\n"
    "To work with your organization's own accounts, open Settings > Accounts: “Connect X "
    "account…” for X, “Log in with Facebook…” (or a Page token) for a Facebook Page."
)
WELCOME_NOT_ADMIN = (
    "{org} has no connected account yet, so the inbox is empty. An administrator connects "
    "accounts in Settings > Accounts (a Sandbox account to train on, X or Facebook)."
)


class WelcomeDialog(QDialog):
    """Says how to connect a first account; leads straight to Settings > Accounts."""

    def __init__(self, window: MainWindow, *, may_connect: bool) -> None:
        super().__init__(window)
        self._window = window
        self.setObjectName("welcomeDialog")
        self.setWindowTitle("Connect a first account — Quiver")
        org = window.services.directory.organization_name()
        self.text = plain(
            (WELCOME if may_connect else WELCOME_NOT_ADMIN).format(org=org), name="placeholderBody"
        )
        self.text.setMinimumWidth(520)
        buttons = QDialogButtonBox()
        self.sandbox_button = QPushButton("Add a Sandbox account…")
        self.settings_button = QPushButton("Open Settings > Accounts")
        if may_connect:
            buttons.addButton(self.sandbox_button, QDialogButtonBox.ButtonRole.AcceptRole)
            buttons.addButton(self.settings_button, QDialogButtonBox.ButtonRole.ActionRole)
            self.sandbox_button.setDefault(True)
        later = buttons.addButton("Later", QDialogButtonBox.ButtonRole.RejectRole)
        later.setObjectName("later")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 20, 22, 16)
        layout.addWidget(self.text)
        layout.addSpacing(8)
        layout.addWidget(buttons)
        self.sandbox_button.clicked.connect(self._on_sandbox_button_clicked)
        self.settings_button.clicked.connect(self._on_settings_button_clicked)
        later.clicked.connect(self.close)

    def _open_accounts(self) -> None:
        window = self._window
        window.show_screen("Settings")
        window.settings.tabs.setCurrentWidget(window.settings.accounts)
        self.close()

    def _on_settings_button_clicked(self) -> None:
        self._open_accounts()

    def _on_sandbox_button_clicked(self) -> None:
        self._open_accounts()
        self._window.settings.accounts.add_sandbox_button.click()


def maybe_welcome(window: MainWindow) -> WelcomeDialog | None:
    """On a workspace without accounts, say (beside the window) how to connect the first one."""
    services = window.services
    if services.directory.accounts():
        return None
    may = services.access.may(window.operator.id, Action.MANAGE_ACCOUNTS)
    dialog = WelcomeDialog(window, may_connect=may)
    dialog.show()  # not modal: the window stays usable behind it
    return dialog


# -- File > New workspace… ----------------------------------------------------------------------


class NewWorkspaceDialog(QDialog):
    """Where the new workspace goes: a file on this computer or a PostgreSQL database."""

    def __init__(self, parent: QWidget | None = None, folder: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New workspace — Quiver")
        self.setMinimumWidth(620)
        self._folder = folder or Path.home()
        self.file_choice = QRadioButton("A file on this computer (one workstation)")
        self.server_choice = QRadioButton("A PostgreSQL database (team mode: shared by a team)")
        group = QButtonGroup(self)
        group.addButton(self.file_choice)
        group.addButton(self.server_choice)
        self.file_choice.setChecked(True)
        self.path = QLineEdit()
        self.path.setObjectName("newWorkspacePath")
        self.path.setPlaceholderText(str(self._folder / "acme.quiver"))
        self.browse = QPushButton("Choose…")
        self.url = QLineEdit()
        self.url.setObjectName("newWorkspaceUrl")
        self.url.setPlaceholderText("postgresql+psycopg://you@db.example.org:5432/quiver_acme")
        note = hint(
            "A database that does not exist yet is created (your server role needs CREATEDB). "
            "The password can stay out of the URL: Quiver reads PGPASSWORD or ~/.pgpass."
        )
        self.error = plain(name="setupError")
        self.error.setStyleSheet("color: #b42318;")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create and set up…")
        grid = QGridLayout()
        grid.addWidget(self.file_choice, 0, 0, 1, 2)
        grid.addWidget(self.path, 1, 0)
        grid.addWidget(self.browse, 1, 1)
        grid.addWidget(self.server_choice, 2, 0, 1, 2)
        grid.addWidget(self.url, 3, 0, 1, 2)
        grid.addWidget(note, 4, 0, 1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.browse.clicked.connect(self._on_browse_clicked)
        self.file_choice.toggled.connect(self._on_choice_toggled)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        self._on_choice_toggled(True)

    def _on_choice_toggled(self, _checked: bool) -> None:
        on_file = self.file_choice.isChecked()
        self.path.setEnabled(on_file)
        self.browse.setEnabled(on_file)
        self.url.setEnabled(not on_file)

    def _on_browse_clicked(self) -> None:
        chosen, _filter = QFileDialog.getSaveFileName(
            self,
            "New workspace",
            str(self._folder / "acme.quiver"),
            "Quiver workspaces (*.quiver *.sqlite *.db);;All files (*)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if chosen:
            self.path.setText(chosen)

    def target(self) -> str:
        """The workspace to create: a file path or a PostgreSQL URL."""
        if self.file_choice.isChecked():
            return str(Path(self.path.text().strip()).expanduser())
        return self.url.text().strip()

    def problem(self) -> str:
        """Why the target cannot be created, or ""."""
        if self.file_choice.isChecked():
            text = self.path.text().strip()
            if not text:
                return "Choose where to keep the workspace file."
            path = Path(text).expanduser()
            if path.exists():
                return f"There is a file at {path} already: choose a new name."
            if not path.parent.is_dir():
                return f"The folder {path.parent} does not exist."
            return ""
        url = self.url.text().strip()
        if not url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            return "Enter a PostgreSQL URL such as postgresql+psycopg://you@server/quiver_acme."
        return ""

    def _on_buttons_accepted(self) -> None:
        problem = self.problem()
        self.error.setText(problem)
        if not problem:
            self.accept()


def choose_new_workspace(parent: QWidget | None) -> str | None:
    """Ask where the new workspace goes (tests replace this)."""
    dialog = NewWorkspaceDialog(parent)
    return dialog.target() if dialog.exec() == QDialog.DialogCode.Accepted else None


def launch(location: str, password: str | None) -> bool:
    """Open a workspace in a new Quiver process (tests replace this).

    A server's password goes through PGPASSWORD, never on a command line others can read.
    """
    process = QProcess()
    process.setProgram(sys.executable)
    process.setArguments(["-m", "app", "--workspace", location])
    process.setWorkingDirectory(str(PROJECT_ROOT))
    env = QProcessEnvironment.systemEnvironment()
    if password:
        env.insert("PGPASSWORD", password)
    process.setProcessEnvironment(env)
    started = process.startDetached()
    return bool(started[0] if isinstance(started, tuple) else started)


def new_workspace(window: QWidget, open_workspace: OpenWorkspace, prefs: LocalPrefs) -> bool:
    """File > New workspace…: create it, run the assistant on it, open it in a new window.

    Returns:
        Whether a new workspace was set up and its window launched.
    """
    target = choose_new_workspace(window)
    if not target:
        return False
    try:
        services = open_workspace(target, create=True)
    except WorkspaceError as exc:
        tell(window, "Quiver cannot create this workspace", str(exc))
        return False
    try:
        if services.organization.is_set_up():
            tell(
                window,
                "This workspace is set up already",
                f"{services.workspace_name} already holds an organization. Open it with "
                f"quiver --workspace {services.db.location}",
            )
            return False
        done = run_assistant(services, window)
        if done is None:
            return False
        prefs.set_operator(services.workspace_url, done.administrator.id)
        prefs.last_workspace = services.db.location
        location, password, name = (
            services.db.location,
            services.db.url.password,
            services.workspace_name,
        )
    finally:
        services.close()
    if not launch(location, str(password) if password else None):
        tell(
            window,
            "Quiver could not open a new window",
            f"{name} is set up. Open it with: quiver --workspace {location}",
        )
        return False
    log.info("set up %s; opening it in a new window", name)
    return True
