"""The poll threads seen from the GUI: what they report arrives as Qt signals."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.services.polling import PollingService, PollOutcome
from app.services.scheduler import DISCOVER_S, TICK_S, PollScheduler


class PollingController(QObject):
    """Owns the poll threads (one per account): start them, and stop them within two seconds.

    Signals are emitted from the worker threads; Qt queues them to receivers in the GUI thread.
    Payloads are ids and strings, never rows or sessions.
    """

    batch_stored = Signal(int, tuple, tuple)  # account id, new conversation ids, touched ids
    account_state_changed = Signal(int, str, str)  # account id, state, detail
    tick_failed = Signal(str)

    def __init__(
        self,
        polling: PollingService,
        parent: QObject | None = None,
        *,
        tick_s: float = TICK_S,
        discover_s: float = DISCOVER_S,
    ) -> None:
        super().__init__(parent)
        self._scheduler = PollScheduler(
            polling,
            self._report,
            self.tick_failed.emit,
            tick_s=tick_s,
            discover_s=discover_s,
        )

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self, timeout_ms: int = 2000) -> bool:
        """Stop every worker; True when all ended within ``timeout_ms``."""
        return self._scheduler.shutdown(timeout_ms / 1000)

    @property
    def running(self) -> bool:
        return self._scheduler.running

    def _report(self, outcome: PollOutcome) -> None:  # in a worker thread
        if outcome.new_messages:
            self.batch_stored.emit(
                outcome.account_id, outcome.new_conversation_ids, outcome.touched_conversation_ids
            )
        if outcome.state_changed:
            self.account_state_changed.emit(outcome.account_id, outcome.state, outcome.detail)
