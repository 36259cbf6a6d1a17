"""The demo workspace: complete, realistic enough, and deterministic for a seed."""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.models import (
    Account,
    ApprovalRule,
    Author,
    Conversation,
    ConversationTag,
    Message,
    Person,
    PolicyRule,
    RoleAssignment,
    RoutingRule,
    StrategyItem,
    StrategyLink,
    Tag,
    Unit,
)
from app.services.container import Services
from app.services.demo import DemoError, generate_demo_workspace
from app.services.routing import FirstMessage, RoutingService, decide
from app.storage.ingest import REASON, fit
from app.storage.search import search_conversation_ids

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def _digest(path: Path) -> str:
    """A digest of every row of the tables a demo writes (ids, texts, times, states)."""
    conn = sqlite3.connect(path)
    try:
        h = hashlib.sha256()
        for table in ("units", "people", "accounts", "authors", "conversations", "messages"):
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            keep = [c for c in cols if c not in ("uuid",)]
            for row in conn.execute(f"SELECT {', '.join(keep)} FROM {table} ORDER BY id"):
                h.update(repr(row).encode())
        return h.hexdigest()
    finally:
        conn.close()


def test_same_seed_same_workspace_and_another_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.sqlite", tmp_path / "b.sqlite", tmp_path / "c.sqlite"
    stats = generate_demo_workspace(str(a), conversations=300, seed=11, now=NOW)
    generate_demo_workspace(str(b), conversations=300, seed=11, now=NOW)
    generate_demo_workspace(str(c), conversations=300, seed=12, now=NOW)
    assert stats.conversations == 300
    assert stats.messages > 300
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)


