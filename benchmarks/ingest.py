"""Ingest throughput: X payloads normalized, deduplicated and stored, against raw sqlite3."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from app.bootstrap import ingest_for
from app.connectors.x import normalize_tweet
from app.models import Account, Unit
from app.storage.workspace import open_database

ME = "783214"
BATCH = 1000


def tweets(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` X mention payloads: a third are replies in earlier threads, a few repeat."""
    rng = random.Random(seed)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    out: list[dict[str, Any]] = []
    for i in range(n):
        tid = str(1_850_000_000_000_000_000 + i)
        thread = (
            out[rng.randrange(len(out))]["conversation_id"] if out and rng.random() < 0.33 else tid
        )
        out.append(
            {
                "id": tid,
                "text": f"@acme message {i} about order #{rng.randrange(10**6)} "
                + "x" * rng.randrange(120),
                "edit_history_tweet_ids": [tid],
                "author_id": str(rng.randrange(20_000)),
                "conversation_id": thread,
                "created_at": (start + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "lang": "en",
            }
        )
    return out


def _workspace(folder: Path) -> tuple[Any, int]:
    db = open_database(str(folder / "ingest.sqlite"), create=True)
    with db.engine.begin() as conn:
        conn.execute(insert(Unit).values(id=1, path="/1/", name="Care"))
        conn.execute(
            insert(Account).values(
                id=1, uuid="a", network="x", handle="acme", display_name="Acme", unit_id=1
            )
        )
    return db, 1


def ingest_rate(n: int = 100_000) -> tuple[float, float, int]:
    """Messages per second through Quiver's ingest, and through a raw sqlite3 bulk insert."""
    payloads = tweets(n)
    users = {
        str(u): {"id": str(u), "username": f"user{u}", "name": f"User {u}"} for u in range(20_000)
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db, account = _workspace(folder)
        empty_copy = folder / "raw.sqlite"
        shutil.copyfile(folder / "ingest.sqlite", empty_copy)
        svc = ingest_for(db)
        t0 = time.perf_counter()
        stored = 0
        for i in range(0, n, BATCH):
            items = [normalize_tweet(t, users, ME) for t in payloads[i : i + BATCH]]
            stored += svc.store(
                account, items, {"mentions_since_id": items[-1].external_id}
            ).new_messages
        ours = n / (time.perf_counter() - t0)
        db.close()
        base = _raw_rate(empty_copy, payloads)
    return ours, base, stored


RawBatch = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]


def raw_batches(payloads: list[dict[str, Any]]) -> list[RawBatch]:
    """The rows Quiver ends up storing for ``payloads``, per batch of ``BATCH``: new authors
    ``(id, external_id, handle, name)``, new conversations ``(id, thread id, author id, preview,
    activity)`` and messages ``(external_id, conversation id, author id, text, created, permalink,
    raw JSON)``, threaded in advance (the raw baselines do no dedupe nor threading logic)."""
    thread_ids: dict[str, int] = {}
    author_ids: dict[str, int] = {}
    batches: list[RawBatch] = []
    for i in range(0, len(payloads), BATCH):
        authors, convs, msgs = [], [], []
        for p in payloads[i : i + BATCH]:
            aid = author_ids.get(p["author_id"])
            if aid is None:
                aid = author_ids[p["author_id"]] = len(author_ids) + 1
                authors.append(
                    (aid, p["author_id"], f"user{p['author_id']}", f"User {p['author_id']}")
                )
            cid = thread_ids.get(p["conversation_id"])
            if cid is None:
                cid = thread_ids[p["conversation_id"]] = len(thread_ids) + 1
                convs.append((cid, p["conversation_id"], aid, p["text"][:200], i))
            msgs.append(
                (
                    p["id"],
                    cid,
                    aid,
                    p["text"],
                    i,
                    f"https://x.com/i/web/status/{p['id']}",
                    json.dumps(p, separators=(",", ":")),
                )
            )
        batches.append((authors, convs, msgs))
    return batches


def _raw_rate(path: Path, payloads: list[dict[str, Any]]) -> float:
    """The same rows Quiver ends up storing (authors, conversations, messages, search index),
    bulk-inserted with plain sqlite3: one executemany per table and batch, no dedupe, no
    threading logic, everything prepared before the clock starts."""
    batches = raw_batches(payloads)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    t0 = time.perf_counter()
    for authors, convs, msgs in batches:
        with conn:
            conn.executemany(
                "INSERT INTO authors (id, network, external_id, handle, display_name, is_spammer) "
                "VALUES (?, 'x', ?, ?, ?, 0)",
                authors,
            )
            conn.executemany(
                "INSERT INTO conversations (id, network, account_id, thread_type, "
                "external_thread_id, kind, unit_id, author_id, status, priority, language, "
                "preview, message_count, last_activity_at, routing_reason, spam_reasons, "
                "created_at) VALUES "
                "(?, 'x', 1, 'x_thread', ?, 'mention', 1, ?, 'new', 'normal', 'en', ?, 1, ?, '', "
                "'', 0)",
                convs,
            )
            top = conn.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0]
            conn.executemany(
                "INSERT INTO messages (network, account_id, external_id, conversation_id, "
                "author_id, direction, kind, text, language, created_at, permalink, raw) VALUES "
                "('x', 1, ?, ?, ?, 'in', 'mention', ?, 'en', ?, ?, ?)",
                msgs,
            )
            conn.execute(
                "INSERT INTO messages_fts(rowid, text) SELECT id, text FROM messages WHERE id > ?",
                (top,),
            )
    rate = len(payloads) / (time.perf_counter() - t0)
    conn.close()
    return rate
