"""Settings > Routing rules: create with a live preview, reorder, switch off, refuse a bad
regex with RE2's reason, delete, and read-only for an agent."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from sqlalchemy import update

from app.models import Message
from app.services.container import Services
from app.services.demo import ROUTING_RULES
from app.services.rules import RuleDraft
from app.ui.operator import OperatorBinding
from app.ui.settings import rules_tab
from app.ui.settings.rules_tab import RulesTab

ADMIN = "ingrid.solberg@acme-mobility.example"
DEMO_RULES = len(ROUTING_RULES)  # the demo's rules, in order
SAFETY = next(i for i, r in enumerate(ROUTING_RULES) if r[0].startswith("Safety"))
AGENT = "tom.becker@acme-mobility.example"


def _operator(services: Services, email: str) -> OperatorBinding:
    person = services.directory.person_by_email(email)
    assert person is not None
    return OperatorBinding(person)


def _tab(qtbot: Any, services: Services, email: str = ADMIN) -> RulesTab:
    operator = _operator(services, email)
    tab = RulesTab(services, operator)
    operator.setParent(tab)
    qtbot.addWidget(tab)
    tab.resize(1400, 820)
    tab.show()
    _settled(qtbot, tab)
    return tab


def _settled(qtbot: Any, tab: RulesTab) -> None:
    """Wait until the preview asked for last has been shown."""
    qtbot.waitUntil(lambda: not tab._timer.isActive(), timeout=5000)
    generation = tab._generation
    qtbot.waitUntil(
        lambda: (
            tab.preview_result is not None
            and tab.preview_summary.text() != "Testing the rule…"
            and tab._generation == generation
        ),
        timeout=20000,
    )


def _names(services: Services) -> list[str]:
    return [v.record.name for v in services.rules.rules()]


def test_the_models_are_sound(qtbot: Any, qtmodeltester: Any, demo_services: Services) -> None:
    tab = _tab(qtbot, demo_services)
    qtmodeltester.check(tab.model)
    qtmodeltester.check(tab.preview_model)
    assert tab.model.rowCount() == DEMO_RULES
    first = tab.model.index(0).data()
    assert first.startswith("1. Spam words\nWhen the text has any of “crypto”")
    assert tab.model.index(0).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert tab.selected() is not None
    assert tab.selected().record.name == "Spam words"
    assert tab.form.name.text() == "Spam words"
    assert tab.form.spam.isChecked()
    assert tab.form.stop.isChecked()


def test_create_a_rule_and_watch_the_preview_change(qtbot: Any, demo_services: Services) -> None:
    s = demo_services
    tab = _tab(qtbot, s)
    tab.new_button.click()
    assert tab.title.text() == "New rule (not saved yet)"
    assert not tab.delete_button.isEnabled()
    _settled(qtbot, tab)
    everything = tab.preview_result
    assert everything is not None
    assert everything.sample_size > 0
    assert 0 < everything.matched <= everything.sample_size  # no condition: what no rule stopped
    tab.form.name.setText("Direct messages to Care")
    tab.form.kinds[next(k for k in tab.form.kinds if k.value == "dm")].setChecked(True)
    assert tab._timer.isActive()  # debounced: the preview waits for a pause in typing
    _settled(qtbot, tab)
    dms = tab.preview_result
    assert dms is not None
    assert 0 < dms.matched < everything.matched
    assert tab.preview_summary.text() == dms.summary
    assert tab.preview_summary.text().startswith(f"Matches {dms.matched:,} of the last ")
    assert tab.preview_model.rowCount() == dms.matched
    assert tab.preview_model.index(0, 0).data() == " ".join(dms.matches[0].text.split())[:300]
    care = next(u.id for u in s.inbox.units() if u.name == "Customer Care")
    tab.form.route.setCurrentIndex(tab.form.route.findData(care))
    tab.form.tags.setText("dm, care")
    _settled(qtbot, tab)
    assert tab.preview_result is not None
    assert tab.preview_result.matches[0].does.startswith("routed to Customer Care")
    tab.save_button.click()
    assert tab.error.text() == ""
    assert _names(s)[-1] == "Direct messages to Care"
    stored = s.rules.rules()[-1].record
    assert stored.conditions == {"kinds": ["dm"]}
    assert stored.actions == {"route_to_unit": care, "add_tags": ["dm", "care"]}
    assert tab.selected() is not None
    assert tab.selected().record.id == stored.id
    assert tab.title.text() == f"Rule {DEMO_RULES + 1}: Direct messages to Care"
    assert (
        tab.model.index(DEMO_RULES)
        .data()
        .endswith("When a dm: route to Customer Care, tag “dm”, “care”")
    )


def test_reorder_with_the_keyboard_the_buttons_and_a_drag(
    qtbot: Any, demo_services: Services
) -> None:
    s = demo_services
    tab = _tab(qtbot, s)
    before = _names(s)
    tab.list.setFocus()
    tab.select(s.rules.rules()[2].record.id)
    qtbot.keyClick(tab.list, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert _names(s)[:3] == [before[0], before[2], before[1]]
    assert tab.selected() is not None
    assert tab.selected().record.name == before[2]  # the moved rule stays selected
    tab.down_button.click()
    tab.down_button.click()
    assert _names(s)[:4] == [before[0], before[1], before[3], before[2]]
    assert [v.record.position for v in s.rules.rules()] == list(range(1, DEMO_RULES + 1))

    spam = s.rules.rules()[0].record.id
    data = tab.model.mimeData([tab.model.index(0)])
    assert tab.model.canDropMimeData(data, Qt.DropAction.MoveAction, 5, 0, QModelIndex())
    tab.model.dropMimeData(data, Qt.DropAction.MoveAction, 5, 0, QModelIndex())
    qtbot.waitUntil(lambda: s.rules.rules()[4].record.id == spam)
    assert tab.model.index(4).data().startswith("5. Spam words")


def test_switch_a_rule_off_with_its_checkbox(qtbot: Any, demo_services: Services) -> None:
    s = demo_services
    tab = _tab(qtbot, s)
    index = tab.model.index(1)
    assert tab.model.flags(index) & Qt.ItemFlag.ItemIsUserCheckable
    tab.model.setData(index, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    qtbot.waitUntil(lambda: not s.rules.rules()[1].record.enabled)
    assert "(switched off)" in tab.model.index(1).data()
    assert tab.model.index(1).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked


def test_a_bad_regex_is_refused_with_re2s_reason(qtbot: Any, demo_services: Services) -> None:
    s = demo_services
    tab = _tab(qtbot, s)
    tab.select(s.rules.rules()[SAFETY].record.id)
    _settled(qtbot, tab)
    before = s.rules.rules()[SAFETY].record
    tab.form.regex.setText(r"order (\d+) again \1")
    assert tab.form.regex_error.isVisible()
    assert tab.form.regex_error.text() == (
        r"RE2 cannot run this pattern: invalid escape sequence: \1"
    )
    assert tab.form.regex_error.textFormat() == Qt.TextFormat.PlainText
    _settled(qtbot, tab)
    assert "invalid escape sequence: \\1" in tab.preview_summary.text()
    tab.save_button.click()
    assert tab.error.text().startswith("Not saved: Rule 'Safety → Technical Support (urgent)'")
    assert tab.error.text().endswith("cannot be used: invalid escape sequence: \\1")
    assert s.rules.rules()[SAFETY].record == before
    tab.form.regex.setText("order [0-9]{6}")
    assert not tab.form.regex_error.isVisible()


def test_revert_and_delete_after_asking(
    qtbot: Any, demo_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = demo_services
    tab = _tab(qtbot, s)
    target = s.rules.rules()[4].record
    tab.select(target.id)
    tab.form.name.setText("Something else")
    tab.revert_button.click()
    assert tab.form.name.text() == target.name
    asked: list[str] = []
    monkeypatch.setattr(rules_tab, "confirm", lambda parent, title, text: asked.append(text))
    tab.delete_button.click()  # "no"
    assert target.name in _names(s)
    monkeypatch.setattr(rules_tab, "confirm", lambda parent, title, text: True)
    tab.delete_button.click()
    assert target.name not in _names(s)
    assert asked[0].startswith(f"Delete the rule “{target.name}”?")
    assert tab.model.rowCount() == DEMO_RULES - 1


def test_an_agent_reads_the_rules_and_changes_nothing(qtbot: Any, demo_services: Services) -> None:
    s = demo_services
    tab = _tab(qtbot, s, AGENT)
    assert not tab.access_note.isHidden()
    assert tab.access_note.text() == (
        "Only an administrator of Acme Mobility can change the routing rules. "
        "You can read the rules, not change them."
    )
    for button in (tab.new_button, tab.save_button, tab.delete_button, tab.up_button):
        assert not button.isEnabled()
    assert not tab.form.name.isEnabled()
    assert not tab.form.regex.isEnabled()
    assert tab.form.name.text() == "Spam words"  # readable
    index = tab.model.index(0)
    assert not tab.model.flags(index) & Qt.ItemFlag.ItemIsUserCheckable
    assert not tab.model.flags(index) & Qt.ItemFlag.ItemIsDragEnabled
    before = [(v.record.id, v.record.enabled) for v in s.rules.rules()]
    tab.model.setData(index, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    data = tab.model.mimeData([index])
    assert not tab.model.dropMimeData(data, Qt.DropAction.MoveAction, 5, 0, QModelIndex())
    qtbot.keyClick(tab.list, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    qtbot.wait(50)
    assert [(v.record.id, v.record.enabled) for v in s.rules.rules()] == before
    assert tab.preview_result is not None  # the preview still works for readers

    tab._operator.switch(_operator(s, ADMIN).person)
    assert tab.access_note.isHidden()
    assert tab.save_button.isEnabled()
    assert tab.form.name.isEnabled()


HOSTILE = (
    "<b>Thank you so much</b> for the lovely help, <a href='https://evil.example'>see</a> "
    "\u202egnirts\u200b &amp; <qt>done</qt>"
)


def test_hostile_text_stays_plain_in_the_preview(qtbot: Any, demo_services: Services) -> None:
    s = demo_services
    with s.db.uow() as uow:
        newest = uow.rule_store.sample(1)[0]
    with s.db.engine.begin() as conn:
        conn.execute(update(Message).where(Message.id == newest.message_id).values(text=HOSTILE))
    tab = _tab(qtbot, s)
    tab.new_button.click()
    tab.form.regex.setText(r"evil\.example")
    _settled(qtbot, tab)
    assert tab.preview_model.rowCount() == 1, (tab.preview_result, tab.form.draft())
    assert tab.preview_model.index(0, 0).data() == " ".join(HOSTILE.split())
    tip = tab.preview_model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "&lt;b&gt;Thank you so much&lt;/b&gt;" in tip
    assert "<b>" not in tip
    for label in (tab.preview_summary, tab.preview_note, tab.error, tab.access_note):
        assert label.textFormat() == Qt.TextFormat.PlainText
    tab.grab().save("/tmp/rules_tab_hostile.png")


def test_a_hidden_tab_previews_nothing_until_shown(qtbot: Any, demo_services: Services) -> None:
    operator = _operator(demo_services, ADMIN)
    tab = RulesTab(demo_services, operator)
    operator.setParent(tab)
    qtbot.addWidget(tab)
    qtbot.wait(50)
    assert tab._generation == 0  # the window's start does not load the language model
    assert tab.preview_result is None
    tab.show()
    _settled(qtbot, tab)
    assert tab._generation == 1
    assert tab.preview_result is not None
    assert tab.preview_result.sample_size > 0


def test_someone_elses_change_is_not_overwritten(qtbot: Any, demo_services: Services) -> None:
    s = demo_services
    tab = _tab(qtbot, s)
    admin = _operator(s, ADMIN).id
    target = next(v.record for v in s.rules.rules() if v.record.name.startswith("Fleet"))
    tab.select(target.id)
    tab.form.tags.setText("lead, fleet")
    tab.save_button.click()  # an existing rule saved twice stays one rule
    assert tab.error.text() == ""
    tab.form.tags.setText("lead, fleet, b2b")
    tab.save_button.click()
    assert len(s.rules.rules()) == DEMO_RULES
    assert s.rules.get(target.id).actions["add_tags"] == ["lead", "fleet", "b2b"]

    s.rules.update(admin, target.id, RuleDraft("Fleet (edited elsewhere)", {}, {}))
    tab.form.name.setText("Mine")
    tab.save_button.click()
    assert tab.error.text().startswith(
        "Not saved: Someone else changed the rule 'Fleet and bulk leads → Sales' (now "
        "'Fleet (edited elsewhere)') since you opened it."
    )
    assert s.rules.get(target.id).name == "Fleet (edited elsewhere)"
    tab.revert_button.click()
    assert tab.form.name.text() == "Fleet (edited elsewhere)"


def test_unsaved_edits_are_not_dropped_without_asking(
    qtbot: Any, demo_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = demo_services
    tab = _tab(qtbot, s)
    tab.form.name.setText("Half-typed")
    monkeypatch.setattr(rules_tab, "confirm", lambda parent, title, text: False)
    tab.list.setCurrentIndex(tab.model.index(3))
    assert tab.form.name.text() == "Half-typed"
    assert tab.selected() is not None
    assert tab.selected().record.position == 1
    monkeypatch.setattr(rules_tab, "confirm", lambda parent, title, text: True)
    tab.list.setCurrentIndex(tab.model.index(3))
    assert tab.form.name.text() == s.rules.rules()[3].record.name


def test_shown_again_it_reads_what_changed_elsewhere(qtbot: Any, demo_services: Services) -> None:
    s = demo_services
    tab = _tab(qtbot, s)
    admin = _operator(s, ADMIN).id
    s.rules.add(admin, RuleDraft("Added on another workstation", {}, {}))
    tab.hide()
    tab.show()
    assert tab.model.rowCount() == DEMO_RULES + 1
    assert (
        tab.model.index(DEMO_RULES)
        .data()
        .startswith(f"{DEMO_RULES + 1}. Added on another workstation")
    )


def test_space_switches_the_current_rule(qtbot: Any, demo_services: Services) -> None:
    s = demo_services
    tab = _tab(qtbot, s)
    tab.list.setFocus()
    tab.list.setCurrentIndex(tab.model.index(2))
    qtbot.keyClick(tab.list, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not s.rules.rules()[2].record.enabled)
    assert all(v.record.enabled for i, v in enumerate(s.rules.rules()) if i != 2)
