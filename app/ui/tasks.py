"""Background work for the GUI: a function on the thread pool, its result back on the GUI thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from shiboken6 import Shiboken

log = logging.getLogger("quiver.ui.tasks")


class _Signals(QObject):
    finished = Signal(object)
    failed = Signal(str)


_pending: set[_Signals] = set()  # signals objects whose result is not delivered yet


def _release(signals: _Signals) -> None:
    """The result was delivered: the signals object may go."""
    _pending.discard(signals)
    signals.deleteLater()


def _run(fn: Callable[[], Any], signals: _Signals) -> None:
    """Run ``fn`` (in a worker thread: it touches no widget) and report how it went."""
    try:
        result = fn()
    except Exception as exc:  # reported to the GUI, never lost in a thread
        log.exception("background task failed")
        outcome, payload = signals.failed, f"{exc.__class__.__name__}: {exc}"
    else:
        outcome, payload = signals.finished, result
    try:
        outcome.emit(payload)
    except RuntimeError:  # the receiver was deleted meanwhile (the window closed)
        log.debug("background task finished after its receiver was gone")


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], signals: _Signals) -> None:
        super().__init__()
        self._fn = fn
        self._signals = signals

    def run(self) -> None:
        _run(self._fn, self._signals)


class TaskRunner(QObject):
    """Runs callables on the global thread pool and delivers results through signals.

    Each task's signals object lives until its result is delivered, whatever happens to the
    receiver meanwhile: a result arriving after the receiver (a page, a window) was deleted is
    dropped by Qt, and the sender is never deleted under a pending delivery.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool.globalInstance()

    def submit(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_fail: Callable[[str], None] | None = None,
    ) -> None:
        self._pool.start(_Task(fn, self._signals(on_done, on_fail)))

    def submit_network(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_fail: Callable[[str], None] | None = None,
    ) -> None:
        """Like :meth:`submit`, for work that waits on the network, on a daemon thread of its own.

        Closing never waits for it (the thread pool would be waited for): a network call may
        take its full timeout, and its result is simply dropped if the window is gone.
        """
        signals = self._signals(on_done, on_fail)
        threading.Thread(target=_run, args=(fn, signals), name="quiver-net", daemon=True).start()

    def _signals(
        self, on_done: Callable[[Any], None], on_fail: Callable[[str], None] | None
    ) -> _Signals:
        signals = _Signals()  # no parent: deleting the receiver must not delete the sender
        _pending.add(signals)
        signals.finished.connect(self._while_alive(on_done))
        if on_fail is not None:
            signals.failed.connect(self._while_alive(on_fail))
        # Connected last, so they run after the receiver's slot.
        signals.finished.connect(lambda _result, s=signals: _release(s))
        signals.failed.connect(lambda _message, s=signals: _release(s))
        return signals

    def _while_alive(self, callback: Callable[[Any], None]) -> Callable[[Any], None]:
        """``callback``, dropped once this runner (and so the widget owning it) is deleted.

        A plain method given as a slot is called through a hidden receiver that outlives the
        widget's C++ side: a result arriving after a window closed (a slow server) would run
        on a deleted widget and fail ("Signal source has been deleted").
        """

        def deliver(value: Any) -> None:
            if Shiboken.isValid(self):
                callback(value)
            else:
                log.debug("background result dropped: its receiver is gone")

        return deliver

    def wait(self, msecs: int = 2000) -> bool:
        return self._pool.waitForDone(msecs)


class SerialTaskRunner(TaskRunner):
    """A :class:`TaskRunner` on a pool of one thread: jobs run one at a time, in order.

    Its own pool, so its jobs never queue behind other work (counts, exports) on the global one.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pool.setExpiryTimeout(-1)  # keep the thread: the next job starts at once
