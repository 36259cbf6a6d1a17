"""The Publishing screen offscreen on a demo workspace: the queue with each target's outcome,
the calendar in week and month, moving a post (accepted and refused), retrying a failure."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel

from app.config import LocalPrefs
from app.domain.enums import DraftState
from app.models import Draft
from app.services.container import Services
from app.ui.main_window import MainWindow
from app.ui.operator import OperatorBinding
from app.ui.publishing.calendar_view import MONTH, WEEK
from app.ui.publishing.publishing_page import PublishingPage
from app.ui.publishing.queue_model import COL_STATE, COL_TARGETS, OutboxQueueModel
from tests.outbox_fakes import account, approved_post, mark_sent, pending_post

LOAD_MS = 5000
JAMAL = "jamal.carter@acme-mobility.example"


def _person(s: Services, email: str) -> Any:
    person = s.directory.person_by_email(email)
    assert person is not None
    return person


def _page(qtbot: Any, s: Services, email: str = JAMAL) -> PublishingPage:
    page = PublishingPage(s, OperatorBinding(_person(s, email)))
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    _loaded(qtbot, page)
    return page


def _loaded(qtbot: Any, page: PublishingPage) -> None:
    qtbot.waitUntil(lambda: not page.model.loading and not page.calendar_loading, timeout=LOAD_MS)


def _local_at(day: date, hour: int, minute: int = 0) -> datetime:
    """``day`` at ``hour`` in this computer's zone, as UTC."""
    return datetime.combine(day, time(hour, minute)).astimezone().astimezone(UTC)


def _stored(s: Services, draft_id: int) -> tuple[str, datetime | None]:
    from sqlalchemy import select

    with s.db.uow() as uow:
        row = uow.session.execute(
            select(Draft.state, Draft.schedule_at).where(Draft.id == draft_id)
        ).one()
    return row.state, row.schedule_at


def _next_week_wednesday() -> date:
    today = date.today()
    return today - timedelta(days=today.weekday()) + timedelta(days=9)


def test_the_queue_lists_drafts_with_each_targets_outcome(
    qtbot: Any, qtmodeltester: Any, demo_services: Services
) -> None:
    s = demo_services
    acme, page_account = account(s, "acme"), account(s, "acmemobility")
    split = approved_post(s, "Launch on both <b>networks</b>", ("acme", "acmemobility"))
    mark_sent(
        s,
        split,
        DraftState.FAILED,
        {
            acme: ("published", "sbx-42", ""),
            page_account: ("failed", None, '<img src=x onerror="alert(1)"> (#368) blocked'),
        },
        failure_reason="Failed on Acme Mobility",
    )
    scheduled = approved_post(s, "Next week", at=_local_at(_next_week_wednesday(), 9))
    page = _page(qtbot, s)
    model = page.model
    qtmodeltester.check(model)
    rows = {model.row_at(i).draft_id: i for i in range(model.rowCount())}
    assert {split, scheduled} <= set(rows)
    i = rows[split]
    assert model.index(i, COL_STATE).data() == "✗ Partly failed"
    assert model.index(i, COL_TARGETS).data() == "✓ @acme  ✗ Acme Mobility"
    assert model.index(rows[scheduled], COL_STATE).data() == "◷ Scheduled"
    assert page.queue.select_draft(split)
    detail = page.queue.detail.toPlainText()
    assert "@acme: published (id sbx-42)" in detail
    assert 'Acme Mobility: failed: <img src=x onerror="alert(1)"> (#368) blocked' in detail
    assert "Launch on both <b>networks</b>" in detail  # as typed, in a plain-text box
    assert page.queue.retry_button.isEnabled()
    assert not page.queue.move_button.isEnabled()
    assert all(label.textFormat() == Qt.TextFormat.PlainText for label in page.findChildren(QLabel))


