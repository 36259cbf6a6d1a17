"""`make bench` on PostgreSQL: the 1M-message workspace against raw psycopg on the same server.

Every figure is printed with its baseline measured in the same run and the ratio, and goes into
``benchmarks/results.json`` as the SQLite ones do. Without a PostgreSQL server (see
:mod:`benchmarks.pg_server`), one line says why and nothing is measured.

Alone: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.pg``.
"""

from __future__ import annotations

import contextlib
import os
import re
import statistics
import subprocess
import sys
import time
from typing import Any

from benchmarks.feed_queries import RAW_FIRST_PAGE, RAW_PAGE, median_ms
from benchmarks.pg_server import (
    WORKSPACE_DB,
    BenchServer,
    PgUnavailable,
    bench_server,
    bench_workspace,
    connect,
    conninfo,
    drop_database,
    generation_note,
)

LEAF = "Orders & Delivery"
INGEST_ITEMS = 100_000
SEARCH_RUNS = 5  # timed runs per query, after one cold run
SEARCH_TARGET_MS = 100.0

# The raw baselines run the SQL of the SQLite benchmark, in psycopg's placeholder style.
PG_PAGE = RAW_PAGE.replace("?", "%s")
PG_FIRST_PAGE = RAW_FIRST_PAGE.replace("?", "%s")

# Words of the demo corpus (resources/demo/phrases.json) and of the texts it generates, chosen by
# how many of the 1,164,378 messages of the workspace match them (the last word as a prefix, as
# the search reads it; the run prints the counts).
SEARCH_QUERIES: tuple[tuple[str, str], ...] = (
    ("very common word", "the"),  # ~390k messages
    ("common word", "order"),  # ~86k
    ("rare word", "journalistin"),  # ~1.6k
    ("order number", "495143"),  # 1
    ("no match", "zeppelin"),  # none: a typo
    ("two words", "sorry wait"),  # ~32k: words that go together
    ("two common words", "acme order"),  # ~22k
    ("three words", "the battery still"),  # ~1.5k, of common words
    ("three common words", "still on it"),  # ~37k: the planner expects ~1.8k
    ("prefix", "deliv"),  # ~15k
    ("one-letter prefix", "a"),  # ~670k
)
NO_MATCH = "zeppelin"


