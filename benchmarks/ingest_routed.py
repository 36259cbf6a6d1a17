"""``ingest.routed_msgs_per_s``: ingest with language, sentiment, 200 routing rules and spam on.

The workspace is the demo company (units with languages and first-response targets, people,
its routing rules) and rules of the ``routing.msgs_per_s`` mix up to 200 (word lists, RE2
patterns, language, sentiment, author, follower and time rules), stored as rows and compiled by
the routing service. The stream is demo conversations on one Sandbox account: demo text in the
demo's languages and shapes (2 % long threads; about 2.5 messages per conversation, so about
40 % of the messages open a new conversation, which is what routing, language, sentiment and
the spam filter run on), in batches of 1,000, in time order. Routing's one-off costs (the
language model, compiling the rules) are paid by a warm-up batch on another account before the
clock starts.

The baseline writes the same rows (authors, conversations with their unit and reason, messages,
the search index) with plain sqlite3 into a copy of the same workspace, in the same run, with
everything prepared before its clock starts. ``ui.max_gap_ms`` is measured while a worker thread
ingests the first 20,000 of those messages through the same routed ingest.

Run alone: ``.venv/bin/python -m benchmarks.ingest_routed``.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from app.bootstrap import ingest_for
from app.domain.demo_text import LANGUAGES, TOPICS, TextFactory
from app.domain.items import InboundItem
from app.domain.routing import Assign, RouteTo, Rule
from app.domain.rule_codec import actions_to_json, conditions_to_json
from app.models import Account, Conversation, Person, RoutingRule, Unit
from app.services.demo import fill_demo
from app.storage.workspace import Database, open_database
from benchmarks.routing import build_rules, corpus_words

MESSAGES = 100_000
BATCH = 1000
TARGET = 10_000.0
RATIO = 0.2
T0 = datetime(2026, 11, 2, 8, tzinfo=UTC)


@dataclass
class Stream:
    items: list[InboundItem]
    threads: int


def stream(n: int, *, seed: int = 11, account: str = "sbx-101") -> Stream:
    """``n`` Sandbox items of demo conversations, in time order (threads interleave)."""
    rng = random.Random(seed)
    factory = TextFactory()
    out: list[tuple[datetime, InboundItem]] = []
    threads = 0
    while len(out) < n:
        threads += 1
        lang = rng.choices(LANGUAGES, weights=(70, 12, 12, 2, 2, 1, 1))[0]
        thread = factory.thread(rng, lang, rng.choice(TOPICS), long=rng.random() < 0.02)
        start = T0 + timedelta(seconds=threads * 3)
        tid = f"bench-{threads}"
        author = f"u{rng.randrange(40_000)}"
        for k, m in enumerate(thread.messages):
            inbound = m.direction == "in"
            out.append(
                (
                    start + timedelta(seconds=m.offset_s // 200),
                    InboundItem(
                        network="sandbox",
                        external_id=f"{tid}-{k}",
                        kind="mention" if k == 0 else "reply",
                        direction=m.direction,
                        text=m.text,
                        created_at=start + timedelta(seconds=m.offset_s // 200),
                        author_external_id=author if inbound else account,
                        author_handle=author if inbound else "acmecare",
                        author_name=f"User {author}" if inbound else "Acme Care",
                        thread_external_id=tid,
                        thread_type="sandbox_thread",
                        in_reply_to=None if k == 0 else f"{tid}-0",
                        permalink=f"sandbox://acmecare/{tid}-{k}",
                        raw={"id": f"{tid}-{k}", "text": m.text},
                        author_followers=int(rng.paretovariate(1.2) * 40) if inbound else None,
                    ),
                )
            )
    out.sort(key=lambda p: p[0])
    items = [i for _, i in out[:n]]
    return Stream(items, len({i.thread_external_id for i in items}))


def workspace(folder: Path) -> tuple[Database, int, int]:
    """The demo company without conversations, with 200 rules; the ids of two Sandbox accounts."""
    db = open_database(str(folder / "routed.sqlite"), create=True)
    fill_demo(db, conversations=0, seed=3, now=T0)
    rng = random.Random(5)
    with db.engine.begin() as conn:
        units = list(conn.execute(select(Unit.id).order_by(Unit.id)).scalars())
        people = list(conn.execute(select(Person.id).order_by(Person.id)).scalars())
        top = conn.execute(select(func.max(RoutingRule.position))).scalar() or 0
        stored = conn.execute(select(func.count()).select_from(RoutingRule)).scalar_one()
        rules = build_rules(rng, corpus_words(TextFactory(), rng))[: 200 - stored]
        conn.execute(
            insert(RoutingRule),
            [_row(r, top + 1 + n, units, people) for n, r in enumerate(rules)],
        )
        care, main = (
            conn.execute(select(Account.id).where(Account.external_user_id == ext)).scalar_one()
            for ext in ("sbx-101", "sbx-100")
        )
    return db, care, main


def _row(rule: Rule, position: int, units: list[int], people: list[int]) -> dict[str, Any]:
    actions = tuple(
        RouteTo(units[a.unit_id % len(units)])
        if isinstance(a, RouteTo)
        else Assign(people[a.person_id % len(people)])
        if isinstance(a, Assign)
        else a
        for a in rule.actions
    )
    return {
        "position": position,
        "name": f"bench {rule.name}",
        "enabled": rule.enabled,
        "conditions": conditions_to_json(rule.conditions),
        "actions": actions_to_json(actions),
        "stop": rule.stop,
    }


def routed_rate(n: int = MESSAGES) -> dict[str, float]:
    """Messages per second through the routed ingest, and the raw sqlite3 baseline."""
    data = stream(n)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db, care, main = workspace(folder)
        raw_copy = folder / "raw.sqlite"
        db.engine.dispose()
        shutil.copyfile(folder / "routed.sqlite", raw_copy)
        svc = ingest_for(db)
        warm = stream(BATCH, seed=99, account="sbx-100").items
        svc.store(main, warm, None)  # the language model and the rules, before the clock
        t0 = time.perf_counter()
        for i in range(0, n, BATCH):
            svc.store(care, data.items[i : i + BATCH], {"seq": i})
        ours = n / (time.perf_counter() - t0)
        with db.engine.connect() as conn:
            routed = conn.execute(
                select(func.count())
                .select_from(Conversation)
                .where(Conversation.account_id == care, Conversation.routed_by_rule_id.is_not(None))
            ).scalar_one()
            spam = conn.execute(
                select(func.count())
                .select_from(Conversation)
                .where(Conversation.account_id == care, Conversation.status == "spam")
            ).scalar_one()
        db.close()
        base = _raw_rate(raw_copy, data.items, care)
    return {
        "ours": ours,
        "raw": base,
        "threads": data.threads,
        "routed_by_rule": routed,
        "spam": spam,
    }


def _raw_rate(path: Path, items: list[InboundItem], account: int) -> float:
    """The same authors, conversations, messages and search rows with plain sqlite3."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    unit = conn.execute("SELECT unit_id FROM accounts WHERE id = ?", (account,)).fetchone()[0]
    next_author = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM authors").fetchone()[0]
    next_conv = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM conversations").fetchone()[0]
    authors: dict[str, int] = dict(
        conn.execute("SELECT external_id, id FROM authors WHERE network = 'sandbox'").fetchall()
    )
    next_author -= len(authors)
    convs: dict[str, int] = {}
    batches = []
    for i in range(0, len(items), BATCH):
        new_authors, new_convs, msgs = [], [], []
        for it in items[i : i + BATCH]:
            ext = it.author_external_id or ""
            aid = authors.get(ext)
            if aid is None:
                aid = authors[ext] = next_author + len(authors)
                new_authors.append((aid, ext, it.author_handle, it.author_name or ""))
            at = int(it.created_at.timestamp() * 1000)
            cid = convs.get(it.thread_external_id)
            if cid is None:
                cid = convs[it.thread_external_id] = next_conv + len(convs)
                new_convs.append((cid, it.thread_external_id, unit, aid, it.text[:200], at, at))
            msgs.append(
                (it.external_id, cid, aid, it.direction, it.kind, it.text, at, it.permalink,
                 json.dumps(dict(it.raw), separators=(",", ":")))
            )  # fmt: skip
        batches.append((new_authors, new_convs, msgs))
    t0 = time.perf_counter()
    for new_authors, new_convs, msgs in batches:
        with conn:
            conn.executemany(
                "INSERT INTO authors (id, network, external_id, handle, display_name, is_spammer) "
                "VALUES (?, 'sandbox', ?, ?, ?, 0)",
                new_authors,
            )
            conn.executemany(
                "INSERT INTO conversations (id, network, account_id, thread_type, "
                "external_thread_id, kind, unit_id, author_id, status, priority, language, "
                "preview, message_count, last_activity_at, routing_reason, spam_reasons, "
                f"created_at) VALUES (?, 'sandbox', {account}, 'sandbox_thread', ?, 'mention', "
                "?, ?, 'new', 'normal', 'en', ?, 1, ?, '', '', ?)",
                new_convs,
            )
            top = conn.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0]
            conn.executemany(
                "INSERT INTO messages (network, account_id, external_id, conversation_id, "
                "author_id, direction, kind, text, language, created_at, permalink, raw) VALUES "
                f"('sandbox', {account}, ?, ?, ?, ?, ?, ?, 'en', ?, ?, ?)",
                msgs,
            )
            conn.execute(
                "INSERT INTO messages_fts(rowid, text) SELECT id, text FROM messages WHERE id > ?",
                (top,),
            )
    rate = len(items) / (time.perf_counter() - t0)
    conn.close()
    return rate


