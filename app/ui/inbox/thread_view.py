"""The thread pane: author, routing reason, holder, messages and activity, all as plain text."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import Direction
from app.domain.rows import ConversationRow, MessageRow, ThreadView
from app.services.triage import TriageDetails, ago
from app.ui.formatting import KIND_LABELS, NETWORK_LABELS, STATUS_LABELS, count, long_time
from app.ui.inbox.history_text import ActivityLine, activity
from app.ui.labels import author_line, plain_label, plain_tooltip

SAFE_SCHEMES = ("http", "https")  # a permalink with any other scheme is not offered
LONGEST_RUN = 30  # characters without a break before the bubble offers one (see breakable)
_RUN = re.compile(rf"(\S{{{LONGEST_RUN}}})(?=\S)")


def breakable(text: str) -> str:
    """``text`` with a zero-width space after every 30 characters that hold no space.

    A label wraps only between words: one 10,000-character "word" (a link, a spammer's
    "aaaa…") would make the bubble wider than the pane and cut it off. Only what is shown
    changes; the bubble keeps the text as it came.
    """
    return _RUN.sub("\\1\u200b", text)


class MessageBubble(QFrame):
    def __init__(self, message: MessageRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outbound = message.direction == Direction.OUT
        self.setObjectName("bubbleOut" if outbound else "bubbleIn")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 10)
        layout.setSpacing(4)
        who = author_line(message.author_name, message.author_handle)
        kind = KIND_LABELS.get(message.kind, message.kind)
        layout.addWidget(plain_label(who, object_name="bubbleAuthor"))
        layout.addWidget(
            plain_label(f"{kind} · {long_time(message.created_ms)}", object_name="bubbleMeta")
        )
        self.text = message.text
        self.body = plain_label(breakable(message.text), object_name="bubbleText")
        layout.addWidget(self.body)


class ActivityEntry(QFrame):
    """A history line, or a note with its text under its heading."""

    def __init__(self, line: ActivityLine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noteEntry" if line.note else "historyEntry")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 4, 10, 4)
        layout.setSpacing(2)
        self.heading = plain_label(line.heading(), object_name="activityHeading")
        layout.addWidget(self.heading)
        self.body: QLabel | None = None
        self.text = line.note
        if line.note:
            self.body = plain_label(breakable(line.note), object_name="noteText")
            layout.addWidget(self.body)


def holder_text(details: TriageDetails | None, me: int | None, now: datetime) -> str:
    """Who holds it: "Claimed by Tom Becker 12 minutes ago", "Claimed by you just now"."""
    holder = details.holder if details is not None else None
    if holder is None:
        return "Nobody has claimed it yet."
    who = "you" if holder.person_id == me else holder.name
    since = f" {ago(holder.since, now)}" if holder.since is not None else ""
    return f"Claimed by {who}{since}"


def permalink_of(thread: ThreadView) -> str | None:
    """The conversation's link on its network (its first message's), if it is a web link."""
    for message in thread.messages:
        link = message.permalink
        if link and QUrl(link).scheme().lower() in SAFE_SCHEMES:
            return link
    return None


def thread_header() -> tuple[QWidget, QVBoxLayout]:
    """The pane's header that stays in view (title, facts, actions), and its layout."""
    header = QWidget()
    header.setObjectName("threadHeader")
    head = QVBoxLayout(header)
    head.setContentsMargins(18, 14, 18, 10)
    head.setSpacing(6)
    return header, head


def action_bar() -> tuple[QWidget, QHBoxLayout]:
    """The header's row of action buttons, and its layout."""
    bar = QWidget()
    bar.setObjectName("actionBar")
    row = QHBoxLayout(bar)
    row.setContentsMargins(0, 4, 0, 0)
    row.setSpacing(6)
    return bar, row


def thread_scroll_area() -> QScrollArea:
    """The pane's scrolling part under the header (white, no frame, no sideways scrolling)."""
    area = QScrollArea()
    area.setObjectName("threadPane")
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area


