"""End-to-end inbox figures in the real main window (offscreen): from the action to rows painted.

Run alone: ``python -m benchmarks.gui`` (or ``make bench-gui``) measures the first paint and the
figures below on the benchmark workspace and prints them; it writes nothing (``make bench``
writes ``results.json``).
"""

from __future__ import annotations

import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QItemSelectionModel, QModelIndex, Qt, QTimer
from PySide6.QtWidgets import QApplication, QTableView, QTreeView


def find_unit_index(tree: QTreeView, name: str) -> QModelIndex:
    model = tree.model()
    hits = model.match(
        model.index(0, 0),
        Qt.ItemDataRole.DisplayRole,
        name,
        1,
        Qt.MatchFlag.MatchStartsWith | Qt.MatchFlag.MatchRecursive,
    )
    if not hits:
        raise LookupError(f"no unit {name!r} in the tree")
    return hits[0]


def click_unit(tree: QTreeView, index: QModelIndex) -> None:
    """What a click does: make the unit current and selected (the inbox listens to that)."""
    tree.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)


def painted(view: QTableView) -> None:
    """Paint the list's viewport now (synchronously), as the next frame would."""
    view.viewport().repaint()
    QApplication.processEvents()


class InboxDriver:
    """Drives the real MainWindow's inbox the way a person does."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.tree = window.inbox.unit_tree
        self.view = window.inbox.view
        self.model = self.view.model()

    def listed(self, timeout_ms: int = 30_000) -> None:
        """Run the event loop until the filter asked for last is listed (at once if it is)."""
        if self.model.loading:
            self._run_until(self.model.loaded, lambda: True, timeout_ms)

    def rows_painted(self, timeout_ms: int = 30_000) -> None:
        """Run the event loop (idle in C++, as the app's) until the new rows are painted.

        The first page of a filter is read in a worker: the click returns before it is listed,
        and the event loop paints the rows once they are (stopping at ``loaded`` would leave
        the paint out; a forced repaint after it would count two). Nothing loading: paint now.
        """
        if not self.model.loading:
            painted(self.view)
            return
        self._run_until(self.view.painted, lambda: not self.model.loading, timeout_ms)

    def _run_until(self, signal: Any, done: Callable[[], bool], timeout_ms: int) -> None:
        loop = QEventLoop()
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)

        def check() -> None:
            if done():
                loop.quit()

        signal.connect(check)
        self.model.load_failed.connect(loop.quit)
        timer.start(timeout_ms)
        loop.exec()  # what is awaited is delivered by this loop (a queued signal, a paint)
        signal.disconnect(check)
        self.model.load_failed.disconnect(loop.quit)
        if self.model.error:
            raise RuntimeError(f"the first page could not be read: {self.model.error}")
        if not timer.isActive():
            raise TimeoutError("the inbox never got there")
        timer.stop()

    def switch_unit_ms(self, names: list[str], rounds: int = 5) -> list[float]:
        """From the click on a unit to its own first page painted (read in the worker)."""
        from app.ui.inbox.unit_tree import UNIT_ID_ROLE

        self.listed()  # whatever was asked for before (the window opening, a status filter)
        times: list[float] = []
        indexes = [find_unit_index(self.tree, n) for n in names]
        for _ in range(rounds):
            for index in indexes:
                t0 = time.perf_counter()
                click_unit(self.tree, index)
                self.rows_painted()
                times.append((time.perf_counter() - t0) * 1000)
                assert self.model.rowCount() > 0, "a unit switch must list conversations"
                unit = index.data(UNIT_ID_ROLE)
                assert self.model.listed_filter.unit_id == unit, "the rows are another unit's"
        return times

    def next_page_ms(self, pages: int = 20) -> list[float]:
        times: list[float] = []
        for _ in range(pages):
            before = self.model.rowCount()
            t0 = time.perf_counter()
            self.model.fetchMore(QModelIndex())
            self.view.scrollToBottom()
            painted(self.view)
            times.append((time.perf_counter() - t0) * 1000)
            assert self.model.rowCount() > before, "next page added no rows"
        return times

    def scroll_to_end_ms(self) -> tuple[float, int]:
        t0 = time.perf_counter()
        self.window.inbox.jump_to_oldest()  # what Ctrl+End does
        painted(self.view)
        return (time.perf_counter() - t0) * 1000, self.model.rowCount()


def median(values: list[float]) -> float:
    return statistics.median(values)


CARE = "Customer Care"
LEAF = "Orders & Delivery"


def window_figures(
    rows: list[dict[str, Any]],
    path: Path,
    services: Any,
    operator: Any,
    leaf_name: str,
    paint_rss: float,
) -> None:
    """Record ``feed.unit_switch_ms``, ``next_page_ms``, ``scroll_end_ms`` and ``peak_rss_mb``."""
    from app.config import LocalPrefs
    from app.ui.main_window import MainWindow
    from benchmarks import feed_queries
    from benchmarks.run import record

    app = QApplication.instance() or QApplication([])
    leaf = next(u for u in services.inbox.units() if u.name == leaf_name)
    with tempfile.TemporaryDirectory() as home:
        window = MainWindow(services, operator, LocalPrefs(Path(home) / "prefs.json"))
        window.resize(1400, 860)
        window.show()
        app.processEvents()
        driver = InboxDriver(window)
        # Every status, as the raw baselines read them.
        window.inbox.status_filter.setCurrentText("All statuses")

        switch = driver.switch_unit_ms([leaf.name, "Marketing", CARE, "Acme Deutschland"])
        raw_switch = feed_queries.raw_first_page_ms(path, leaf.id)
        record(
            rows,
            "feed.unit_switch_ms",
            statistics.median(switch),
            "ms",
            raw_switch,
            f"worst {max(switch):.1f} ms over {len(switch)} clicks",
        )

        driver.switch_unit_ms([leaf.name], rounds=1)
        after = driver.model.index(driver.model.rowCount() - 1, 0)
        last = driver.model.row_at(after.row()) if hasattr(driver.model, "row_at") else None
        nxt = driver.next_page_ms()
        raw_next = (
            feed_queries.raw_next_page_ms(path, leaf.id, last.key) if last is not None else None
        )
        record(
            rows,
            "feed.next_page_ms",
            statistics.median(nxt),
            "ms",
            raw_next,
            f"worst {max(nxt):.1f} ms over {len(nxt)} pages",
        )

        driver.switch_unit_ms([leaf.name], rounds=1)
        end_ms, count = driver.scroll_to_end_ms()
        # The GUI process's peak, before the raw baseline below reads its own copy of the rows.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        raw_end, raw_count = feed_queries.raw_scroll_end_ms(path, leaf.id)
        assert count == raw_count, f"the view holds {count} rows, the unit has {raw_count}"
        assert count >= 100_000, f"{leaf.name} has only {count} conversations"
        record(
            rows,
            "feed.scroll_end_ms",
            end_ms,
            "ms",
            raw_end,
            f"{count:,} conversations of {leaf.name}",
        )
        record(
            rows,
            "feed.peak_rss_mb",
            max(peak, paint_rss),
            "MB",
            None,
            f"GUI process with {count:,} rows loaded; first-paint process {paint_rss:.0f} MB",
        )
        window.close()
        app.processEvents()


def main() -> int:
    """The inbox figures alone, printed (``results.json`` is left as it is)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import qInstallMessageHandler

    from app.bootstrap import build_services
    from benchmarks import feed_queries
    from benchmarks.run import _quiet_offscreen, first_paint, raw_first_page_process, record
    from benchmarks.workspace import bench_workspace

    path = bench_workspace()
    rows: list[dict[str, Any]] = []
    services = build_services(str(path))
    try:
        leaf = next(u for u in services.inbox.units() if u.name == LEAF)
        operator = services.directory.people()[0]
        paint_s, paint_rss = first_paint(path, operator.email)
        record(
            rows,
            "feed.first_paint_s",
            paint_s,
            "s",
            raw_first_page_process(path, leaf.id),
            "python -m app to the first inbox page painted",
        )
        ours, base = feed_queries.page_query(services.inbox, path, leaf.id)
        record(rows, "feed.page_query_ms", ours, "ms", base, f"next page of {leaf.name}")
        QApplication.instance() or QApplication([])
        qInstallMessageHandler(_quiet_offscreen)
        window_figures(rows, path, services, operator, leaf.name, paint_rss)
    finally:
        services.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
