"""Conversations arriving while the inbox is open: new rows on top, the person keeps their place."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.config import LocalPrefs
from app.services.container import Services
from app.ui.main_window import MainWindow
from tests.ui.feed import listed


def test_sandbox_conversations_arrive_live_and_selection_stays(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    window = MainWindow(
        demo_services, demo_services.directory.people()[0], LocalPrefs(tmp_path / "p.json")
    )
    qtbot.addWidget(window)
    window.show()
    inbox = window.inbox
    inbox.status_filter.setCurrentText("All statuses")
    listed(qtbot, inbox.model)
    inbox.view.selectRow(5)
    chosen = inbox.model.row_at(5).id
    before = {inbox.model.row_at(i).id for i in range(inbox.model.rowCount())}
    top_key = inbox.model.row_at(0).key
    with qtbot.waitSignal(window.inbox.model.rowsInserted, timeout=10_000):
        window.start_polling()
    rows = [inbox.model.row_at(i) for i in range(inbox.model.rowCount())]
    arrived = [r for r in rows if r.id not in before]
    assert arrived
    assert all(r.network == "sandbox" for r in arrived)
    assert rows[0].key > top_key
    assert len({r.id for r in rows}) == len(rows)  # nobody listed twice
    # The conversation the person had open is still the selected one.
    [selected] = {i.row() for i in inbox.view.selectionModel().selectedRows()}
    assert inbox.model.row_at(selected).id == chosen
    assert window.polling is not None
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 2.0
    assert not window.polling.running


def test_arrivals_keep_the_scroll_position_of_a_person_reading_further_down(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QAbstractItemView

    window = MainWindow(
        demo_services, demo_services.directory.people()[0], LocalPrefs(tmp_path / "p.json")
    )
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    inbox = window.inbox
    inbox.status_filter.setCurrentText("All statuses")
    listed(qtbot, inbox.model)
    view = inbox.view
    view.scrollTo(inbox.model.index(120, 0), QAbstractItemView.ScrollHint.PositionAtTop)
    qtbot.wait(50)
    top = view.indexAt(view.viewport().rect().topLeft())
    reading = inbox.model.row_at(top.row()).id
    view.selectRow(top.row() + 2)
    chosen = inbox.model.row_at(top.row() + 2).id
    sandbox = next(ref for ref, _ in demo_services.polling.accounts() if ref.network == "sandbox")
    outcome = demo_services.polling.poll(sandbox)
    assert outcome.new_conversation_ids
    inbox.on_conversations_changed(outcome.new_conversation_ids, outcome.touched_conversation_ids)
    qtbot.wait(50)
    assert inbox.model.row_at(0).id in outcome.new_conversation_ids  # arrived on top...
    now_top = view.indexAt(view.viewport().rect().topLeft())
    assert inbox.model.row_at(now_top.row()).id == reading  # ...without moving the reader
    [selected] = {i.row() for i in view.selectionModel().selectedRows()}
    assert inbox.model.row_at(selected).id == chosen


def test_the_open_conversation_stays_open_when_its_own_new_message_moves_it_up(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    """A customer writes again (or the outbox sends our reply) in the conversation being read:
    it moves to the top, stays the open one (never its neighbour), and shows the message."""
    from datetime import UTC, datetime

    from PySide6.QtCore import Qt

    from app.domain.items import InboundItem
    from app.models import Conversation

    s = demo_services
    window = MainWindow(s, s.directory.people()[0], LocalPrefs(tmp_path / "p.json"))
    qtbot.addWidget(window)
    window.show()
    inbox = window.inbox
    inbox.status_filter.setCurrentText("All statuses")
    listed(qtbot, inbox.model)
    chosen = next(
        inbox.model.row_at(i)
        for i in range(3, inbox.model.rowCount())
        if inbox.model.row_at(i).network == "sandbox"
    )
    index = inbox.model.index(inbox.model.row_of(chosen.id) or 0, 0)
    rect = inbox.view.visualRect(index)
    qtbot.mouseClick(inbox.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: inbox.open_row() is not None and inbox.open_row().id == chosen.id)
    with s.db.engine.connect() as conn:
        c = conn.execute(select(Conversation).where(Conversation.id == chosen.id)).one()
    outcome = s.ingest.store(
        c.account_id,
        [
            InboundItem(
                network="sandbox",
                external_id=f"{c.external_thread_id}-again",
                kind="reply",
                direction="in",
                text="Any news? Still waiting here.",
                created_at=datetime.now(UTC),
                author_external_id="sbx-someone",
                author_handle="someone",
                author_name="Some One",
                thread_external_id=c.external_thread_id,
                thread_type=c.thread_type,
                in_reply_to=None,
                permalink=None,
                raw={},
            )
        ],
        None,
    )
    assert chosen.id in outcome.touched_conversation_ids
    inbox.on_conversations_changed((), outcome.touched_conversation_ids)
    assert inbox.model.row_at(0).id == chosen.id  # moved to the top
    assert inbox.open_row() is not None
    assert inbox.open_row().id == chosen.id  # still the one open, not its neighbour
    [selected] = {i.row() for i in inbox.view.selectionModel().selectedRows()}
    assert selected == 0
    assert inbox.thread_pane.texts()[-1] == "Any news? Still waiting here."
