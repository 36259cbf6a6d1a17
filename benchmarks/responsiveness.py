"""The GUI thread's largest event-loop gap while a worker thread ingests items."""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Signal, Slot

from app.domain.items import InboundItem
from app.services.ingest import IngestService


class _IngestWorker(QObject):
    done = Signal(int)

    def __init__(
        self, ingest: IngestService, account_id: int, items: Sequence[InboundItem]
    ) -> None:
        super().__init__()
        self._ingest, self._account, self._items = ingest, account_id, items

    @Slot()
    def run(self) -> None:
        stored = 0
        for i in range(0, len(self._items), 1000):
            chunk = self._items[i : i + 1000]
            stored += self._ingest.store(self._account, list(chunk), {"n": i}).new_messages
        self.done.emit(stored)


def max_gap_during_ingest(
    ingest: IngestService, account_id: int, items: Sequence[InboundItem], timeout_s: float = 120
) -> tuple[float, int]:
    """Run the ingest in a QThread; tick a 1 ms timer in this (GUI) thread; return the largest gap
    between ticks in ms, and how many messages were stored."""
    app = QCoreApplication.instance()
    assert app is not None, "needs a running Q(Core)Application"
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(1)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    thread = QThread()
    worker = _IngestWorker(ingest, account_id, items)
    worker.moveToThread(thread)
    result: list[int] = []
    worker.done.connect(result.append)
    worker.done.connect(thread.quit)
    thread.started.connect(worker.run)
    timer.start()
    ticks.append(time.perf_counter())
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not result and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.0005)
    timer.stop()
    thread.quit()
    thread.wait(5000)
    worker.deleteLater()
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    return (max(gaps) * 1000 if gaps else 0.0), (result[0] if result else 0)
