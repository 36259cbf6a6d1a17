"""The compose pane on the demo workspace: counters and underlines as one types, r in the inbox,
autosave within two seconds, a killed window's text back, saved replies filled in, warnings,
submit's refusal in words and a decision's outcome on the draft."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import select, update

from app.config import LocalPrefs
from app.domain.enums import DraftState
from app.domain.rows import PersonRow
from app.models import Conversation, Draft
from app.services.container import Services
from app.ui.compose.compose_pane import ComposePane
from app.ui.main_window import MainWindow
from app.ui.operator import OperatorBinding
from tests.integration.demo_lookup import account_id, social_goal
from tests.ui.feed import listed

DOMAIN = "acme-mobility.example"
SAVE_MS = 2000  # what is typed is stored within this long after the last keystroke


@pytest.fixture
def demo_services(demo_services: Services) -> Services:
    """The demo workspace without the demo's own drafts: each test writes the ones it needs
    (the pane opens its author's post being written again)."""
    with demo_services.db.engine.begin() as conn:
        conn.execute(Draft.__table__.delete())
    return demo_services


def _person(s: Services, local: str) -> PersonRow:
    person = s.directory.person_by_email(f"{local}@{DOMAIN}")
    assert person is not None
    return person


def _unit(s: Services, name: str) -> int:
    return next(u.id for u in s.inbox.units() if u.name == name)


def _conversation(s: Services, unit: int) -> int:
    """A public Sandbox conversation moved into the unit."""
    with s.db.engine.begin() as conn:
        cid = conn.scalar(
            select(Conversation.id)
            .where(Conversation.thread_type == "sandbox_thread")
            .order_by(Conversation.id)
            .limit(1)
        )
        assert cid is not None
        conn.execute(update(Conversation).where(Conversation.id == cid).values(unit_id=unit))
    return int(cid)


def _pane(qtbot: Any, s: Services, person: PersonRow, kind: str = "post", **kw: Any) -> Any:
    binding = OperatorBinding(person)
    pane = ComposePane(s, binding, kind, **kw)
    pane._binding = binding  # kept alive with the pane
    qtbot.addWidget(pane)
    pane.resize(900, 700)
    pane.show()
    qtbot.waitUntil(lambda: pane.context is not None or bool(pane.refusal), timeout=5000)
    return pane


def _stored_text(s: Services, person: PersonRow, kind: str, cid: int | None = None) -> str | None:
    view = s.drafts.open_draft(person.id, kind, cid)
    return None if view is None else view.text


def _check_only(pane: Any, *account_ids: int) -> None:
    for aid, box in pane.account_checks.items():
        box.setChecked(aid in account_ids)


def test_typing_shows_counters_findings_and_underlines(qtbot: Any, demo_services: Services) -> None:
    s = demo_services
    jamal = _person(s, "jamal.carter")
    pane = _pane(qtbot, s, jamal)
    acme, page = (
        account_id(s, "acme"),
        next(a.id for a in pane.context.accounts if a.network == "facebook"),
    )
    _check_only(pane, acme, page)
    pane.editor.setFocus()
    qtbot.keyClicks(pane.editor, "Guaranteed fun, and a refund if not")
    counters = {a: label.text() for a, label in pane.counter_labels.items() if label.isVisible()}
    assert counters[acme] == "@acme 35 / 280"
    assert counters[page].startswith("Acme Mobility 35 / ")
    underlined = pane.editor.underlined()  # as the document lays the text out
    assert (0, 10) in underlined  # "Guaranteed": banned
    assert (22, 28) in underlined  # "refund": risky
    lines = [pane.findings.item(i).text() for i in range(pane.findings.count())]
    assert lines[0] == "Blocks: “guaranteed” is a banned term: We never guarantee outcomes."
    assert lines[1].startswith("Warns: “refund” is a risky term")
    assert pane.approval.text().startswith("Approval: 1 approval from a supervisor of Marketing")
    assert pane.editor.marks_at(3)[0].message.startswith("“guaranteed” is a banned term")
    qtbot.keyClicks(pane.editor, "!" * 260)  # over X's 280
    assert "over the limit" in pane.counter_labels[acme].text()
    assert "over the limit" not in pane.counter_labels[page].text()


def test_markup_typed_or_pasted_stays_text(qtbot: Any, demo_services: Services) -> None:
    s = demo_services
    pane = _pane(qtbot, s, _person(s, "jamal.carter"))
    pane.editor.setFocus()
    qtbot.keyClicks(pane.editor, "<b>bold</b> <img src=x>")
    assert pane.text() == "<b>bold</b> <img src=x>"
    assert pane.editor.document().toPlainText() == pane.text()


def test_autosave_stores_within_two_seconds_and_a_killed_window_gets_it_back(
    qtbot: Any, demo_services: Services
) -> None:
    s = demo_services
    tom, orders = _person(s, "tom.becker"), _unit(s, "Orders & Delivery")
    cid = _conversation(s, orders)
    pane = _pane(qtbot, s, tom, "reply", conversation_id=cid)
    pane.editor.setFocus()
    qtbot.keyClicks(pane.editor, "We are on it, ")
    qtbot.keyClicks(pane.editor, "sorry for the wait.")
    qtbot.waitUntil(
        lambda: _stored_text(s, tom, "reply", cid) == "We are on it, sorry for the wait.",
        timeout=SAVE_MS,
    )
    qtbot.waitUntil(lambda: pane.saver.pending == 0, timeout=3000)
    # Killed: the pane is never closed, flushed or saved again; a new one reads the workspace.
    pane.saver.timer.stop()
    pane.hide()
    again = _pane(qtbot, s, tom, "reply", conversation_id=cid)
    assert again.text() == "We are on it, sorry for the wait."
    assert again.draft_id is not None
    assert "opened again" in again.status.text()


def test_r_opens_the_reply_under_the_thread_and_esc_keeps_the_draft(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    s = demo_services
    tom, orders = _person(s, "tom.becker"), _unit(s, "Orders & Delivery")
    window = MainWindow(s, tom, LocalPrefs(tmp_path / "prefs.json"))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    inbox = window.inbox
    inbox.unit_tree.select_unit(orders)
    listed(qtbot, inbox.model)
    inbox.view.setFocus()
    qtbot.keyClick(inbox.view, Qt.Key.Key_J)
    qtbot.waitUntil(lambda: inbox.open_row() is not None)
    row = inbox.open_row()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_R)
    composer = inbox.composer
    assert composer is not None
    assert composer.conversation_id == row.id
    assert inbox.thread_pane.composer is composer
    assert composer.isVisible()
    qtbot.waitUntil(lambda: composer.context is not None or bool(composer.refusal), timeout=5000)
    assert composer.refusal == ""
    qtbot.waitUntil(lambda: QApplication.focusWidget() is composer.editor)
    qtbot.keyClicks(composer.editor, "r is typed here, not a key")  # the key types in the box
    assert composer.text() == "r is typed here, not a key"
    assert inbox.composer is composer
    qtbot.keyClick(composer.editor, Qt.Key.Key_Escape)
    assert inbox.composer is None
    assert not inbox.thread_pane.composer_area.isVisible()
    kind = composer.kind.value  # a reply, or a direct message in a DM conversation
    assert _stored_text(s, tom, kind, row.id) == "r is typed here, not a key"  # flushed
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_R)
    reopened = inbox.composer
    assert reopened is not None
    qtbot.waitUntil(lambda: reopened.context is not None, timeout=5000)
    assert reopened.text() == "r is typed here, not a key"


