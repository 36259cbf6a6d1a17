"""The Approvals screen on the demo workspace: the queue oldest first, decisions from the keyboard
stored as the operator, a stale version refused in words, an operator switch, the diff."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from app.config import LocalPrefs
from app.domain.enums import Decision, DraftState
from app.domain.word_diff import SpanKind
from app.models import Account
from app.services.container import Services
from app.ui.approvals.approvals_page import EMPTY_QUEUE, ApprovalsPage
from app.ui.approvals.reason_dialog import ReasonDialog
from app.ui.main_window import MainWindow
from app.ui.operator import OperatorBinding
from app.ui.shortcut_sheet import window_keys
from tests.integration.demo_lookup import person_id, social_goal, unit_id

LOAD_MS = 5000


def _person(s: Services, local: str) -> Any:
    person = s.directory.person_by_email(f"{local}@acme-mobility.example")
    assert person is not None
    return person


def _post(s: Services, author: str, unit: str, text: str) -> int:
    with s.db.engine.connect() as conn:
        acme = conn.scalar(select(Account.id).where(Account.handle == "acme"))
    who = person_id(s, author)
    draft_id = s.drafts.create(
        who, "post", unit_id(s, unit), text, [int(acme or 0)], social_goal_id=social_goal(s)
    )
    assert s.drafts.submit(who, draft_id) == DraftState.PENDING_APPROVAL
    return draft_id


def _page(qtbot: Any, s: Services, local: str) -> ApprovalsPage:
    page = ApprovalsPage(s, OperatorBinding(_person(s, local)))
    qtbot.addWidget(page)
    page.resize(1300, 800)
    with qtbot.waitSignal(page.model.loaded, timeout=LOAD_MS):
        page.show()
    page.activateWindow()
    page.view.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.view, timeout=LOAD_MS)
    return page


def _shown(qtbot: Any, page: ApprovalsPage, draft_id: int) -> None:
    """Wait until the whole of ``draft_id`` is on screen."""
    qtbot.waitUntil(
        lambda: page.detail.view is not None and page.detail.view.id == draft_id, timeout=LOAD_MS
    )


def _key(qtbot: Any, key: Any, modifier: Any = Qt.KeyboardModifier.NoModifier) -> None:
    """A key press where the focus is, as a person's keyboard sends it."""
    target = QApplication.focusWidget()
    assert target is not None, "nothing has the keyboard focus"
    qtbot.keyClick(target, key, modifier)


def _decide(qtbot: Any, page: ApprovalsPage, key: Any, modifier: Any = None) -> Any:
    """Press ``key`` (where the focus is) and wait for the decision's outcome on screen."""
    with qtbot.waitSignal(page.outcome_shown, timeout=LOAD_MS) as blocker:
        _key(qtbot, key, modifier or Qt.KeyboardModifier.NoModifier)
    return blocker.args[0]


def _dialog(qtbot: Any, page: ApprovalsPage) -> ReasonDialog:
    qtbot.waitUntil(lambda: page.dialog is not None and page.dialog.isVisible(), timeout=LOAD_MS)
    dialog = page.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.isAncestorOf(QApplication.focusWidget()), timeout=LOAD_MS)
    return dialog


@pytest.fixture
def queued(demo_services: Services) -> tuple[Services, list[int]]:
    s = demo_services
    ids = [
        _post(s, "jamal.carter", "Marketing", f"Spring rides, part {i}: book yours today.")
        for i in range(3)
    ]
    return s, ids


def test_the_queue_lists_what_waits_on_the_supervisor_oldest_first(
    qtbot: Any, queued: tuple[Services, list[int]]
) -> None:
    s, ids = queued
    page = _page(qtbot, s, "emma.laurent")
    emma = person_id(s, "emma.laurent")
    expected = [r.draft_id for r in s.drafts.pending_for(emma, limit=50)]
    listed = [r.draft_id for r in page.model.rows()]
    assert listed == expected
    assert listed[-3:] == ids  # the newest last
    created = [r.created_at for r in page.model.rows()]
    assert created == sorted(created)
    assert page.view.currentIndex().row() == 0  # the oldest is open
    _shown(qtbot, page, listed[0])
    assert page.summary.text() == f"{len(listed)} drafts waiting, oldest first"
    qtbot.keyClick(page.view, Qt.Key.Key_J)
    _shown(qtbot, page, listed[1])
    qtbot.keyClick(page.view, Qt.Key.Key_K)
    _shown(qtbot, page, listed[0])


