"""The main window offscreen on a demo workspace: lists, filters, threads, counts, screens."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QLabel

from app.config import LocalPrefs
from app.domain.rows import FeedFilter
from app.models import Conversation, Message
from app.services.container import Services
from app.ui.main_window import SCREEN_NAMES, MainWindow
from tests.ui.feed import listed

MARKUP = '<b>bold</b><img src=x onerror=alert(1)> <a href="https://evil.example">click</a>'


def _window(qtbot: Any, services: Services, tmp_path: Path) -> MainWindow:
    operator = services.directory.people()[0]
    window = MainWindow(services, operator, LocalPrefs(tmp_path / "prefs.json"))
    qtbot.addWidget(window)
    return window


def test_opens_listing_conversations_and_paints(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    window = _window(qtbot, demo_services, tmp_path)
    with qtbot.waitSignal(window.first_page_painted, timeout=5000):
        window.show()
    # The default view: conversations that need attention, across the whole company.
    backlog = FeedFilter(statuses=("new", "open", "waiting"))
    expected = [r.id for r in demo_services.inbox.page(backlog, limit=200)]
    assert expected
    model = window.inbox.model
    assert [model.row_at(i).id for i in range(model.rowCount())] == expected
    assert window.inbox.title.text() == "Acme Mobility"
    assert "Acme Mobility" in window.windowTitle()


def test_unit_counts_arrive_from_the_worker(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    window = _window(qtbot, demo_services, tmp_path)
    window.show()
    qtbot.waitUntil(lambda: bool(window.inbox.counts), timeout=5000)
    units = demo_services.inbox.units()
    root = window.inbox.counts[units[0].id]
    assert root.total == 600
    tree = window.inbox.unit_tree.tree_model
    assert tree.backlog_shown(units[0].id) == f"{root.backlog:,}"
    assert "600 conversations" in window.counts_label.text()
    # Every unit is in the tree.
    assert all(tree.index_of(u.id).isValid() for u in units)


def test_choosing_a_unit_lists_its_sub_tree(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    window = _window(qtbot, demo_services, tmp_path)
    window.show()
    care = next(u for u in demo_services.inbox.units() if u.name == "Customer Care")
    window.inbox.status_filter.setCurrentText("All statuses")
    window.inbox.unit_tree.select_unit(care.id)
    model = window.inbox.model
    listed(qtbot, model)
    model.fetch_to_end()
    assert window.inbox.title.text() == "Customer Care"
    subtree = set(demo_services.inbox.subtree(care.id))
    assert model.rowCount() > 0
    assert {model.row_at(i).unit_id for i in range(model.rowCount())} <= subtree


def test_selecting_a_row_shows_its_messages(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    window = _window(qtbot, demo_services, tmp_path)
    window.show()
    listed(qtbot, window.inbox.model)
    window.inbox.view.selectRow(3)
    row = window.inbox.model.row_at(3)
    thread = demo_services.inbox.thread(row.id)
    assert thread is not None
    assert window.inbox.thread_pane.texts() == [m.text for m in thread.messages]


def test_markup_in_a_message_is_shown_literally(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    with demo_services.db.uow() as uow:
        s = uow.session
        template = s.get(Conversation, 1)
        assert template is not None
        now = datetime(2030, 1, 1, tzinfo=UTC)  # newest of all: first in the list
        conv = Conversation(
            network=template.network,
            account_id=template.account_id,
            thread_type=template.thread_type,
            external_thread_id="markup-test",
            kind="mention",
            unit_id=template.unit_id,
            status="new",
            preview=MARKUP,
            message_count=1,
            last_activity_at=now,
        )
        s.add(conv)
        s.flush()
        s.add(
            Message(
                network=template.network,
                account_id=template.account_id,
                external_id="markup-1",
                conversation_id=conv.id,
                direction="in",
                kind="mention",
                text=MARKUP,
                created_at=now,
            )
        )
        uow.commit()
    window = _window(qtbot, demo_services, tmp_path)
    window.show()
    window.inbox.status_filter.setCurrentText("New")
    listed(qtbot, window.inbox.model)
    assert window.inbox.model.row_at(0).preview == MARKUP
    window.inbox.view.selectRow(0)
    [bubble] = window.inbox.thread_pane.bubbles
    assert bubble.text == MARKUP
    # shown as typed; long runs get zero-width break opportunities only (thread_view.breakable)
    assert bubble.body.text().replace("\u200b", "") == MARKUP
    assert bubble.body.textFormat().name == "PlainText"
    labels = window.inbox.thread_pane.findChildren(QLabel)
    assert labels
    assert all(label.textFormat().name == "PlainText" for label in labels)


def test_placeholder_screens_say_what_will_be_there(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    window = _window(qtbot, demo_services, tmp_path)
    window.show()
    built = {"Settings", "Compose & Publishing", "Approvals", "Strategy"}
    assert set(window.placeholders) == set(SCREEN_NAMES[1:]) - built
    for name in window.placeholders:
        window.show_screen(name)
        assert window.current_screen() == name
        text = window.placeholders[name].text
        assert "Not available in this version" in text
        assert "What will be here" in text
    window.show_screen("Inbox")
    assert window.stack.currentWidget() is window.inbox


def test_closing_leaves_no_thread_running(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    window = _window(qtbot, demo_services, tmp_path)
    window.show()
    window.inbox.refresh_counts()
    window.close()
    assert QThreadPool.globalInstance().activeThreadCount() == 0


def test_the_status_bar_names_accounts_that_need_attention(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    from sqlalchemy import update

    from app.models import Account

    window = _window(qtbot, demo_services, tmp_path)
    assert window.accounts_label.text() == (
        "Accounts: 4 polling · @acmemobility needs reconnect · 2 paused"
    )
    with demo_services.db.engine.begin() as conn:
        conn.execute(
            update(Account)
            .where(Account.handle == "acme")
            .values(state="rate_limited", state_detail="rate limited until 14:05")
        )
        conn.execute(
            update(Account).where(Account.handle == "acme_de").values(state="needs_reconnect")
        )
        conn.execute(update(Account).where(Account.handle == "acme_es").values(state="offline"))
    window._show_account_states()
    assert window.accounts_label.text() == (
        "Accounts: 1 polling · @acmemobility needs reconnect · @acme rate limited until 14:05 · "
        "@acme_de needs reconnect · @acme_es offline · 2 paused"
    )


def test_a_polling_error_is_shown_in_the_status_bar(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    window = _window(qtbot, demo_services, tmp_path)
    window.show()
    window.start_polling()
    assert window.polling is not None
    window.polling.tick_failed.emit("OperationalError: disk I/O error")
    assert "disk I/O error" in window.statusBar().currentMessage()
    window.close()
    assert not window.polling.running
