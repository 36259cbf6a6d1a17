"""Garbage is collected on the GUI thread only: automatic collection off, a timer's instead."""

from __future__ import annotations

import gc
import threading
import weakref
from typing import Any

from app.ui.main_thread_gc import MainThreadCollector


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_the_timer_collects_on_the_gui_thread_and_workers_never_do(qtbot: Any) -> None:
    before = gc.get_threshold()
    collector = MainThreadCollector(interval_ms=20)
    try:
        assert not gc.isenabled()
        gc.set_threshold(5, 10, 10)
        node = _Node()
        gone = weakref.ref(node)
        del node
        threads: list[str] = []

        def allocate() -> None:  # a worker thread allocating a lot collects nothing
            junk = [_Node() for _ in range(2_000)]
            threads.append("done" if gone() is not None else "collected in a worker")
            del junk

        worker = threading.Thread(target=allocate)
        worker.start()
        worker.join()
        assert threads == ["done"]
        qtbot.waitUntil(lambda: gone() is None, timeout=3000)  # the GUI thread's timer did
        assert collector.collections >= 1
        assert collector.check() is None  # nothing due right after a collection
    finally:
        collector.stop()
        gc.set_threshold(*before)
    assert gc.isenabled()
