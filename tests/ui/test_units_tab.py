"""Settings > Units: the tree edited in place, settings saved, refusals said, the operator followed."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt

from app.services.container import Services
from app.ui.operator import OperatorBinding
from app.ui.settings import units_tab
from app.ui.settings.units_tab import UnitsTab

ADMIN = "ingrid.solberg@acme-mobility.example"
AGENT = "tom.becker@acme-mobility.example"


def _operator(services: Services, email: str) -> OperatorBinding:
    person = services.directory.person_by_email(email)
    assert person is not None
    return OperatorBinding(person)


def _tab(qtbot: Any, services: Services, email: str = ADMIN) -> UnitsTab:
    operator = _operator(services, email)
    tab = UnitsTab(services, operator)
    operator.setParent(tab)
    qtbot.addWidget(tab)
    tab.resize(1000, 640)
    tab.show()
    return tab


def _id(services: Services, name: str) -> int:
    return next(u.id for u in services.units.tree() if u.name == name)


def test_the_model_is_a_sound_tree(qtbot: Any, qtmodeltester: Any, demo_services: Services) -> None:
    tab = _tab(qtbot, demo_services)
    qtmodeltester.check(tab.model)
    root = tab.model.index(0, 0)
    assert root.data() == "Acme Mobility"
    care = tab.model.index_of(_id(demo_services, "Customer Care"))
    assert care.parent() == root
    assert tab.model.rowCount(care) == 2
    tab.grab().save("/tmp/units_tab.png")


def test_rename_in_place_and_drag_a_unit_below_another(qtbot: Any, demo_services: Services) -> None:
    s = demo_services
    tab = _tab(qtbot, s)
    pr = _id(s, "Public Relations")
    assert not tab.model.setData(tab.model.index_of(pr), "Press Office")  # asked, not done
    qtbot.waitUntil(lambda: s.units.get(pr).name == "Press Office")
    assert tab.model.index_of(pr).data() == "Press Office"

    legal, marketing = _id(s, "Legal & Compliance"), _id(s, "Marketing")
    data = tab.model.mimeData([tab.model.index_of(legal)])
    target = tab.model.index_of(marketing)
    assert tab.model.canDropMimeData(data, Qt.DropAction.MoveAction, -1, 0, target)
    assert not tab.model.canDropMimeData(
        tab.model.mimeData([tab.model.index_of(marketing)]),
        Qt.DropAction.MoveAction,
        -1,
        0,
        target,
    )  # not below itself
    tab.model.dropMimeData(data, Qt.DropAction.MoveAction, -1, 0, target)
    qtbot.waitUntil(lambda: s.units.get(legal).parent_id == marketing)
    assert tab.model.index_of(legal).parent().data() == "Marketing"
    assert s.units.get(legal).path == f"{s.units.get(marketing).path}{legal}/"
    assert tab.selected() is not None
    assert tab.selected().id == legal


def test_move_to_add_and_settings(
    qtbot: Any, demo_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = demo_services
    tab = _tab(qtbot, s)
    tech, sales = _id(s, "Technical Support"), _id(s, "Sales & E-commerce")
    offered: list[list[tuple[int, str]]] = []

    def choose(parent: Any, title: str, options: list[tuple[int, str]]) -> int:
        offered.append(options)
        return sales

    monkeypatch.setattr(units_tab, "choose_parent", choose)
    tab.select(tech)
    tab.move_button.click()
    assert s.units.get(tech).parent_id == sales
    assert tech not in {uid for uid, _label in offered[0]}

    tab.select(sales)
    tab.add_button.click()
    added = tab.selected()
    assert added is not None
    assert added.name == "New unit"
    assert added.parent_id == sales
    tab.tree.closePersistentEditor(tab.model.index_of(added.id))

    monkeypatch.setattr(units_tab, "pick_colour", lambda parent, current: "#ff8800")
    tab.colour.click()
    tab.name.setText("Fleet Sales")
    tab.languages.setText("DE, en")
    tab.target.setValue(4)
    tab.same_hours.setChecked(False)
    tab.days["sat"].setText("10:00-14:00")
    tab.save_button.click()
    got = s.units.get(added.id)
    assert (got.name, got.colour, got.languages) == ("Fleet Sales", "#ff8800", "de,en")
    assert got.first_response_target_h == 4.0
    assert got.business_hours is not None
    assert got.business_hours["sat"] == [["10:00", "14:00"]]
    assert tab.error.text() == ""

    tab.days["mon"].setText("17:00-09:00")
    tab.save_button.click()
    assert tab.error.text() == "Hours not changed: Monday: 17:00 to 09:00 ends before it starts."
    tab.languages.setText("klingon")
    tab.save_button.click()
    assert "“klingon” is not a language code" in tab.error.text()
    assert tab.error.textFormat() == Qt.TextFormat.PlainText


def test_delete_asks_where_conversations_go(
    qtbot: Any, demo_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = demo_services
    tab = _tab(qtbot, s)
    marketing, triage = _id(s, "Marketing"), _id(s, "Triage")
    asked: list[str] = []

    def destination(parent: Any, message: str, options: list[tuple[int, str]]) -> int:
        asked.append(message)
        assert marketing not in {uid for uid, _ in options}
        return triage

    monkeypatch.setattr(units_tab, "choose_destination", destination)
    tab.select(triage)
    assert not tab.delete_button.isEnabled()  # Triage stays
    tab.select(marketing)
    tab.delete_button.click()
    assert asked[0].startswith("Marketing holds ")
    assert asked[0].endswith(": choose where they go.")
    assert marketing not in {u.id for u in s.units.tree()}
    assert tab.model.index_of(marketing) == QModelIndex()
    assert tab.selected() is not None
    assert tab.selected().id == triage


def test_a_person_who_may_not_change_units_is_told_and_the_switch_is_followed(
    qtbot: Any, demo_services: Services
) -> None:
    s = demo_services
    agent = _operator(s, AGENT)
    tab = UnitsTab(s, agent)
    agent.setParent(tab)
    qtbot.addWidget(tab)
    tab.show()
    assert tab.access_note.isVisible()
    assert tab.access_note.text().startswith("Only an administrator of ")
    assert not tab.form_box.isEnabled()
    assert not tab.add_button.isEnabled()
    assert not tab.model.index(0, 0).flags() & Qt.ItemFlag.ItemIsEditable
    tab.grab().save("/tmp/units_tab_refused.png")
    admin = s.directory.person_by_email(ADMIN)
    assert admin is not None
    agent.switch(admin)
    assert not tab.access_note.isVisible()
    assert tab.form_box.isEnabled()
    assert tab.model.index(0, 0).flags() & Qt.ItemFlag.ItemIsEditable
