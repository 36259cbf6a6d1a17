"""The operator is one thing: a switch changes who acts in every screen at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.config import LocalPrefs
from app.services.container import Services
from app.ui.main_window import MainWindow

ADMIN = "ingrid.solberg@acme-mobility.example"
AGENT = "tom.becker@acme-mobility.example"


def _person(services: Services, email: str) -> Any:
    person = services.directory.person_by_email(email)
    assert person is not None
    return person


def test_switching_to_an_agent_and_back_reaches_every_settings_screen(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    admin, agent = _person(demo_services, ADMIN), _person(demo_services, AGENT)
    window = MainWindow(demo_services, admin, LocalPrefs(tmp_path / "prefs.json"))
    qtbot.addWidget(window)
    window.show()
    settings = window.settings
    tabs = {
        "Accounts": settings.accounts,
        "Units": settings.units,
        "People and roles": settings.people,
        "Audit log": settings.audit,
    }
    for name, tab in tabs.items():
        assert tab.access_note.isHidden(), name  # the workspace's administrator may use them all
    assert settings.signin.required.isEnabled()

    window.set_operator(agent)
    assert window.operator_label.text() == f"Acting as {agent.name}"
    for name, tab in tabs.items():
        assert not tab.access_note.isHidden(), name  # each says what is missing, at once
        assert tab.access_note.text().startswith("Only "), (name, tab.access_note.text())
    assert not settings.signin.required.isEnabled()

    window.set_operator(admin)
    for name, tab in tabs.items():
        assert tab.access_note.isHidden(), name
    assert window.operator is admin
