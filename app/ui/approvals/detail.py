"""One draft as its reviewer decides it, all in plain text.

Who wrote it and where it goes, why it waits, the findings, what changed, the decisions so far
and the conversation it answers.

The diff against the previous version is inserted span by span into a read-only
:class:`QTextEdit` as plain text with a character format each (added: green, underlined;
removed: red, struck through): no HTML is ever built from the draft's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QColor, QTextCharFormat, QTextCursor, QTextOption
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import Direction, DraftState
from app.domain.policy import Severity
from app.domain.rows import ThreadView
from app.domain.word_diff import Span, SpanKind, word_diff
from app.services.approval_news import KIND_WORDS
from app.services.drafts import DraftView, PendingRow
from app.ui.formatting import long_time
from app.ui.inbox.thread_view import (
    MessageBubble,
    action_bar,
    thread_header,
    thread_scroll_area,
)
from app.ui.labels import isolated, plain_label

CONVERSATION_MESSAGES = 12
DIFF_MIN_HEIGHT, DIFF_MAX_HEIGHT = 48, 320  # the newest messages of the conversation shown
ADDED_COLOUR, REMOVED_COLOUR = QColor("#0f6b3a"), QColor("#b42318")
ADDED_BACKGROUND, REMOVED_BACKGROUND = QColor("#e3f6ea"), QColor("#fdecea")


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def span_format(kind: SpanKind) -> QTextCharFormat:
    """How a span of the diff looks: added green and underlined, removed red and struck."""
    fmt = QTextCharFormat()
    if kind is SpanKind.ADDED:
        fmt.setForeground(ADDED_COLOUR)
        fmt.setBackground(ADDED_BACKGROUND)
        fmt.setFontUnderline(True)
    elif kind is SpanKind.REMOVED:
        fmt.setForeground(REMOVED_COLOUR)
        fmt.setBackground(REMOVED_BACKGROUND)
        fmt.setFontStrikeOut(True)
    return fmt


def show_spans(edit: QTextEdit, spans: Sequence[Span]) -> None:
    """Put ``spans`` into ``edit`` as plain text, each with its format."""
    edit.clear()
    cursor = QTextCursor(edit.document())
    for span in spans:
        cursor.insertText(span.text, span_format(span.kind))  # insertText: never markup
    edit.moveCursor(QTextCursor.MoveOperation.Start)


def title_of(kind: str, author: str, unit: str) -> str:
    return f"{kind.capitalize()} by {isolated(author)} for {unit}"


def findings_lines(view: DraftView) -> list[str]:
    """Each finding per account, in words; the length against the limit."""
    lines: list[str] = []
    for target in view.findings:
        for finding in target.findings:
            what = "Blocks" if finding.severity is Severity.BLOCK else "Warning"
            lines.append(f"{target.account}: {what}: {finding.message}")
    return lines or ["The policy finds nothing in this text."]


class DraftDetail(QWidget):
    """The right-hand pane of the Approvals screen; :meth:`show_view` fills it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("approvalDetail")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.header, head = thread_header()
        self.title = plain_label(object_name="threadTitle")
        self.facts = plain_label(object_name="threadFacts")
        self.outcome = plain_label(object_name="routingReason")
        self.action_bar, self._bar = action_bar()
        self.notice = plain_label(object_name="threadNotice")
        self.notice.hide()
        for widget in (self.title, self.facts, self.outcome, self.action_bar, self.notice):
            head.addWidget(widget)
        outer.addWidget(self.header)

        self.area = thread_scroll_area()
        content = QWidget()
        content.setObjectName("threadContent")
        self._layout = QVBoxLayout(content)
        self._layout.setContentsMargins(18, 12, 18, 16)
        self._layout.setSpacing(8)
        self.requirement = self._section("WHY IT NEEDS APPROVAL")
        self.findings = self._section("POLICY FINDINGS")
        self.diff_label = plain_label("TEXT", object_name="sectionLabel")
        self._layout.addWidget(self.diff_label)
        self.diff = QTextEdit()
        self.diff.setObjectName("draftDiff")
        self.diff.setReadOnly(True)
        self.diff.setAcceptRichText(False)
        self.diff.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.diff.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.diff.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        layout = self.diff.document().documentLayout()
        layout.documentSizeChanged.connect(self._on_diff_size_changed)
        self._on_diff_size_changed()
        self._layout.addWidget(self.diff)
        self.decisions = self._section("DECISIONS SO FAR")
        self._layout.addWidget(plain_label("CONVERSATION", object_name="sectionLabel"))
        self.conversation = QWidget()
        self._conversation_layout = QVBoxLayout(self.conversation)
        self._conversation_layout.setContentsMargins(0, 0, 0, 0)
        self._conversation_layout.setSpacing(8)
        self._layout.addWidget(self.conversation)
        self._layout.addStretch(1)
        self.area.setWidget(content)
        outer.addWidget(self.area, 1)
        self.empty = plain_label(object_name="emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.empty, 1)

        self.view: DraftView | None = None
        self.spans: tuple[Span, ...] = ()
        self.bubbles: list[MessageBubble] = []
        self.show_empty("Select a draft to read it here.")

    def _on_diff_size_changed(self, *_size: object) -> None:
        """As tall as the text (up to :data:`DIFF_MAX_HEIGHT`): no empty box, no hidden words."""
        height = int(self.diff.document().size().height())
        frame = 2 * self.diff.frameWidth() + 12
        self.diff.setFixedHeight(max(DIFF_MIN_HEIGHT, min(DIFF_MAX_HEIGHT, height + frame)))

    def _section(self, title: str) -> QLabel:
        self._layout.addWidget(plain_label(title, object_name="sectionLabel"))
        body = plain_label(object_name="detailText", selectable=True)
        self._layout.addWidget(body)
        return body

    def set_actions(self, actions: Sequence[QAction]) -> None:
        for action in actions:
            button = QToolButton()
            button.setObjectName("actionButton")
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            self._bar.addWidget(button)
        self._bar.addStretch(1)

    def show_notice(self, text: str) -> None:
        """A refusal or what happened, under the buttons; empty hides it."""
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def show_empty(self, text: str) -> None:
        self.view = None
        self.spans = ()
        self.header.hide()
        self.area.hide()
        self.empty.setText(text)
        self.empty.show()

    def show_row(self, row: PendingRow) -> None:
        """What the queue's row knows, at once, while the whole draft is read."""
        self.view = None
        kind = KIND_WORDS.get(row.kind, row.kind.value)
        self.title.setText(title_of(kind, row.author_name, row.unit_name))
        self.facts.setText(f"Version {row.version} · on {', '.join(row.accounts) or '—'}")
        self.outcome.setText(f"Needs: {row.requirement}")
        self.requirement.setText("Reading the draft…")
        for label in (self.findings, self.decisions):
            label.setText("")
        self.diff_label.setText("TEXT")
        self.spans = word_diff(row.text, row.text)
        show_spans(self.diff, self.spans)
        self._show_conversation(None)
        self.empty.hide()
        self.header.show()
        self.area.show()

    def show_view(self, view: DraftView, thread: ThreadView | None, *, decidable: bool) -> None:
        """The whole draft; ``decidable``: it waits on the person looking (else it says why)."""
        self.view = view
        kind = KIND_WORDS.get(view.kind, view.kind.value)
        self.title.setText(title_of(kind, view.author_name, view.unit_name))
        accounts = ", ".join(t.account for t in view.targets) or "—"
        when = (
            f"goes out at {long_time(_ms(view.schedule_at))}"
            if view.schedule_at is not None
            else "goes out once approved"
        )
        self.facts.setText(
            f"Version {view.version} · on {accounts} · written {long_time(_ms(view.created_at))}"
            f" · {when} · {view.state_label}"
        )
        outcome = view.outcome if decidable else f"Not waiting on you. {view.outcome}"
        self.outcome.setText(outcome)
        lines = [f"Needs: {r}" for r in view.requirement] or ["No rule asks for an approval."]
        if view.state is not DraftState.PENDING_APPROVAL:  # else the outcome above says it
            lines += [f"Still missing: {m}" for m in view.missing]
        lines += [f"Does not count: {n}" for n in view.not_counted]
        self.requirement.setText("\n".join(lines))
        self.findings.setText("\n".join(findings_lines(view)))
        previous = view.versions[-2] if len(view.versions) >= 2 else None
        if previous is None:
            self.diff_label.setText("TEXT (THE FIRST VERSION)")
            self.spans = word_diff(view.text, view.text)
        else:
            self.diff_label.setText(
                f"CHANGES SINCE VERSION {previous.version} (added underlined, removed struck out)"
            )
            self.spans = word_diff(previous.text, view.text)
        show_spans(self.diff, self.spans)
        decisions = [
            d.text + ("" if d.current else " (an earlier version)") for d in view.decisions
        ]
        self.decisions.setText("\n".join(decisions) or "Nobody has decided yet.")
        self._show_conversation(thread)
        self.empty.hide()
        self.header.show()
        self.area.show()

    def _show_conversation(self, thread: ThreadView | None) -> None:
        for bubble in self.bubbles:
            bubble.deleteLater()
        self.bubbles = []
        while self._conversation_layout.count():
            item = self._conversation_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        if thread is None:
            note = "A new post: no conversation." if self.view is not None else ""
            if self.view is not None and self.view.conversation_id is not None:
                note = "The conversation is no longer available."
            self._conversation_layout.addWidget(plain_label(note, object_name="olderNote"))
            return
        messages = thread.messages[-CONVERSATION_MESSAGES:]
        older = len(thread.messages) - len(messages)
        if older > 0 or thread.more_before:
            self._conversation_layout.addWidget(
                plain_label(
                    f"Older messages are not shown (the newest {len(messages)} are).",
                    object_name="olderNote",
                )
            )
        for message in messages:
            bubble = MessageBubble(message)
            holder = QWidget()
            row = QHBoxLayout(holder)
            row.setContentsMargins(0, 0, 0, 0)
            if message.direction == Direction.OUT:
                row.addSpacing(56)
                row.addWidget(bubble, 1)
            else:
                row.addWidget(bubble, 1)
                row.addSpacing(56)
            self._conversation_layout.addWidget(holder)
            self.bubbles.append(bubble)

    def texts(self) -> list[str]:
        """The conversation's message texts shown, in order."""
        return [b.text for b in self.bubbles]