def test_the_calendar_shows_a_scheduled_post_on_its_day_in_week_and_month(
    qtbot: Any, demo_services: Services
) -> None:
    s = demo_services
    wednesday = _next_week_wednesday()
    draft = approved_post(s, "Ride to work day: share your route", at=_local_at(wednesday, 9, 30))
    page = _page(qtbot, s)
    grid = page.calendar.grid
    page.setCurrentWidget(page.calendar)
    grid.setFocus()
    assert grid.mode == WEEK
    qtbot.keyClick(grid, Qt.Key.Key_PageDown)  # next week, read in the worker
    _loaded(qtbot, page)
    assert wednesday in grid.days()
    assert [r.draft_id for r in grid.chips_on(wednesday)] == [draft]
    assert grid.chip_rect(draft) is not None
    assert grid.cell_rect(wednesday).contains(grid.chip_rect(draft))
    assert page.calendar.title.text() == grid.title()

    page.calendar.month_button.click()
    _loaded(qtbot, page)
    assert grid.mode == MONTH
    assert len(grid.days()) == 42
    assert [r.draft_id for r in grid.chips_on(wednesday)] == [draft]
    assert grid.cell_rect(wednesday).contains(grid.chip_rect(draft))
    # From the keyboard: to the day, then its chip; the detail says what it is.
    grid.go_to(wednesday - timedelta(days=1))
    qtbot.keyClick(grid, Qt.Key.Key_Right)
    assert grid.selected == draft
    assert "Scheduled" in page.calendar.detail.text()
    assert "Ride to work day" in page.calendar.detail.text()


def test_dragging_a_chip_to_another_day_moves_the_post(qtbot: Any, demo_services: Services) -> None:
    s = demo_services
    wednesday = _next_week_wednesday()
    draft = approved_post(s, "Drag me to Friday", at=_local_at(wednesday, 10))
    page = _page(qtbot, s)
    grid = page.calendar.grid
    page.setCurrentWidget(page.calendar)
    grid.go_to(wednesday)
    _loaded(qtbot, page)
    chip = grid.chip_rect(draft)
    assert chip is not None
    friday = wednesday + timedelta(days=2)
    target = grid.cell_rect(friday).center()
    qtbot.mousePress(grid, Qt.MouseButton.LeftButton, pos=chip.center())
    qtbot.mouseMove(grid, pos=chip.center() + QPoint(20, 0))
    qtbot.mouseMove(grid, pos=target)
    with qtbot.waitSignal(page.draft_actions.done, timeout=LOAD_MS):
        qtbot.mouseRelease(grid, Qt.MouseButton.LeftButton, pos=target)
    assert _stored(s, draft) == ("scheduled", _local_at(friday, 10))
    _loaded(qtbot, page)
    assert [r.draft_id for r in grid.chips_on(friday)] == [draft]
    assert grid.chips_on(wednesday) == []
    assert page.calendar.message.text().startswith("Moved to ")


def test_a_refused_move_says_why_and_keeps_the_old_time(
    qtbot: Any, demo_services: Services
) -> None:
    s = demo_services
    today = date.today()
    planned = _local_at(today + timedelta(days=1), 12)
    draft = pending_post(s, "Not approved yet", at=planned)
    page = _page(qtbot, s)
    grid = page.calendar.grid
    page.setCurrentWidget(page.calendar)
    grid.go_to(today + timedelta(days=1))
    _loaded(qtbot, page)
    assert grid.row(draft) is not None
    grid.select(draft)
    qtbot.keyClick(grid, Qt.Key.Key_M)  # the "Move to…" dialog, from the keyboard
    dialog = page.move_dialog
    assert dialog is not None
    soon = datetime.now(UTC) + timedelta(minutes=3)
    dialog.when.setDateTime(dialog.when.dateTime().fromSecsSinceEpoch(int(soon.timestamp())))
    with qtbot.waitSignal(page.draft_actions.refused, timeout=LOAD_MS):
        dialog.accept()
    message = page.calendar.message.text()
    assert "is too close: it needs approval at least 5 minutes before" in message
    assert "Pick a later time." in message
    assert _stored(s, draft) == ("pending_approval", planned)
    _loaded(qtbot, page)
    moved_back = grid.row(draft)
    assert moved_back is not None
    assert moved_back.due == planned


