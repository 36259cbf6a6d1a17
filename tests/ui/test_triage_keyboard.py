"""A triage session on the real main window with the keyboard only, outcomes read back from
the services; refusals in words; the palette, the shortcut sheet and the action bar."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication
from sqlalchemy import update

from app.config import LocalPrefs
from app.domain.rows import PersonRow
from app.models import Conversation
from app.services.container import Services
from app.ui.command_palette import CommandPalette
from app.ui.inbox.hand_over_dialog import HandOverDialog
from app.ui.inbox.note_dialog import NoteDialog
from app.ui.inbox.tag_picker import TagPicker
from app.ui.main_window import MainWindow
from app.ui.shortcut_sheet import ShortcutSheet
from tests.ui.feed import listed

DOMAIN = "acme-mobility.example"


def _person(s: Services, local: str) -> PersonRow:
    person = s.directory.person_by_email(f"{local}@{DOMAIN}")
    assert person is not None
    return person


def _unit(s: Services, name: str) -> int:
    return next(u.id for u in s.inbox.units() if u.name == name)


def _free(s: Services, unit_id: int) -> None:
    """Every conversation of the unit open and unclaimed, so the session starts on a free one."""
    with s.db.engine.begin() as conn:
        conn.execute(
            update(Conversation)
            .where(Conversation.unit_id == unit_id)
            .values(assignee_id=None, claimed_at=None, status="open", resolved_at=None)
        )


def _window(qtbot: Any, s: Services, person: PersonRow, tmp_path: Path) -> MainWindow:
    window = MainWindow(s, person, LocalPrefs(tmp_path / "prefs.json"))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    return window


def _key(qtbot: Any, key: Any, modifier: Any = Qt.KeyboardModifier.NoModifier) -> None:
    """A key press where the focus is, as a person's keyboard sends it."""
    target = QApplication.focusWidget()
    assert target is not None, "nothing has the keyboard focus"
    qtbot.keyClick(target, key, modifier)


def _type(qtbot: Any, text: str) -> None:
    target = QApplication.focusWidget()
    assert target is not None
    qtbot.keyClicks(target, text)


def _dialog(qtbot: Any, window: MainWindow, kind: type) -> Any:
    actions = window.inbox.triage_actions
    assert actions is not None
    qtbot.waitUntil(lambda: isinstance(actions.dialog, kind) and actions.dialog.isVisible())
    dialog = actions.dialog
    qtbot.waitUntil(lambda: dialog.isAncestorOf(QApplication.focusWidget()))
    return dialog


def _acted(qtbot: Any, window: MainWindow, key: Any) -> None:
    """Press ``key`` and wait until the action's outcome is on screen."""
    with qtbot.waitSignal(window.inbox.conversation_refreshed, timeout=5000):
        _key(qtbot, key)


