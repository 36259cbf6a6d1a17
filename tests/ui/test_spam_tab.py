"""Settings > Spam filter: an administrator changes it; anyone else sees why they cannot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.config import LocalPrefs
from app.services.container import Services
from app.ui.main_window import MainWindow

ADMIN = "ingrid.solberg@acme-mobility.example"
AGENT = "tom.becker@acme-mobility.example"


def _window(qtbot: Any, services: Services, tmp_path: Path, email: str) -> MainWindow:
    person = services.directory.person_by_email(email)
    assert person is not None
    window = MainWindow(services, person, LocalPrefs(tmp_path / "prefs.json"))
    qtbot.addWidget(window)
    window.show()
    return window


def test_an_administrator_sets_the_threshold_and_words_and_tries_a_text(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    window = _window(qtbot, demo_services, tmp_path, ADMIN)
    tab = window.settings.spam
    assert tab.access_note.isHidden()
    assert tab.keywords.toPlainText() == "crypto signals\nclaim your prize\nfree followers"
    tab.keywords.setPlainText("")
    tab.sample.setPlainText("Get FREE followers now")
    assert tab.verdict.text().startswith("Score 0.00: not spam")
    tab.keywords.setPlainText("free followers\n\n  Crypto  \n")
    assert "Score 0.35: not spam" in tab.verdict.text()  # tried with the words as typed
    assert "“free followers”" in tab.verdict.text()
    tab.threshold.setValue(0.3)
    assert tab.verdict.text().startswith("Score 0.35: spam.")
    tab.save_button.click()
    assert tab.status.text() == "Saved: spam from a score of 0.30, 2 spam words."
    row = demo_services.organization.organization()
    assert row is not None
    assert (row.spam_threshold, row.spam_keywords) == (0.3, ("free followers", "Crypto"))
    assert tab.keywords.toPlainText() == "free followers\nCrypto"  # as stored, tidied
    tab.keywords.setPlainText("?!")
    tab.save_button.click()
    assert "has no letter or digit" in tab.status.text()
    assert demo_services.organization.organization() == row  # nothing changed
    tab.revert_button.click()
    assert tab.keywords.toPlainText() == "free followers\nCrypto"


def test_an_agent_sees_the_settings_but_cannot_change_them(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    window = _window(qtbot, demo_services, tmp_path, AGENT)
    tab = window.settings.spam
    assert not tab.access_note.isHidden()
    assert tab.access_note.text() == (
        "Only an administrator of Acme Mobility can change the spam filter."
    )
    assert not tab.save_button.isEnabled()
    assert not tab.keywords.isEnabled()
    tab.sample.setPlainText("https://bit.ly/win")  # trying a text needs no right
    assert tab.verdict.text().startswith("Score 0.60: spam.")
    assert "nothing but a link" in tab.verdict.text()
    admin = demo_services.directory.person_by_email(ADMIN)
    assert admin is not None
    window.set_operator(admin)  # a switch reaches the tab at once
    assert tab.access_note.isHidden()
    assert tab.save_button.isEnabled()
