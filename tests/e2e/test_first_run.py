"""End to end, in process: a new workspace, the set-up assistant, the inbox, a Sandbox account.

``run_gui`` runs as it does for a person starting ``quiver --workspace acme.db``; a script of
steps, driven by timers inside its event loops (the assistant's and the window's), types and
clicks through every page, as a new user would, and takes a screenshot of each step (into
``$QUIVER_SHOTS`` when set, to look at them).
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QWidget, QWizard
from sqlalchemy import func, select

from app.bootstrap import build_services
from app.config import GuiOptions
from app.domain.setup import TRIAGE
from app.models import Account, Conversation, Organization, Person, Unit
from app.storage.workspace import open_database
from app.ui import app as gui
from app.ui.main_window import MainWindow
from app.ui.settings.settings_page import SandboxAccountDialog
from app.ui.setup.assistant import SetupAssistant
from app.ui.setup.first_run import WelcomeDialog

UNITS_AFTER = ["Customer Care", "Marketing", "Public Relations", "Sales & E-commerce"]
STEP_TIMEOUT_S = 40.0


@dataclass
class Step:
    name: str
    ready: Callable[[], bool]
    act: Callable[[], None]
    opens_modal: bool = False  # the next steps run inside the loop this action enters


@dataclass
class Script:
    """Runs each step once it is ready, from timers (so also inside a modal dialog's loop)."""

    steps: list[Step]
    failures: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    _since: float = field(default_factory=time.monotonic)
    _acting: bool = False  # an action is running (processEvents in it must not start the next)

    def start(self) -> None:
        QTimer.singleShot(100, self._tick)

    def _tick(self) -> None:
        if not self.steps or self.failures:
            return
        QTimer.singleShot(60, self._tick)  # first: an action may open a modal loop
        if self._acting:
            return
        step = self.steps[0]
        try:
            if not step.ready():
                if time.monotonic() - self._since > STEP_TIMEOUT_S:
                    shown = [
                        f"{type(w).__name__}:{w.windowTitle()}"
                        for w in QApplication.topLevelWidgets()
                        if w.isVisible()
                    ]
                    raise TimeoutError(
                        f"step {step.name!r} never became ready; after {self.done}, modal: "
                        f"{QApplication.activeModalWidget()}, shown: {shown}"
                    )
                return
            self.steps.pop(0)
            self._since = time.monotonic()
            self._acting = not step.opens_modal
            try:
                step.act()
            finally:
                self._acting = False
            self.done.append(step.name)
        except BaseException:
            self.failures.append(f"{step.name}: {traceback.format_exc()}")
            _close_everything()


def _close_everything() -> None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QDialog) and widget.isVisible():
            widget.reject()
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow):
            widget.close()


def _modal(kind: type[QWidget]) -> Any:
    widget = QApplication.activeModalWidget()
    return widget if isinstance(widget, kind) else None


def _window() -> MainWindow | None:
    """The window ``run_gui`` opened (earlier tests may leave hidden ones behind)."""
    found = [
        w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()
    ]
    return found[0] if len(found) == 1 else None


