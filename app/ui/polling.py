"""Polling in a worker thread: a timer there calls the polling service; signals bring results."""

from __future__ import annotations

import logging
from threading import Event

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from app.services.polling import PollingService

log = logging.getLogger("quiver.ui.polling")
TICK_MS = 1000


class PollWorker(QObject):
    """Lives in the poll thread; touches no widget. Payloads are ids and strings."""

    batch_stored = Signal(int, tuple, tuple)  # account id, new conversation ids, touched ids
    account_state_changed = Signal(int, str, str)  # account id, state, detail
    tick_failed = Signal(str)

    def __init__(self, polling: PollingService, stop: Event) -> None:
        super().__init__()
        self._polling = polling
        self._stop = stop
        self._timer: QTimer | None = None

    @Slot()
    def start(self) -> None:
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.tick)
        self._timer.start()
        self.tick()

    @Slot()
    def tick(self) -> None:
        if self._stop.is_set():
            if self._timer is not None:
                self._timer.stop()
            return
        try:
            outcomes = self._polling.poll_due(stop=self._stop)
        except Exception as exc:  # a database error: report it, keep the thread alive
            log.exception("polling failed")
            self.tick_failed.emit(f"{exc.__class__.__name__}: {exc}")
            return
        for o in outcomes:
            if o.new_messages:
                self.batch_stored.emit(
                    o.account_id, o.new_conversation_ids, o.touched_conversation_ids
                )
            if o.state_changed:
                self.account_state_changed.emit(o.account_id, o.state, o.detail)


class PollingController(QObject):
    """Owns the poll thread: start it, and stop it within two seconds on close."""

    batch_stored = Signal(int, tuple, tuple)
    account_state_changed = Signal(int, str, str)

    def __init__(self, polling: PollingService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._stop = Event()
        self._thread = QThread()
        self._thread.setObjectName("quiver-poll")
        self.worker = PollWorker(polling, self._stop)
        self.worker.moveToThread(self._thread)
        self._thread.started.connect(self.worker.start)
        self._thread.finished.connect(self.worker.deleteLater)
        self.worker.batch_stored.connect(self.batch_stored)
        self.worker.account_state_changed.connect(self.account_state_changed)

    def start(self) -> None:
        self._thread.start()

    def shutdown(self, timeout_ms: int = 2000) -> bool:
        """Ask the worker to stop after the poll in progress; True when it stopped in time."""
        self._stop.set()
        self._thread.requestInterruption()
        self._thread.quit()
        stopped = self._thread.wait(timeout_ms)
        if not stopped:
            log.warning("the poll thread did not stop within %d ms", timeout_ms)
        return stopped

    @property
    def running(self) -> bool:
        return self._thread.isRunning()