def run(rows: list[dict[str, Any]]) -> None:
    """Measure the PostgreSQL figures into ``rows``; one line and nothing more without a server."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(bench_server())
        except PgUnavailable as exc:
            print(f"pg.*                     skipped: {exc}", flush=True)
            return
        _measure(server, rows)


def _measure(server: BenchServer, rows: list[dict[str, Any]]) -> None:
    from app.bootstrap import build_services
    from benchmarks.run import first_paint, record

    print(f"PostgreSQL: {server.origin}", flush=True)
    url, generated = bench_workspace(server)
    with connect(url, autocommit=True) as raw:
        size, messages = raw.execute(
            "SELECT pg_database_size(current_database()), (SELECT count(*) FROM messages)"
        ).fetchone()
    kept = "generated now" if generated is not None else "kept from an earlier run"
    print(
        f"workspace {WORKSPACE_DB}: {messages:,} messages, {size / 2**20:,.0f} MB, {kept} "
        f"({generation_note(url)})"
    )

    services = build_services(url)
    try:
        leaf = next(u for u in services.inbox.units() if u.name == LEAF)
        operator = services.directory.people()[0]

        # Process start to the first page painted, against raw psycopg fetching it.
        paint_s, _ = first_paint(url, operator.email)  # type: ignore[arg-type]  # a URL
        record(
            rows,
            "pg.first_paint_s",
            paint_s,
            "s",
            raw_first_page_process(url, leaf.id),
            "python -m app to the first inbox page painted",
        )

        # The storage layer's page query alone, against the same SQL through raw psycopg.
        (ours, base, note) = page_query(services.db.engine, url, leaf.id)
        record(rows, "pg.page_query_ms", ours, "ms", base, note)

        # The fixed search queries on the 1M workspace.
        slowest, per_query = search_times(services.db.engine)
        name, words, _, _ = max(per_query, key=lambda q: q[2])
        record(
            rows,
            "pg.search_ms",
            slowest,
            "ms",
            None,
            f"slowest: {name} {words!r}, {len(per_query)} queries, median of {SEARCH_RUNS}",
        )
        for qname, qwords, qms, qhits in per_query:
            print(f"    {qms:8.1f} ms  {qname:18} {qwords!r:22} {qhits:>9,} messages match")
        if slowest > SEARCH_TARGET_MS / 2:
            slow = "over the target" if slowest > SEARCH_TARGET_MS else "over half the target"
            print(f"    {words!r} is {slow} ({SEARCH_TARGET_MS:.0f} ms): its plan, run once more")
            explain(url, words)
    finally:
        services.close()

    # Ingest through the service on a new workspace, against raw psycopg into a copy of it.
    ours_rate, raw_rate, copy_rate, stored, analyzed = ingest_rates(server, INGEST_ITEMS)
    assert stored == INGEST_ITEMS, f"stored {stored} of {INGEST_ITEMS}"
    record(
        rows,
        "pg.ingest_msgs_per_s",
        ours_rate,
        "msg/s",
        raw_rate,
        f"{INGEST_ITEMS:,} items, 1,000 per transaction; raw: executemany (pipeline) of "
        f"INSERT … ON CONFLICT; raw COPY {copy_rate:,.0f} msg/s; autovacuum analyzed the new "
        f"messages table {analyzed} time(s) meanwhile",
    )


# --- first paint -------------------------------------------------------------------------------


def raw_first_page_process(url: str, unit_id: int, runs: int = 3) -> float:
    """Seconds from process start to the first page fetched with raw psycopg."""
    code = (
        "import psycopg,time;"
        f"c=psycopg.connect({conninfo(url)!r});"
        f"c.execute({PG_FIRST_PAGE!r},({unit_id},200)).fetchall();"
        "print(time.time())"
    )
    times = []
    for _ in range(runs):
        t0 = time.time()
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        times.append(float(out.stdout.strip()) - t0)
    return statistics.median(times)


# --- page query --------------------------------------------------------------------------------


def page_query(engine: Any, url: str, unit_id: int) -> tuple[float, float, str]:
    """Median ms of ``feed_page`` on a Core connection and of the same SQL in raw psycopg.

    Both the unit's first page and its next page are timed; the figure is the slower of the two
    (with its own baseline), the note gives both.
    """
    from app.domain.rows import FeedQuery
    from app.storage.feed import feed_page

    with engine.connect() as conn, connect(url) as raw:
        first = feed_page(conn, FeedQuery(unit_ids=(unit_id,)))
        after = first[-1].key
        ours_first = median_ms(lambda: feed_page(conn, FeedQuery(unit_ids=(unit_id,))))
        ours_next = median_ms(lambda: feed_page(conn, FeedQuery(unit_ids=(unit_id,)), after=after))
        base_first = median_ms(lambda: raw.execute(PG_FIRST_PAGE, (unit_id, 200)).fetchall())
        base_next = median_ms(lambda: raw.execute(PG_PAGE, (unit_id, *after, 200)).fetchall())
        assert [r.id for r in first] == [
            r[0] for r in raw.execute(PG_FIRST_PAGE, (unit_id, 200))
        ], "the baseline must return the same first page"
        nxt = feed_page(conn, FeedQuery(unit_ids=(unit_id,)), after=after)
        assert [r.id for r in nxt] == [r[0] for r in raw.execute(PG_PAGE, (unit_id, *after, 200))]
        assert len(nxt) == 200
    note = (
        f"{LEAF}: first page {ours_first:.2f} ms (raw {base_first:.2f}, "
        f"{ours_first / base_first:.2f}x), next page {ours_next:.2f} ms (raw {base_next:.2f}, "
        f"{ours_next / base_next:.2f}x)"
    )
    if ours_next >= ours_first:
        return ours_next, base_next, note
    return ours_first, base_first, note


# --- search ------------------------------------------------------------------------------------


def search_times(engine: Any) -> tuple[float, list[tuple[str, str, float, int]]]:
    """The slowest median ms of :data:`SEARCH_QUERIES`, and per query its median and hits."""
    from sqlalchemy import text

    from app.storage.search import search_conversation_ids, tsquery

    out: list[tuple[str, str, float, int]] = []
    with engine.connect() as conn:
        for name, words in SEARCH_QUERIES:
            found = search_conversation_ids(conn, words)  # cold run, not counted
            assert bool(found) == (words != NO_MATCH), f"{len(found)} conversations for {words!r}"
            times = []
            for _ in range(SEARCH_RUNS):
                t0 = time.perf_counter()
                search_conversation_ids(conn, words)
                times.append((time.perf_counter() - t0) * 1000)
            hits = conn.execute(
                text(
                    "SELECT count(*) FROM messages "
                    "WHERE search_vector @@ to_tsquery('simple', quiver_fold(:q))"
                ),
                {"q": tsquery(words)},
            ).scalar_one()
            out.append((name, words, statistics.median(times), int(hits)))
    return max(ms for _, _, ms, _ in out), out


def explain(url: str, words: str) -> None:
    """Print the plan PostgreSQL runs for the search statement of ``words``, then what it did:
    each scan with the rows the planner expected and the rows it found."""
    from app.storage import search

    sql = search._POSTGRESQL.text.replace(":q", "%(q)s").replace(":n", "%(n)s")
    params = {"q": search.tsquery(words), "n": 200 * search._OVERFETCH}
    with connect(url, autocommit=True) as raw:
        raw.execute(sql, params).fetchall()  # its pages back in the cache, as in the timed runs
        plan = [line for (line,) in raw.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)]
    print(f"    EXPLAIN (ANALYZE, BUFFERS) of the search for {words!r}:")
    for line in plan:
        print(f"      {line}")
    for line in plan:
        scan = _SCAN.search(line)
        if scan:
            node, expected, found = scan.groups()
            print(
                f"    -> {node.strip()}: the planner expected {int(expected):,} rows, "
                f"it found {int(found):,}"
            )


_SCAN = re.compile(r"->\s+(.*?(?:Scan|Filter)[^(]*)\(cost=\S+ rows=(\d+) .*?actual \S+ rows=(\d+)")


# --- ingest ------------------------------------------------------------------------------------

INGEST_DB = "quiver_bench_ingest"
RAW_DB = "quiver_bench_ingest_raw"
COPY_DB = "quiver_bench_ingest_copy"


def ingest_rates(server: BenchServer, n: int) -> tuple[float, float, float, int, int]:
    """Messages per second: Quiver's ingest, raw psycopg ``executemany``, raw psycopg ``COPY``;
    the messages stored by Quiver, and how often autovacuum analyzed them meanwhile.

    Each writes into a new, empty workspace: one created and migrated by Quiver, then copied
    twice with ``CREATE DATABASE … TEMPLATE`` (PostgreSQL's equivalent of copying the SQLite
    file). The three take turns batch by batch, so a load that comes and goes on the machine
    (other test suites) weighs on all three alike; each one's clock runs only during its own
    batches.
    """
    from sqlalchemy import insert

    from app.bootstrap import ingest_for
    from app.connectors.x import normalize_tweet
    from app.models import Account, Unit
    from app.storage.workspace import open_database
    from benchmarks.ingest import BATCH, ME, raw_batches, tweets

    payloads = tweets(n)
    users = {
        str(u): {"id": str(u), "username": f"user{u}", "name": f"User {u}"} for u in range(20_000)
    }
    for name in (INGEST_DB, RAW_DB, COPY_DB):
        drop_database(server, name)
    db = open_database(server.url(INGEST_DB), create=True)
    with db.engine.begin() as conn:
        conn.execute(insert(Unit).values(id=1, path="/1/", name="Care"))
        conn.execute(
            insert(Account).values(
                id=1, uuid="a", network="x", handle="acme", display_name="Acme", unit_id=1
            )
        )
    db.close()
    with connect(server.admin_url, autocommit=True) as admin:
        for name in (RAW_DB, COPY_DB):
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{INGEST_DB}"')

    batches = raw_batches(payloads)  # prepared before any clock starts
    try:
        db = open_database(server.url(INGEST_DB))
        svc = ingest_for(db)
        with (
            RawWriter(server.url(RAW_DB), copy=False) as raw,
            RawWriter(server.url(COPY_DB), copy=True) as copy,
        ):
            ours_s = 0.0
            stored = 0
            for b, i in enumerate(range(0, n, BATCH)):
                t0 = time.perf_counter()
                items = [normalize_tweet(t, users, ME) for t in payloads[i : i + BATCH]]
                stored += svc.store(
                    1, items, {"mentions_since_id": items[-1].external_id}
                ).new_messages
                ours_s += time.perf_counter() - t0
                raw.write(batches[b])
                copy.write(batches[b])
            raw.check(n)
            copy.check(n)
        db.close()
        analyzed = _autoanalyzed(server.url(INGEST_DB))
    finally:
        for name in (INGEST_DB, RAW_DB, COPY_DB):
            drop_database(server, name)
    return n / ours_s, n / raw.seconds, n / copy.seconds, stored, analyzed


def _autoanalyzed(url: str) -> int:
    """How often autovacuum analyzed ``messages`` while the ingest ran (at most once a minute).

    Until it does, the planner has no statistics on the new workspace's tables, and Quiver's
    dedupe lookups cost more with every stored message: the figure depends on whether it ran.
    """
    with connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT autoanalyze_count FROM pg_stat_user_tables WHERE relname = 'messages'"
        ).fetchone()
    return int(row[0]) if row else 0


_AUTHORS = (
    "INSERT INTO authors (id, network, external_id, handle, display_name, is_spammer) "
    "VALUES (%s, 'x', %s, %s, %s, false)"
)
_CONVERSATIONS = (
    "INSERT INTO conversations (id, network, account_id, thread_type, external_thread_id, kind, "
    "unit_id, author_id, status, priority, language, preview, message_count, last_activity_at, "
    "routing_reason, spam_reasons, created_at) VALUES "
    "(%s, 'x', 1, 'x_thread', %s, 'mention', 1, %s, 'new', 'normal', 'en', %s, 1, %s, '', '', 0)"
)
_MESSAGES = (
    "INSERT INTO messages (network, account_id, external_id, conversation_id, author_id, "
    "direction, kind, text, language, created_at, permalink, raw) VALUES "
    "('x', 1, %s, %s, %s, 'in', 'mention', %s, 'en', %s, %s, %s) "
    "ON CONFLICT (network, account_id, external_id) DO NOTHING"
)
_COPY_MESSAGES = (
    "COPY messages (network, account_id, external_id, conversation_id, author_id, direction, "
    "kind, text, language, created_at, permalink, raw) FROM STDIN"
)


class RawWriter:
    """The rows Quiver stores, bulk-inserted with raw psycopg, one transaction per batch.

    Authors and conversations: ``executemany`` of plain INSERTs (psycopg 3 sends an executemany
    in pipeline mode: one round trip per batch, not per row). Messages: with ``copy=False`` (the
    baseline) an ``executemany`` of ``INSERT … ON CONFLICT DO NOTHING``, the set-wise dedupe-safe
    insert Quiver's ingest does; with ``copy=True`` a ``COPY … FROM STDIN`` (no dedupe possible),
    the fastest way in. The search vector is a generated column: the server computes it either
    way.
    """

    def __init__(self, url: str, *, copy: bool) -> None:
        self._conn = connect(url, autocommit=True)
        self._cur = self._conn.cursor()
        self._copy = copy
        self.seconds = 0.0

    def __enter__(self) -> RawWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.close()

    def write(self, batch: Any) -> None:
        authors, convs, msgs = batch
        cur = self._cur
        t0 = time.perf_counter()
        with self._conn.transaction():
            cur.executemany(_AUTHORS, authors)
            cur.executemany(_CONVERSATIONS, convs)
            if self._copy:
                with cur.copy(_COPY_MESSAGES) as out:
                    for ext, cid, aid, body, at, link, raw in msgs:
                        out.write_row(("x", 1, ext, cid, aid, "in", "mention", body, "en", at,
                                       link, raw))  # fmt: skip
            else:
                cur.executemany(_MESSAGES, msgs)
        self.seconds += time.perf_counter() - t0

    def check(self, n: int) -> None:
        stored = self._conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        assert stored == n, f"the raw insert stored {stored} of {n}"


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from benchmarks.run import write_results

    rows: list[dict[str, Any]] = []
    run(rows)
    if rows:
        write_results(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