def test_a_triage_session_with_the_keyboard_only(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    s = demo_services
    marcus = _person(s, "marcus.kelly")  # supervisor of Customer Care and its sub-units
    orders, tech = _unit(s, "Orders & Delivery"), _unit(s, "Technical Support")
    _free(s, orders)
    window = _window(qtbot, s, marcus, tmp_path)
    inbox = window.inbox
    inbox.view.setFocus()
    resets: list[int] = []

    # Ctrl+K, "orders", Enter: the palette shows the unit.
    _key(qtbot, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    palette = window.command_palette
    qtbot.waitUntil(lambda: QApplication.focusWidget() is palette.edit)
    _type(qtbot, "unit orders")
    assert palette.shown()[0] == "Show unit: Orders & Delivery"
    _key(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: inbox.title.text() == "Orders & Delivery")
    qtbot.waitUntil(lambda: QApplication.focusWidget() is inbox.view)
    listed(qtbot, inbox.model)

    # /: search within the unit for a word of its third conversation, Enter: back in the list.
    wanted = inbox.model.row_at(2)
    word = max(re.findall(r"[^\W\d_]{4,}", wanted.preview), key=len)
    before = inbox.model.rowCount()
    _key(qtbot, Qt.Key.Key_Slash)
    assert QApplication.focusWidget() is inbox.filter_bar.search
    _type(qtbot, word)
    _key(qtbot, Qt.Key.Key_Return)
    assert QApplication.focusWidget() is inbox.view
    assert inbox.model.filter.text == word
    assert inbox.model.filter.unit_id == orders  # the search stays within the unit
    listed(qtbot, inbox.model)
    found = [inbox.model.row_at(i) for i in range(inbox.model.rowCount())]
    assert wanted.id in {r.id for r in found}
    assert 0 < len(found) <= before
    assert all(r.unit_id == orders for r in found)
    inbox.model.modelReset.connect(lambda: resets.append(1))

    # Enter opens the conversation under the cursor (the first result).
    _key(qtbot, Qt.Key.Key_Return)
    row = inbox.open_row()
    assert row is not None
    assert row.id == found[0].id
    cid = row.id
    assert row.unit_id == orders
    assert inbox.thread_pane.holder.text() == "Nobody has claimed it yet."
    bubbles = list(inbox.thread_pane.bubbles)
    assert bubbles

    # a: assign to me.
    _acted(qtbot, window, Qt.Key.Key_A)
    holder = s.triage.holder(cid)
    assert holder is not None
    assert holder.person_id == marcus.id
    assert inbox.thread_pane.holder.text() == "Claimed by you just now"
    assert inbox.thread_pane.bubbles == bubbles  # the messages stay; header and activity change
    assert [e.heading.text().split(" · ", 1)[1] for e in inbox.thread_pane.entries][-1] == (
        "Marcus Kelly claimed it"
    )

    # t: tag, typed, Enter.
    _key(qtbot, Qt.Key.Key_T)
    picker = _dialog(qtbot, window, TagPicker)
    assert QApplication.focusWidget() is picker.edit
    _type(qtbot, "qa-keyboard")
    with qtbot.waitSignal(inbox.conversation_refreshed, timeout=5000):
        _key(qtbot, Qt.Key.Key_Return)
    assert "qa-keyboard" in s.triage.tags(cid)
    assert "qa-keyboard" in inbox.thread_pane.tags.text()
    # t again: the social goal the conversation served, chosen from the strategy's.
    _key(qtbot, Qt.Key.Key_T)
    picker = _dialog(qtbot, window, TagPicker)
    goal_id, title = s.triage.social_goals()[1]
    assert picker.goal.count() == len(s.triage.social_goals()) + 1  # and "No social goal"
    picker.goal.setCurrentIndex(picker.goal.findData(goal_id))
    with qtbot.waitSignal(inbox.conversation_refreshed, timeout=5000):
        _key(qtbot, Qt.Key.Key_Return)
    assert s.triage.social_goal(cid) == (goal_id, title)
    assert "qa-keyboard" in s.triage.tags(cid)  # the tags stay as they were

    # h: hand over to Technical Support with a reason and a note.
    _key(qtbot, Qt.Key.Key_H)
    dialog = _dialog(qtbot, window, HandOverDialog)
    assert QApplication.focusWidget() is dialog.unit
    _type(qtbot, "Technical")
    assert dialog.unit.currentText() == "Technical Support"
    _key(qtbot, Qt.Key.Key_Tab)
    _type(qtbot, "Firmware question")
    _key(qtbot, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is dialog.note
    _type(qtbot, "They updated the app <b>twice</b>")
    with qtbot.waitSignal(inbox.conversation_refreshed, timeout=5000):
        _key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    state = s.triage.details(cid)
    assert state.holder is None  # a hand-over clears the assignee
    last = state.history[-1].event
    assert (last.kind, last.unit_from, last.unit_to) == ("handed_over", orders, tech)
    assert last.reason == "Firmware question"
    assert [n.text for n in state.notes][-1] == "They updated the app <b>twice</b>"
    assert s.inbox.rows([cid])[cid].unit_id == tech

    # e: resolve; the row repaints with the new status, the list is not reloaded.
    _acted(qtbot, window, Qt.Key.Key_E)
    assert s.inbox.rows([cid])[cid].status == "resolved"
    place = inbox.model.row_of(cid)
    assert place is not None
    assert inbox.model.index(place, 6).data() == "Resolved"
    assert inbox.triage_actions is not None
    assert inbox.triage_actions.actions["resolve"].text() == "Reopen"

    # j: the next conversation opens.
    _key(qtbot, Qt.Key.Key_J)
    following = inbox.open_row()
    assert following is not None
    assert following.id != cid
    assert inbox.model.row_of(following.id) == place + 1
    assert resets == []

    kinds = [e.event.kind for e in s.triage.history(cid)]
    assert kinds[-5:] == ["claimed", "tagged", "tagged", "handed_over", "status"]
    assert {e.event.person_name for e in s.triage.history(cid)[-5:]} == {"Marcus Kelly"}


def test_a_refusal_and_a_lost_claim_are_said_in_words(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    s = demo_services
    tom, aisha = _person(s, "tom.becker"), _person(s, "aisha.bello")
    orders = _unit(s, "Orders & Delivery")
    _free(s, orders)
    window = _window(qtbot, s, tom, tmp_path)
    inbox = window.inbox
    inbox.unit_tree.select_unit(orders)
    inbox.view.setFocus()
    _key(qtbot, Qt.Key.Key_Return)  # before the unit's rows are in: opens its first one
    listed(qtbot, inbox.model)
    row = inbox.open_row()
    assert row is not None
    assert row.unit_id == orders
    assert s.triage.claim(aisha.id, row.id).won  # Aisha was quicker, at her own desk

    _acted(qtbot, window, Qt.Key.Key_A)
    assert inbox.thread_pane.notice.text() == "Aisha Bello claimed it just now."
    assert window.statusBar().currentMessage() == "Aisha Bello claimed it just now."
    assert "Claimed by Aisha Bello" in inbox.thread_pane.holder.text()
    holder = s.triage.holder(row.id)
    assert holder is not None
    assert holder.person_id == aisha.id

    # Handed to Marketing (where Tom holds no role), "Spam" is refused with the reason.
    s.triage.hand_over(aisha.id, row.id, _unit(s, "Marketing"), "campaign")
    _acted(qtbot, window, Qt.Key.Key_S)
    assert "Marketing" in inbox.thread_pane.notice.text()
    assert s.inbox.rows([row.id])[row.id].status == "open"


def test_the_note_dialog_and_spam_toggle_from_the_keyboard(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    s = demo_services
    tom = _person(s, "tom.becker")
    orders = _unit(s, "Orders & Delivery")
    _free(s, orders)
    window = _window(qtbot, s, tom, tmp_path)
    inbox = window.inbox
    inbox.unit_tree.select_unit(orders)
    inbox.view.setFocus()
    _key(qtbot, Qt.Key.Key_Return)  # before the unit's rows are in: opens its first one
    listed(qtbot, inbox.model)
    row = inbox.open_row()
    assert row is not None
    assert row.unit_id == orders

    _key(qtbot, Qt.Key.Key_N)
    note = _dialog(qtbot, window, NoteDialog)
    _key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # empty: refused
    assert note.error.text() == "The note is empty."
    assert note.isVisible()
    _type(qtbot, "<img src=x> checked the order")
    with qtbot.waitSignal(inbox.conversation_refreshed, timeout=5000):
        _key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert [n.text for n in s.triage.notes(row.id)][-1] == "<img src=x> checked the order"
    bodies = [e.text for e in inbox.thread_pane.entries if e.body is not None]
    assert bodies[-1] == "<img src=x> checked the order"

    _acted(qtbot, window, Qt.Key.Key_S)
    assert s.inbox.rows([row.id])[row.id].status == "spam"
    assert s.triage.details(row.id).author_is_spammer
    assert inbox.triage_actions is not None
    assert inbox.triage_actions.actions["spam"].text() == "Not spam"
    _acted(qtbot, window, Qt.Key.Key_S)
    assert s.inbox.rows([row.id])[row.id].status == "open"
    assert not s.triage.details(row.id).author_is_spammer


def test_the_shortcut_sheet_lists_every_key_of_the_window(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    window = _window(qtbot, demo_services, _person(demo_services, "tom.becker"), tmp_path)
    window.inbox.view.setFocus()
    _key(qtbot, Qt.Key.Key_Question)
    qtbot.waitUntil(lambda: window.sheet.isVisible())
    sheet: ShortcutSheet = window.sheet
    offered = set(sheet.keys())
    for key in ("J", "K", "Return", "A", "H", "E", "S", "T", "N", "Ctrl+K", "?", "F5"):
        assert key in offered, key
    for action in window.findChildren(QAction):
        for keys in action.shortcuts():
            assert keys.toString() in offered, action.text()
    qtbot.waitUntil(lambda: sheet.isAncestorOf(QApplication.focusWidget()))
    with qtbot.waitSignal(sheet.finished, timeout=3000):
        _key(qtbot, Qt.Key.Key_Escape)


def test_the_palette_runs_actions_and_goes_to_screens(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    window = _window(qtbot, demo_services, _person(demo_services, "tom.becker"), tmp_path)
    texts = [c.text for c in window.commands()]
    assert "Go to Settings" in texts
    assert "Show status: All statuses" in texts
    assert "Assign to me" not in texts  # nothing open: the actions are not offered
    window.open_palette()
    palette: CommandPalette = window.command_palette
    qtbot.keyClicks(palette.edit, "go sett")
    assert palette.shown()[0] == "Go to Settings"
    qtbot.keyClick(palette.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.current_screen() == "Settings")


def test_the_action_bar_buttons_work_with_the_mouse_and_follow_the_toggles(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    s = demo_services
    tom = _person(s, "tom.becker")
    orders = _unit(s, "Orders & Delivery")
    _free(s, orders)
    window = _window(qtbot, s, tom, tmp_path)
    inbox = window.inbox
    buttons = {b.text(): b for b in inbox.thread_pane.buttons}
    assert not buttons["Resolve  E"].isEnabled()  # nothing open
    inbox.unit_tree.select_unit(orders)
    listed(qtbot, inbox.model)
    inbox.view.move_selection(0)
    row = inbox.open_row()
    assert row is not None
    assert buttons["Resolve  E"].isEnabled()
    with qtbot.waitSignal(inbox.conversation_refreshed, timeout=5000):
        qtbot.mouseClick(buttons["Resolve  E"], Qt.MouseButton.LeftButton)
    assert s.inbox.rows([row.id])[row.id].status == "resolved"
    assert buttons["Resolve  E"].text() == "Reopen  E"
    assert buttons["Resolve  E"].focusPolicy() == Qt.FocusPolicy.StrongFocus


def test_the_palette_offers_the_persons_saved_views(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    s = demo_services
    tom = _person(s, "tom.becker")  # the demo keeps two views of his
    window = _window(qtbot, s, tom, tmp_path)
    inbox = window.inbox
    inbox.view.setFocus()
    _key(qtbot, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    palette = window.command_palette
    qtbot.waitUntil(lambda: QApplication.focusWidget() is palette.edit)
    _type(qtbot, "view orders waiting")
    assert palette.shown()[0] == "Show view: Orders waiting on us"
    _key(qtbot, Qt.Key.Key_Return)
    orders = _unit(s, "Orders & Delivery")
    qtbot.waitUntil(lambda: inbox.model.filter.unit_id == orders)
    assert set(inbox.model.filter.statuses) == {"new", "open"}
    qtbot.waitUntil(lambda: QApplication.focusWidget() is inbox.view)
    # Marcus's views are his own: they are not offered to Tom.
    names = [c.text for c in window.commands()]
    assert "Show view: Unassigned in Care" not in names