def gap_while_routing(n: int = 20_000) -> tuple[float, int]:
    """The GUI thread's largest event-loop gap (ms) while a worker ingests ``n`` routed items."""
    from PySide6.QtCore import QCoreApplication

    from benchmarks.responsiveness import max_gap_during_ingest

    app = QCoreApplication.instance() or QCoreApplication([])
    data = stream(n, seed=23)
    with tempfile.TemporaryDirectory() as tmp:
        db, care, main = workspace(Path(tmp))
        svc = ingest_for(db)
        svc.store(main, stream(BATCH, seed=98, account="sbx-100").items, None)
        gap, stored = max_gap_during_ingest(svc, care, data.items)
        db.close()
    del app
    return gap, stored


def main() -> int:
    figures = routed_rate()
    ours, raw = figures["ours"], figures["raw"]
    ratio = ours / raw
    print(
        f"ingest.routed_msgs_per_s {ours:9.0f} msg/s   baseline {raw:9.0f} msg/s   "
        f"ratio {ratio:.2f}   ({figures['threads']:,} conversations, "
        f"{figures['routed_by_rule']:,} routed by a rule, {figures['spam']:,} spam)",
        flush=True,
    )
    gap, stored = gap_while_routing()
    print(
        f"ui.max_gap_ms            {gap:9.1f} ms    while routing {stored:,} messages", flush=True
    )
    ok = ours >= TARGET and ratio >= RATIO and gap < 100
    print("targets met" if ok else "a target missed", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
