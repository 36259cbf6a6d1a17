"""Settings > Sign-in: the workspace's sign-in setting, your passphrase, and resetting others'."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.permissions import Action
from app.domain.rows import PersonRow
from app.domain.signin import MIN_LENGTH, PassphraseError
from app.services.access import NotAllowed
from app.services.container import Services
from app.services.signin import SignInRefused
from app.ui.operator import OperatorBinding


def _secret(placeholder: str) -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setPlaceholderText(placeholder)
    return field


class SignInTab(QWidget):
    """What signing in asks of people; every check is the service's, this only asks."""

    def __init__(
        self, services: Services, operator: OperatorBinding, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._operator = operator

        self.required = QCheckBox("People sign in with a passphrase")
        self.required.setToolTip(
            "On: choosing or switching who you are asks for that person's passphrase. "
            "Off: anyone at this workstation can act as anyone."
        )
        self.required_note = QLabel()
        self.required_note.setTextFormat(Qt.TextFormat.PlainText)
        self.required_note.setWordWrap(True)
        workspace = QGroupBox("This workspace")
        box = QVBoxLayout(workspace)
        box.addWidget(self.required)
        box.addWidget(self.required_note)

        self.current = _secret("your passphrase now (if you have one)")
        self.new = _secret(f"at least {MIN_LENGTH} characters: a few words")
        self.repeat = _secret("the same again")
        self.set_button = QPushButton("Set my passphrase")
        own = QGroupBox("Your passphrase")
        form = QFormLayout(own)
        form.addRow("Current", self.current)
        form.addRow("New", self.new)
        form.addRow("Repeat", self.repeat)
        form.addRow("", self.set_button)

        self.person = QComboBox()
        self.reset_to = _secret("a new passphrase to give them (they change it after)")
        self.reset_button = QPushButton("Reset their passphrase")
        self.reset_note = QLabel()
        self.reset_note.setTextFormat(Qt.TextFormat.PlainText)
        self.reset_note.setWordWrap(True)
        others = QGroupBox("Someone else's passphrase (administrators)")
        form2 = QFormLayout(others)
        form2.addRow("Person", self.person)
        form2.addRow("New passphrase", self.reset_to)
        form2.addRow("", self.reset_button)
        form2.addRow(self.reset_note)

        self.status = QLabel()
        self.status.setObjectName("signinStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        for widget in (workspace, own, others, self.status):
            layout.addWidget(widget)
        layout.addStretch(1)

        self.required.clicked.connect(self._on_required_clicked)
        self.set_button.clicked.connect(self._on_set_button_clicked)
        self.reset_button.clicked.connect(self._on_reset_button_clicked)
        operator.changed.connect(self._on_operator_changed)
        self.refresh()

    def refresh(self) -> None:
        """Show the setting and what the current operator may change."""
        services, me = self._services, self._operator
        on = services.signin.required()
        self.required.setChecked(on)
        workspace = services.access.decide(me.id, Action.MANAGE_WORKSPACE)
        self.required.setEnabled(workspace.allowed)
        self.required_note.setText(
            workspace.reason
            if not workspace.allowed
            else (
                "Sign-in is on: everyone needs a passphrase set before they can act."
                if on
                else "Sign-in is off: anyone at this workstation can act as anyone."
            )
        )
        self.current.setEnabled(services.signin.state(me.id).has_passphrase)
        people = services.access.decide(
            me.id, Action.MANAGE_PEOPLE, doing="reset people's passphrases"
        )
        self.person.clear()
        for person in services.directory.people():
            if person.id != me.id:
                self.person.addItem(f"{person.name} <{person.email}>", person.id)
        for widget in (self.person, self.reset_to, self.reset_button):
            widget.setEnabled(people.allowed)
        self.reset_note.setText(people.reason)
        self.reset_note.setVisible(not people.allowed)

    def _on_operator_changed(self, _person: PersonRow) -> None:
        self.status.setText("")
        self.refresh()

    def _on_required_clicked(self, checked: bool) -> None:
        try:
            self._services.signin.set_required(self._operator.id, checked)
        except (NotAllowed, PassphraseError) as exc:
            self.status.setText(str(exc))
        else:
            self.status.setText(
                "From now on, choosing who you are asks for the passphrase."
                if checked
                else "Sign-in is off."
            )
            window = self.window()
            show = getattr(window, "show_sign_in_state", None)
            if callable(show):
                show()
        self.refresh()

    def _on_set_button_clicked(self) -> None:
        new, repeat = self.new.text(), self.repeat.text()
        if new != repeat:
            self.status.setText("The two new passphrases differ: type the same twice.")
            return
        try:
            self._services.signin.set_own_passphrase(
                self._operator.id, self.current.text() or None, new
            )
        except (PassphraseError, SignInRefused, NotAllowed) as exc:
            self.status.setText(str(exc))
            return
        finally:
            for field in (self.current, self.new, self.repeat):
                field.clear()  # the passphrase is not kept in the window
        self.status.setText("Your passphrase is set.")
        self.refresh()

    def _on_reset_button_clicked(self) -> None:
        person_id = self.person.currentData()
        if person_id is None:
            self.status.setText("Choose the person first.")
            return
        new = self.reset_to.text()
        if not new:
            self.status.setText("Type the new passphrase to give them.")
            return
        try:
            self._services.signin.reset_passphrase(self._operator.id, int(person_id), new)
        except (PassphraseError, NotAllowed, KeyError) as exc:
            self.status.setText(str(exc))
            return
        finally:
            self.reset_to.clear()
        self.status.setText(f"The passphrase of {self.person.currentText()} was reset.")
