"""Routing on ingest, on both engines: stored rules decide unit, assignee, tags, priority, SLA, spam."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from app.domain.hours import standard_week
from app.domain.items import InboundItem
from app.models import (
    Account,
    Author,
    Conversation,
    ConversationTag,
    Organization,
    Person,
    RoleAssignment,
    RoutingRule,
    Tag,
    TextSighting,
    Unit,
)
from app.services.ingest import IngestService
from app.storage.workspace import Database

# A Tuesday, 10:00 in Berlin: inside the standard week's hours.
T0 = datetime(2026, 10, 6, 8, 0, tzinfo=UTC)


def item(
    ext: str,
    thread: str | None = None,
    *,
    text: str = "hello there",
    minutes: int = 0,
    author: str = "42",
    direction: str = "in",
    followers: int | None = 10,
    kind: str = "mention",
) -> InboundItem:
    return InboundItem(
        network="x",
        external_id=ext,
        kind=kind,
        direction=direction,
        text=text,
        created_at=T0 + timedelta(minutes=minutes),
        author_external_id=author,
        author_handle=f"user{author}",
        author_name=f"User {author}",
        thread_external_id=thread or ext,
        thread_type="x_thread",
        in_reply_to=None,
        permalink=None,
        raw={"id": ext},
        author_followers=followers,
    )


@pytest.fixture
def ws(db: Database) -> Database:
    """Company > Care (2 h target), Legal; Triage; an account owned by Company; two people."""
    with db.engine.begin() as conn:
        conn.execute(
            insert(Organization).values(
                id=1,
                name="Acme",
                time_zone="Europe/Berlin",
                business_hours=standard_week(),
                holidays=[],
                spam_threshold=0.6,
                spam_keywords=["free followers"],
            )
        )
        for unit in (
            {"id": 1, "path": "/1/", "name": "Company", "languages": "en,de"},
            {
                "id": 2,
                "parent_id": 1,
                "path": "/1/2/",
                "name": "Care",
                "first_response_target_h": 2.0,
            },
            {"id": 3, "parent_id": 1, "path": "/1/3/", "name": "Legal"},
            {"id": 4, "path": "/4/", "name": "Triage", "is_triage": True},
        ):
            conn.execute(insert(Unit).values(**unit))
        conn.execute(
            insert(Account).values(
                id=7, uuid="a7", network="x", handle="acme", display_name="Acme", unit_id=1
            )
        )
        conn.execute(insert(Person).values(id=1, name="Aisha Bello", email="a@x.test"))
        conn.execute(insert(Person).values(id=2, name="Olga Old", email="o@x.test", active=False))
        conn.execute(insert(RoleAssignment).values(person_id=1, unit_id=2, role="agent"))
    return db


def add_rule(
    db: Database,
    rid: int,
    name: str,
    conditions: dict[str, Any],
    actions: dict[str, Any],
    *,
    stop: bool = False,
    position: int | None = None,
) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            insert(RoutingRule).values(
                id=rid,
                position=rid if position is None else position,
                name=name,
                enabled=True,
                conditions=conditions,
                actions=actions,
                stop=stop,
            )
        )


def conversation(db: Database, thread: str) -> dict[str, Any]:
    with db.engine.connect() as conn:
        row = conn.execute(
            select(Conversation).where(Conversation.external_thread_id == thread)
        ).one()
        tags = (
            conn.execute(
                select(Tag.name)
                .join(ConversationTag, ConversationTag.tag_id == Tag.id)
                .where(ConversationTag.conversation_id == row.id)
                .order_by(Tag.name)
            )
            .scalars()
            .all()
        )
    return {**row._asdict(), "tags": tags}


def test_rules_decide_unit_reason_priority_tags_assignee_and_sla(ws: Database) -> None:
    add_rule(
        ws,
        1,
        "refund or broken",
        {"words": ["refund", "broken"]},
        {"route_to_unit": 2, "set_priority": "high", "assign_person": 1},
    )
    add_rule(ws, 2, "refund words", {"words": ["refund"]}, {"add_tags": ["refund", "money"]})

    IngestService(ws).store(7, [item("1", text="I want a refund for my broken bike")], None)

    c = conversation(ws, "1")
    assert c["unit_id"] == 2
    assert c["routed_by_rule_id"] == 1
    assert c["routing_reason"] == (
        "Care, by rule 'refund or broken'; assigned to Aisha Bello by rule 'refund or broken'; "
        "priority high by rule 'refund or broken'; "
        "tagged 'refund', 'money' by rule 'refund words'"
    )
    assert c["priority"] == "high"
    assert c["assignee_id"] == 1
    assert c["tags"] == ["money", "refund"]
    assert c["language"] == "en"
    assert c["sentiment"] is not None
    assert c["sentiment"] < 0
    assert c["status"] == "new"
    assert c["spam_score"] == 0
    # Two business hours after 10:00 Berlin time on a Tuesday: 12:00 Berlin, 10:00 UTC.
    assert c["sla_due_at"] == T0 + timedelta(hours=2)


def test_no_rule_sends_it_to_the_account_owner_and_follow_ups_never_re_route(
    ws: Database,
) -> None:
    svc = IngestService(ws)
    svc.store(7, [item("1", text="just saying hello to you all")], None)
    first = conversation(ws, "1")
    assert first["unit_id"] == 1
    assert first["routing_reason"] == "No rule routed it: the account owner's unit (Company)"
    assert first["sla_due_at"] is None  # Company has no first-response target

    add_rule(ws, 1, "legal words", {"words": ["lawyer"]}, {"route_to_unit": 3})
    svc.store(7, [item("2", "1", text="my lawyer will call", minutes=5)], None)
    svc.store(7, [item("3", text="my lawyer will call you", minutes=6)], None)

    assert conversation(ws, "1")["unit_id"] == 1  # a follow-up: not routed again
    assert conversation(ws, "3")["unit_id"] == 3  # the changed rules were picked up


def test_an_assignee_who_left_is_not_assigned_and_the_reason_says_so(ws: Database) -> None:
    add_rule(ws, 1, "to Olga", {"words": ["olga"]}, {"route_to_unit": 2, "assign_person": 2})
    add_rule(ws, 2, "to ghost", {"words": ["ghost"]}, {"route_to_unit": 2, "assign_person": 99})
    add_rule(ws, 3, "to Aisha in Legal", {"words": ["legal"]}, {"route_to_unit": 3})
    add_rule(ws, 4, "Aisha", {"words": ["legal"]}, {"assign_person": 1})

    IngestService(ws).store(
        7,
        [
            item("1", text="is olga there"),
            item("2", text="a ghost story", author="43"),
            item("3", text="a legal matter", author="44"),
        ],
        None,
    )

    olga, ghost, legal = (conversation(ws, t) for t in "123")
    assert olga["assignee_id"] is None
    assert olga["routing_reason"].endswith("not assigned to Olga Old: deactivated")
    assert ghost["assignee_id"] is None
    assert ghost["routing_reason"].endswith("not assigned: person #99 no longer exists")
    assert legal["assignee_id"] is None
    assert legal["routing_reason"].endswith("not assigned to Aisha Bello: holds no role in Legal")


def test_a_rule_the_codec_refuses_is_skipped_with_a_warning_and_ingest_goes_on(
    ws: Database, caplog: pytest.LogCaptureFixture
) -> None:
    add_rule(ws, 1, "broken rule", {"colour": "red"}, {"route_to_unit": 3})
    add_rule(ws, 2, "bad regex", {"regex": "(a)\\1"}, {"route_to_unit": 3})
    add_rule(ws, 3, "hello", {"words": ["hello"]}, {"route_to_unit": 2})

    with caplog.at_level(logging.WARNING, logger="quiver.services.routing"):
        outcome = IngestService(ws).store(7, [item("1", text="hello there")], None)

    assert outcome.new_messages == 1
    assert conversation(ws, "1")["unit_id"] == 2
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "'broken rule'" in warned
    assert "colour" in warned
    assert "'bad regex'" in warned


def test_a_rule_to_a_unit_that_is_gone_falls_back_and_stores_the_batch(ws: Database) -> None:
    add_rule(ws, 1, "to nowhere", {}, {"route_to_unit": 99})

    IngestService(ws).store(7, [item("1")], None)

    c = conversation(ws, "1")
    assert c["unit_id"] == 1
    assert "unit #99 no longer exists: Company" in c["routing_reason"]


def test_the_same_text_from_three_authors_across_batches_is_spam(ws: Database) -> None:
    svc = IngestService(ws, clock=lambda: T0 + timedelta(hours=2))
    text = "Get amazing deals on scooters at bestdeals.example/promo today"
    svc.store(7, [item("1", text=text, author="a1")], None)
    svc.store(7, [item("2", text=text, author="a2", minutes=30)], None)
    assert conversation(ws, "2")["status"] == "new"  # two authors: not yet

    svc.store(7, [item("3", text=text.upper(), author="a3", minutes=90)], None)

    third = conversation(ws, "3")
    assert third["status"] == "spam"
    assert third["spam_score"] >= 0.6
    assert "The same text from 3 authors within 24 hours." in third["spam_reasons"]
    assert "spam by the spam filter" in third["routing_reason"]
    assert third["sla_due_at"] is None
    with ws.engine.connect() as conn:
        authors = conn.execute(select(TextSighting.author).order_by(TextSighting.id)).all()
    assert [a for (a,) in authors] == ["x:a1", "x:a2", "x:a3"]


def test_a_known_spammer_and_spam_words_make_spam_and_rules_can_mark_spam(ws: Database) -> None:
    svc = IngestService(ws)
    svc.store(7, [item("0", text="first contact from me", author="s1")], None)
    with ws.engine.begin() as conn:
        conn.execute(update(Author).where(Author.external_id == "s1").values(is_spammer=True))
    add_rule(ws, 1, "crypto", {"words": ["crypto"]}, {"mark_spam": True})

    svc.store(
        7,
        [
            item("1", text="hello again everyone", author="s1"),
            item("2", text="buy crypto now", author="s2"),
            item("3", text="get free followers fast", author="s3"),
        ],
        None,
    )

    spammer, crypto, words = (conversation(ws, t) for t in "123")
    assert spammer["status"] == "spam"
    assert "The author was marked as spam before." in spammer["spam_reasons"]
    assert crypto["status"] == "spam"
    assert "marked as spam by rule 'crypto'" in crypto["routing_reason"]
    assert words["spam_score"] == pytest.approx(0.35)
    assert words["status"] == "new"  # one spam word alone stays under the threshold


def test_our_own_post_is_not_scored_and_has_no_due_time(ws: Database) -> None:
    add_rule(ws, 1, "all to care", {}, {"route_to_unit": 2})

    IngestService(ws).store(7, [item("1", direction="out", kind="post", author="acme")], None)

    c = conversation(ws, "1")
    assert c["unit_id"] == 2
    assert c["spam_score"] is None
    assert c["sla_due_at"] is None
    assert c["status"] == "resolved"  # needs no answer: in nobody's backlog


def test_our_own_post_waits_for_nobody_until_someone_writes_in_it(ws: Database) -> None:
    add_rule(ws, 1, "all to care", {}, {"route_to_unit": 2})  # Care answers within 2 h
    svc = IngestService(ws)
    svc.store(7, [item("p", direction="out", kind="post", author="acme")], None)
    assert conversation(ws, "p")["status"] == "resolved"
    assert conversation(ws, "p")["sla_due_at"] is None

    svc.store(7, [item("c1", "p", kind="comment", text="When does it ship?", minutes=5)], None)
    post = conversation(ws, "p")
    assert post["status"] == "open"  # someone wrote: now it needs an answer
    # ... and the clock runs from that comment (Tuesday 10:05 in Berlin, inside the hours)
    assert post["sla_due_at"] == T0 + timedelta(minutes=5, hours=2)
    svc.store(7, [item("c3", "p", kind="comment", text="Hello?", minutes=50, author="9")], None)
    assert conversation(ws, "p")["sla_due_at"] == T0 + timedelta(minutes=5, hours=2)  # kept

    # A post and its first comment in one batch: it needs an answer at once.
    svc.store(
        7,
        [
            item("q", direction="out", kind="post", author="acme", minutes=10),
            item("c2", "q", kind="comment", text="Love it", minutes=11),
        ],
        None,
    )
    assert conversation(ws, "q")["status"] == "new"
    assert conversation(ws, "q")["sla_due_at"] == T0 + timedelta(minutes=11, hours=2)


def test_followers_come_from_the_newest_payload_and_drive_rules(ws: Database) -> None:
    svc = IngestService(ws)
    svc.store(7, [item("1", followers=50)], None)
    add_rule(ws, 1, "influencers", {"min_followers": 10000}, {"add_tags": ["influencer"]})

    svc.store(
        7,
        [item("2", followers=9000, minutes=1), item("3", followers=20000, minutes=2)],
        None,
    )

    with ws.engine.connect() as conn:
        followers = conn.execute(
            select(Author.followers_count).where(Author.external_id == "42")
        ).scalar_one()
    assert followers == 20000
    assert conversation(ws, "2")["tags"] == ["influencer"]  # the author's count now
    assert conversation(ws, "1")["tags"] == []


def test_first_seen_authors_and_languages(ws: Database) -> None:
    add_rule(ws, 1, "newcomers", {"first_seen_author": True}, {"add_tags": ["new"]})
    add_rule(ws, 2, "German", {"languages": ["de"]}, {"route_to_unit": 3})

    IngestService(ws).store(
        7,
        [
            item("1", text="Hallo, meine Bestellung ist leider immer noch nicht angekommen"),
            item("2", text="and a second thread from me", minutes=1),
        ],
        None,
    )

    german, second = conversation(ws, "1"), conversation(ws, "2")
    assert german["tags"] == ["new"]
    assert german["unit_id"] == 3
    assert german["language"] == "de"
    assert german["sentiment"] is None  # English only
    assert second["tags"] == []


def test_the_networks_own_language_tag_is_taken_and_und_is_detected(ws: Database) -> None:
    from dataclasses import replace

    add_rule(ws, 2, "German", {"languages": ["de"]}, {"route_to_unit": 3})
    IngestService(ws).store(
        7,
        [
            # X said German: taken as it is, though the words alone look English
            replace(item("1", text="Where is my order, it is late again"), language="de"),
            # X could not tell ("und"): Quiver detects it
            replace(item("2", text="Meine Bestellung ist leider nicht angekommen"), language="und"),
            replace(item("3", text="My order arrived broken, so disappointed"), language="en"),
        ],
        None,
    )
    tagged, detected, english = conversation(ws, "1"), conversation(ws, "2"), conversation(ws, "3")
    assert (tagged["language"], tagged["unit_id"], tagged["sentiment"]) == ("de", 3, None)
    assert (detected["language"], detected["unit_id"]) == ("de", 3)
    assert english["language"] == "en"
    assert english["sentiment"] is not None
    assert english["sentiment"] < 0


def test_a_long_reason_is_cut_to_the_column(ws: Database) -> None:
    long_name = "x" * 190
    for rid in range(1, 6):
        add_rule(ws, rid, f"{long_name}{rid}", {}, {"add_tags": [f"t{rid}"]})

    IngestService(ws).store(7, [item("1")], None)

    reason = conversation(ws, "1")["routing_reason"]
    assert len(reason) == 500
    assert reason.endswith("…")


def test_old_sightings_are_pruned(ws: Database) -> None:
    with ws.engine.begin() as conn:
        conn.execute(
            insert(TextSighting).values(
                fingerprint="f" * 32, author="x:old", at=T0 - timedelta(days=3)
            )
        )
    svc = IngestService(ws, clock=lambda: T0)
    svc.store(7, [item("1", text="a text long enough to be remembered by the filter")], None)

    with ws.engine.connect() as conn:
        left = conn.execute(select(TextSighting.author)).scalars().all()
    assert left == ["x:42"]
