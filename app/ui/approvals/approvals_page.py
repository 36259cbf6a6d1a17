"""The Approvals screen: the drafts waiting on the person acting now, and the one selected.

Left, the queue (oldest first, keyset pages read in a worker as the list scrolls); right, the
draft with everything needed to decide it (:class:`app.ui.approvals.detail.DraftDetail`), read
in a worker when it is selected. Approve (Y), reject (X) and request changes (C) act on the draft
shown, for the version shown, as the operator at that moment, on one worker thread of their
own; the service's refusal (a version no longer current, someone else decided first, no such
role) is shown in its words and the queue is read again. A decided draft leaves the list and
the next one is selected. An operator switch reads the queue again for the new person.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence, QPaintEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QListView,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.domain.drafts import STATE_LABELS
from app.domain.enums import DraftState
from app.domain.rows import PersonRow, ThreadView
from app.services.approval_news import KIND_WORDS
from app.services.container import Services
from app.services.drafts import DraftError, DraftView, NotAllowed, PendingRow
from app.ui.approvals.detail import DraftDetail
from app.ui.approvals.queue_model import ApprovalQueueModel, QueueDelegate
from app.ui.approvals.reason_dialog import ReasonDialog
from app.ui.labels import plain_label
from app.ui.operator import OperatorBinding
from app.ui.tasks import SerialTaskRunner, TaskRunner

log = logging.getLogger("quiver.ui.approvals")

EMPTY_QUEUE = "Nothing waits for your decision."
NOTHING_SHOWN = "Select a draft first (j / k move through the list)."
LOAD_FAILED = "The approvals queue could not be read ({error})."


@dataclass(frozen=True, slots=True)
class KeySpec:
    name: str
    text: str
    key: str
    what: str


KEYS = (
    KeySpec("approve", "Approve", "Y", "approve the draft shown (Approvals)"),
    KeySpec("reject", "Reject…", "X", "reject the draft shown, with a reason (Approvals)"),
    KeySpec(
        "request_changes",
        "Request changes…",
        "C",
        "ask for changes to the draft shown, saying which (Approvals)",
    ),
)


@dataclass(frozen=True, slots=True)
class DecisionOutcome:
    """What a decision did: ``ok`` False when the service refused it (its words in ``message``)."""

    draft_id: int
    ok: bool
    message: str
    state: DraftState | None = None


@dataclass(frozen=True, slots=True)
class DetailRead:
    view: DraftView | None
    thread: ThreadView | None
    error: str = ""


class QueueView(QListView):
    """The queue: fixed rows, j/k move (reading the next page at the end)."""

    #: The viewport was painted with rows in it.
    painted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("approvalQueue")
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() > 0:
            self.painted.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_J, Qt.Key.Key_K) and not event.modifiers():
            self.move_selection(1 if key == Qt.Key.Key_J else -1)
            return
        super().keyPressEvent(event)

    def move_selection(self, step: int) -> None:
        model = self.model()
        if model is None or model.rowCount() == 0:
            return
        current = self.currentIndex().row()
        if current < 0 or not self.selectionModel().hasSelection():
            target = max(current, 0)
        else:
            target = max(0, min(model.rowCount() - 1, current + step))
        if target == model.rowCount() - 1 and model.canFetchMore(QModelIndex()):
            model.fetchMore(QModelIndex())
        index = model.index(target, 0)
        self.setCurrentIndex(index)
        self.scrollTo(index)


class ApprovalsPage(QWidget):
    """Queue | draft. Reads nothing until it is first shown (or asked to :meth:`reload`)."""

    #: How many drafts are listed, and whether more wait beyond them.
    count_changed = Signal(int, bool)
    #: What a decision did or why it was refused, for the status bar.
    status_message = Signal(str)
    #: A decision went through: the draft's id and its new state.
    decided = Signal(int, object)
    #: A decision's outcome (:class:`DecisionOutcome`) is on screen, went through or refused.
    outcome_shown = Signal(object)
    #: The whole of a draft is on screen (its id).
    detail_shown = Signal(int)

    def __init__(
        self, services: Services, operator: OperatorBinding, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("approvalsPage")
        self._services = services
        self._operator = operator
        self._reads = TaskRunner(self)
        self._decisions = SerialTaskRunner(self)
        self._detail_generation = 0
        self._shown_id: int | None = None  # the draft whose detail is shown (or being read)
        self._wanted_id: int | None = None  # select this draft once the queue is read
        self._notice: tuple[int, str] | None = None  # a refusal to show again after a reload
        self._started = False
        self.pending = 0  # decisions asked for whose outcome has not arrived
        self.dialog: ReasonDialog | None = None
        self._asked = ""  # the decision the open dialog asks a reason for

        self.model = ApprovalQueueModel(services.drafts, self)
        self.view = QueueView()
        self.view.setModel(self.model)
        self.view.setItemDelegate(QueueDelegate(self.model, self.view))
        self.title = plain_label("Waiting for you", object_name="listTitle", wrap=False)
        self.summary = plain_label(object_name="threadFacts")
        self.empty_note = plain_label(EMPTY_QUEUE, object_name="emptyNote")
        self.empty_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_note.hide()
        left = QWidget()
        left.setObjectName("sidePanel")
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(12, 12, 8, 10)
        left_layout.setSpacing(6)
        left_layout.addWidget(self.title)
        left_layout.addWidget(self.summary)
        left_layout.addWidget(self.view, 1)
        left_layout.addWidget(self.empty_note)
        self.detail = DraftDetail()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([440, 900])
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.decision_actions: dict[str, QAction] = {}
        handlers: dict[str, Callable[[], None]] = {
            "approve": self.approve,
            "reject": self.reject,
            "request_changes": self.request_changes,
        }
        for spec in KEYS:
            action = QAction(spec.text, self)
            action.setObjectName(f"action_{spec.name}")
            action.setShortcut(QKeySequence(spec.key))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setStatusTip(spec.what)
            action.setIconText(f"{spec.text}  {spec.key}")
            action.setToolTip(f"{spec.text} ({spec.key})")
            action.triggered.connect(handlers[spec.name])
            self.addAction(action)
            self.decision_actions[spec.name] = action
        self.detail.set_actions(list(self.decision_actions.values()))
        self._enable_actions(False)

        self.model.loaded.connect(self._on_model_loaded)
        self.model.load_failed.connect(self._on_model_load_failed)
        self.model.rowsInserted.connect(self._on_model_rows_changed)
        self.model.rowsRemoved.connect(self._on_model_rows_changed)
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        operator.changed.connect(self._on_operator_changed)

    # -- loading ------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._started:
            self.reload()

    def reload(self, select: int | None = None) -> None:
        """Read the queue again for the person acting now (keeping the draft shown selected)."""
        self._started = True
        self._wanted_id = select if select is not None else self._shown_id
        self.model.load(self._operator.id)

    def show_draft(self, draft_id: int) -> None:
        """Go to this draft: selected in the queue if it waits on the operator, else shown."""
        row = self.model.row_of(draft_id)
        if row is not None and not self.model.loading:
            self._select_row(row)
            return
        self.reload(select=draft_id)

    def _on_operator_changed(self, _person: PersonRow) -> None:
        self._shown_id = None
        self._notice = None
        self.detail.show_empty("Reading the queue…")
        if self._started:
            self.reload()

    def _on_model_loaded(self) -> None:
        wanted, self._wanted_id = self._wanted_id, None
        self._shown_id = None  # read again: the rows are new (a version may have changed)
        self._show_count()
        row = self.model.row_of(wanted) if wanted is not None else None
        if row is not None:
            self._select_row(row)
        elif wanted is not None:
            self.view.clearSelection()
            self._read_detail(wanted)  # not waiting on this person: shown, not decidable
        elif self.model.rowCount():
            self._select_row(0)
        else:
            self._shown_id = None
            self._enable_actions(False)
            self.detail.show_empty(EMPTY_QUEUE)

    def _on_model_load_failed(self, error: str) -> None:
        self.summary.setText(LOAD_FAILED.format(error=error))
        self.status_message.emit(LOAD_FAILED.format(error=error))

    def _on_model_rows_changed(self, *_args: object) -> None:
        self._show_count()

    def _show_count(self) -> None:
        n, more = self.model.rowCount(), not self.model.exhausted
        if n == 0:
            self.summary.setText("")
        else:
            plus = "+" if more else ""
            self.summary.setText(
                f"{n}{plus} draft{'' if n == 1 and not more else 's'} waiting, oldest first"
            )
        self.empty_note.setVisible(n == 0 and not self.model.loading)
        self.view.setVisible(n > 0)
        self.count_changed.emit(n, more)

    # -- the draft shown ----------------------------------------------------------------------

    def _select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index)
        if self._shown_id != self.model.row_at(row).draft_id:
            self._open(self.model.row_at(row))

    def _on_selection_changed(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        if not indexes:
            return
        row = self.model.row_at(indexes[0].row())
        if row.draft_id != self._shown_id:
            self._open(row)

    def _open(self, row: PendingRow) -> None:
        self.detail.show_row(row)
        kept = self._notice is not None and self._notice[0] == row.draft_id
        self.detail.show_notice(self._notice[1] if self._notice is not None and kept else "")
        self._enable_actions(True)
        self._read_detail(row.draft_id)

    def _read_detail(self, draft_id: int) -> None:
        self._shown_id = draft_id
        self._detail_generation += 1
        generation = self._detail_generation
        drafts, inbox = self._services.drafts, self._services.inbox

        def read() -> DetailRead:  # in the worker: touches no widget
            try:
                view = drafts.draft_view(draft_id)
            except DraftError as exc:
                return DetailRead(None, None, str(exc))
            thread = None
            if view.conversation_id is not None:
                thread = inbox.thread(view.conversation_id, limit=50)
            return DetailRead(view, thread)

        self._reads.submit(read, lambda found: self._on_detail_read(generation, found))

    def _on_detail_read(self, generation: int, found: DetailRead) -> None:
        if generation != self._detail_generation or self._shown_id is None:
            return
        if found.view is None:
            self._enable_actions(False)
            self.detail.show_empty(found.error or "That draft does not exist (any more).")
            return
        decidable = self.model.row_of(found.view.id) is not None
        self.detail.show_view(found.view, found.thread, decidable=decidable)
        self._enable_actions(decidable)
        if self._notice is not None and self._notice[0] == found.view.id:
            self.detail.show_notice(self._notice[1])
        self.detail_shown.emit(found.view.id)

    def _enable_actions(self, enabled: bool) -> None:
        for action in self.decision_actions.values():
            action.setEnabled(enabled)

    def shown_version(self) -> tuple[int, int] | None:
        """The draft shown and the version the reviewer reads (None: nothing shown)."""
        if self._shown_id is None:
            return None
        view = self.detail.view
        if view is not None and view.id == self._shown_id:
            return view.id, view.version
        row = self.model.row_of(self._shown_id)
        if row is None:
            return None
        return self._shown_id, self.model.row_at(row).version

    # -- deciding -----------------------------------------------------------------------------

    def approve(self) -> None:
        self._decide("approve", "")

    def reject(self) -> None:
        self._ask_reason(
            "reject",
            "Reject the draft",
            "Why is it rejected? The author reads this with the draft.",
            "Reject",
        )

    def request_changes(self) -> None:
        self._ask_reason(
            "request_changes",
            "Request changes",
            "What should the author change? They read this with the draft.",
            "Request changes",
        )

    def _ask_reason(self, decision: str, title: str, prompt: str, button: str) -> None:
        if self.shown_version() is None:
            self.status_message.emit(NOTHING_SHOWN)
            return
        dialog = ReasonDialog(title, prompt, button, self)
        self.dialog = dialog
        self._asked = decision
        dialog.finished.connect(self._on_dialog_finished)
        dialog.open()

    def _on_dialog_finished(self, code: int) -> None:
        dialog, decision = self.dialog, self._asked
        self.dialog = None
        if dialog is None:
            return
        dialog.deleteLater()
        if code == QDialog.DialogCode.Accepted:
            self._decide(decision, dialog.text())
        self.view.setFocus()

    def _decide(self, decision: str, reason: str) -> None:
        shown = self.shown_version()
        if shown is None:
            self.status_message.emit(NOTHING_SHOWN)
            return
        draft_id, version = shown
        operator = self._operator.id
        drafts = self._services.drafts

        def run() -> DecisionOutcome:  # in the worker: touches no widget
            try:
                if decision == "approve":
                    state = drafts.approve(operator, draft_id, version=version)
                elif decision == "reject":
                    state = drafts.reject(operator, draft_id, reason, version=version)
                else:
                    state = drafts.request_changes(operator, draft_id, reason, version=version)
            except (NotAllowed, DraftError) as exc:
                return DecisionOutcome(draft_id, False, str(exc))
            return DecisionOutcome(draft_id, True, "", state)

        self.pending += 1
        self._decisions.submit(run, self._on_decision_done, self._on_decision_failed)

    def _on_decision_done(self, outcome: DecisionOutcome) -> None:
        self.pending -= 1
        if not outcome.ok:
            self._notice = (outcome.draft_id, outcome.message)
            if self._shown_id == outcome.draft_id:
                self.detail.show_notice(outcome.message)
            self.status_message.emit(outcome.message)
            self.reload(select=outcome.draft_id)  # what is current now, with the notice kept
            self.outcome_shown.emit(outcome)
            return
        self._notice = None
        row = self.model.row_of(outcome.draft_id)
        listed = row is not None and self.model.row_at(row)
        what = ""
        if isinstance(listed, PendingRow):
            kind = KIND_WORDS.get(listed.kind, listed.kind.value)
            what = f" {listed.author_name}'s {kind}"
        state = outcome.state
        label = STATE_LABELS[state] if state is not None else "decided"
        self.status_message.emit(f"Done:{what} is now {label}.")
        removed = self.model.remove_draft(outcome.draft_id)
        if self._shown_id == outcome.draft_id:
            self._shown_id = None
            if self.model.rowCount():
                self._select_row(min(removed or 0, self.model.rowCount() - 1))
            elif not self.model.exhausted:
                self.reload()
            else:
                self._enable_actions(False)
                self.detail.show_empty(EMPTY_QUEUE)
        self.decided.emit(outcome.draft_id, state)
        self.outcome_shown.emit(outcome)

    def _on_decision_failed(self, message: str) -> None:
        self.pending -= 1
        self.status_message.emit(f"The decision could not be stored ({message}).")

    def shutdown(self) -> None:
        self._decisions.wait(3000)
        self._reads.wait(2000)
        self.model.wait(2000)
