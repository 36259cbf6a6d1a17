"""A new organization's inbox: it says how conversations will arrive, then shows them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.bootstrap import services_for
from app.config import LocalPrefs
from app.domain.setup import OrganizationSetup
from app.storage.workspace import Database
from app.ui.inbox.inbox_page import EMPTY_FILTERED, EMPTY_NO_ACCOUNTS
from app.ui.main_window import MainWindow


def test_an_inbox_without_accounts_points_to_settings_and_a_sandbox_account_fills_it(
    qtbot: Any, db: Database, tmp_path: Path
) -> None:
    services = services_for(db)
    done = services.organization.set_up(
        OrganizationSetup(name="Nordlicht", admin_name="Jana Weber", admin_email="jana@n.example")
    )
    window = MainWindow(services, done.administrator, LocalPrefs(tmp_path / "prefs.json"))
    qtbot.addWidget(window)
    window.show()
    note = window.inbox.empty_note
    qtbot.waitUntil(note.isVisible, timeout=5000)
    assert note.text() == EMPTY_NO_ACCOUNTS
    assert not window.sandbox_label.isVisible()

    care = next(u for u in done.units if u.name == "Customer Care")
    services.accounts.add_sandbox_account(done.administrator.id, "nordlicht_training", care.id)
    window.settings.accounts.accounts_changed.emit()  # what the Accounts tab says after adding
    assert note.text() == EMPTY_FILTERED
    assert window.sandbox_label.isVisible()
    assert "Sandbox" in window.inbox.accounts.item(0).text()
