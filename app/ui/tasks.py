"""Background work for the GUI: a function on the thread pool, its result back on the GUI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger("quiver.ui.tasks")


class _Signals(QObject):
    finished = Signal(object)
    failed = Signal(str)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], signals: _Signals) -> None:
        super().__init__()
        self._fn = fn
        self._signals = signals

    def run(self) -> None:  # runs in a pool thread: touches no widget
        try:
            result = self._fn()
        except Exception as exc:  # reported to the GUI, never lost in a thread
            log.exception("background task failed")
            self._signals.failed.emit(f"{exc.__class__.__name__}: {exc}")
        else:
            self._signals.finished.emit(result)


class TaskRunner(QObject):
    """Runs callables on the global thread pool and delivers results through signals.

    The signals object is parented to the runner, so a result arriving after the receiver was
    deleted is simply dropped by Qt.
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
        signals = _Signals(self)
        signals.finished.connect(on_done)
        signals.finished.connect(signals.deleteLater)
        if on_fail is not None:
            signals.failed.connect(on_fail)
        signals.failed.connect(signals.deleteLater)
        self._pool.start(_Task(fn, signals))

    def wait(self, msecs: int = 2000) -> bool:
        return self._pool.waitForDone(msecs)
