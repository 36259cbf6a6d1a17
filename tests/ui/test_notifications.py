"""Notifications: a draft submitted for the supervisor, a decision for its author, told once each,
in the in-app list; a click there opens the draft in Approvals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from sqlalchemy import select

from app.config import LocalPrefs
from app.domain.enums import DraftState
from app.models import Account
from app.services.approval_news import NewsItem, NewsKind
from app.services.container import Services
from app.ui.approvals.notifications import ApprovalWatcher
from app.ui.main_window import MainWindow
from app.ui.operator import OperatorBinding
from tests.integration.demo_lookup import person_id, social_goal, unit_id

WAIT_MS = 5000


class FakeNotifier:
    """A :class:`app.ui.approvals.notifications.Notifier` that keeps what it was told."""

    def __init__(self) -> None:
        self.items: list[NewsItem] = []

    def notify(self, item: NewsItem) -> None:
        self.items.append(item)


def _person(s: Services, local: str) -> Any:
    person = s.directory.person_by_email(f"{local}@acme-mobility.example")
    assert person is not None
    return person


def _post(s: Services, text: str) -> int:
    with s.db.engine.connect() as conn:
        acme = int(conn.scalar(select(Account.id).where(Account.handle == "acme")) or 0)
    jamal = person_id(s, "jamal.carter")
    draft_id = s.drafts.create(
        jamal, "post", unit_id(s, "Marketing"), text, [acme], social_goal_id=social_goal(s)
    )
    assert s.drafts.submit(jamal, draft_id) == DraftState.PENDING_APPROVAL
    return draft_id


def _check(qtbot: Any, watcher: ApprovalWatcher) -> tuple[NewsItem, ...]:
    with qtbot.waitSignal(watcher.news_arrived, timeout=WAIT_MS) as blocker:
        watcher.check_now()
    return tuple(blocker.args[0])


def test_a_submitted_draft_is_told_to_its_supervisor_once(
    qtbot: Any, demo_services: Services
) -> None:
    s = demo_services
    fake = FakeNotifier()
    watcher = ApprovalWatcher(s.drafts, OperatorBinding(_person(s, "emma.laurent")), [fake])
    watcher.start()
    first = _post(s, "Spring rides are back!")
    (item,) = _check(qtbot, watcher)
    assert (item.kind, item.draft_id) == (NewsKind.WAITING, first)
    assert item.title == "Jamal Carter asks for your approval"
    second = _post(s, "Helmets on, everyone.")
    (again,) = _check(qtbot, watcher)  # the first is not told twice
    assert again.draft_id == second
    assert [i.draft_id for i in fake.items] == [first, second]
    watcher.stop()


def test_a_rejection_is_told_to_the_author_with_its_reason(
    qtbot: Any, demo_services: Services
) -> None:
    s = demo_services
    fake = FakeNotifier()
    watcher = ApprovalWatcher(s.drafts, OperatorBinding(_person(s, "jamal.carter")), [fake])
    watcher.start()
    draft_id = _post(s, "The best rides in town")
    s.drafts.reject(person_id(s, "emma.laurent"), draft_id, "No superlatives.", version=1)
    (item,) = _check(qtbot, watcher)
    assert (item.kind, item.draft_id) == (NewsKind.REJECTED, draft_id)
    assert item.title == "Emma Laurent rejected your post"
    assert item.body.endswith("Reason: No superlatives.")
    assert fake.items == [item]
    watcher.stop()


def test_the_window_lists_the_notification_and_opens_its_draft(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    s = demo_services
    window = MainWindow(s, _person(s, "emma.laurent"), LocalPrefs(tmp_path / "prefs.json"))
    qtbot.addWidget(window)
    window.show()
    window.watcher.start()
    button = window.notifications.button
    bell = button.text()  # the bell, or the word where the font has no bell
    assert bell in ("🔔", "Notifications")
    draft_id = _post(s, "<b>Spring</b> rides are back!")
    _check(qtbot, window.watcher)
    assert button.text() == f"{bell} 1"
    window.notifications.show_list()
    assert button.text() == bell  # read now
    entry = window.notifications.list.item(0)
    assert entry.text().splitlines()[:2] == [
        "Jamal Carter asks for your approval",
        "Post for Marketing on @acme: “<b>Spring</b> rides are back!”",
    ]
    rect = window.notifications.list.visualItemRect(entry)
    qtbot.mouseClick(
        window.notifications.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center()
    )
    assert window.current_screen() == "Approvals"
    page = window.approvals
    qtbot.waitUntil(
        lambda: page.detail.view is not None and page.detail.view.id == draft_id, timeout=WAIT_MS
    )
    assert page.decision_actions["approve"].isEnabled()  # it waits on Emma
    qtbot.waitUntil(lambda: window.nav.item(2).text().startswith("Approvals  ("), timeout=WAIT_MS)
    window.set_operator(_person(s, "grace.kim"))
    assert window.notifications.items == []
    window.close()
