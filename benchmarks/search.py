"""`search.max_ms`: the slowest first page over filter combinations, with and without search text.

Every combination of a unit choice, a filter (alone or in a pair), a sort and a search text is
read through :meth:`InboxService.page` (the path the list takes: the filter resolved, the search
run within the filters, the keyset page), on the 1M-message benchmark workspace. Each is run
three times after a warm-up run; its median counts, the slowest median is the figure.

Run it alone: ``python -m benchmarks.search`` (prints the slowest combinations too).
"""

from __future__ import annotations

import itertools
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from app.domain.rows import ASSIGNEE_ME, ASSIGNEE_NOBODY, SORT_ACTIVITY, SORT_DUE, FeedFilter
from app.services.container import Services

UNITS = (None, "Customer Care", "Orders & Delivery", "Legal & Compliance")
BACKLOG = ("new", "open", "waiting")
SLOW_MS = 50  # combinations slower than this are printed as they are measured


def filters(account_id: int, person_id: int) -> list[tuple[str, dict[str, Any]]]:
    """Each filter alone at a common and a rare value, and pairs of rare ones."""
    return [
        ("no filter", {}),
        ("network facebook", {"networks": ("facebook",)}),
        ("account", {"account_ids": (account_id,)}),
        ("kind dm", {"kinds": ("dm",)}),
        ("needs attention", {"statuses": BACKLOG}),
        ("status new", {"statuses": ("new",)}),
        ("status resolved", {"statuses": ("resolved",)}),
        ("assigned to me", {"assignee": ASSIGNEE_ME}),
        ("unassigned", {"assignee": ASSIGNEE_NOBODY}),
        ("a person", {"assignee": person_id}),
        ("tag vip", {"tags": ("vip",)}),
        ("tag lead", {"tags": ("lead",)}),
        ("negative", {"sentiments": ("negative",)}),
        ("no sentiment", {"sentiments": ("none",)}),
        ("language pt", {"languages": ("pt",)}),
        ("language de", {"languages": ("de",)}),
        ("new + ja", {"statuses": ("new",), "languages": ("ja",)}),
        ("vip + negative", {"tags": ("vip",), "sentiments": ("negative",)}),
        ("me + open", {"assignee": ASSIGNEE_ME, "statuses": ("open",)}),
        ("dm + fr", {"kinds": ("dm",), "languages": ("fr",)}),
        ("facebook + waiting", {"networks": ("facebook",), "statuses": ("waiting",)}),
    ]


def texts(handle: str) -> list[tuple[str, str]]:
    return [
        ("", ""),
        ("common word", "still"),
        ("common words", "still on"),
        ("rare word", "recall"),
        ("author handle", handle),
        ("one letter", "a"),
    ]


def measure(
    services: Services,
    *,
    runs: int = 3,
    log: Callable[[str], None] = lambda line: print(line, flush=True),
) -> tuple[float, list[tuple[float, str]]]:
    """The slowest median (ms) and every combination's median, slowest first."""
    inbox = services.inbox
    units = {u.name: u.id for u in inbox.units()}
    people = services.directory.people()
    me = next(p.id for p in people if p.name == "Tom Becker")
    other = next(p.id for p in people if p.name == "Jamal Carter")
    account = services.directory.accounts()[0].id
    handle = _busy_handle(services)
    results: list[tuple[float, str]] = []
    started = time.perf_counter()
    for unit, (fname, fargs), sort, (tname, text) in itertools.product(
        UNITS, filters(account, other), (SORT_ACTIVITY, SORT_DUE), texts(handle)
    ):
        f = FeedFilter(unit_id=None if unit is None else units[unit], sort=sort, text=text, **fargs)
        inbox.page(f, me=me)  # warm
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            inbox.page(f, me=me)
            times.append((time.perf_counter() - t0) * 1000)
        what = f"{unit or 'all units'} | {fname} | {sort} | {tname or 'no text'}"
        results.append((statistics.median(times), what))
        if results[-1][0] > SLOW_MS:
            log(f"  slow: {results[-1][0]:7.1f} ms  {what}")
    results.sort(reverse=True)
    log(
        f"search: {len(results)} combinations in {time.perf_counter() - started:.0f} s; "
        f"median of medians {statistics.median(r[0] for r in results):.1f} ms"
    )
    for ms, what in results[:8]:
        log(f"  {ms:7.1f} ms  {what}")
    return results[0][0], results


def _busy_handle(services: Services) -> str:
    """The handle of an author with several conversations (an agent searching for a person)."""
    from sqlalchemy import text

    with services.db.engine.connect() as conn:
        return str(
            conn.execute(
                text(
                    "SELECT a.handle FROM authors a JOIN conversations c ON c.author_id = a.id "
                    "WHERE a.handle IS NOT NULL GROUP BY a.id ORDER BY count(*) DESC LIMIT 1"
                )
            ).scalar_one()
        )


def main() -> int:
    from app.bootstrap import build_services
    from benchmarks.workspace import bench_workspace

    services = build_services(str(bench_workspace()))
    try:
        worst, _ = measure(services, runs=int(os.environ.get("QUIVER_SEARCH_RUNS", "3")))
    finally:
        services.close()
    print(f"search.max_ms {worst:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