def test_an_agent_sees_an_empty_queue(qtbot: Any, queued: tuple[Services, list[int]]) -> None:
    s, _ids = queued
    page = _page(qtbot, s, "tom.becker")
    assert page.model.rowCount() == 0
    assert page.detail.empty.text() == EMPTY_QUEUE
    assert not page.decision_actions["approve"].isEnabled()


def test_y_approves_the_draft_shown_and_the_next_one_opens(
    qtbot: Any, queued: tuple[Services, list[int]]
) -> None:
    s, ids = queued
    page = _page(qtbot, s, "emma.laurent")
    first, second = ids[0], ids[1]
    page.show_draft(first)
    _shown(qtbot, page, first)
    assert _decide(qtbot, page, Qt.Key.Key_Y).ok
    view = s.drafts.draft_view(first)
    assert view.state == DraftState.APPROVED
    assert [(d.reviewer_name, d.decision, d.version) for d in view.decisions] == [
        ("Emma Laurent", Decision.APPROVED, 1)
    ]
    assert page.model.row_of(first) is None  # left the list
    _shown(qtbot, page, second)  # the next one is open
    assert page.view.currentIndex().data(Qt.ItemDataRole.UserRole + 1).draft_id == second


def test_x_rejects_with_the_reason_typed(qtbot: Any, queued: tuple[Services, list[int]]) -> None:
    s, ids = queued
    page = _page(qtbot, s, "emma.laurent")
    page.show_draft(ids[1])
    _shown(qtbot, page, ids[1])
    _key(qtbot, Qt.Key.Key_X)
    _dialog(qtbot, page)
    qtbot.keyClicks(QApplication.focusWidget(), "Off-brand: we never say 'book yours'.")
    assert _decide(qtbot, page, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier).ok
    assert page.dialog is None
    view = s.drafts.draft_view(ids[1])
    assert view.state == DraftState.REJECTED
    assert view.outcome == "Rejected by Emma Laurent: Off-brand: we never say 'book yours'."
    assert page.model.row_of(ids[1]) is None


def test_c_asks_for_changes_and_refuses_an_empty_reason(
    qtbot: Any, queued: tuple[Services, list[int]]
) -> None:
    s, ids = queued
    page = _page(qtbot, s, "emma.laurent")
    page.show_draft(ids[2])
    _shown(qtbot, page, ids[2])
    _key(qtbot, Qt.Key.Key_C)
    dialog = _dialog(qtbot, page)
    _key(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # empty: refused
    assert dialog.isVisible()
    assert dialog.error.text().startswith("A reason is needed")
    qtbot.keyClicks(QApplication.focusWidget(), "Name the day.")
    assert _decide(qtbot, page, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier).ok
    view = s.drafts.draft_view(ids[2])
    assert view.state == DraftState.CHANGES_REQUESTED
    assert view.decisions[-1].reason == "Name the day."


def test_a_stale_version_is_refused_in_words_and_the_new_one_shown(
    qtbot: Any, queued: tuple[Services, list[int]]
) -> None:
    s, ids = queued
    draft_id = ids[0]
    page = _page(qtbot, s, "emma.laurent")
    page.show_draft(draft_id)
    _shown(qtbot, page, draft_id)
    assert page.shown_version() == (draft_id, 1)
    # Meanwhile Omar asks for changes and the author makes a version 2 and submits it.
    s.drafts.request_changes(person_id(s, "omar.haddad"), draft_id, "Which day?", version=1)
    jamal = person_id(s, "jamal.carter")
    assert s.drafts.edit(jamal, draft_id, "Spring rides, part 0: book yours by Sunday.") == 2
    s.drafts.submit(jamal, draft_id)
    refused = _decide(qtbot, page, Qt.Key.Key_Y)
    assert not refused.ok
    assert refused.message.startswith("Version 1 is no longer current")
    assert page.detail.notice.text() == refused.message
    qtbot.waitUntil(
        lambda: page.detail.view is not None and page.detail.view.version == 2, timeout=LOAD_MS
    )
    assert page.shown_version() == (draft_id, 2)
    assert not page.detail.notice.isHidden()
    assert page.detail.notice.text().startswith("Version 1 is no longer current")
    view = s.drafts.draft_view(draft_id)
    assert view.state == DraftState.PENDING_APPROVAL
    assert [d.reviewer_name for d in view.decisions] == ["Omar Haddad"]  # none of Emma's
    kinds = [sp.kind for sp in page.detail.spans]
    assert SpanKind.REMOVED in kinds
    assert SpanKind.ADDED in kinds
    page.view.setFocus()
    assert _decide(qtbot, page, Qt.Key.Key_Y).ok  # now for the version shown
    assert s.drafts.draft_view(draft_id).state == DraftState.APPROVED


def test_switching_operator_reads_the_queue_for_the_new_person(
    qtbot: Any, queued: tuple[Services, list[int]]
) -> None:
    s, ids = queued
    binding = OperatorBinding(_person(s, "emma.laurent"))
    page = ApprovalsPage(s, binding)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.model.loaded, timeout=LOAD_MS):
        page.show()
    assert ids[0] in [r.draft_id for r in page.model.rows()]
    grace = _person(s, "grace.kim")
    with qtbot.waitSignal(page.model.loaded, timeout=LOAD_MS):
        binding.switch(grace)
    expected = [r.draft_id for r in s.drafts.pending_for(grace.id, limit=50)]
    assert [r.draft_id for r in page.model.rows()] == expected
    assert not set(ids) & set(expected)  # Marketing's drafts are not PR's


