"""Routing rules on real databases (SQLite and PostgreSQL): the stored order under concurrent
edits, the preview's sample, and the preview against the demo workspace."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import select, update

from app.bootstrap import services_for
from app.models import AuditEntry, Conversation, RoutingRule
from app.services.container import Services
from app.services.demo import ROUTING_RULES
from app.services.rules import RuleDraft, RulesService
from app.storage.workspace import open_database

DOMAIN = "acme-mobility.example"


def _person(s: Services, local: str) -> int:
    person = s.directory.person_by_email(f"{local}@{DOMAIN}")
    assert person is not None
    return person.id


def _unit(s: Services, name: str) -> int:
    return next(u.id for u in s.inbox.units() if u.name == name)


def _stored(s: Services) -> list[tuple[int, int, str]]:
    with s.db.engine.connect() as conn:
        rows = conn.execute(
            select(RoutingRule.id, RoutingRule.position, RoutingRule.name).order_by(
                RoutingRule.position, RoutingRule.id
            )
        )
        return [(r.id, r.position, r.name) for r in rows]


def test_the_demo_rules_are_listed_in_order_in_words(demo_services: Services) -> None:
    views = demo_services.rules.rules()
    assert [v.record.name for v in views] == [r[0] for r in ROUTING_RULES]
    assert [v.record.position for v in views] == list(range(1, len(ROUTING_RULES) + 1))
    assert views[0].summary.endswith(": route to Triage, mark as spam; then stop")
    german = next(v for v in views if v.record.name.startswith("German"))
    assert german.summary == "When in de: route to Acme Deutschland; then stop"
    assert all(not v.problem for v in views)


def test_edits_are_stored_in_the_codecs_form_and_audited(demo_services: Services) -> None:
    s = demo_services
    admin = _person(s, "ingrid.solberg")
    care = _unit(s, "Customer Care")
    rule_id = s.rules.add(
        admin,
        RuleDraft(
            "Angry refunds",
            {"words": ["refund"], "sentiment_below": -0.3, "regex": "order [0-9]{6}"},
            {"route_to_unit": care, "add_tag": "refund"},
            stop=True,
        ),
        position=0,
    )
    stored = _stored(s)
    assert stored[0] == (rule_id, 1, "Angry refunds")
    assert [p for _i, p, _n in stored] == list(range(1, len(ROUTING_RULES) + 2))
    record = s.rules.get(rule_id)
    assert record.conditions == {
        "words": ["refund"],
        "regex": "order [0-9]{6}",
        "sentiment_below": -0.3,
    }
    assert record.actions == {"route_to_unit": care, "add_tags": ["refund"]}
    s.rules.set_enabled(admin, rule_id, False)
    s.rules.move(admin, rule_id, 5)
    s.rules.update(admin, rule_id, RuleDraft("Angry refunds", {"words": ["refund"]}, {}))
    s.rules.delete(admin, rule_id)
    assert [p for _i, p, _n in _stored(s)] == list(range(1, len(ROUTING_RULES) + 1))
    with s.db.engine.connect() as conn:
        actions = list(
            conn.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.entity == "routing_rule", AuditEntry.entity_id == rule_id)
                .order_by(AuditEntry.id)
            )
        )
    assert actions == [
        "routing_rule.added",
        "routing_rule.disabled",
        "routing_rule.moved",
        "routing_rule.changed",
        "routing_rule.deleted",
    ]


def test_concurrent_reorders_and_adds_keep_positions_dense_and_unique(
    demo_services: Services,
) -> None:
    """Two workstations (each its own engine) reorder and add at once; the order stays whole."""
    url = demo_services.db.url.render_as_string(hide_password=False)
    admin = _person(demo_services, "ingrid.solberg")
    ids = [i for i, _p, _n in _stored(demo_services)]
    failures: list[BaseException] = []
    added: list[int] = []

    def workstation(seed: int) -> None:
        db = None
        try:
            db = open_database(url)
            rules = RulesService(db)
            for step in range(12):
                rules.move(admin, ids[(seed * 5 + step * 3) % len(ids)], (step * seed) % 11)
                if step % 4 == 0:
                    added.append(rules.add(admin, RuleDraft(f"w{seed}-{step}", {}, {})))
        except BaseException as exc:  # reported by the test, never lost in the thread
            failures.append(exc)
        finally:
            if db is not None:
                db.close()

    threads = [threading.Thread(target=workstation, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures
    stored = _stored(demo_services)
    assert [p for _i, p, _n in stored] == list(range(1, len(ids) + len(added) + 1))
    assert {i for i, _p, _n in stored} == set(ids) | set(added)


def test_the_sample_is_the_first_inbound_message_of_the_newest_conversations(
    demo_services: Services,
) -> None:
    s = demo_services
    agent = _person(s, "tom.becker")
    with s.db.uow() as uow:
        sample = uow.rule_store.sample(50)
    assert len(sample) == 50
    with s.db.engine.connect() as conn:
        newest = list(
            conn.scalars(
                select(Conversation.id)
                .where(Conversation.first_inbound_at.is_not(None))
                .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
                .limit(50)
            )
        )
    assert [m.conversation_id for m in sample] == newest
    assert all(m.created_at.tzinfo is not None for m in sample)
    # Hand one over as a person: the sample says so.
    target = next(m for m in sample if not m.handed_over)
    orders = _unit(s, "Orders & Delivery")
    with s.db.engine.begin() as conn:
        conn.execute(
            update(Conversation)
            .where(Conversation.id == target.conversation_id)
            .values(unit_id=orders, status="open")
        )
    s.triage.hand_over(agent, target.conversation_id, _unit(s, "Marketing"), "a campaign question")
    with s.db.uow() as uow:
        again = {m.conversation_id: m for m in uow.rule_store.sample(50)}
    assert again[target.conversation_id].handed_over
    assert again[target.conversation_id].unit_id == _unit(s, "Marketing")


def test_first_seen_authors_have_no_earlier_conversation(demo_services: Services) -> None:
    s = demo_services
    with s.db.uow() as uow:
        sample = uow.rule_store.sample(1000)
    with s.db.engine.connect() as conn:
        rows = conn.execute(
            select(Conversation.id, Conversation.author_id, Conversation.first_inbound_at)
        ).all()
    earliest: dict[int, object] = {}
    for _cid, author, at in rows:
        if author is not None and at is not None:
            earliest[author] = min(at, earliest.get(author, at))  # type: ignore[type-var]
    by_id = {cid: (author, at) for cid, author, at in rows}
    for m in sample:
        author, at = by_id[m.conversation_id]
        if author is None:
            assert not m.author_first_seen
        else:
            assert m.author_first_seen == (at == earliest[author])
    assert any(m.author_first_seen for m in sample)


def test_preview_counts_what_a_first_rule_matches_on_the_demo(demo_services: Services) -> None:
    s = demo_services
    with s.db.uow() as uow:
        sample = uow.rule_store.sample(1000)
    word = re.compile(r"(?<!\w)refund(?!\w)", re.IGNORECASE)
    expected = [m.conversation_id for m in sample if word.search(m.text)]
    assert expected, "the demo has refund messages"
    preview = s.rules.preview(RuleDraft("refunds", {"words": ["refund"]}, {}), position=0)
    assert preview.sample_size == len(sample)
    assert [m.conversation_id for m in preview.matches] == expected
    assert preview.summary.startswith(f"Matches {len(expected):,} of the last {len(sample):,}")
    # The same rule last: the demo's "Orders & delivery" rule stops on "refund" before it.
    last = s.rules.preview(RuleDraft("refunds", {"words": ["refund"]}, {}))
    assert last.matched < len(expected)
    assert last.alone_matched == len(expected)


def test_preview_of_a_saved_rule_routes_no_hand_over(
    demo_services: Services, engine_name: str
) -> None:
    s = demo_services
    views = s.rules.rules()
    spanish = next(v.record for v in views if v.record.name.startswith("Spanish"))
    care = _unit(s, "Customer Care")
    edited = RuleDraft(spanish.name, spanish.conditions, {"route_to_unit": care}, stop=True)
    preview = s.rules.preview(edited, rule_id=spanish.id)
    assert preview.matched > 0
    assert all(m.lands_in == "Customer Care" for m in preview.matches)
    assert preview.edit_changes >= sum(1 for m in preview.matches if m.moves) > 0
    moved = next(m for m in preview.matches if m.moves)
    admin_agent = _person(s, "ingrid.solberg")
    with s.db.engine.begin() as conn:
        conn.execute(
            update(Conversation)
            .where(Conversation.id == moved.conversation_id)
            .values(status="open")
        )
    current = next(u for u in s.inbox.units() if u.id == _unit_of(s, moved.conversation_id))
    other = _unit(s, "Marketing") if current.name != "Marketing" else _unit(s, "Sales & E-commerce")
    s.triage.hand_over(admin_agent, moved.conversation_id, other, "not a Spanish question")
    s.rules.forget_sample()
    after = s.rules.preview(edited, rule_id=spanish.id)
    assert after.handed_over_kept >= 1
    assert not next(m for m in after.matches if m.conversation_id == moved.conversation_id).moves
    assert after.unit_changes == preview.unit_changes - 1


def _unit_of(s: Services, cid: int) -> int:
    with s.db.engine.connect() as conn:
        return int(conn.scalar(select(Conversation.unit_id).where(Conversation.id == cid)))


def test_services_on_a_new_workspace_have_no_rules(
    workspace_url: Callable[[str], str],
) -> None:
    services = services_for(open_database(workspace_url("empty")))
    try:
        assert services.rules.rules() == []
        preview = services.rules.preview(RuleDraft("r", {"words": ["x"]}, {}))
        assert preview.summary == "There are no messages yet to test the rule against."
    finally:
        services.close()


@pytest.mark.parametrize("local", ["tom.becker", "marcus.kelly"])
def test_agents_and_supervisors_read_but_do_not_edit(demo_services: Services, local: str) -> None:
    who = _person(demo_services, local)
    decision = demo_services.rules.decision(who)
    assert not decision.allowed
    assert decision.reason == "Only an administrator of Acme Mobility can change the routing rules."
