"""Settings > People and roles: search, add, edit, deactivate, roles per unit, CSV import.

Every check is the service's (``services.people``); this tab asks, shows the refusals as plain
text, and disables what the current operator may not do, saying why at its top.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QStringListModel,
    Qt,
    QTimer,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import Role
from app.domain.people_csv import MAX_BYTES, ImportPreview, too_large
from app.services.access import NotAllowed
from app.services.container import Services
from app.services.people import (
    ImportRefused,
    ImportResult,
    PersonDetail,
    PersonError,
    PersonSummary,
)
from app.ui.labels import plain_label
from app.ui.tasks import TaskRunner

_Index = QModelIndex | QPersistentModelIndex


def choose_csv_file(parent: QWidget) -> str | None:
    """Ask for the CSV file to import (tests replace this)."""
    path, _filter = QFileDialog.getOpenFileName(
        parent, "Import people from CSV", "", "CSV files (*.csv);;All files (*)"
    )
    return path or None


def read_file(services: Services, path: str, operator_id: int) -> tuple[bytes, ImportPreview]:
    """Read at most 5 MB of the file and preview it (runs on a worker thread)."""
    file = Path(path)
    with file.open("rb") as f:
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return b"", ImportPreview(0, (too_large(file.stat().st_size),))
    return data, services.people.preview_import(data, operator_id)


class PeopleListModel(QAbstractListModel):
    """People matching the search, by name, fetched 200 at a time (keyset paging in SQL)."""

    PAGE = 200

    def __init__(self, services: Services, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._text = ""
        self._rows: list[PersonSummary] = []
        self._done = False

    def set_query(self, text: str) -> None:
        """Show the people matching ``text``, starting over with the first page."""
        first = self._services.people.search(text, limit=self.PAGE)
        self.beginResetModel()
        self._text, self._rows, self._done = text, first, len(first) < self.PAGE
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def canFetchMore(self, parent: _Index) -> bool:
        return not parent.isValid() and not self._done

    def fetchMore(self, parent: _Index) -> None:
        if parent.isValid() or self._done:
            return
        after = (self._rows[-1].name, self._rows[-1].id) if self._rows else None
        page = self._services.people.search(self._text, after=after, limit=self.PAGE)
        self._done = len(page) < self.PAGE
        if page:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(page) - 1)
            self._rows.extend(page)
            self.endInsertRows()

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        person = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            state = "" if person.active else "  (deactivated)"
            return f"{person.name}  <{person.email}>{state}"
        if role == Qt.ItemDataRole.UserRole:
            return person.id
        return None

    def row_of(self, person_id: int) -> int:
        return next((i for i, p in enumerate(self._rows) if p.id == person_id), -1)

    def person_at(self, row: int) -> PersonSummary | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None


class ImportPreviewDialog(QDialog):
    """What the file would change, every problem by line; Import only when there are none."""

    def __init__(self, path: str, preview: ImportPreview, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import people from CSV")
        self.resize(720, 460)
        self.preview = preview
        plan = preview.plan
        if preview.ok:
            text = (
                f"{Path(path).name}: {preview.lines} lines, ready to import: "
                f"{plan.people_added} people to add, {plan.roles_added} roles to grant, "
                f"{len(plan.rename)} people to rename, {plan.unchanged} lines already true."
            )
        else:
            text = (
                f"{Path(path).name}: {len(preview.problems)} problem(s). Nothing is imported "
                "while any line is wrong: correct the file and import it again."
            )
        self.summary = plain_label(text, object_name="importSummary")
        lines = [str(p) for p in preview.problems] or [
            f"line {r.line}: rename “{r.before}” to “{r.after}” ({r.email})" for r in plan.rename
        ]
        self.problems = QListView()
        self.problems.setModel(QStringListModel(lines, self.problems))
        self.problems.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.problems.setUniformItemSizes(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton(
            "Import", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.import_button.setEnabled(preview.ok)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.problems, 1)
        layout.addWidget(self.buttons)

    def lines(self) -> list[str]:
        model = self.problems.model()
        return [str(model.data(model.index(i, 0))) for i in range(model.rowCount())]


def confirm_import(parent: QWidget, path: str, preview: ImportPreview) -> bool:
    """Show the preview; whether the person chose Import (tests replace this)."""
    dialog = ImportPreviewDialog(path, preview, parent)
    return dialog.exec() == QDialog.DialogCode.Accepted


class PeopleTab(QWidget):
    """People, their details and their roles per unit."""

    def __init__(self, services: Services, operator: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._operator = operator
        self._tasks = TaskRunner(self)
        self._person: PersonDetail | None = None
        self.busy = False

        self.access_note = plain_label(object_name="accessNote")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search people by name or email")
        self.search.setClearButtonEnabled(True)
        self.model = PeopleListModel(services, self)
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setUniformItemSizes(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.new_button = QPushButton("New person")
        self.import_button = QPushButton("Import CSV…")
        left = QVBoxLayout()
        left.addWidget(self.search)
        left.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(self.new_button)
        row.addWidget(self.import_button)
        row.addStretch(1)
        left.addLayout(row)

        self.heading = plain_label(object_name="personHeading")
        self.name = QLineEdit()
        self.email = QLineEdit()
        self.title = QLineEdit()
        self.state = plain_label()
        self.save_button = QPushButton("Save")
        self.deactivate_button = QPushButton("Deactivate")
        self.person_note = plain_label(object_name="personNote")
        details = QGroupBox("Person")
        form = QFormLayout(details)
        form.addRow(self.heading)
        form.addRow("Name", self.name)
        form.addRow("Email", self.email)
        form.addRow("Title", self.title)
        form.addRow("State", self.state)
        actions = QHBoxLayout()
        actions.addWidget(self.save_button)
        actions.addWidget(self.deactivate_button)
        actions.addStretch(1)
        form.addRow(actions)
        form.addRow(self.person_note)

        self.roles = QListView()
        self.roles_model = QStringListModel(self.roles)
        self.roles.setModel(self.roles_model)
        self.roles.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.role_choice = QComboBox()
        for role in Role:
            self.role_choice.addItem(role.value, role.value)
        self.unit_choice = QComboBox()
        self.unit_choice.setMinimumContentsLength(28)
        self.grant_button = QPushButton("Grant")
        self.revoke_button = QPushButton("Revoke selected")
        roles_box = QGroupBox("Roles per unit (a role covers the unit's sub-units too)")
        box = QVBoxLayout(roles_box)
        box.addWidget(self.roles, 1)
        grant = QHBoxLayout()
        grant.addWidget(self.role_choice)
        grant.addWidget(plain_label("in"))
        grant.addWidget(self.unit_choice, 1)
        grant.addWidget(self.grant_button)
        box.addLayout(grant)
        box.addWidget(self.revoke_button)

        self.status = plain_label(object_name="peopleStatus")
        right = QVBoxLayout()
        right.addWidget(details)
        right.addWidget(roles_box, 1)
        right.addWidget(self.status)
        columns = QHBoxLayout()
        columns.addLayout(left, 2)
        columns.addLayout(right, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.addWidget(self.access_note)
        layout.addLayout(columns, 1)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(150)
        self._debounce.timeout.connect(self._on_search_due)
        self.search.textChanged.connect(self._debounce.start)
        self.list.selectionModel().currentChanged.connect(self._on_current_changed)
        self.new_button.clicked.connect(self._on_new_clicked)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.deactivate_button.clicked.connect(self._on_deactivate_clicked)
        self.grant_button.clicked.connect(self._on_grant_clicked)
        self.revoke_button.clicked.connect(self._on_revoke_clicked)
        self.import_button.clicked.connect(self._on_import_clicked)
        operator.changed.connect(self._on_operator_changed)
        self.model.set_query("")
        self._show(None)

    # -- what the operator may do -----------------------------------------------------------

    def _on_operator_changed(self, _person: object) -> None:
        self.status.setText("")
        self._show(self._person.id if self._person else None)

    def _apply_access(self) -> None:
        """Say what the operator may not do here, and disable it, instead of failing on click."""
        me = self._operator.id
        anywhere = self._services.people.may_manage(me)
        self.access_note.setText(anywhere.reason)
        self.access_note.setVisible(not anywhere.allowed)
        units = self._services.people.manageable_units(me) if anywhere.allowed else []
        self.unit_choice.clear()
        for unit in units:
            self.unit_choice.addItem(unit.label, unit.id)
        person = self._person
        change = self._services.people.may_change(me, person.id) if person is not None else anywhere
        self.person_note.setText("" if change.allowed else change.reason)
        editable = anywhere.allowed and change.allowed and not self.busy
        for widget in (self.name, self.email, self.title, self.save_button):
            widget.setEnabled(editable)
        self.deactivate_button.setEnabled(editable and person is not None and person.id != me)
        if person is not None and person.id == me:
            self.deactivate_button.setToolTip("Nobody can deactivate themselves.")
        else:
            self.deactivate_button.setToolTip("")
        active = person is not None and person.active
        has_units = bool(units) and anywhere.allowed and not self.busy
        for control in (self.role_choice, self.unit_choice, self.grant_button):
            control.setEnabled(has_units and active)
        self.revoke_button.setEnabled(has_units and person is not None and bool(person.roles))
        self.new_button.setEnabled(anywhere.allowed and not self.busy)
        self.import_button.setEnabled(anywhere.allowed and not self.busy)

    # -- the list and the form --------------------------------------------------------------

    def _on_search_due(self) -> None:
        self.model.set_query(self.search.text())
        if self._person is not None:
            self._select(self._person.id)

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        person = self.model.person_at(current.row()) if current.isValid() else None
        if person is not None and (self._person is None or self._person.id != person.id):
            self.status.setText("")
            self._show(person.id)

    def _select(self, person_id: int) -> None:
        row = self.model.row_of(person_id)
        while row < 0 and self.model.canFetchMore(QModelIndex()):
            self.model.fetchMore(QModelIndex())
            row = self.model.row_of(person_id)
        if row >= 0:
            self.list.setCurrentIndex(self.model.index(row, 0))

    def _show(self, person_id: int | None) -> None:
        """Fill the form with the person (``None``: a new person)."""
        person = self._services.people.person(person_id) if person_id is not None else None
        self._person = person
        if person is None:
            self.heading.setText("A new person: enter their details, save, then grant roles.")
            for field in (self.name, self.email, self.title):
                field.clear()
            self.state.setText("")
            self.deactivate_button.setText("Deactivate")
            self.roles_model.setStringList([])
        else:
            self.heading.setText(person.name)
            self.name.setText(person.name)
            self.email.setText(person.email)
            self.title.setText(person.title)
            self.state.setText(
                "Active"
                if person.active
                else "Deactivated: keeps their roles on record, but may do nothing"
            )
            self.deactivate_button.setText("Deactivate" if person.active else "Reactivate")
            self.roles_model.setStringList([f"{r.role} in {r.unit_label}" for r in person.roles])
        self._apply_access()

    def _after_change(self, person_id: int, message: str) -> None:
        self.model.set_query(self.search.text())
        self._show(person_id)
        self._select(person_id)
        self.status.setText(message)

    # -- changes ------------------------------------------------------------------------------

    def _on_new_clicked(self) -> None:
        self.list.clearSelection()
        self.status.setText("")
        self._show(None)
        self.name.setFocus()

    def _on_save_clicked(self) -> None:
        me, person = self._operator.id, self._person
        name, email, title = self.name.text(), self.email.text(), self.title.text()
        try:
            if person is None:
                person_id = self._services.people.add_person(me, name, email, title)
                message = f"{name.strip()} was added: now grant them a role."
            else:
                self._services.people.edit_person(
                    me, person.id, name=name, email=email, title=title
                )
                person_id, message = person.id, "Saved."
        except (NotAllowed, PersonError) as exc:
            self.status.setText(str(exc))
            return
        self._after_change(person_id, message)

    def _on_deactivate_clicked(self) -> None:
        person = self._person
        if person is None:
            return
        try:
            if person.active:
                self._services.people.deactivate(self._operator.id, person.id)
                message = f"{person.name} was deactivated; their roles stay on record."
            else:
                self._services.people.reactivate(self._operator.id, person.id)
                message = f"{person.name} can act again."
        except (NotAllowed, PersonError) as exc:
            self.status.setText(str(exc))
            return
        self._after_change(person.id, message)

    def _on_grant_clicked(self) -> None:
        person, unit_id = self._person, self.unit_choice.currentData()
        if person is None or unit_id is None:
            self.status.setText("Choose the person and the unit first.")
            return
        role = str(self.role_choice.currentData())
        try:
            added = self._services.people.grant_role(self._operator.id, person.id, unit_id, role)
        except (NotAllowed, PersonError) as exc:
            self.status.setText(str(exc))
            return
        unit = self.unit_choice.currentText()
        self._after_change(
            person.id,
            f"{person.name} is now {role} in {unit}."
            if added
            else f"{person.name} already is {role} in {unit}.",
        )

    def _on_revoke_clicked(self) -> None:
        person = self._person
        row = self.roles.currentIndex().row()
        if person is None or not 0 <= row < len(person.roles):
            self.status.setText("Choose the role to revoke in the list first.")
            return
        held = person.roles[row]
        try:
            self._services.people.revoke_role(self._operator.id, person.id, held.unit_id, held.role)
        except (NotAllowed, PersonError) as exc:
            self.status.setText(str(exc))
            return
        self._after_change(
            person.id, f"{person.name} is no longer {held.role} in {held.unit_label}."
        )

    # -- the CSV import ---------------------------------------------------------------------

    def _on_import_clicked(self) -> None:
        path = choose_csv_file(self)
        if not path:
            return
        self._set_busy(True, "Reading the file…")
        services, me = self._services, self._operator.id
        self._tasks.submit(
            lambda: (path, *read_file(services, path, me)), self._on_previewed, self._on_failed
        )

    def _on_previewed(self, result: tuple[str, bytes, ImportPreview]) -> None:
        path, data, preview = result
        self._set_busy(False, "")
        if not confirm_import(self, path, preview) or not preview.ok:
            self.status.setText(
                "Nothing was imported." if preview.ok else f"{Path(path).name} was not imported."
            )
            return
        self._set_busy(True, "Importing…")
        services, me = self._services, self._operator.id
        self._tasks.submit(
            lambda: _import(services, me, data, path), self._on_imported, self._on_failed
        )

    def _on_imported(self, outcome: tuple[str, ImportResult | ImportPreview]) -> None:
        path, result = outcome
        self._set_busy(False, "")
        if isinstance(result, ImportPreview):  # the workspace changed since the preview
            confirm_import(self, path, result)
            self.status.setText(f"{Path(path).name} was not imported.")
            return
        self.model.set_query(self.search.text())
        self.status.setText(f"Imported {Path(path).name}: {result.summary()}.")

    def _on_failed(self, message: str) -> None:
        self._set_busy(False, message.split(": ", 1)[-1])

    def _set_busy(self, busy: bool, message: str) -> None:
        self.busy = busy
        self.status.setText(message)
        self._apply_access()


def _import(
    services: Services, operator_id: int, data: bytes, path: str
) -> tuple[str, ImportResult | ImportPreview]:
    try:
        return path, services.people.import_people(operator_id, data)
    except ImportRefused as refused:
        return path, refused.preview
