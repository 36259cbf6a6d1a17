"""The GUI thread's largest event-loop gap while a worker thread ingests items.

The worker is a plain daemon thread, as the poll scheduler's workers are
(``app.services.scheduler``), storing batches of 1,000 through the ingest service. Garbage is
collected on the GUI thread only, as in the app (``app.ui.main_thread_gc``): its collections
count in the gap.
"""

from __future__ import annotations

import gc
import itertools
import threading
import time
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QTimer

from app.domain.items import InboundItem
from app.services.ingest import IngestService
from app.ui.app import settle_heap
from app.ui.main_thread_gc import MainThreadCollector

BATCH = 1000


def max_gap_during_ingest(
    ingest: IngestService, account_id: int, items: Sequence[InboundItem], timeout_s: float = 120
) -> tuple[float, int]:
    """Ingest in a worker thread; tick a 1 ms timer in this (GUI) thread; return the largest gap
    between ticks in ms, and how many messages were stored."""
    app = QCoreApplication.instance()
    assert app is not None, "needs a running Q(Core)Application"
    settle_heap()  # as the window does once its first page is painted (app.ui.app)
    collector = MainThreadCollector()  # as the app does: garbage collected on this thread only
    try:
        return _measure(app, ingest, account_id, items, timeout_s)
    finally:
        collector.stop()
        gc.unfreeze()


def _measure(
    app: QCoreApplication,
    ingest: IngestService,
    account_id: int,
    items: Sequence[InboundItem],
    timeout_s: float,
) -> tuple[float, int]:
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(1)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    stored: list[int] = []
    done = threading.Event()

    def work() -> None:
        try:
            total = 0
            for i in range(0, len(items), BATCH):
                chunk = list(items[i : i + BATCH])
                total += ingest.store(account_id, chunk, {"n": i}).new_messages
            stored.append(total)
        finally:
            done.set()

    worker = threading.Thread(target=work, name="quiver-poll-bench", daemon=True)
    timer.start()
    ticks.append(time.perf_counter())
    worker.start()
    deadline = time.monotonic() + timeout_s
    while not done.is_set() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.0005)
    timer.stop()
    worker.join(5)
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    return (max(gaps) * 1000 if gaps else 0.0), (stored[0] if stored else 0)
