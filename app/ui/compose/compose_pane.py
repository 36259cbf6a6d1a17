"""The compose pane: a new post, a reply or a direct message, checked live as it is typed.

What it reads (the compiled policy, the approval rules, the accounts, the social goals, the
saved replies, the draft to open again) is read once, in a worker; every keystroke then runs
the pure live check of :class:`app.services.draft_compose.ComposeContext` in the GUI thread
(about a millisecond for 2,000 characters) and repaints the counters, the underlines, the
findings and the approval needed. What is typed is saved by :class:`DraftSaver` within two
seconds, off the GUI thread, with the warnings about duplicates and timing read after it.

Everything shown is plain text: the typed text, findings, names and refusals.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import DraftKind, DraftState
from app.domain.policy import Severity
from app.domain.saved_replies import expand
from app.services.container import Services
from app.services.draft_compose import ComposeCheck, ComposeContext
from app.services.drafts import DraftError, DraftView, NotAllowed
from app.services.saved_replies import SavedReplyError, SavedReplyRow
from app.ui.compose.editor import BLOCK_COLOUR, WARN_COLOUR, ComposeEditor, mark_line
from app.ui.compose.saver import AUTOSAVE_MS, DraftSaver, Saved, Snapshot
from app.ui.formatting import NETWORK_LABELS
from app.ui.labels import plain_label, plain_tooltip
from app.ui.operator import OperatorBinding
from app.ui.tasks import TaskRunner

log = logging.getLogger("quiver.ui.compose")

KIND_TITLES = {
    DraftKind.POST: "New post",
    DraftKind.REPLY: "Reply",
    DraftKind.DM: "Direct message",
}
NO_GOAL = "Choose the social goal it serves…"


@dataclass(frozen=True, slots=True)
class Loaded:
    """What the pane reads once, in a worker."""

    context: ComposeContext
    draft: DraftView | None
    replies: tuple[SavedReplyRow, ...]
    may_manage: bool


def load(
    services: Services, operator: int, kind: DraftKind, unit_id: int | None, cid: int | None
) -> Loaded | str:
    """The pane's reads (worker thread); a refusal in words when the operator may not write."""
    try:
        return _load(services, operator, kind, unit_id, cid)
    except (DraftError, NotAllowed, SavedReplyError) as e:
        return str(e)


def _load(
    services: Services, operator: int, kind: DraftKind, unit_id: int | None, cid: int | None
) -> Loaded:
    context = services.drafts.compose_context(operator, kind.value, unit_id, cid)
    draft = services.drafts.open_draft(operator, kind.value, cid)
    if draft is not None and kind is DraftKind.POST and draft.unit_id != context.unit_id:
        context = services.drafts.compose_context(operator, kind.value, draft.unit_id, cid)
    replies = services.saved_replies.for_unit(operator, context.unit_id)
    manage = services.saved_replies.may_manage(operator, context.unit_id)
    return Loaded(context, draft, tuple(replies), manage)


