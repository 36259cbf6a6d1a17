"""Apply the routing rules again to a unit: first what would move, then, if asked, the move.

The preview and the move run in the routing service off the GUI thread; the service checks who
may (a supervisor of the units involved), keeps every conversation a person handed over where
it is, and audits each move. This dialog only shows and asks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.services.access import NotAllowed
from app.services.container import Services
from app.services.routing_again import AgainOutcome, RoutingAgainError
from app.ui.labels import plain_label, plain_tooltip
from app.ui.tasks import TaskRunner

Attempt = tuple[AgainOutcome | None, str]  # the outcome, or None and the refusal in words


def _attempt(fn: Callable[[], AgainOutcome]) -> Attempt:
    try:
        return fn(), ""
    except (NotAllowed, RoutingAgainError) as exc:
        return None, str(exc)


def summary(outcome: AgainOutcome, *, applied: bool) -> str:
    """What the preview found or the move did, in one sentence."""
    moved = len(outcome.rows)
    if applied:
        noun = "conversation" if moved == 1 else "conversations"
        head = f"{moved:,} {noun} moved to where the rules send them"
    else:
        noun = "conversation" if outcome.looked_at == 1 else "conversations"
        head = f"{moved:,} of {outcome.looked_at:,} {noun} would move"
    parts = [head]
    if outcome.kept_hand_overs:
        parts.append(f"{outcome.kept_hand_overs:,} handed over by a person stay where they are")
    if outcome.truncated:
        parts.append("only the newest were looked at: apply again for the rest")
    return "; ".join(parts) + "."


class RerouteDialog(QDialog):
    """The preview of applying the rules again to one unit (with its sub-units), and Apply."""

    applied = Signal(object)  # the AgainOutcome of the move

    def __init__(
        self,
        services: Services,
        operator_id: int,
        unit_id: int,
        unit_name: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._operator_id = operator_id
        self._unit_id = unit_id
        self._tasks = TaskRunner(self)
        self.preview: AgainOutcome | None = None
        self.setWindowTitle(f"Apply the rules again: {unit_name}")
        self.resize(820, 480)

        intro = plain_label(
            f"The routing rules as they are now, applied to the conversations of {unit_name} "
            "and its sub-units. Nothing moves until you apply."
        )
        self.include_closed = QCheckBox("Also resolved and spam conversations")
        self.summary = plain_label("Looking…", object_name="rerouteSummary")
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Conversation", "From", "To", "Why"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setEnabled(False)
        self.buttons.addButton(self.apply_button, QDialogButtonBox.ButtonRole.ApplyRole)
        layout = QVBoxLayout(self)
        for widget in (intro, self.include_closed, self.summary, self.table, self.buttons):
            layout.addWidget(widget)

        self.include_closed.toggled.connect(self.refresh)
        self.apply_button.clicked.connect(self._on_apply_button_clicked)
        self.buttons.rejected.connect(self.reject)
        self.refresh()

    def refresh(self) -> None:
        """Ask the service what would move (off the GUI thread)."""
        self.apply_button.setEnabled(False)
        self.summary.setText("Looking…")
        routing, me, unit = self._services.routing, self._operator_id, self._unit_id
        closed = self.include_closed.isChecked()
        self._tasks.submit(
            lambda: _attempt(lambda: routing.preview_again(me, unit, include_closed=closed)),
            self._on_preview,
            self._on_failed,
        )

    def _on_preview(self, result: Any) -> None:
        outcome, refusal = result
        self.preview = outcome
        if outcome is None:
            self.summary.setText(refusal)
            self._fill(())
            return
        self.summary.setText(summary(outcome, applied=False))
        self._fill(outcome.rows)
        self.apply_button.setEnabled(bool(outcome.rows))

    def _fill(self, rows: Any) -> None:
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            preview = " ".join(row.preview.split())
            for c, text in enumerate((preview, row.from_unit, row.to_unit, row.reason)):
                item = QTableWidgetItem(text)  # item text is painted as plain text
                item.setToolTip(plain_tooltip(text))
                self.table.setItem(r, c, item)

    def _on_apply_button_clicked(self) -> None:
        self.apply_button.setEnabled(False)
        self.summary.setText("Moving…")
        routing, me, unit = self._services.routing, self._operator_id, self._unit_id
        closed = self.include_closed.isChecked()
        self._tasks.submit(
            lambda: _attempt(lambda: routing.apply_again(me, unit, include_closed=closed)),
            self._on_applied,
            self._on_failed,
        )

    def _on_applied(self, result: Any) -> None:
        outcome, refusal = result
        if outcome is None:
            self.summary.setText(refusal)
            return
        self.summary.setText(summary(outcome, applied=True))
        self._fill(outcome.rows)
        self.applied.emit(outcome)

    def _on_failed(self, message: str) -> None:
        self.summary.setText(f"That did not work: {message}")
