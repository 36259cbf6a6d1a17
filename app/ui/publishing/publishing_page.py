"""The Publishing screen: the outbox queue and the week/month calendar, as two tabs.

Both read through :class:`app.services.publishing.PublishingService` in workers and change
drafts through :class:`app.ui.publishing.actions.DraftActions` (the drafts service re-checks
approvals when a draft moves). After any change, on an operator switch, and when the outbox
changed elsewhere (:meth:`PublishingPage.refresh`, for the publisher), both read again.
Untrusted text (a post's words, a network's error message) is shown as plain text only.
"""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QDateTime, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.services.container import Services
from app.services.publishing import OutboxRow
from app.ui.operator import OperatorBinding
from app.ui.publishing.actions import DraftActions
from app.ui.publishing.calendar_view import MONTH, WEEK, CalendarGrid
from app.ui.publishing.queue_model import COL_TEXT, ROW_ROLE, OutboxQueueModel
from app.ui.publishing.style import local
from app.ui.tasks import SerialTaskRunner


def describe(row: OutboxRow | None) -> str:
    """The selected draft in full, for a plain-text box: state, time, every target's outcome."""
    if row is None:
        return "Select a post to see how it went on each account."
    due = local(row.due)
    lines = [
        f"{row.kind.value.capitalize()} #{row.draft_id} · {row.state_label} · "
        f"{due:%a} {due.day} {due:%b %Y, %H:%M} · {row.unit_name} · {row.author_name}",
        row.outcome,
        *(f"  {t.text}" + (f"  {t.permalink}" if t.permalink else "") for t in row.targets),
        "",
        row.text,
    ]
    return "\n".join(lines)


