"""The outbox's worker seen from the GUI: rounds of the publisher in a thread of their own.

At start the worker reconciles what a crash left in ``publishing``, then runs a round every
:data:`PAUSE_S` seconds, or at once when woken (:meth:`PublisherController.wake`: a draft was
approved or scheduled here). What a round did arrives as Qt signals with ids and numbers only.
The GUI thread never waits on the network: even stopping only asks the thread to end.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Signal

from app.services.publisher import Publisher

log = logging.getLogger("quiver.ui.publisher")

#: Seconds between rounds when nothing wakes the worker.
PAUSE_S = 5.0


class _Relay(QObject):
    """What the worker emits on; kept to the end (a late round must not hit a deleted object)."""

    round_done = Signal(tuple, tuple, int)
    round_failed = Signal(str)


_relays: list[_Relay] = []


class PublisherController(QObject):
    """Owns the publisher's thread: start it, wake it, stop it."""

    #: conversations that got a message, drafts that ended (id, state), targets still to go out
    round_done = Signal(tuple, tuple, int)
    round_failed = Signal(str)

    def __init__(
        self, publisher: Publisher, parent: QObject | None = None, *, pause_s: float = PAUSE_S
    ) -> None:
        super().__init__(parent)
        self._publisher = publisher
        self._pause_s = pause_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._relay = _Relay()
        _relays.append(self._relay)
        self._relay.round_done.connect(self.round_done)
        self._relay.round_failed.connect(self.round_failed)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="quiver-publisher", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Run a round now (something may have become due)."""
        self._wake.set()

    def shutdown(self, timeout_ms: int = 2000) -> bool:
        """Ask the worker to stop after its current step; True when it ended in time."""
        self._stop.set()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(timeout_ms / 1000)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:  # the worker thread: only signals go out
        first = True
        while not self._stop.is_set():
            try:
                report = self._publisher.reconcile() if first else self._publisher.run_once()
                waiting = self._publisher.waiting()
            except Exception as exc:  # reported, and tried again next round
                log.exception("the publisher's round failed")
                self._relay.round_failed.emit(f"{exc.__class__.__name__}: {exc}")
            else:
                first = False
                self._relay.round_done.emit(report.conversations, report.finished, waiting)
                if report.busy:
                    continue  # more may be due right away (a round takes at most 50)
            self._wake.wait(self._pause_s)
            self._wake.clear()
