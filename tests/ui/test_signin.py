"""Signing in from the window: the passphrase dialog, the Sign-in tab, the trust warning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QDialog

from app.config import LocalPrefs
from app.services.container import Services
from app.ui.main_window import MainWindow
from app.ui.operator_dialog import SignInDialog

ADMIN = "ingrid.solberg@acme-mobility.example"
AGENT = "tom.becker@acme-mobility.example"
SECRET = "four words make a passphrase"


def _person(services: Services, email: str) -> Any:
    person = services.directory.person_by_email(email)
    assert person is not None
    return person


def test_the_dialog_stays_open_on_a_wrong_passphrase_and_says_why(
    qtbot: Any, demo_services: Services
) -> None:
    tom = _person(demo_services, AGENT)
    demo_services.signin.set_own_passphrase(tom.id, None, SECRET)
    dialog = SignInDialog(demo_services, tom)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.passphrase, "not the passphrase at all")
    dialog.buttons.accepted.emit()
    assert dialog.isVisible()
    assert dialog.message.text() == "That passphrase is not right."
    dialog.passphrase.setText(SECRET)
    dialog.buttons.accepted.emit()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.passphrase.text() == ""  # not kept in the window


def test_turning_sign_in_on_from_settings_hides_the_trust_warning(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    admin = _person(demo_services, ADMIN)
    window = MainWindow(demo_services, admin, LocalPrefs(tmp_path / "prefs.json"))
    qtbot.addWidget(window)
    window.show()
    tab = window.settings.signin
    assert window.trust_label.isVisible()
    assert window.trust_label.text() == "Sign-in off: anyone here can act as anyone"
    tab.required.click()  # without a passphrase of one's own: refused, nothing changes
    assert "Set your own passphrase first" in tab.status.text()
    assert not tab.required.isChecked()
    assert not demo_services.signin.required()
    for field in (tab.new, tab.repeat):
        field.setText(SECRET)
    tab.set_button.click()
    assert tab.status.text() == "Your passphrase is set."
    assert tab.new.text() == ""
    tab.required.click()
    assert demo_services.signin.required()
    assert not window.trust_label.isVisible()
    # an agent sees the setting but may not change it, and why
    window.set_operator(_person(demo_services, AGENT))
    assert not tab.required.isEnabled()
    assert "Only an administrator of" in tab.required_note.text()
    assert not tab.reset_button.isEnabled()
