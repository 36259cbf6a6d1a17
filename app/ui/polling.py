"""The poll threads seen from the GUI: what they report arrives as Qt signals."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.services.polling import PollingService, PollOutcome
from app.services.scheduler import DISCOVER_S, TICK_S, PollScheduler


class _Relay(QObject):
    """What the worker threads emit on; it is never deleted (see PollingController)."""

    batch_stored = Signal(int, tuple, tuple)
    account_state_changed = Signal(int, str, str)
    tick_failed = Signal(str)


_relays: list[_Relay] = []  # one small object per controller ever made, kept to the end


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
        # A worker still inside a network call when the window closes may report after this
        # controller is gone: it emits on a relay that outlives it, and Qt drops what was
        # queued for the deleted controller (emitting on a deleted sender would fail instead).
        self._relay = _Relay()
        _relays.append(self._relay)
        self._relay.batch_stored.connect(self.batch_stored)
        self._relay.account_state_changed.connect(self.account_state_changed)
        self._relay.tick_failed.connect(self.tick_failed)
        self._scheduler = PollScheduler(
            polling,
            self._report,
            self._relay.tick_failed.emit,
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
        relay = self._relay
        if outcome.new_messages:
            relay.batch_stored.emit(
                outcome.account_id, outcome.new_conversation_ids, outcome.touched_conversation_ids
            )
        if outcome.state_changed:
            relay.account_state_changed.emit(outcome.account_id, outcome.state, outcome.detail)