def test_retry_of_a_failed_draft_puts_it_back_in_the_outbox(
    qtbot: Any, demo_services: Services
) -> None:
    s = demo_services
    draft = approved_post(s, "Failed once")
    mark_sent(s, draft, DraftState.FAILED, {account(s, "acme"): ("failed", None, "HTTP 503")})
    page = _page(qtbot, s)
    assert page.queue.select_draft(draft)
    assert page.queue.retry_button.isEnabled()
    with qtbot.waitSignal(page.draft_actions.done, timeout=LOAD_MS):
        page.queue.retry_button.click()
    assert _stored(s, draft)[0] == "approved"
    _loaded(qtbot, page)
    row = page.model.row_at(page.model.row_of(draft) or 0)
    assert row.draft_id == draft
    assert row.state is DraftState.APPROVED
    assert page.queue.message.text() == "Retry: approved, back in the outbox."


def test_a_person_says_whether_a_write_the_network_could_not_tell_about_went_out(
    qtbot: Any, demo_services: Services
) -> None:
    """The outbox flagged it (find_published failed); Jamal looked on @acme: it is there."""
    from sqlalchemy import update

    from app.models import DraftTarget

    s = demo_services
    draft = approved_post(s, "Did it go out?")
    assert s.drafts.start_publishing(draft).state is DraftState.PUBLISHING
    with s.db.engine.begin() as conn:
        conn.execute(
            update(DraftTarget)
            .where(DraftTarget.draft_id == draft)
            .values(
                state="publishing",
                needs_person=True,
                error="@acme cannot tell whether it went out (403). Look on the account.",
            )
        )
    page = _page(qtbot, s)
    assert page.queue.select_draft(draft)
    assert page.queue.is_there_button.isVisible()
    assert page.queue.is_there_button.text() == "@acme has it"
    assert "@acme: needs you: @acme cannot tell" in page.queue.detail.toPlainText()
    with qtbot.waitSignal(page.draft_actions.done, timeout=LOAD_MS):
        page.queue.is_there_button.click()
    assert _stored(s, draft)[0] == "published"
    assert page.queue.message.text() == "Recorded that @acme has it: the draft is published."
    _loaded(qtbot, page)
    page.queue.select_draft(draft)
    assert not page.queue.is_there_button.isVisible()


def test_the_screen_reloads_for_another_operator(qtbot: Any, demo_services: Services) -> None:
    s = demo_services
    draft = approved_post(s, "Marketing's post")
    page = _page(qtbot, s)
    model: OutboxQueueModel = page.model
    assert model.row_of(draft) is not None
    with qtbot.waitSignal(model.loaded, timeout=LOAD_MS):
        page.operator.switch(_person(s, "victor.ortiz@acme-mobility.example"))
    assert model.row_of(draft) is None  # Sales sees its own outbox only
    with qtbot.waitSignal(model.load_failed, timeout=LOAD_MS):
        page.operator.switch(_person(s, "helena.marsh@acme-mobility.example"))
    assert "holds no such role" in page.queue.message.text()


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_the_main_window_has_the_new_post_queue_and_calendar_tabs(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    window = MainWindow(demo_services, _person(demo_services, JAMAL), LocalPrefs(tmp_path / "p"))
    qtbot.addWidget(window)
    window.show()
    window.show_screen("Compose & Publishing")
    page = window.stack.currentWidget()
    assert page is window.publishing
    assert [page.tabText(i) for i in range(page.count())] == ["New post", "Queue", "Calendar"]
    assert page.currentWidget() is window.compose_page  # where a person starts writing
    _loaded(qtbot, window.publishing)
    window.close()
