"""The storage layer's page query against the same query in raw sqlite3 on the same file."""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from app.domain.rows import FeedFilter
from app.services.inbox import InboxService

RAW_PAGE = """
SELECT c.id, c.last_activity_at, c.network, c.kind, c.status, c.priority, c.unit_id,
       c.account_id, c.preview, c.message_count, c.sentiment,
       coalesce(a.display_name, ''), a.handle
FROM (SELECT id, last_activity_at, network, kind, status, priority, unit_id, account_id, preview,
             message_count, sentiment, author_id
      FROM conversations
      WHERE unit_id = ? AND (last_activity_at, id) < (?, ?)
      ORDER BY last_activity_at DESC, id DESC LIMIT ?) AS c
LEFT JOIN authors a ON a.id = c.author_id
ORDER BY c.last_activity_at DESC, c.id DESC
"""

RAW_FIRST_PAGE = RAW_PAGE.replace("AND (last_activity_at, id) < (?, ?)", "")


def median_ms(fn: Callable[[], object], repeat: int = 30, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def raw_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA cache_size=-16000")  # as the storage layer's connections
    return conn


def page_query(inbox: InboxService, path: Path, unit_id: int) -> tuple[float, float]:
    """Median ms of the second page of one unit: storage layer, then raw sqlite3."""
    first = inbox.page(FeedFilter(unit_id=unit_id))
    after = first[-1].key
    ours = median_ms(lambda: inbox.page(FeedFilter(unit_id=unit_id), after=after))
    raw = raw_connection(path)
    try:
        base = median_ms(lambda: raw.execute(RAW_PAGE, (unit_id, *after, 200)).fetchall())
        ours_rows = [r.id for r in inbox.page(FeedFilter(unit_id=unit_id), after=after)]
        raw_rows = [r[0] for r in raw.execute(RAW_PAGE, (unit_id, *after, 200))]
        assert ours_rows == raw_rows, "the baseline must return the same page"
    finally:
        raw.close()
    return ours, base


def raw_first_page_ms(path: Path, unit_id: int) -> float:
    raw = raw_connection(path)
    try:
        return median_ms(lambda: raw.execute(RAW_FIRST_PAGE, (unit_id, 200)).fetchall())
    finally:
        raw.close()


def raw_next_page_ms(path: Path, unit_id: int, after: tuple[int, int]) -> float:
    raw = raw_connection(path)
    try:
        return median_ms(lambda: raw.execute(RAW_PAGE, (unit_id, *after, 200)).fetchall())
    finally:
        raw.close()


def raw_scroll_end_ms(path: Path, unit_id: int, window: int = 200) -> tuple[float, int]:
    """What jumping to the end reads, in raw sqlite3: every key of the unit, then the rows of
    the last window."""
    raw = raw_connection(path)
    try:
        t0 = time.perf_counter()
        keys = raw.execute(
            "SELECT last_activity_at, id FROM conversations WHERE unit_id = ? "
            "ORDER BY last_activity_at DESC, id DESC",
            (unit_id,),
        ).fetchall()
        tail = [cid for _, cid in keys[-window:]]
        marks = ",".join("?" * len(tail))
        raw.execute(
            "SELECT c.id, c.last_activity_at, c.network, c.kind, c.status, c.priority, c.unit_id, "
            "c.account_id, c.preview, c.message_count, c.sentiment, "
            f"coalesce(a.display_name, ''), a.handle FROM conversations c "
            f"LEFT JOIN authors a ON a.id = c.author_id WHERE c.id IN ({marks})",
            tail,
        ).fetchall()
        return (time.perf_counter() - t0) * 1000, len(keys)
    finally:
        raw.close()