def _plain(label: QLabel) -> QLabel:
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class MoveDialog(QDialog):
    """The "Move to…" dialog: a new local date and time for a draft."""

    def __init__(self, row: OutboxRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.draft_id = row.draft_id
        self.setWindowTitle("Move to…")
        layout = QVBoxLayout(self)
        layout.addWidget(_plain(QLabel(f"When should “{row.text[:60]}” go out?")))
        self.when = QDateTimeEdit(QDateTime.fromSecsSinceEpoch(int(row.due.timestamp())))
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("ddd d MMM yyyy, HH:mm")
        layout.addWidget(self.when)
        layout.addWidget(_plain(QLabel("Approvals are checked again for the new time.")))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def chosen(self) -> datetime:
        """The time picked (in this computer's zone) as an aware UTC time, to the minute."""
        picked = datetime.fromtimestamp(self.when.dateTime().toSecsSinceEpoch(), UTC)
        return picked.replace(second=0, microsecond=0)


class QueuePane(QWidget):
    """The outbox list with the selected draft's outcomes and its actions."""

    def __init__(self, model: OutboxQueueModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.retry_button = QPushButton("Retry")
        self.move_button = QPushButton("Move to…")
        self.unschedule_button = QPushButton("Unschedule")
        self.withdraw_button = QPushButton("Withdraw")
        self.open_button = QPushButton("Open in compose")
        # The network could not tell whether it went out: a person looks, then says.
        self.is_there_button = QPushButton("It is there")
        self.is_there_button.setToolTip("It went out on the account: record it as published")
        self.send_again_button = QPushButton("Not there: send it")
        self.send_again_button.setToolTip("It is not on the account: the outbox sends it again")
        for button in (
            self.retry_button,
            self.move_button,
            self.unschedule_button,
            self.withdraw_button,
            self.open_button,
            self.is_there_button,
            self.send_again_button,
        ):
            bar.addWidget(button)
        bar.addStretch(1)
        self.summary = _plain(QLabel(""))
        bar.addWidget(self.summary)
        layout.addLayout(bar)
        self.view = QTableView()
        self.view.setObjectName("outboxQueue")
        self.view.setModel(model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.verticalHeader().setDefaultSectionSize(26)
        header = self.view.horizontalHeader()
        for col, width in enumerate((190, 130, 260, 0, 220)):
            if width:
                self.view.setColumnWidth(col, width)
        header.setSectionResizeMode(COL_TEXT, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.view, 3)
        self.detail = QPlainTextEdit()
        self.detail.setObjectName("outboxDetail")
        self.detail.setReadOnly(True)
        self.detail.setMaximumHeight(150)
        layout.addWidget(self.detail, 1)
        self.message = _plain(QLabel(""))
        self.message.setObjectName("publishingMessage")
        layout.addWidget(self.message)
        self.view.selectionModel().currentRowChanged.connect(self._on_view_current_changed)
        model.modelReset.connect(self._show_selected)
        model.rowsInserted.connect(self._show_count)
        self._show_selected()

    def selected_row(self) -> OutboxRow | None:
        index = self.view.currentIndex()
        if not index.isValid():
            return None
        row = self.model.data(index, ROW_ROLE)
        return row if isinstance(row, OutboxRow) else None

    def select_draft(self, draft_id: int) -> bool:
        row = self.model.row_of(draft_id)
        if row is None:
            return False
        self.view.setCurrentIndex(self.model.index(row, 0))
        return True

    def _on_view_current_changed(self, *_: object) -> None:
        self._show_selected()

    def _show_count(self, *_: object) -> None:
        n = self.model.rowCount()
        self.summary.setText(f"{n:,} in the outbox" + ("+" if self.model.canFetchMore() else ""))

    def _show_selected(self) -> None:
        row = self.selected_row()
        self.detail.setPlainText(describe(row))
        self.retry_button.setEnabled(row is not None and row.may_retry)
        self.move_button.setEnabled(row is not None and row.may_move)
        self.unschedule_button.setEnabled(row is not None and row.may_unschedule)
        self.withdraw_button.setEnabled(row is not None and row.may_withdraw)
        self.open_button.setEnabled(row is not None)
        asking = None if row is None else row.waiting_for_a_person
        for button in (self.is_there_button, self.send_again_button):
            button.setVisible(asking is not None)
        if asking is not None:
            self.is_there_button.setText(f"{asking.account} has it")
            self.send_again_button.setText(f"Not on {asking.account}: send it")
        self._show_count()


class CalendarPane(QWidget):
    """Previous / today / next, week or month, the grid, the selected chip in full."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.previous_button = QPushButton("◀ Previous")
        self.today_button = QPushButton("Today")
        self.next_button = QPushButton("Next ▶")
        self.title = _plain(QLabel(""))
        self.title.setObjectName("calendarTitle")
        self.title.setWordWrap(False)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title.setFont(font)
        self.week_button = QPushButton("Week")
        self.month_button = QPushButton("Month")
        self.move_button = QPushButton("Move to…")
        self.open_button = QPushButton("Open in compose")
        modes = QButtonGroup(self)
        for button in (self.week_button, self.month_button):
            button.setCheckable(True)
            modes.addButton(button)
        self.week_button.setChecked(True)
        for w in (self.previous_button, self.today_button, self.next_button):
            bar.addWidget(w)
        bar.addSpacing(12)
        bar.addWidget(self.title)
        bar.addStretch(1)
        for w in (self.move_button, self.open_button, self.week_button, self.month_button):
            bar.addWidget(w)
        layout.addLayout(bar)
        self.grid = CalendarGrid()
        layout.addWidget(self.grid, 1)
        self.legend = _plain(
            QLabel(
                "◷ Scheduled   ◔ Waiting for approval   ↑ Sending   ✓ Published   ✗ Failed   "
                "·   Drag a scheduled post to another day, or select it and press M to move it."
            )
        )
        self.legend.setObjectName("calendarLegend")
        layout.addWidget(self.legend)
        self.detail = _plain(QLabel(describe(None)))
        self.detail.setObjectName("calendarDetail")
        self.detail.setMaximumHeight(110)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.detail)
        self.message = _plain(QLabel(""))
        self.message.setObjectName("publishingMessage")
        layout.addWidget(self.message)
        self.previous_button.clicked.connect(self._on_previous_clicked)
        self.next_button.clicked.connect(self._on_next_clicked)
        self.today_button.clicked.connect(self._on_today_clicked)
        self.week_button.clicked.connect(self._on_week_clicked)
        self.month_button.clicked.connect(self._on_month_clicked)
        self.grid.selection_changed.connect(self._on_grid_selection_changed)
        self._on_grid_selection_changed(None)

    def _on_previous_clicked(self) -> None:
        self.grid.step(-1)

    def _on_next_clicked(self) -> None:
        self.grid.step(+1)

    def _on_today_clicked(self) -> None:
        self.grid.go_to(datetime.now().date())

    def _on_week_clicked(self) -> None:
        self.grid.set_mode(WEEK)

    def _on_month_clicked(self) -> None:
        self.grid.set_mode(MONTH)

    def _on_grid_selection_changed(self, row: OutboxRow | None) -> None:
        self.detail.setText(describe(row))
        self.move_button.setEnabled(row is not None and row.may_move)
        self.open_button.setEnabled(row is not None)


class PublishingPage(QTabWidget):
    """The Publishing screen's tabs: "Queue" and "Calendar" (others may be inserted)."""

    #: "Open in compose" on a draft (its id): the window shows it in the compose pane.
    open_in_compose = Signal(int)
    #: Something to say in the status bar.
    status_message = Signal(str)

    def __init__(
        self, services: Services, operator: OperatorBinding, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("publishingPage")
        self.services = services
        self.operator = operator
        self.model = OutboxQueueModel(services.publishing, self._operator_id, self)
        self.draft_actions = DraftActions(
            services.drafts, self._operator_id, self, publisher=services.publisher
        )
        self.queue = QueuePane(self.model)
        self.calendar = CalendarPane()
        self.addTab(self.queue, "Queue")
        self.addTab(self.calendar, "Calendar")
        self._calendar_tasks = SerialTaskRunner(self)
        self._calendar_generation = 0
        self.calendar_loading = False
        self.move_dialog: MoveDialog | None = None
        q, c = self.queue, self.calendar
        q.retry_button.clicked.connect(self._on_retry_clicked)
        q.is_there_button.clicked.connect(self._on_is_there_clicked)
        q.send_again_button.clicked.connect(self._on_send_again_clicked)
        q.unschedule_button.clicked.connect(self._on_unschedule_clicked)
        q.withdraw_button.clicked.connect(self._on_withdraw_clicked)
        q.move_button.clicked.connect(self._on_queue_move_clicked)
        q.open_button.clicked.connect(self._on_queue_open_clicked)
        q.view.doubleClicked.connect(self._on_queue_open_clicked)
        c.move_button.clicked.connect(self._on_calendar_move_clicked)
        c.open_button.clicked.connect(self._on_calendar_open_clicked)
        c.grid.move_requested.connect(self._on_grid_move_requested)
        c.grid.move_dialog_requested.connect(self._on_grid_move_dialog_requested)
        c.grid.open_requested.connect(self.open_in_compose)
        c.grid.range_changed.connect(self.reload_calendar)
        self.model.load_failed.connect(self._on_model_load_failed)
        self.draft_actions.done.connect(self._on_actions_done)
        self.draft_actions.refused.connect(self._on_actions_refused)
        operator.changed.connect(self._on_operator_changed)
        open_key = QShortcut(QKeySequence("Return"), q.view)
        open_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        open_key.activated.connect(self._on_queue_open_clicked)
        move_key = QShortcut(QKeySequence("M"), q.view)
        move_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        move_key.activated.connect(self._on_queue_move_clicked)
        self.refresh()

    def _operator_id(self) -> int:
        return self.operator.id

    # -- reading ------------------------------------------------------------------------------

    @Slot()
    def refresh(self) -> None:
        """Read the queue and the calendar again (the outbox changed, or who looks did)."""
        self.model.reload()
        self.reload_calendar()

    @Slot()
    def reload_calendar(self) -> None:
        grid = self.calendar.grid
        self.calendar.title.setText(grid.title())
        start, end = grid.span()
        self._calendar_generation += 1
        generation, operator, publishing = (
            self._calendar_generation,
            self.operator.id,
            self.services.publishing,
        )
        self.calendar_loading = True
        self._calendar_tasks.submit(
            lambda: publishing.calendar(operator, start.astimezone(UTC), end.astimezone(UTC)),
            lambda rows: self._on_calendar_read(generation, rows),
            lambda message: self._on_calendar_failed(generation, message),
        )

    def _on_calendar_read(self, generation: int, rows: list[OutboxRow]) -> None:
        if generation != self._calendar_generation:
            return
        self.calendar.grid.set_rows(rows)
        self.calendar_loading = False

    def _on_calendar_failed(self, generation: int, message: str) -> None:
        if generation != self._calendar_generation:
            return
        self.calendar.grid.set_rows([])
        self.calendar.message.setText(_reason(message))
        self.calendar_loading = False

    def _on_model_load_failed(self, message: str) -> None:
        self.queue.message.setText(message)

    def _on_operator_changed(self, _person: object) -> None:
        self.queue.message.clear()
        self.calendar.message.clear()
        self.refresh()

    # -- acting -------------------------------------------------------------------------------

    def _on_retry_clicked(self) -> None:
        row = self.queue.selected_row()
        if row is not None:
            self.draft_actions.retry(row.draft_id)

    def _on_is_there_clicked(self) -> None:
        self._resolve(published=True)

    def _on_send_again_clicked(self) -> None:
        self._resolve(published=False)

    def _resolve(self, *, published: bool) -> None:
        row = self.queue.selected_row()
        asking = None if row is None else row.waiting_for_a_person
        if row is not None and asking is not None:
            self.draft_actions.resolve(
                row.draft_id, asking.account_id, asking.account, published=published
            )

    def _on_unschedule_clicked(self) -> None:
        row = self.queue.selected_row()
        if row is not None:
            self.draft_actions.unschedule(row.draft_id)

    def _on_withdraw_clicked(self) -> None:
        row = self.queue.selected_row()
        if row is not None:
            self.draft_actions.withdraw(row.draft_id)

    def _on_queue_open_clicked(self, *_: object) -> None:
        row = self.queue.selected_row()
        if row is not None:
            self.open_in_compose.emit(row.draft_id)

    def _on_calendar_open_clicked(self) -> None:
        row = self.calendar.grid.selected_row()
        if row is not None:
            self.open_in_compose.emit(row.draft_id)

    def _on_queue_move_clicked(self) -> None:
        row = self.queue.selected_row()
        if row is not None and row.may_move:
            self.open_move_dialog(row)

    def _on_calendar_move_clicked(self) -> None:
        row = self.calendar.grid.selected_row()
        if row is not None and row.may_move:
            self.open_move_dialog(row)

    def _on_grid_move_dialog_requested(self, draft_id: int) -> None:
        row = self.calendar.grid.row(draft_id)
        if row is not None and row.may_move:
            self.open_move_dialog(row)

    def open_move_dialog(self, row: OutboxRow) -> MoveDialog:
        """Ask for a new time for ``row`` (window-modal; the move happens on OK)."""
        dialog = MoveDialog(row, self)
        dialog.accepted.connect(self._on_move_dialog_accepted)
        dialog.finished.connect(dialog.deleteLater)
        self.move_dialog = dialog
        dialog.open()
        return dialog

    def _on_move_dialog_accepted(self) -> None:
        dialog = self.move_dialog
        if dialog is not None:
            self.draft_actions.move(dialog.draft_id, dialog.chosen())
        self.move_dialog = None

    def _on_grid_move_requested(self, draft_id: int, at: datetime) -> None:
        self.calendar.message.setText("Moving…")
        self.draft_actions.move(draft_id, at)

    def _on_actions_done(self, _draft_id: int, message: str) -> None:
        for pane in (self.queue, self.calendar):
            pane.message.setText(message)
        self.status_message.emit(message)
        self.refresh()

    def _on_actions_refused(self, _draft_id: int, message: str) -> None:
        # The refusal in words; the chip and the row stay where the stored time puts them.
        for pane in (self.queue, self.calendar):
            pane.message.setText(message)
        self.status_message.emit(message)
        self.refresh()

    # -- closing ------------------------------------------------------------------------------

    def shutdown(self, msecs: int = 2000) -> None:
        """Wait for reads and changes under way (the window is closing)."""
        self.draft_actions.wait(msecs)
        self.model.wait(msecs)
        self._calendar_tasks.wait(msecs)


def _reason(message: str) -> str:
    """A worker's failure ("NotAllowed: Only …") as the sentence it carries."""
    return message.split(": ", 1)[-1] if ": " in message else message
