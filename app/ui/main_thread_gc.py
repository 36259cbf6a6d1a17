"""Python's cyclic garbage collector, run on the GUI thread only.

Automatic collection runs in whichever thread happens to allocate past the threshold. When a
worker thread (a page read, a poll) collects a reference cycle that holds Qt widgets, those
widgets are deleted off the GUI thread and Qt crashes: seen when a Strategy page was closed
while its "what served this goal" read was still running, and that read's allocations
collected the closed page. So automatic collection is off while Quiver runs, and a timer on
the GUI thread collects instead, as often as the collector's own thresholds ask.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

#: How often the GUI thread looks at the collector's counts.
INTERVAL_MS = 500


class MainThreadCollector(QObject):
    """Turns automatic collection off and collects from a GUI-thread timer instead."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.collections = 0
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> int | None:
        """Collect the oldest generation whose count passed its threshold (None: none did)."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        due = [g for g in range(3) if counts[g] > thresholds[g]]
        if not due:
            return None
        generation = max(due)
        gc.collect(generation)
        self.collections += 1
        return generation

    def stop(self) -> None:
        """Automatic collection back on (the window is closing)."""
        self._timer.stop()
        gc.enable()
