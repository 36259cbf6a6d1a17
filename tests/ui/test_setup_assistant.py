"""The set-up assistant, the first-account welcome and File > New workspace, page by page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import QApplication, QLineEdit, QWizard

from app.bootstrap import build_services, services_for
from app.config import LocalPrefs
from app.domain.setup import SUGGESTED_UNITS, OrganizationSetup
from app.services.container import Services
from app.storage.workspace import Database
from app.ui import app as gui
from app.ui.main_window import MainWindow
from app.ui.settings import settings_page
from app.ui.setup import first_run
from app.ui.setup.assistant import SetupAssistant
from app.ui.setup.widgets import ZONE_ROLE

NEXT = QWizard.WizardButton.NextButton
FINISH = QWizard.WizardButton.FinishButton


@pytest.fixture
def services(db: Database) -> Services:
    return services_for(db)


@pytest.fixture
def assistant(qtbot: Any, services: Services) -> SetupAssistant:
    wizard = SetupAssistant(services, services.workspace_name)
    qtbot.addWidget(wizard)
    wizard.show()
    return wizard


def _click(qtbot: Any, wizard: SetupAssistant, which: QWizard.WizardButton) -> None:
    qtbot.mouseClick(wizard.button(which), Qt.MouseButton.LeftButton)


def _fill_to_units(qtbot: Any, wizard: SetupAssistant) -> None:
    qtbot.keyClicks(wizard.organization.name, "Acme <b>Mobility")
    _click(qtbot, wizard, NEXT)
    qtbot.keyClicks(wizard.hours.zone.filter, "berlin")
    _click(qtbot, wizard, NEXT)
    qtbot.keyClicks(wizard.administrator.name, "Ada Admin")
    qtbot.keyClicks(wizard.administrator.email, "ada@acme.example")
    _click(qtbot, wizard, NEXT)
    assert wizard.currentPage() is wizard.units


def test_next_waits_for_the_organization_name(qtbot: Any, assistant: SetupAssistant) -> None:
    assert not assistant.button(NEXT).isEnabled()
    qtbot.keyClicks(assistant.organization.name, "   ")
    _click(qtbot, assistant, NEXT)
    assert assistant.currentPage() is assistant.organization
    assert "cannot be empty" in assistant.organization.error.text()
    qtbot.keyClicks(assistant.organization.name, "Acme")
    _click(qtbot, assistant, NEXT)
    assert assistant.currentPage() is assistant.hours


def test_the_time_zone_filter_and_the_hours(qtbot: Any, assistant: SetupAssistant) -> None:
    qtbot.keyClicks(assistant.organization.name, "Acme")
    _click(qtbot, assistant, NEXT)
    zone = assistant.hours.zone
    qtbot.keyClicks(zone.filter, "new york")
    visible = [
        zone.list.item(i).data(ZONE_ROLE)
        for i in range(zone.list.count())
        if not zone.list.item(i).isHidden()
    ]
    assert visible == ["America/New_York"]
    assert zone.zone() == "America/New_York"
    assert "America/New_York" in zone.chosen.text()

    hours = assistant.hours.hours
    assert hours.schedule()["mon"] == [["09:00", "17:00"]]
    assert hours.schedule()["sat"] == []
    qtbot.mouseClick(hours.open["fri"], Qt.MouseButton.LeftButton)
    assert not hours.starts["fri"].isEnabled()
    hours.starts["mon"].setTime(QTime(18, 0))
    _click(qtbot, assistant, NEXT)
    assert assistant.currentPage() is assistant.hours
    assert "Monday: 18:00 to 17:00 ends before it starts" in assistant.hours.error.text()
    hours.starts["mon"].setTime(QTime(8, 30))
    _click(qtbot, assistant, NEXT)
    assert assistant.currentPage() is assistant.administrator
    assert assistant.setup().business_hours["mon"] == [["08:30", "17:00"]]
    assert assistant.setup().business_hours["fri"] == []


def test_a_bad_email_keeps_you_on_the_page(qtbot: Any, assistant: SetupAssistant) -> None:
    qtbot.keyClicks(assistant.organization.name, "Acme")
    _click(qtbot, assistant, NEXT)
    _click(qtbot, assistant, NEXT)
    qtbot.keyClicks(assistant.administrator.name, "Ada")
    qtbot.keyClicks(assistant.administrator.email, "ada@")
    _click(qtbot, assistant, NEXT)
    assert assistant.currentPage() is assistant.administrator
    assert "is not an email address" in assistant.administrator.error.text()


def test_units_renamed_left_out_and_added(qtbot: Any, assistant: SetupAssistant) -> None:
    _fill_to_units(qtbot, assistant)
    editor = assistant.units.units
    assert editor.root.text() == "Units of Acme <b>Mobility:"
    assert editor.names() == list(SUGGESTED_UNITS)
    # Rename Marketing in place, as a person does: double-click, type, Enter.
    item = editor.item_named("Marketing")
    assert item is not None
    rect = editor.list.visualItemRect(item)
    qtbot.mouseClick(editor.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.keyClick(editor.list, Qt.Key.Key_F2)
    field = QApplication.focusWidget()
    assert isinstance(field, QLineEdit)
    field.selectAll()
    qtbot.keyClicks(field, "Brand & Social")
    qtbot.keyClick(field, Qt.Key.Key_Return)  # the delegate commits in a queued call
    qtbot.waitUntil(lambda: editor.item_named("Brand & Social") is not None)
    assert assistant.currentPage() is assistant.units  # Enter renamed, it did not go on
    # Leave out Legal & Compliance.
    legal = editor.item_named("Legal & Compliance")
    assert legal is not None
    legal.setCheckState(Qt.CheckState.Unchecked)
    # Add one; a second with the same name (or Triage) is refused.
    qtbot.keyClicks(editor.new_name, "Investor Relations")
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(editor.new_name, "investor  relations")
    qtbot.keyClick(editor.new_name, Qt.Key.Key_Return)
    assert "already" in editor.note.text()
    editor.new_name.clear()
    qtbot.keyClicks(editor.new_name, "triage")
    qtbot.keyClick(editor.new_name, Qt.Key.Key_Return)
    assert "already" in editor.note.text()
    assert editor.names() == [
        "Customer Care",
        "Brand & Social",
        "Public Relations",
        "Sales & E-commerce",
        "Investor Relations",
    ]
    triage = editor.list.item(editor.list.count() - 1)
    assert triage.text().startswith("Triage — always there")
    assert not triage.flags() & Qt.ItemFlag.ItemIsUserCheckable
    assert not triage.flags() & Qt.ItemFlag.ItemIsEditable

    _click(qtbot, assistant, NEXT)
    summary = assistant.summary
    assert summary.summary.textFormat() == Qt.TextFormat.PlainText
    assert summary.rows["Organization"].text() == "Acme <b>Mobility"
    assert summary.rows["Organization"].textFormat() == Qt.TextFormat.PlainText
    assert summary.rows["Time zone"].text() == "Europe/Berlin"
    assert "Investor Relations" in summary.rows["Units"].text()
    assert "Legal" not in summary.rows["Units"].text()


def test_a_renamed_duplicate_is_refused_on_next(qtbot: Any, assistant: SetupAssistant) -> None:
    _fill_to_units(qtbot, assistant)
    editor = assistant.units.units
    item = editor.item_named("Marketing")
    assert item is not None
    item.setText(" customer care ")
    _click(qtbot, assistant, NEXT)
    assert assistant.currentPage() is assistant.units
    assert "Two units are called" in editor.note.text()


def test_finish_sets_the_workspace_up(
    qtbot: Any, assistant: SetupAssistant, services: Services
) -> None:
    _fill_to_units(qtbot, assistant)
    _click(qtbot, assistant, NEXT)
    with qtbot.waitSignal(assistant.accepted, timeout=5000):
        _click(qtbot, assistant, FINISH)
    done = assistant.outcome
    assert done is not None
    assert done.administrator.email == "ada@acme.example"
    org = services.organization.organization()
    assert org is not None
    assert (org.name, org.time_zone) == ("Acme <b>Mobility", "Europe/Berlin")
    assert [u.name for u in services.inbox.units()] == [
        "Acme <b>Mobility",
        *SUGGESTED_UNITS,
        "Triage",
    ]


def test_finish_on_a_workspace_set_up_meanwhile_says_so(
    qtbot: Any, assistant: SetupAssistant, services: Services
) -> None:
    _fill_to_units(qtbot, assistant)
    _click(qtbot, assistant, NEXT)
    services.organization.set_up(
        OrganizationSetup(name="Other", admin_name="Bo", admin_email="bo@x.org")
    )
    _click(qtbot, assistant, FINISH)
    assert assistant.isVisible()
    assert assistant.outcome is None
    assert "already set up for Other" in assistant.summary.error.text()


# -- the welcome, and the Sandbox account through Settings > Accounts --------------------------


def _set_up(services: Services) -> Any:
    return services.organization.set_up(
        OrganizationSetup(name="Acme", admin_name="Ada Admin", admin_email="ada@acme.example")
    )


def test_the_welcome_leads_to_a_sandbox_account(
    qtbot: Any, services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = _set_up(services)
    care = next(u for u in done.units if u.name == "Customer Care")
    asked: list[list[str]] = []

    def ask(parent: Any, units: list[tuple[int, str]], unit_id: Any) -> tuple[str, int]:
        asked.append([name for _id, name in units])
        return "@acme_training", care.id

    monkeypatch.setattr(settings_page, "ask_sandbox_account", ask)
    window = MainWindow(services, done.administrator, LocalPrefs(tmp_path / "p.json"))
    qtbot.addWidget(window)
    window.show()
    welcome = first_run.maybe_welcome(window)
    assert welcome is not None
    assert welcome.isVisible()
    assert welcome.text.textFormat() == Qt.TextFormat.PlainText
    assert "Acme is ready" in welcome.text.text()
    assert "Settings > Accounts" in welcome.text.text()
    with qtbot.waitSignal(window.settings.accounts.accounts_changed, timeout=5000):
        qtbot.mouseClick(welcome.sandbox_button, Qt.MouseButton.LeftButton)
    assert not welcome.isVisible()
    assert window.current_screen() == "Settings"
    assert asked == [["Acme", *SUGGESTED_UNITS, "Triage"]]
    table = window.settings.accounts.table
    assert table.rowCount() == 1
    assert table.item(0, 0).text() == "Sandbox (demo network)"
    assert table.item(0, 1).text() == "@acme_training — Sandbox training account"
    assert table.item(0, 2).text() == "Customer Care"
    assert table.item(0, 3).text() == "connected"
    assert "demo network" in window.inbox.accounts.item(0).text()
    # Once there is an account, no welcome.
    assert first_run.maybe_welcome(window) is None


def test_the_sandbox_dialog_and_a_refusal(
    qtbot: Any, services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = _set_up(services)
    dialog = settings_page.SandboxAccountDialog(
        [(u.id, u.name) for u in done.units], done.units[2].id
    )
    qtbot.addWidget(dialog)
    assert dialog.unit.currentText() == done.units[2].name
    told: list[str] = []
    monkeypatch.setattr(
        settings_page, "tell", lambda parent, title, text, error=True: told.append(text)
    )
    monkeypatch.setattr(
        settings_page, "ask_sandbox_account", lambda parent, units, unit_id: ("no spaces", 1)
    )
    window = MainWindow(services, done.administrator, LocalPrefs(tmp_path / "p.json"))
    qtbot.addWidget(window)
    window.settings.accounts.add_sandbox_button.click()
    assert told == [
        "A Sandbox handle is 1 to 30 letters, digits or underscores, e.g. acme_training."
    ]
    assert services.directory.accounts() == []


# -- File > New workspace… and the first run from run_gui -------------------------------------


def _scripted_assistant(services: Services, parent: Any = None) -> Any:
    """Stands in for the person clicking through the assistant."""
    return _set_up(services)


def test_new_workspace_creates_sets_up_and_opens_it(
    qtbot: Any, services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = _set_up(services)
    target = tmp_path / "second.quiver"
    launched: list[tuple[str, str | None]] = []
    monkeypatch.setattr(first_run, "choose_new_workspace", lambda parent: str(target))
    monkeypatch.setattr(first_run, "run_assistant", _scripted_assistant)
    monkeypatch.setattr(first_run, "launch", lambda loc, pw: launched.append((loc, pw)) or True)
    prefs = LocalPrefs(tmp_path / "p.json")
    window = MainWindow(services, done.administrator, prefs)
    qtbot.addWidget(window)
    assert window.new_workspace_action.text() == "New workspace…"

    assert first_run.new_workspace(window, build_services, prefs)
    assert launched == [(str(target), None)]
    opened = build_services(str(target))
    try:
        assert opened.organization.is_set_up()
        assert prefs.operator_for(opened.workspace_url) == opened.directory.people()[0].id
        assert prefs.last_workspace == str(target)
    finally:
        opened.close()


def test_the_new_workspace_dialog_refuses_a_taken_file(qtbot: Any, tmp_path: Path) -> None:
    taken = tmp_path / "taken.quiver"
    taken.write_bytes(b"")
    dialog = first_run.NewWorkspaceDialog(None, tmp_path)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.path, str(taken))
    assert dialog.problem() == f"There is a file at {taken} already: choose a new name."
    dialog.path.clear()
    qtbot.keyClicks(dialog.path, str(tmp_path / "nope" / "x.quiver"))
    assert "does not exist" in dialog.problem()
    qtbot.mouseClick(dialog.server_choice, Qt.MouseButton.LeftButton)
    assert dialog.server_choice.isChecked()
    assert not dialog.path.isEnabled()
    qtbot.keyClicks(dialog.url, "mysql://x/y")
    assert "PostgreSQL URL" in dialog.problem()
    dialog.url.clear()
    qtbot.keyClicks(dialog.url, "postgresql+psycopg://me@db.example/quiver_acme")
    assert dialog.problem() == ""
    assert dialog.target() == "postgresql+psycopg://me@db.example/quiver_acme"


def test_cancelling_the_first_run_writes_nothing(
    qapp: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(first_run, "run_assistant", lambda services, parent=None: None)
    path = tmp_path / "new.quiver"
    options = gui.GuiOptions(
        workspace=str(path), demo=False, operator=None, create=True, process_start=0.0
    )
    assert gui.run_gui(options, build_services) == 0
    opened = build_services(str(path))
    try:
        assert not opened.organization.is_set_up()
        assert opened.directory.people() == []
    finally:
        opened.close()