def test_a_saved_reply_goes_in_with_its_placeholders_filled_in(
    qtbot: Any, demo_services: Services
) -> None:
    s = demo_services
    tom, priya = _person(s, "tom.becker"), _person(s, "priya.raman")
    orders = _unit(s, "Orders & Delivery")
    cid = _conversation(s, orders)
    s.saved_replies.create(
        priya.id, orders, "Hello there", "Hi {author_name}, {my_first_name} here. <b>{}</b>"
    )
    pane = _pane(qtbot, s, tom, "reply", conversation_id=cid)
    titles = [a.text() for a in pane.replies_menu.actions()]
    assert "Hello there" in titles
    assert "Manage saved replies…" not in titles  # an agent uses them, supervisors keep them
    author = pane.context.author_name
    assert author
    action = next(a for a in pane.replies_menu.actions() if a.text() == "Hello there")
    action.trigger()
    assert pane.text() == f"Hi {author}, Tom here. <b>{{}}</b>"
    qtbot.waitUntil(lambda: _stored_text(s, tom, "reply", cid) == pane.text(), timeout=SAVE_MS)
    supervisor = _pane(qtbot, s, priya, "reply", conversation_id=cid)
    assert "Manage saved replies…" in [a.text() for a in supervisor.replies_menu.actions()]


def test_warnings_appear_for_the_same_text_on_one_account(
    qtbot: Any, demo_services: Services
) -> None:
    s = demo_services
    jamal, emma = _person(s, "jamal.carter"), _person(s, "emma.laurent")
    acme = account_id(s, "acme")
    first = s.drafts.create(
        jamal.id,
        "post",
        _unit(s, "Marketing"),
        "Spring rides!",
        [acme],
        social_goal_id=social_goal(s),
    )
    s.drafts.submit(jamal.id, first)
    s.drafts.approve(emma.id, first, version=1)
    pane = _pane(qtbot, s, jamal)
    _check_only(pane, acme)
    pane.editor.setFocus()
    qtbot.keyClicks(pane.editor, "Spring rides!")
    qtbot.waitUntil(lambda: f"(draft {first})" in pane.warnings.text(), timeout=SAVE_MS + 1000)
    assert pane.warnings.isVisible()
    assert "The same text goes out on @acme" in pane.warnings.text()


def test_submit_refusals_are_in_words_and_the_outcome_shows_on_the_draft(
    qtbot: Any, demo_services: Services
) -> None:
    s = demo_services
    jamal, emma = _person(s, "jamal.carter"), _person(s, "emma.laurent")
    pane = _pane(qtbot, s, jamal)
    _check_only(pane, account_id(s, "acme"))
    pane.editor.setFocus()
    qtbot.keyClicks(pane.editor, "New colours for spring")
    with qtbot.waitSignal(pane.saved, timeout=5000):
        pane.submit()
    assert pane.status.text() == (
        "Not submitted: A post needs the social goal it serves: choose one, then submit it."
    )
    pane.goal.setCurrentIndex(pane.goal.findData(social_goal(s)))
    with qtbot.waitSignal(pane.submitted, timeout=5000) as got:
        pane.submit()
    draft_id, state = got.args
    assert state == DraftState.PENDING_APPROVAL.value
    assert pane.outcome.text().startswith("Waiting for approval: 1 more approval from")
    s.drafts.reject(emma.id, draft_id, "Off-brand colours", version=1)
    pane.hide()
    again = _pane(qtbot, s, jamal)
    assert again.draft_id == draft_id
    assert again.outcome.text() == "Rejected by Emma Laurent: Off-brand colours"
    assert again.outcome.isVisible()
