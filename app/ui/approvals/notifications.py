"""Notifications of what starts waiting on the person acting, and of decisions on their drafts.

:class:`ApprovalWatcher` asks :meth:`app.services.drafts.DraftsService.news_for` every
:data:`CHECK_MS` on a worker thread (never the GUI thread) what happened since its last check,
and hands each new item to its notifiers: anything with the :class:`Notifier` shape. Two are
built here: :class:`NotificationList`, the in-app list behind a status-bar button ("🔔 3"),
and :class:`TrayNotifier`, the desktop's own notification where a system tray exists.

Each check asks from a little before the last one (:data:`OVERLAP`): an entry's time is the
writer's clock when it began its transaction, which may commit after a check that started
later, and two workstations' clocks differ. The audit entry's id keys every item, so what
was told already is not told again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from PySide6.QtCore import QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QSystemTrayIcon,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.rows import PersonRow
from app.services.approval_news import ApprovalNews, NewsItem
from app.services.drafts import DraftsService
from app.ui.formatting import long_time
from app.ui.labels import plain_label
from app.ui.operator import OperatorBinding
from app.ui.tasks import SerialTaskRunner

log = logging.getLogger("quiver.ui.notifications")

CHECK_MS = 15_000
OVERLAP = timedelta(minutes=2)
KEEP = 200  # notifications listed at most (the newest)
DRAFT_ROLE = Qt.ItemDataRole.UserRole + 1


class Notifier(Protocol):
    """Something that tells the person about one item (a tray message, a list, a test's fake)."""

    def notify(self, item: NewsItem) -> None: ...


class NotificationList(QObject):
    """The in-app list: a status-bar button with the unread count, opening the list."""

    #: A notification was clicked: go to its draft (its id).
    opened = Signal(int)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.items: list[NewsItem] = []  # newest first
        self.unread = 0
        self.button = QToolButton(parent)
        self.button.setObjectName("notificationsButton")
        self.button.setAutoRaise(True)
        self.button.setToolTip("Notifications: drafts waiting on you, decisions on yours")
        self.button.clicked.connect(self.show_list)
        # A small dialog, not a Qt.Popup: a popup grabs the keyboard and the mouse.
        self.popup = QDialog(parent)
        self.popup.setObjectName("notificationsPopup")
        self.popup.setWindowTitle("Notifications")
        layout = QVBoxLayout(self.popup)
        layout.setContentsMargins(8, 8, 8, 8)
        self.heading = plain_label("No notifications yet.", object_name="sectionLabel")
        self.list = QListWidget()
        self.list.setObjectName("notificationList")
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.itemActivated.connect(self._on_list_item_activated)
        self.list.itemClicked.connect(self._on_list_item_activated)
        layout.addWidget(self.heading)
        layout.addWidget(self.list)
        self.popup.resize(440, 420)
        self._show_count()

    def notify(self, item: NewsItem) -> None:
        self.items.insert(0, item)
        del self.items[KEEP:]
        entry = QListWidgetItem(f"{item.title}\n{item.body}\n{long_time(_ms(item.at))}")
        entry.setData(DRAFT_ROLE, item.draft_id)
        self.list.insertItem(0, entry)
        while self.list.count() > KEEP:
            self.list.takeItem(self.list.count() - 1)
        self.unread += 1
        self._show_count()

    def clear(self) -> None:
        """Forget every notification (another person acts now)."""
        self.items.clear()
        self.list.clear()
        self.unread = 0
        self._show_count()

    def show_list(self) -> None:
        """Open the list above the button; what was unread is read now."""
        self.unread = 0
        self._show_count()
        self.heading.setText(
            "NOTIFICATIONS · Enter or a click opens the draft"
            if self.items
            else "No notifications yet."
        )
        corner = self.button.mapToGlobal(QPoint(self.button.width(), 0))
        self.popup.move(corner.x() - self.popup.width(), corner.y() - self.popup.height())
        self.popup.show()
        self.list.setFocus()
        if self.list.count():
            self.list.setCurrentRow(0)

    def _show_count(self) -> None:
        # The bell where the font has it; a word where it would be an empty box.
        bell = "🔔" if self.button.fontMetrics().inFontUcs4(0x1F514) else "Notifications"
        self.button.setText(f"{bell} {self.unread}" if self.unread else bell)

    def _on_list_item_activated(self, entry: QListWidgetItem) -> None:
        draft_id = entry.data(DRAFT_ROLE)
        self.popup.hide()
        if isinstance(draft_id, int):
            self.opened.emit(draft_id)


class TrayNotifier(QObject):
    """The desktop's notification (``QSystemTrayIcon.showMessage``), where a tray exists."""

    #: The last message shown was clicked: go to its draft.
    opened = Signal(int)

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        icon = parent.windowIcon()
        if icon.isNull():
            style = QApplication.style()
            icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation)
        self.tray = QSystemTrayIcon(icon, self)
        self.tray.setToolTip("Quiver")
        self.tray.messageClicked.connect(self._on_tray_message_clicked)
        self.tray.show()
        self._last: int | None = None

    def notify(self, item: NewsItem) -> None:
        self._last = item.draft_id
        self.tray.showMessage(item.title, item.body, QSystemTrayIcon.MessageIcon.Information)

    def _on_tray_message_clicked(self) -> None:
        if self._last is not None:
            self.opened.emit(self._last)


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


