"""Choosing the person you act as (remembered per workspace on this computer)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.rows import PersonRow
from app.services.container import Services
from app.services.signin import SignInRefused

PERSON_ROLE = Qt.ItemDataRole.UserRole + 1


def describe(person: PersonRow) -> str:
    roles = ", ".join(f"{role} of {unit}" for role, unit in person.roles) or "no role yet"
    return f"{person.name} — {person.title}\n{roles}"


class OperatorDialog(QDialog):
    def __init__(
        self, people: Sequence[PersonRow], workspace: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Who are you? — Quiver")
        self.setMinimumSize(520, 560)
        intro = QLabel(
            f"Quiver does everything as a person. Choose yourself for this workspace:\n{workspace}"
        )
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by name, email, unit or role")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setObjectName("operatorList")
        for person in people:
            item = QListWidgetItem(describe(person))
            item.setData(PERSON_ROLE, person)
            self.list.addItem(item)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Act as this person")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.buttons)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.list.currentItemChanged.connect(self._on_list_current_item_changed)
        self.list.itemDoubleClicked.connect(self.accept)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._on_list_current_item_changed(None, None)

    def chosen(self) -> PersonRow | None:
        item = self.list.currentItem()
        return None if item is None or item.isHidden() else item.data(PERSON_ROLE)

    def _on_search_text_changed(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.list.count()):
            item = self.list.item(i)
            person: PersonRow = item.data(PERSON_ROLE)
            hay = f"{describe(person)} {person.email}".lower()
            item.setHidden(bool(needle) and needle not in hay)

    def _on_list_current_item_changed(self, current: object, _previous: object) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(current is not None)


class SignInDialog(QDialog):
    """Asks the chosen person's passphrase; stays open, saying why, until it is right."""

    def __init__(self, services: Services, person: PersonRow, parent: QWidget | None = None):
        super().__init__(parent)
        self._services = services
        self._person = person
        self.setWindowTitle("Sign in — Quiver")
        self.setMinimumWidth(440)
        intro = QLabel(f"Passphrase of {person.name} ({person.email})")
        intro.setTextFormat(Qt.TextFormat.PlainText)
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel()
        self.message.setObjectName("signinMessage")
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Sign in")
        layout = QVBoxLayout(self)
        for widget in (intro, self.passphrase, self.message, self.buttons):
            layout.addWidget(widget)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        wait = services.signin.state(person.id).wait_s
        if wait:
            self.message.setText(f"Too many wrong passphrases: try again in {int(wait) + 1} s.")

    def _on_buttons_accepted(self) -> None:
        try:
            self._services.signin.sign_in(self._person.id, self.passphrase.text())
        except SignInRefused as exc:
            self.message.setText(str(exc))
            self.passphrase.selectAll()
            return
        self.passphrase.clear()
        self.accept()


def confirm_identity(services: Services, person: PersonRow, parent: QWidget | None = None) -> bool:
    """True when ``person`` may act here now: sign-in is off, or their passphrase was given."""
    if not services.signin.required():
        return True
    dialog = SignInDialog(services, person, parent)
    return dialog.exec() == QDialog.DialogCode.Accepted
