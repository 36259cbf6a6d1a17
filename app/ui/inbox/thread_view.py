"""The thread pane: who wrote, where it was routed and why, and every message as plain text."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import Direction
from app.domain.rows import MessageRow, ThreadView
from app.ui.formatting import KIND_LABELS, NETWORK_LABELS, STATUS_LABELS, count, long_time
from app.ui.labels import plain_label


class MessageBubble(QFrame):
    def __init__(self, message: MessageRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outbound = message.direction == Direction.OUT
        self.setObjectName("bubbleOut" if outbound else "bubbleIn")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 10)
        layout.setSpacing(4)
        who = message.author_name or "Unknown author"
        if message.author_handle:
            who += f"  @{message.author_handle}"
        kind = KIND_LABELS.get(message.kind, message.kind)
        layout.addWidget(plain_label(who, object_name="bubbleAuthor"))
        layout.addWidget(
            plain_label(f"{kind} · {long_time(message.created_ms)}", object_name="bubbleMeta")
        )
        self.body = plain_label(message.text, object_name="bubbleText")
        layout.addWidget(self.body)


class ThreadPane(QScrollArea):
    """Shows one conversation; ``show_thread(None)`` shows the empty state."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("threadPane")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.bubbles: list[MessageBubble] = []
        self._stick_to_newest = False
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._on_scrollbar_range_changed)
        bar.actionTriggered.connect(self._on_scrollbar_action_triggered)
        self.show_thread(None)

    def _fresh_content(self) -> None:
        """Replace the pane's content widget (setWidget deletes the previous one)."""
        content = QWidget()
        content.setObjectName("threadContent")
        self._layout = QVBoxLayout(content)
        self._layout.setContentsMargins(18, 16, 18, 16)
        self._layout.setSpacing(10)
        self.setWidget(content)
        self.bubbles = []

    def show_thread(self, thread: ThreadView | None) -> None:
        self._fresh_content()
        if thread is None:
            empty = plain_label(
                "Select a conversation to read it here.\n\n"
                "j / k move through the list · Ctrl+End jumps to the oldest",
                object_name="emptyState",
            )
            empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self._layout.addStretch(1)
            self._layout.addWidget(empty)
            self._layout.addStretch(1)
            return
        c = thread.conversation
        title = c.author_name or "Unknown author"
        if c.author_handle:
            title += f"  @{c.author_handle}"
        self._layout.addWidget(plain_label(title, object_name="threadTitle"))
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
        facts.append(
            f"assigned to {thread.assignee_name}" if thread.assignee_name else "unassigned"
        )
        self._layout.addWidget(plain_label(" · ".join(facts), object_name="threadFacts"))
        if thread.routing_reason:
            self._layout.addWidget(
                plain_label(f"Routing: {thread.routing_reason}", object_name="routingReason")
            )
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
        self._layout.addStretch(1)
        self._stick_to_newest = True

    def _on_scrollbar_range_changed(self, _minimum: int, maximum: int) -> None:
        # The layout grows as the bubbles are laid out: keep the newest message in view until
        # the person scrolls.
        if self._stick_to_newest:
            self.verticalScrollBar().setValue(maximum)

    def _on_scrollbar_action_triggered(self, _action: int) -> None:
        self._stick_to_newest = False

    def texts(self) -> list[str]:
        """The message texts shown, in order (for tests and accessibility checks)."""
        return [b.body.text() for b in self.bubbles]