class ApprovalWatcher(QObject):
    """Checks every :data:`CHECK_MS` (in a worker) what is new for the person acting now."""

    #: New items since the last check (a tuple of :class:`NewsItem`, oldest first).
    news_arrived = Signal(object)

    def __init__(
        self,
        drafts: DraftsService,
        operator: OperatorBinding,
        notifiers: Sequence[Notifier],
        parent: QObject | None = None,
        *,
        interval_ms: int = CHECK_MS,
    ) -> None:
        super().__init__(parent)
        self._drafts = drafts
        self._operator = operator
        self.notifiers = list(notifiers)
        self._tasks = SerialTaskRunner(self)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check_now)
        self._since = datetime.now(UTC)
        self._seen: dict[int, datetime] = {}  # told already: audit entry id -> its time
        self._checking = False
        self._generation = 0
        operator.changed.connect(self._on_operator_changed)

    def start(self) -> None:
        """Check every interval; what happens from now on is told (Approvals lists the rest)."""
        self._since = datetime.now(UTC)
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._tasks.wait(3000)

    def check_now(self) -> None:
        """Ask now (in the worker) what is new; one check at a time."""
        if self._checking:
            return
        self._checking = True
        drafts, operator, since = self._drafts, self._operator.id, self._since - OVERLAP
        generation = self._generation
        self._tasks.submit(
            lambda: drafts.news_for(operator, since),
            lambda news: self._on_news_read(generation, news),
            self._on_news_failed,
        )

    def _on_news_read(self, generation: int, news: ApprovalNews) -> None:
        self._checking = False
        if generation != self._generation:  # read for the person acting before a switch
            return
        fresh = tuple(i for i in news.items if i.key not in self._seen)
        for item in fresh:
            self._seen[item.key] = item.at
        self._since = max(self._since, news.checked_at)
        horizon = self._since - 3 * OVERLAP
        self._seen = {k: at for k, at in self._seen.items() if at >= horizon}
        for item in fresh:
            for notifier in self.notifiers:
                try:
                    notifier.notify(item)
                except Exception:  # one notifier failing must not silence the others
                    log.exception("a notifier failed")
        if fresh:
            self.news_arrived.emit(fresh)

    def _on_news_failed(self, message: str) -> None:
        self._checking = False
        log.warning("checking for notifications failed: %s", message)

    def _on_operator_changed(self, _person: PersonRow) -> None:
        self._generation += 1
        self._checking = False
        self._seen.clear()
        self._since = datetime.now(UTC)