def test_an_existing_file_is_not_replaced_without_force(tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite"
    generate_demo_workspace(str(path), conversations=10, seed=1, now=NOW)
    before = path.read_bytes()
    with pytest.raises(DemoError, match="already exists"):
        generate_demo_workspace(str(path), conversations=10, seed=2, now=NOW)
    assert path.read_bytes() == before
    stats = generate_demo_workspace(str(path), conversations=20, seed=2, now=NOW, replace=True)
    assert stats.conversations == 20


def test_progress_is_reported_up_to_the_total(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    generate_demo_workspace(
        str(tmp_path / "p.sqlite"),
        conversations=4_100,
        seed=3,
        now=NOW,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen[-1] == (4_100, 4_100)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert len(seen) >= 3


def test_the_demo_company_has_everything_the_product_describes(demo_services: Services) -> None:
    with demo_services.db.uow() as uow:
        s = uow.session
        units = {u.name: u for u in s.scalars(select(Unit))}
        assert len(units) >= 8
        offices = [u for u in units.values() if u.kind == "office"]
        assert len(offices) >= 2
        assert all(u.languages and u.languages.split(",")[0] != "en" for u in offices)
        assert any(u.is_triage for u in units.values())
        roles = set(s.scalars(select(RoleAssignment.role)))
        assert roles == {"agent", "supervisor", "strategist", "admin"}
        staffed = set(s.scalars(select(RoleAssignment.unit_id)))
        assert {u.id for u in units.values()} <= staffed
        assert s.scalar(select(func.count()).select_from(Person)) >= 20
        networks = set(s.scalars(select(Account.network).where(Account.state == "connected")))
        assert networks == {"sandbox"}
        assert s.scalar(select(func.count()).select_from(RoutingRule)) >= 8
        kinds = set(s.scalars(select(PolicyRule.kind)))
        assert kinds == {"banned_term", "risky_term", "disclaimer", "link_domain", "length_limit"}
        assert s.scalar(select(func.count()).select_from(ApprovalRule)) >= 3
        # The funnel: every social goal derives from a goal and an insight; every tactic serves
        # a social goal.
        items = {i.id: i for i in s.scalars(select(StrategyItem))}
        parents: dict[int, set[str]] = {}
        for link in s.scalars(select(StrategyLink)):
            parents.setdefault(link.child_id, set()).add(items[link.parent_id].type)
        for item in items.values():
            if item.type == "social_goal":
                assert parents[item.id] & {"business_goal", "department_goal"}
                assert "audience_insight" in parents[item.id]
                assert item.kpi
                assert item.kpi_target is not None
                assert item.kpi_unit
                assert item.baseline is not None
                assert item.deadline
                assert item.owner_id
            if item.type == "tactic":
                assert parents[item.id] == {"social_goal"}
                assert item.channel
                assert item.cadence
                assert item.owner_id
                assert item.horizon


def test_demo_conversations_are_varied(demo_services: Services) -> None:
    with demo_services.db.uow() as uow:
        s = uow.session
        n = s.scalar(select(func.count()).select_from(Conversation))
        assert n == 600
        langs = set(s.scalars(select(Conversation.language)))
        assert {"en", "de", "es"} <= langs
        statuses = set(s.scalars(select(Conversation.status)))
        assert {"new", "open", "resolved", "spam"} <= statuses
        kinds = set(s.scalars(select(Message.kind)))
        assert {"mention", "dm", "reply"} <= kinds
        assert s.scalar(select(func.max(Conversation.message_count))) >= 8
        # Opening messages are varied (follow-ups such as "Any update?" repeat, as in life).
        first = (
            select(Message.conversation_id, func.min(Message.id).label("mid"))
            .group_by(Message.conversation_id)
            .subquery()
        )
        texts = list(s.scalars(select(Message.text).join(first, first.c.mid == Message.id)))
        assert len(texts) == 600
        assert len(set(texts)) > 0.85 * len(texts)
        # Denormalised columns agree with the messages they summarise.
        mismatched = s.execute(
            select(Conversation.id)
            .join(Message, Message.conversation_id == Conversation.id)
            .group_by(Conversation.id)
            .having(
                (func.count(Message.id) != Conversation.message_count)
                | (func.max(Message.created_at) != Conversation.last_activity_at)
            )
        ).all()
        assert mismatched == []
        # German conversations are handled by the German office.
        de_units = set(
            s.scalars(
                select(Unit.name)
                .join(Conversation, Conversation.unit_id == Unit.id)
                .where(Conversation.language == "de", Conversation.status != "spam")
            )
        )
        assert de_units == {"Acme Deutschland"}


def test_demo_messages_are_searchable(demo_services: Services) -> None:
    with demo_services.db.engine.connect() as conn:
        word = conn.exec_driver_sql(
            "SELECT text FROM messages WHERE language = 'en' AND direction = 'in' LIMIT 1"
        ).scalar()
        assert word
        first_word = max(word.split(), key=len).strip(".,!?#@")
        assert search_conversation_ids(conn, first_word)


def test_every_demo_reason_is_what_the_rules_decide(demo_services: Services) -> None:
    """The demo is routed by the engine: re-evaluating the stored rules on a sample of stored
    first messages gives the stored unit, rule, reason, priority and tags."""
    db = demo_services.db
    with db.uow() as uow:
        context = RoutingService(db).context(uow)
        s = uow.session
        first = (
            select(Message.conversation_id, func.min(Message.id).label("mid"))
            .group_by(Message.conversation_id)
            .subquery()
        )
        firsts_of_author = (
            select(Conversation.author_id, func.min(Conversation.id).label("cid"))
            .group_by(Conversation.author_id)
            .subquery()
        )
        rows = s.execute(
            select(Conversation, Message, Author, Account.unit_id, firsts_of_author.c.cid)
            .join(first, first.c.conversation_id == Conversation.id)
            .join(Message, Message.id == first.c.mid)
            .join(Author, Author.id == Conversation.author_id)
            .join(Account, Account.id == Conversation.account_id)
            .join(firsts_of_author, firsts_of_author.c.author_id == Conversation.author_id)
            .where(Conversation.id % 7 == 0)
        ).all()
        tags = {
            cid: set(names)
            for cid, names in itertools.groupby(
                s.execute(
                    select(ConversationTag.conversation_id, Tag.name)
                    .join(Tag, Tag.id == ConversationTag.tag_id)
                    .order_by(ConversationTag.conversation_id)
                ).tuples(),
                key=lambda r: r[0],
            )
        }
        assert len(rows) > 50
        reasons = set()
        for conv, msg, author, owner_unit, author_first in rows:
            again = decide(
                context,
                FirstMessage(
                    account_id=conv.account_id,
                    network=conv.network,
                    kind=conv.kind,
                    direction=msg.direction,
                    text=msg.text,
                    created_at=msg.created_at,
                    author_external_id=author.external_id,
                    author_handle=author.handle or "",
                    followers=author.followers_count,
                    first_seen=author_first == conv.id,
                    known_spam_author=False,
                    language=conv.language,
                    sentiment=conv.sentiment,
                    signals_known=True,
                ),
                owner_unit,
            )
            assert (conv.unit_id, conv.routed_by_rule_id, conv.priority) == (
                again.unit_id,
                again.rule_id,
                again.priority,
            ), conv.id
            assert conv.routing_reason == fit(again.reason, REASON)
            assert {t for _, t in tags.get(conv.id, ())} == set(again.tags)
            assert (conv.status == "spam") == (again.status == "spam")
            reasons.add(conv.routing_reason.split(",")[0])
        assert {"Acme Deutschland", "Acme España y LatAm", "Triage"} <= reasons


def test_demo_rules_send_german_and_spanish_to_their_offices_and_spam_to_spam(
    demo_services: Services,
) -> None:
    with demo_services.db.uow() as uow:
        rows = uow.session.execute(
            select(
                Conversation.language, Unit.name, Conversation.status, Conversation.sla_due_at
            ).join(Unit, Unit.id == Conversation.unit_id)
        ).all()
    for language, unit, status, _due in rows:
        if status == "spam":
            continue
        if language == "de":
            assert unit == "Acme Deutschland"
        if language == "es":
            assert unit == "Acme España y LatAm"
    assert sum(1 for r in rows if r.status == "spam") > 20
    assert all(r.sla_due_at is None for r in rows if r.status == "spam")
    assert any(r.sla_due_at is not None for r in rows if r.status != "spam")


def test_the_demo_has_drafts_in_every_state_and_publish_once_sends_the_due_ones(
    tmp_path: Path,
) -> None:
    """Written through the drafts service and the outbox; ``quiver publish --once`` then sends
    every approved draft (and the one on its way) to the Sandbox network, once."""
    import json
    import os
    import subprocess
    import sys
    import time

    from app.bootstrap import demo_connectors
    from app.domain.enums import DraftState

    path = tmp_path / "demo.sqlite"
    generate_demo_workspace(str(path), conversations=400, seed=5, connectors=demo_connectors)
    conn = sqlite3.connect(path)
    try:
        states = dict(conn.execute("SELECT state, count(*) FROM drafts GROUP BY state").fetchall())
        due = conn.execute(
            "SELECT count(*) FROM drafts WHERE state IN ('approved', 'publishing')"
        ).fetchone()[0]
        versions = conn.execute("SELECT max(version) FROM draft_versions").fetchone()[0]
        newest = conn.execute("SELECT max(updated_at) FROM drafts").fetchone()[0]
    finally:
        conn.close()
    assert newest <= time.time() * 1000  # written in the past: new drafts come after them
    assert set(states) == {s.value for s in DraftState}
    assert states["approved"] >= 20
    assert versions == 2  # one was edited after a request for changes
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")

    def quiver(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )

    before = quiver("sandbox", "received", "--workspace", str(path)).stdout.splitlines()
    done = quiver("publish", "--workspace", str(path), "--once")
    assert done.returncode == 0, done.stderr
    after = [
        json.loads(line)
        for line in quiver("sandbox", "received", "--workspace", str(path)).stdout.splitlines()
    ]
    assert len(after) == len(before) + due
    assert len({(w["account"], w["text"]) for w in after}) == len(after)  # nothing twice
    conn = sqlite3.connect(path)
    try:
        left = conn.execute(
            "SELECT count(*) FROM drafts WHERE state IN ('approved', 'publishing')"
        ).fetchone()[0]
        published = conn.execute(
            "SELECT count(*) FROM drafts WHERE state = 'published'"
        ).fetchone()[0]
    finally:
        conn.close()
    assert left == 0
    assert published == states["published"] + due