class ThreadPane(QWidget):
    """Shows one conversation; ``show_thread(None)`` shows the empty state.

    The header (author, routing reason, tags, holder, link) and the action bar stay in view;
    the messages and the activity below them scroll.
    """

    permalink_opened = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("threadColumn")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)

        self.header, head = thread_header()
        self.title = plain_label(object_name="threadTitle")
        self.facts = plain_label(object_name="threadFacts")
        self.routing = plain_label(object_name="routingReason")
        self.tags = plain_label(object_name="threadTags")
        self.holder = plain_label(object_name="threadHolder")
        self.link_button = QPushButton("Open on the network")
        self.link_button.setObjectName("permalinkButton")
        self.link_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.link_button.clicked.connect(self._on_link_button_clicked)
        self.action_bar, self._bar = action_bar()
        self.notice = plain_label(object_name="threadNotice")
        self.notice.hide()
        for widget in (self.title, self.facts, self.routing, self.tags, self.holder):
            head.addWidget(widget)
        head.addWidget(self.link_button)
        head.addWidget(self.action_bar)
        head.addWidget(self.notice)
        outer.addWidget(self.header)

        self.messages_area = thread_scroll_area()
        outer.addWidget(self.messages_area, 1)
        # The reply composer, inline under the thread (the inbox puts it here on r).
        self.composer_area = QWidget()
        self.composer_area.setObjectName("composerArea")
        self._composer_layout = QVBoxLayout(self.composer_area)
        self._composer_layout.setContentsMargins(0, 0, 0, 0)
        self.composer_area.hide()
        outer.addWidget(self.composer_area)
        self.composer: QWidget | None = None

        self.bubbles: list[MessageBubble] = []
        self.entries: list[ActivityEntry] = []
        self.buttons: list[QToolButton] = []
        self.shown_thread: ThreadView | None = None
        self.details: TriageDetails | None = None
        self.permalink: str | None = None
        self._stick_to_newest = False
        bar = self.messages_area.verticalScrollBar()
        bar.rangeChanged.connect(self._on_scrollbar_range_changed)
        bar.actionTriggered.connect(self._on_scrollbar_action_triggered)
        self.show_thread(None)

    def set_actions(self, actions: Sequence[QAction]) -> None:
        """The action bar's buttons, one per action (their text and enabled state follow it)."""
        for action in actions:
            button = QToolButton()
            button.setObjectName("actionButton")
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # reachable with Tab
            self._bar.addWidget(button)
            self.buttons.append(button)
        self._bar.addStretch(1)

    def show_composer(self, composer: QWidget) -> None:
        """Show ``composer`` under the thread (replacing one shown)."""
        self.take_composer()
        self.composer = composer
        self._composer_layout.addWidget(composer)
        self.composer_area.show()

    def take_composer(self) -> QWidget | None:
        """Remove the composer shown (the caller decides what becomes of it)."""
        composer, self.composer = self.composer, None
        if composer is not None:
            self._composer_layout.removeWidget(composer)
            composer.setParent(None)
        self.composer_area.hide()
        return composer

    def show_notice(self, text: str) -> None:
        """An inline note under the action bar (a refusal, who holds it); empty hides it."""
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def _fresh_content(self) -> None:
        """Replace the scrolled content widget (setWidget deletes the previous one)."""
        content = QWidget()
        content.setObjectName("threadContent")
        self._layout = QVBoxLayout(content)
        self._layout.setContentsMargins(18, 12, 18, 16)
        self._layout.setSpacing(10)
        self._activity: QWidget | None = None  # goes with the old content, set aside first
        self.messages_area.setWidget(content)
        self.bubbles = []
        self.entries = []

    def show_thread(
        self,
        thread: ThreadView | None,
        details: TriageDetails | None = None,
        *,
        units: Mapping[int, str] | None = None,
        people: Mapping[int, str] | None = None,
        me: int | None = None,
        now: datetime | None = None,
    ) -> None:
        """Show ``thread`` with its triage ``details`` (unit and people names for the history)."""
        self._fresh_content()
        self.shown_thread, self.details = thread, details
        self.show_notice("")
        self.header.setVisible(thread is not None)
        if thread is None:
            self.permalink = None
            empty = plain_label(
                "Select a conversation to read it here.\n\n"
                "j / k move through the list · Enter opens · ? lists every key",
                object_name="emptyState",
            )
            empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self._layout.addStretch(1)
            self._layout.addWidget(empty)
            self._layout.addStretch(1)
            return
        self._show_header(thread, details, me, now or datetime.now(UTC))
        if thread.more_before:
            self._layout.addWidget(
                plain_label(
                    f"Older messages are not shown (the newest {len(thread.messages)} are).",
                    object_name="olderNote",
                )
            )
        for message in thread.messages:
            bubble = MessageBubble(message)
            row = QHBoxLayout()
            if message.direction == Direction.OUT:
                row.addSpacing(56)
                row.addWidget(bubble, 1)
            else:
                row.addWidget(bubble, 1)
                row.addSpacing(56)
            self._layout.addLayout(row)
            self.bubbles.append(bubble)
        self._activity = QWidget()
        self._layout.addWidget(self._activity)
        self._fill_activity(details, units or {}, people or {})
        QTimer.singleShot(0, self, self._stick_if_still)
        self._layout.addStretch(1)
        self._stick_to_newest = True

    def refresh_details(
        self,
        row: ConversationRow,
        details: TriageDetails,
        *,
        units: Mapping[int, str],
        people: Mapping[int, str],
        me: int | None = None,
        now: datetime | None = None,
    ) -> bool:
        """After a triage action: the header and the activity again; the messages stay.

        Returns:
            False when another conversation is shown (nothing changed).
        """
        thread = self.shown_thread
        if thread is None or thread.conversation.id != row.id:
            return False
        thread = replace(
            thread,
            conversation=row,
            unit_name=units.get(row.unit_id, thread.unit_name),
            assignee_name=details.holder.name if details.holder is not None else None,
        )
        self.shown_thread, self.details = thread, details
        self._show_header(thread, details, me, now or datetime.now(UTC))
        self._fill_activity(details, units, people)
        return True

    def _fill_activity(
        self, details: TriageDetails | None, units: Mapping[int, str], people: Mapping[int, str]
    ) -> None:
        """The activity section (history and notes), rebuilt on its own container."""
        old = self._activity
        assert old is not None, "the activity is refreshed only on a thread shown"
        self._activity = QWidget()
        layout = QVBoxLayout(self._activity)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        self.entries = []
        lines = [] if details is None else activity(details.history, details.notes, units, people)
        if lines:
            layout.addWidget(plain_label("ACTIVITY", object_name="sectionLabel"))
        for line in lines:
            entry = ActivityEntry(line)
            layout.addWidget(entry)
            self.entries.append(entry)
        self._layout.replaceWidget(old, self._activity)
        old.deleteLater()

    def _show_header(
        self, thread: ThreadView, details: TriageDetails | None, me: int | None, now: datetime
    ) -> None:
        c = thread.conversation
        title = author_line(c.author_name, c.author_handle)
        self.title.setText(title)
        self.title.setToolTip(plain_tooltip(title))  # the whole name when the pane is narrow
        facts = [
            NETWORK_LABELS.get(c.network, c.network),
            thread.account_name,
            thread.unit_name,
            STATUS_LABELS.get(c.status, c.status),
            f"priority {c.priority}",
        ]
        if thread.author_followers is not None:
            facts.insert(0, f"{count(thread.author_followers)} followers")
        if thread.language:
            facts.append(f"language {thread.language}")
        if c.sentiment is not None:
            facts.append(f"sentiment {c.sentiment:+.2f}")
        if details is not None and details.author_is_spammer:
            facts.append("author marked as spam")
        self.facts.setText(" · ".join(facts))
        self.routing.setText(f"Routing: {thread.routing_reason or 'no reason recorded'}")
        tags = details.tags if details is not None else ()
        self.tags.setText("Tags: " + " · ".join(tags) if tags else "No tags")
        self.holder.setText(holder_text(details, me, now))
        self.permalink = permalink_of(thread)
        self.link_button.setVisible(self.permalink is not None)
        if self.permalink is not None:
            network = NETWORK_LABELS.get(c.network, c.network)
            self.link_button.setText(f"Open on {network} ↗")
            self.link_button.setToolTip(plain_tooltip(self.permalink))

    def _on_link_button_clicked(self) -> None:
        # Only on click, and only a web link: the browser opens what the network gave us.
        if self.permalink is not None:
            QDesktopServices.openUrl(QUrl(self.permalink))
            self.permalink_opened.emit(self.permalink)

    def _on_scrollbar_range_changed(self, _minimum: int, maximum: int) -> None:
        # The layout grows as the bubbles are laid out: keep the newest message in view until
        # the person scrolls.
        if self._stick_to_newest:
            self._show_newest(maximum)

    def _stick_if_still(self) -> None:
        if self._stick_to_newest:
            self._show_newest()

    def _show_newest(self, maximum: int | None = None) -> None:
        """Scroll so the end of the thread (its activity) meets the bottom of the view.

        Not simply to the scroll bar's end: word-wrapped labels make the content's size hint
        taller than what they take once laid out, and the stretch below would fill the view.
        """
        bar = self.messages_area.verticalScrollBar()
        top = bar.maximum() if maximum is None else maximum
        end = self._activity.geometry().bottom() if self._activity is not None else None
        if end is not None and end > 0:
            margin = self._layout.contentsMargins().bottom()
            top = min(top, max(0, end + margin - self.messages_area.viewport().height()))
        bar.setValue(top)

    def _on_scrollbar_action_triggered(self, _action: int) -> None:
        self._stick_to_newest = False

    def texts(self) -> list[str]:
        """The message texts shown, in order (for tests and accessibility checks)."""
        return [b.text for b in self.bubbles]