@pytest.fixture
def new_workspace(engine_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A new, empty workspace, as ``open_database(..., create=True)`` makes it."""
    if engine_name == "sqlite":
        target = str(tmp_path / "acme.db")
        open_database(target, create=True).close()
        yield target
        return
    databases = request.getfixturevalue("pg_databases")
    target = databases.url(databases.new_name("firstrun"))
    open_database(target, create=True).close()
    yield target
    databases.drop(target)


def test_a_new_user_goes_from_a_new_workspace_to_an_inbox_with_a_sandbox_account(
    qapp: Any, qtbot: Any, new_workspace: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(gui.FIRST_PAINT_ENV, raising=False)
    shots = Path(os.environ.get("QUIVER_SHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    seen: dict[str, Any] = {}
    errors: list[str] = []
    monkeypatch.setattr(gui, "show_error", lambda title, text, parent=None: errors.append(text))

    def shot(widget: QWidget, name: str) -> None:
        QApplication.processEvents()
        assert widget.grab().save(str(shots / f"{name}.png"))

    def wizard() -> SetupAssistant:
        found = _modal(SetupAssistant)
        assert found is not None
        return found

    def on_page(page: str) -> Callable[[], bool]:
        return lambda: bool(
            _modal(SetupAssistant) and wizard().currentPage() is getattr(wizard(), page)
        )

    def on_screen(name: str) -> Callable[[], bool]:
        return lambda: bool((window := _window()) and window.current_screen() == name)

    def click(button: QWidget) -> None:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    def organization() -> None:
        w = wizard()
        shot(w, "1-organization-empty")
        assert not w.button(QWizard.WizardButton.NextButton).isEnabled()
        qtbot.keyClicks(w.organization.name, "Acme Mobility")
        qtbot.keyClicks(w.organization.mission, "Cleaner city trips, and the brand that answers.")
        shot(w, "1-organization")
        click(w.button(QWizard.WizardButton.NextButton))

    def hours() -> None:
        w = wizard()
        qtbot.keyClicks(w.hours.zone.filter, "berlin")
        assert w.hours.zone.zone() == "Europe/Berlin"
        shot(w, "2-hours")
        click(w.button(QWizard.WizardButton.NextButton))

    def administrator() -> None:
        w = wizard()
        qtbot.keyClicks(w.administrator.name, "Ada Lovelace")
        qtbot.keyClicks(w.administrator.email, "ada@acme.example")
        shot(w, "3-administrator")
        click(w.button(QWizard.WizardButton.NextButton))

    def units() -> None:
        w = wizard()
        editor = w.units.units
        legal = editor.item_named("Legal & Compliance")
        assert legal is not None
        rect = editor.list.visualItemRect(legal)
        qtbot.mouseClick(editor.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.keyClick(editor.list, Qt.Key.Key_Space)  # untick it: leave it out
        assert legal.checkState() == Qt.CheckState.Unchecked
        qtbot.keyClicks(editor.new_name, "Investor Relations")
        click(editor.add_button)
        shot(w, "4-units")
        click(w.button(QWizard.WizardButton.NextButton))

    def summary() -> None:
        w = wizard()
        assert "Investor Relations" in w.summary.rows["Units"].text()
        assert "Legal" not in w.summary.rows["Units"].text()
        shot(w, "5-summary")
        click(w.button(QWizard.WizardButton.FinishButton))

    def welcome_ready() -> bool:
        window = _window()
        return bool(
            window
            and any(isinstance(d, WelcomeDialog) and d.isVisible() for d in window.children())
        )

    def inbox() -> None:
        window = _window()
        assert window is not None
        welcome = next(d for d in window.children() if isinstance(d, WelcomeDialog))
        shot(window, "6-inbox")
        shot(welcome, "6-welcome")
        seen["screen"] = window.current_screen()
        seen["operator"] = window.operator.email
        model = window.inbox.unit_tree.tree_model
        root = model.item(0, 0)
        seen["units"] = [root.text()] + [root.child(i, 0).text() for i in range(root.rowCount())]
        seen["conversations"] = window.inbox.model.rowCount()
        seen["acting"] = window.operator_label.text()
        click(welcome.settings_button)

    def accounts_tab() -> None:
        window = _window()
        assert window is not None
        seen["settings_screen"] = window.current_screen()
        tab = window.settings.accounts
        assert window.settings.tabs.currentWidget() is tab
        shot(window, "7-settings-accounts")
        click(tab.add_sandbox_button)  # opens the dialog: the next step runs inside it

    def sandbox_dialog() -> None:
        dialog = _modal(SandboxAccountDialog)
        qtbot.keyClicks(dialog.handle, "acme_training")
        index = dialog.unit.findText("Customer Care")
        assert index >= 0
        dialog.unit.setCurrentIndex(index)
        shot(dialog, "8-sandbox-dialog")
        click(dialog.buttons.button(dialog.buttons.StandardButton.Ok))

    def listed() -> bool:
        window = _window()
        return bool(window and window.settings.accounts.table.rowCount() == 1)

    def account_listed() -> None:
        window = _window()
        assert window is not None
        table = window.settings.accounts.table
        seen["row"] = [table.item(0, c).text() for c in range(4)]
        seen["inbox_accounts"] = [
            window.inbox.accounts.item(i).text() for i in range(window.inbox.accounts.count())
        ]
        shot(window, "9-sandbox-listed")
        window.show_screen("Inbox")

    def streaming() -> bool:
        window = _window()
        return bool(window and window.inbox.model.rowCount() > 0)

    def conversations_arrived() -> None:
        window = _window()
        assert window is not None
        seen["arrived"] = window.inbox.model.rowCount()
        shot(window, "10-inbox-streaming")
        window.close()

    script = Script(
        [
            Step("organization", lambda: _modal(SetupAssistant) is not None, organization),
            Step("hours", on_page("hours"), hours),
            Step("administrator", on_page("administrator"), administrator),
            Step("units", on_page("units"), units),
            Step("summary", on_page("summary"), summary),
            Step("inbox", welcome_ready, inbox),
            Step("accounts tab", on_screen("Settings"), accounts_tab, opens_modal=True),
            Step(
                "sandbox dialog", lambda: _modal(SandboxAccountDialog) is not None, sandbox_dialog
            ),
            Step("account listed", listed, account_listed),
            Step("conversations arrive", streaming, conversations_arrived),
        ]
    )
    script.start()
    started = time.monotonic()
    options = GuiOptions(
        workspace=new_workspace, demo=False, operator=None, create=False, process_start=0.0
    )
    code = gui.run_gui(options, build_services)
    took = time.monotonic() - started
    assert script.failures == [], "\n".join(script.failures)
    assert errors == []
    assert code == 0
    assert script.steps == []

    assert seen["screen"] == "Inbox"
    assert seen["operator"] == "ada@acme.example"
    assert seen["acting"] == "Acting as Ada Lovelace"
    assert seen["units"] == ["Acme Mobility", *UNITS_AFTER, "Investor Relations", TRIAGE]
    assert seen["conversations"] == 0
    assert seen["settings_screen"] == "Settings"
    assert seen["row"] == [
        "Sandbox (demo network)",
        "@acme_training — Sandbox training account",
        "Customer Care",
        "connected",
    ]
    assert any("acme_training" in a and "demo network" in a for a in seen["inbox_accounts"])
    assert seen["arrived"] > 0
    assert took < 120  # the whole first run, with the Sandbox streaming, in under two minutes

    db = open_database(new_workspace)
    try:
        with db.engine.connect() as conn:
            assert conn.execute(select(Organization.name)).scalar_one() == "Acme Mobility"
            assert conn.execute(select(Person.email)).scalars().all() == ["ada@acme.example"]
            assert conn.execute(select(func.count()).select_from(Unit)).scalar_one() == 7
            assert conn.execute(select(Account.network, Account.state)).all() == [
                ("sandbox", "connected")
            ]
            assert conn.execute(select(func.count()).select_from(Conversation)).scalar_one() > 0
    finally:
        db.close()