def test_the_diff_and_the_findings_are_plain_text(qtbot: Any, demo_services: Services) -> None:
    s = demo_services
    draft_id = _post(s, "jamal.carter", "Marketing", "Rides <b>from</b> 5 euros")
    emma = person_id(s, "emma.laurent")
    s.drafts.request_changes(emma, draft_id, "Until when?", version=1)
    jamal = person_id(s, "jamal.carter")
    s.drafts.edit(jamal, draft_id, "Rides <b>from</b> 4 euros until <i>Sunday</i>")
    s.drafts.submit(jamal, draft_id)
    page = _page(qtbot, s, "emma.laurent")
    page.show_draft(draft_id)
    _shown(qtbot, page, draft_id)
    detail = page.detail
    assert detail.diff.toPlainText() == "Rides <b>from</b> 54 euros until <i>Sunday</i>"
    assert [(sp.kind, sp.text) for sp in detail.spans if sp.kind is not SpanKind.SAME] == [
        (SpanKind.REMOVED, "5"),
        (SpanKind.ADDED, "4"),
        (SpanKind.ADDED, " until <i>Sunday</i>"),
    ]
    assert detail.diff_label.text().startswith("CHANGES SINCE VERSION 1")
    assert "Emma Laurent asked for changes to version 1: Until when? (an earlier version)" in (
        detail.decisions.text()
    )
    assert detail.requirement.text().startswith("Needs: 1 approval from a supervisor")


def test_the_queue_model_passes_qt_s_model_checks(
    qtbot: Any, qtmodeltester: Any, queued: tuple[Services, list[int]]
) -> None:
    s, _ids = queued
    page = _page(qtbot, s, "emma.laurent")
    assert page.model.rowCount() >= 3
    qtmodeltester.check(page.model)


def test_the_window_s_shortcut_sheet_lists_the_decision_keys(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    window = MainWindow(
        demo_services, _person(demo_services, "emma.laurent"), LocalPrefs(tmp_path / "p.json")
    )
    qtbot.addWidget(window)
    keys = dict(window_keys(window))
    assert keys["Y"] == "approve the draft shown (Approvals)"
    assert keys["X"] == "reject the draft shown, with a reason (Approvals)"
    assert keys["C"] == "ask for changes to the draft shown, saying which (Approvals)"
    assert keys["A"] == "claim it (says who holds it if someone does)"  # the inbox's, unchanged
    window.show_screen("Approvals")
    assert window.stack.currentWidget() is window.approvals