class ComposePane(QWidget):
    """Writes one draft: ``kind`` post (accounts to choose), reply or dm (in ``conversation_id``).

    ``context`` shows what was read already instead of reading it in a worker.

    Signals: :attr:`loaded` once the context is read (the live check works from then on),
    :attr:`checked` after each live check, :attr:`saved` after each autosave,
    :attr:`submitted` after a submit the service accepted, :attr:`dismissed` on Esc.
    """

    loaded = Signal()
    checked = Signal(object)  # ComposeCheck
    saved = Signal(object)  # Saved
    submitted = Signal(int, str)  # draft id, its new state
    dismissed = Signal()

    def __init__(
        self,
        services: Services,
        operator: OperatorBinding,
        kind: DraftKind | str = DraftKind.POST,
        *,
        conversation_id: int | None = None,
        unit_id: int | None = None,
        autosave_ms: int = AUTOSAVE_MS,
        compact: bool = False,
        context: Loaded | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("composePane")
        self._services = services
        self._operator = operator
        self.kind = DraftKind(kind)
        self.conversation_id = conversation_id
        self._unit_id = unit_id
        self.context: ComposeContext | None = None
        self.refusal = ""  # why the operator cannot write here (empty: they can)
        self.last_check: ComposeCheck | None = None
        self.draft_id: int | None = None
        self.replies: tuple[SavedReplyRow, ...] = ()
        self._may_manage = False
        self._loading = False
        self._acting = operator.id  # who the draft being written belongs to
        self._filling = False  # setting widgets from a stored draft: no autosave for that
        self._tasks = TaskRunner(self)
        self.saver = DraftSaver(services, self._snapshot, self, delay_ms=autosave_ms)
        self.saver.saved.connect(self._on_saver_saved)
        self._build()
        if compact:  # inline under a thread: the thread keeps most of the height
            self.editor.setMinimumHeight(70)
            self.editor.setMaximumHeight(130)
        operator.changed.connect(self._on_operator_changed)
        if context is None:
            self.reload()
        else:  # read already (a benchmark, a host that has it): shown at once
            self._on_loaded(context)

    # -- building ------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(8)
        head = QHBoxLayout()
        self.title = plain_label(KIND_TITLES[self.kind], object_name="composeTitle", wrap=False)
        head.addWidget(self.title)
        head.addStretch(1)
        self.unit_choice = QComboBox()
        self.unit_choice.setObjectName("composeUnit")
        self.unit_choice.setToolTip(plain_tooltip("The unit this post is written for"))
        self.unit_choice.setVisible(self.kind is DraftKind.POST)
        self.unit_choice.activated.connect(self._on_unit_choice_activated)
        head.addWidget(self.unit_choice)
        self.replies_button = QToolButton()
        self.replies_button.setObjectName("savedRepliesButton")
        self.replies_button.setText("Saved replies")
        self.replies_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.replies_menu = QMenu(self.replies_button)
        self.replies_button.setMenu(self.replies_menu)
        head.addWidget(self.replies_button)
        layout.addLayout(head)

        self.accounts_box = QWidget()
        self.accounts_grid = QGridLayout(self.accounts_box)
        self.accounts_grid.setContentsMargins(0, 0, 0, 0)
        self.accounts_grid.setHorizontalSpacing(14)
        self.account_checks: dict[int, QCheckBox] = {}
        self.accounts_box.setVisible(self.kind is DraftKind.POST)
        layout.addWidget(self.accounts_box)

        self.editor = ComposeEditor()
        self.editor.setPlaceholderText(
            "Write the post…" if self.kind is DraftKind.POST else "Write your answer…"
        )
        self.editor.setMinimumHeight(110)
        self.editor.edited.connect(self._on_editor_edited)
        layout.addWidget(self.editor, 1)

        self.counters = QHBoxLayout()
        self.counters.setSpacing(12)
        self.counter_labels: dict[int, QLabel] = {}
        counters_row = QWidget()
        counters_row.setLayout(self.counters)
        layout.addWidget(counters_row)

        self.findings = QListWidget()
        self.findings.setObjectName("composeFindings")
        self.findings.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.findings.setWordWrap(True)
        self.findings.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.findings.hide()
        layout.addWidget(self.findings)
        self.approval = plain_label(object_name="composeApproval")
        self.approval.hide()
        layout.addWidget(self.approval)
        self.warnings = plain_label(object_name="composeWarnings")
        self.warnings.hide()
        layout.addWidget(self.warnings)

        options = QHBoxLayout()
        self.goal = QComboBox()
        self.goal.setObjectName("composeGoal")
        self.goal.addItem(NO_GOAL, None)
        self.goal.currentIndexChanged.connect(self._on_option_changed)
        self.goal.setToolTip(plain_tooltip("Every post serves a social goal of the strategy."))
        options.addWidget(self.goal, 2)
        self.schedule_on = QCheckBox("Schedule for")
        self.schedule_on.toggled.connect(self._on_schedule_on_toggled)
        self.schedule_at = QDateTimeEdit()
        self.schedule_at.setCalendarPopup(True)
        self.schedule_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.schedule_at.setDateTime(QDateTime.currentDateTime().addSecs(3600))
        self.schedule_at.setEnabled(False)
        self.schedule_at.dateTimeChanged.connect(self._on_option_changed)
        options.addWidget(self.schedule_on)
        options.addWidget(self.schedule_at, 1)
        layout.addLayout(options)

        bottom = QHBoxLayout()
        self.status = plain_label(object_name="composeStatus")
        bottom.addWidget(self.status, 1)
        self.submit_button = QPushButton("Submit for approval")
        self.submit_button.setObjectName("composeSubmit")
        self.submit_button.setDefault(True)
        self.submit_button.clicked.connect(self.submit)
        self.submit_button.setToolTip(plain_tooltip("Ctrl+Enter"))
        bottom.addWidget(self.submit_button)
        layout.addLayout(bottom)
        self.outcome = plain_label(object_name="composeOutcome")
        self.outcome.hide()
        layout.addWidget(self.outcome)

        submit_key = QShortcut(QKeySequence("Ctrl+Return"), self, self.submit)
        submit_key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self._on_escape)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._set_enabled(False)

    def _set_enabled(self, on: bool) -> None:
        for widget in (self.submit_button, self.replies_button, self.goal, self.schedule_on):
            widget.setEnabled(on)
        self.goal.setVisible(self.kind is DraftKind.POST)

    # -- loading -------------------------------------------------------------------------

    def reload(self, unit_id: int | None = None) -> None:
        """Read the context (and the draft to open again) in a worker."""
        if unit_id is not None:
            self._unit_id = unit_id
        self._loading = True
        self.status.setText("Loading the policy and the accounts…")
        me, kind, unit, cid = self._acting, self.kind, self._unit_id, self.conversation_id
        services = self._services
        self._tasks.submit(
            lambda: load(services, me, kind, unit, cid), self._on_loaded, self._on_load_failed
        )

    def _on_load_failed(self, message: str) -> None:
        self._loading = False
        self.status.setText(f"The compose pane could not be prepared: {message}")

    def _on_loaded(self, loaded: Loaded | str) -> None:
        self._loading = False
        if isinstance(loaded, str):  # the operator may not write here
            self.refusal = loaded
            self.status.setText(loaded)
            self.editor.setReadOnly(True)
            self.loaded.emit()
            return
        self.refusal = ""
        self.editor.setReadOnly(False)
        context = loaded.context
        self.context = context
        self._unit_id = context.unit_id
        self.replies = loaded.replies
        self._may_manage = loaded.may_manage
        self._filling = True
        try:
            self._fill_units(context)
            self._fill_accounts(context)
            self._fill_goals(context)
            self._fill_replies()
            draft = loaded.draft
            if draft is not None and self.draft_id is None:
                self._open(draft)
        finally:
            self._filling = False
        self._set_enabled(True)
        self.status.setText("" if self.draft_id is None else self.status.text())
        self.recheck()
        self.loaded.emit()

    def _fill_units(self, context: ComposeContext) -> None:
        self.unit_choice.clear()
        for unit in context.units:
            self.unit_choice.addItem(unit.name, unit.id)
        index = self.unit_choice.findData(context.unit_id)
        if index >= 0:
            self.unit_choice.setCurrentIndex(index)

    def _fill_accounts(self, context: ComposeContext) -> None:
        chosen = {a for a, box in self.account_checks.items() if box.isChecked()}
        while self.accounts_grid.count():
            item = self.accounts_grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.account_checks = {}
        if self.kind is not DraftKind.POST:
            return
        for i, account in enumerate(context.accounts):
            network = NETWORK_LABELS.get(account.network, account.network)
            box = QCheckBox(f"{account.label} · {network}")
            box.setObjectName(f"account_{account.id}")
            box.toggled.connect(self._on_option_changed)
            self.accounts_grid.addWidget(box, i // 3, i % 3)
            self.account_checks[account.id] = box
        if not chosen and context.accounts and context.accounts[0].unit_id == context.unit_id:
            chosen = {context.accounts[0].id}  # the unit's own account, to start with
        for account_id in chosen:
            if account_id in self.account_checks:
                self.account_checks[account_id].setChecked(True)

    def _fill_goals(self, context: ComposeContext) -> None:
        current = self.goal.currentData()
        self.goal.blockSignals(True)
        self.goal.clear()
        self.goal.addItem(NO_GOAL, None)
        for goal in context.goals:
            self.goal.addItem(goal.title, goal.id)
        index = self.goal.findData(current)
        self.goal.setCurrentIndex(max(0, index))
        self.goal.blockSignals(False)

    def _fill_replies(self) -> None:
        self.replies_menu.clear()
        if not self.replies:
            empty = self.replies_menu.addAction("No saved replies in this unit yet")
            empty.setEnabled(False)
        for reply in self.replies:
            action = self.replies_menu.addAction(reply.title.replace("&", "&&"))
            action.setData(reply.id)
            action.setToolTip(plain_tooltip(reply.body))
            action.triggered.connect(self._on_reply_action_triggered)
        if self._may_manage:
            self.replies_menu.addSeparator()
            manage = self.replies_menu.addAction("Manage saved replies…")
            manage.triggered.connect(self.manage_replies)

    def _open(self, draft: DraftView) -> None:
        """Show a stored draft again: its text, accounts, goal, time and outcome."""
        self.draft_id = draft.id
        self.editor.setPlainText(draft.text)
        cursor = self.editor.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.editor.setTextCursor(cursor)
        if self.kind is DraftKind.POST:
            targets = {t.account_id for t in draft.targets}
            for account_id, box in self.account_checks.items():
                box.setChecked(account_id in targets)
        index = self.goal.findData(draft.social_goal_id)
        self.goal.setCurrentIndex(max(0, index))
        if draft.schedule_at is not None:
            self.schedule_on.setChecked(True)
            self.schedule_at.setDateTime(_qt_time(draft.schedule_at))
        self.saver.adopt(draft.id, self._snapshot())
        self._show_outcome(draft.state, draft.outcome)
        self.status.setText(f"Draft {draft.id} opened again (version {draft.version}).")

    # -- the live check ------------------------------------------------------------------

    def chosen_accounts(self) -> tuple[int, ...]:
        if self.kind is not DraftKind.POST:
            return self.context.default_accounts() if self.context is not None else ()
        return tuple(a for a, box in self.account_checks.items() if box.isChecked())

    def text(self) -> str:
        return self.editor.toPlainText()

    def recheck(self) -> ComposeCheck | None:
        """Check the text as it is now and paint what the check says (GUI thread, pure)."""
        context = self.context
        if context is None:
            return None
        text = self.text()
        check = context.check(text, self.chosen_accounts())
        self.last_check = check
        self._paint_counters(check)
        self.editor.show_marks(check.marks, text)
        self._paint_findings(check)
        lines = check.approval
        self.approval.setText("Approval: " + "; ".join(lines) if lines else "")
        self.approval.setVisible(bool(lines))
        self.checked.emit(check)
        return check

    def _paint_counters(self, check: ComposeCheck) -> None:
        seen = set()
        for counter in check.counters:
            seen.add(counter.account_id)
            label = self.counter_labels.get(counter.account_id)
            if label is None:
                label = plain_label(wrap=False, object_name="composeCounter")
                self.counters.insertWidget(self.counters.count(), label)
                self.counter_labels[counter.account_id] = label
            text = counter.text + ("  over the limit" if counter.over else "")
            if label.text() != text:
                label.setText(text)
                label.setProperty("over", counter.over)
                label.setStyleSheet(f"color: {BLOCK_COLOUR.name()};" if counter.over else "")
            label.show()
        for account_id, label in self.counter_labels.items():
            if account_id not in seen:
                label.hide()

    def _paint_findings(self, check: ComposeCheck) -> None:
        every = len(check.counters)
        lines = [(mark_line(m, every), m.severity) for m in check.marks]
        shown = [self.findings.item(i).text() for i in range(self.findings.count())]
        if shown == [line for line, _ in lines]:
            return
        self.findings.clear()
        for line, severity in lines:
            item = QListWidgetItem(line)
            colour = BLOCK_COLOUR if severity is Severity.BLOCK else WARN_COLOUR
            item.setForeground(QColor(colour).darker(130))
            item.setToolTip(plain_tooltip(line))
            self.findings.addItem(item)
        self.findings.setVisible(bool(lines))
        if lines:  # as tall as its lines, up to four (then it scrolls)
            rows = sum(self.findings.sizeHintForRow(i) for i in range(min(4, len(lines))))
            slack = self.findings.sizeHintForRow(0)  # a wrapped line is taller than its hint
            self.findings.setFixedHeight(rows + slack + 2 * self.findings.frameWidth())

    # -- changes -------------------------------------------------------------------------

    def _on_editor_edited(self) -> None:
        self.recheck()
        if not self._filling:
            self.saver.touch()

    def _on_option_changed(self, *_args: object) -> None:
        if self._filling:
            return
        self.recheck()
        self.saver.touch()

    def _on_schedule_on_toggled(self, on: bool) -> None:
        self.schedule_at.setEnabled(on)
        self._on_option_changed()

    def _on_unit_choice_activated(self, index: int) -> None:
        unit_id = self.unit_choice.itemData(index)
        if unit_id is not None and unit_id != self._unit_id:
            self.reload(int(unit_id))

    def _on_operator_changed(self, _person: object) -> None:
        """Another person acts now: what the last one typed is theirs; start afresh."""
        self.saver.wait(3000)  # saved as the person who typed it
        self._acting = self._operator.id
        self.draft_id = None
        self.saver.adopt(None, None)
        self._filling = True
        self.editor.clear()
        self._filling = False
        self.outcome.hide()
        self.reload()

    def _on_escape(self) -> None:
        self.dismissed.emit()

    def _snapshot(self) -> Snapshot | None:
        if self.context is None:
            return None
        at = None
        if self.schedule_on.isChecked():
            at = datetime.fromtimestamp(self.schedule_at.dateTime().toSecsSinceEpoch(), UTC)
        return Snapshot(
            operator=self._acting,
            kind=self.kind,
            unit_id=self.context.unit_id,
            conversation_id=self.conversation_id,
            text=self.text(),
            account_ids=self.chosen_accounts(),
            goal_id=self.goal.currentData() if self.kind is DraftKind.POST else None,
            schedule_at=at,
        )

    # -- saved replies -------------------------------------------------------------------

    def _on_reply_action_triggered(self) -> None:
        action = self.sender()
        reply_id = action.data() if isinstance(action, QAction) else None
        reply = next((r for r in self.replies if r.id == reply_id), None)
        if reply is not None:
            self.insert_saved_reply(reply)

    def insert_saved_reply(self, reply: SavedReplyRow) -> str:
        """Insert the reply at the cursor with its placeholders filled in; returns the text."""
        values = self.context.placeholder_values if self.context is not None else {}
        filled = expand(reply.body, values)
        self.editor.insertPlainText(filled.text)
        self.editor.setFocus()
        left = [f"{{{n}}}" for n in (*filled.missing, *filled.unknown)]
        if left:
            self.status.setText(f"Fill in {', '.join(left)} before you submit.")
        return filled.text

    def manage_replies(self) -> None:
        from app.ui.compose.saved_replies_dialog import SavedRepliesDialog

        if self.context is None:
            return
        dialog = SavedRepliesDialog(
            self._services,
            self._operator.id,
            self.context.unit_id,
            self.context.unit.unit_name,
            self,
        )
        dialog.changed.connect(self._on_replies_changed)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.replies_dialog = dialog
        dialog.open()

    def _on_replies_changed(self) -> None:
        if self.context is None:
            return
        me, unit, services = self._operator.id, self.context.unit_id, self._services
        self._tasks.submit(
            lambda: tuple(services.saved_replies.for_unit(me, unit)), self._on_replies_loaded
        )

    def _on_replies_loaded(self, replies: tuple[SavedReplyRow, ...]) -> None:
        self.replies = replies
        self._fill_replies()

    # -- saving and submitting -----------------------------------------------------------

    def submit(self) -> None:
        """Save, then send for approval (in the worker); the answer shows under the buttons."""
        if self.context is None:
            return
        self.status.setText("Submitting…")
        self.saver.submit()

    def _on_saver_saved(self, saved: Saved) -> None:
        if saved.draft_id is not None:
            self.draft_id = saved.draft_id
        self.warnings.setText("\n".join(f"⚠ {w}" for w in saved.warnings))
        self.warnings.setVisible(bool(saved.warnings))
        note = " ".join(saved.problems)
        if saved.refusal:
            self.status.setText(f"Not submitted: {saved.refusal}")
        elif saved.submitted:
            self.status.setText("Submitted.")
        elif saved.draft_id is not None:
            at = datetime.now().strftime("%H:%M:%S")
            self.status.setText(f"Saved at {at}." + (f" {note}" if note else ""))
        else:
            self.status.setText(note)
        if saved.state is not None:
            self._show_outcome(saved.state, saved.outcome)
        self.saved.emit(saved)
        if saved.submitted and saved.draft_id is not None and saved.state is not None:
            self.submitted.emit(saved.draft_id, saved.state.value)

    def _show_outcome(self, state: DraftState, outcome: str) -> None:
        self.outcome.setText(outcome)
        self.outcome.setProperty("state", state.value)
        self.outcome.setVisible(bool(outcome))

    def schedule_in(self, delta: timedelta) -> None:
        """Turn the schedule on, ``delta`` from now (for the keyboard and tests)."""
        self.schedule_on.setChecked(True)
        self.schedule_at.setDateTime(_qt_time(datetime.now(UTC) + delta))

    def shutdown(self, msecs: int = 3000) -> None:
        """Store what is not saved yet and wait for it (the window or the pane closes)."""
        self.saver.wait(msecs)
        self._tasks.wait(msecs)


def _qt_time(at: datetime) -> QDateTime:
    """An aware time as the schedule box shows it (local time, to the minute)."""
    return QDateTime.fromSecsSinceEpoch(int(at.timestamp()))
