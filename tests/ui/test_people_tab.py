"""Settings > People and roles: search, add and grant, what an agent may not do, CSV import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.domain.people_csv import ImportPreview
from app.services.container import Services
from app.ui.operator import OperatorBinding
from app.ui.settings import people_tab
from app.ui.settings.people_tab import ImportPreviewDialog, PeopleTab

DOMAIN = "acme-mobility.example"
ADMIN = f"ingrid.solberg@{DOMAIN}"
AGENT = f"tom.becker@{DOMAIN}"
CARE = "Acme Mobility/Customer Care"


def _tab(qtbot: Any, services: Services, email: str) -> tuple[PeopleTab, OperatorBinding]:
    person = services.directory.person_by_email(email)
    assert person is not None
    operator = OperatorBinding(person)
    tab = PeopleTab(services, operator)
    qtbot.addWidget(tab)
    tab.resize(1100, 640)
    tab.show()
    return tab, operator


def _shown(tab: PeopleTab) -> list[str]:
    m = tab.model
    return [str(m.data(m.index(i, 0))) for i in range(m.rowCount())]


def test_search_narrows_the_list(qtbot: Any, qtmodeltester: Any, demo_services: Services) -> None:
    tab, _op = _tab(qtbot, demo_services, ADMIN)
    qtmodeltester.check(tab.model)
    assert len(_shown(tab)) == len(demo_services.people.search())
    tab.search.setText("marcus")
    qtbot.waitUntil(lambda: len(_shown(tab)) == 1)
    assert _shown(tab) == [f"Marcus Kelly  <marcus.kelly@{DOMAIN}>"]
    tab.list.setCurrentIndex(tab.model.index(0, 0))
    assert tab.name.text() == "Marcus Kelly"
    assert tab.roles_model.stringList() == [f"supervisor in {CARE}"]


def test_add_a_person_and_grant_a_role(qtbot: Any, demo_services: Services) -> None:
    tab, _op = _tab(qtbot, demo_services, ADMIN)
    tab.new_button.click()
    tab.name.setText("<b>Nia</b> New")
    tab.email.setText("nia@example.org")
    tab.save_button.click()
    assert tab.status.text() == "<b>Nia</b> New was added: now grant them a role."
    added = demo_services.directory.person_by_email("nia@example.org")
    assert added is not None
    assert "<b>Nia</b> New  <nia@example.org>" in _shown(tab)  # plain text, as typed
    assert tab.heading.textFormat() == Qt.TextFormat.PlainText
    tab.unit_choice.setCurrentIndex(tab.unit_choice.findText(CARE))
    tab.role_choice.setCurrentIndex(tab.role_choice.findData("supervisor"))
    tab.grant_button.click()
    assert tab.roles_model.stringList() == [f"supervisor in {CARE}"]
    detail = demo_services.people.person(added.id)
    assert detail is not None
    assert [(r.role, r.unit_label) for r in detail.roles] == [("supervisor", CARE)]
    tab.email.setText(f"marcus.kelly@{DOMAIN}")
    tab.save_button.click()
    assert tab.status.text() == f"marcus.kelly@{DOMAIN} already belongs to Marcus Kelly."


def test_an_agent_is_told_what_they_may_not_do(qtbot: Any, demo_services: Services) -> None:
    tab, operator = _tab(qtbot, demo_services, AGENT)
    assert tab.access_note.isVisible()
    assert tab.access_note.text() == (
        "Only an administrator can change people and their roles: Tom Becker holds no such role."
    )
    for control in (tab.new_button, tab.import_button, tab.save_button, tab.grant_button):
        assert not control.isEnabled()
    admin = demo_services.directory.person_by_email(ADMIN)
    assert admin is not None
    operator.switch(admin)
    assert not tab.access_note.isVisible()
    assert tab.new_button.isEnabled()
    assert tab.import_button.isEnabled()


@pytest.fixture
def previews(monkeypatch: pytest.MonkeyPatch) -> list[ImportPreviewDialog]:
    """Replaces the modal preview: builds the dialog, keeps it, and imports when it may."""
    shown: list[ImportPreviewDialog] = []

    def confirm(parent: Any, path: str, preview: ImportPreview) -> bool:
        dialog = ImportPreviewDialog(path, preview, parent)
        shown.append(dialog)
        return dialog.import_button.isEnabled()

    monkeypatch.setattr(people_tab, "confirm_import", confirm)
    return shown


def test_import_preview_lists_every_problem_and_imports_nothing(
    qtbot: Any,
    demo_services: Services,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    previews: list[ImportPreviewDialog],
) -> None:
    bad = tmp_path / "people.csv"
    bad.write_text(
        "name,email,unit,role\n"
        f"Nia New,nia@example.org,{CARE},agent\n"
        "Oli Other,oli@example.org,Acme Mobility/Custmer Care,agent\n"
        f"Oli Other,oli@example.org,{CARE},boss\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(people_tab, "choose_csv_file", lambda parent: str(bad))
    tab, _op = _tab(qtbot, demo_services, ADMIN)
    count = len(demo_services.people.search())
    tab.import_button.click()
    qtbot.waitUntil(lambda: bool(previews))
    dialog = previews[0]
    assert dialog.lines() == [
        "line 3: unknown unit “Acme Mobility/Custmer Care” (did you mean “" + CARE + "”?)",
        "line 4: unknown role “boss” (one of agent, supervisor, strategist, admin)",
    ]
    assert not dialog.import_button.isEnabled()
    assert dialog.summary.text().startswith("people.csv: 2 problem(s). Nothing is imported")
    dialog.grab().save(str(tmp_path / "preview.png"))
    assert tab.status.text() == "people.csv was not imported."
    assert len(demo_services.people.search()) == count

    bad.write_text(
        f"name,email,unit,role\nNia New,nia@example.org,{CARE},agent\n", encoding="utf-8"
    )
    tab.import_button.click()
    qtbot.waitUntil(lambda: tab.status.text().startswith("Imported"), timeout=5000)
    assert tab.status.text() == (
        "Imported people.csv: 1 people added, 1 roles granted, 0 renamed, 0 lines already true."
    )
    assert previews[1].import_button.isEnabled()
    assert demo_services.directory.person_by_email("nia@example.org") is not None
    assert any("Nia New" in line for line in _shown(tab))
