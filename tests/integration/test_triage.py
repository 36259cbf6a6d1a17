"""Triage on real databases (SQLite and PostgreSQL): each action's stored outcome and history
line, refusals, and concurrent claims (threads on both engines, processes on PostgreSQL)."""

from __future__ import annotations

import multiprocessing as mp
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update

from app.bootstrap import services_for
from app.models import (
    AuditEntry,
    Author,
    Conversation,
    ConversationEvent,
    Note,
    Person,
    RoutingRule,
    Unit,
)
from app.services.container import Services
from app.services.routing_decisions import first_response_due
from app.services.triage import ClaimOutcome, NotAllowed, TriageError, TriageService
from app.storage.workspace import open_database
from tests.integration.demo_lookup import person_id, unit_id

_person, _unit = person_id, unit_id


def _conversations(s: Services, unit_id: int, n: int = 1, rule: int | None = None) -> list[int]:
    """``n`` conversations moved into the unit, unassigned, open, without history (routed by
    ``rule``)."""
    with s.db.engine.begin() as conn:
        ids = [
            int(i) for i in conn.scalars(select(Conversation.id).order_by(Conversation.id).limit(n))
        ]
        conn.execute(
            update(Conversation)
            .where(Conversation.id.in_(ids))
            .values(unit_id=unit_id, assignee_id=None, claimed_at=None, status="open",
                    resolved_at=None, routed_by_rule_id=rule)
        )  # fmt: skip
        # the demo's own history of them (claimed, resolved) is not what these tests look at
        conn.execute(delete(ConversationEvent).where(ConversationEvent.conversation_id.in_(ids)))
    return ids


def _row(s: Services, cid: int) -> Any:
    with s.db.engine.connect() as conn:
        return conn.execute(select(Conversation).where(Conversation.id == cid)).one()


def _events(s: Services, cid: int) -> list[Any]:
    with s.db.engine.connect() as conn:
        return list(
            conn.execute(
                select(ConversationEvent)
                .where(ConversationEvent.conversation_id == cid)
                .order_by(ConversationEvent.id)
            )
        )


def _audit(s: Services, cid: int) -> list[str]:
    with s.db.engine.connect() as conn:
        return list(
            conn.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.entity == "conversation", AuditEntry.entity_id == cid)
                .order_by(AuditEntry.id)
            )
        )


def test_every_action_stores_its_outcome_a_history_line_and_an_audit_entry(
    demo_services: Services,
) -> None:
    s = demo_services
    tom, marcus = _person(s, "tom.becker"), _person(s, "marcus.kelly")
    orders = _unit(s, "Orders & Delivery")
    (cid,) = _conversations(s, orders)

    assert s.triage.claim(tom, cid).won
    assert _row(s, cid).assignee_id == tom
    assert _row(s, cid).claimed_at is not None
    assert s.triage.assign(marcus, cid, marcus) == cid  # supervisor of Care, above Orders
    s.triage.set_priority(tom, cid, "high")
    s.triage.add_tag(tom, cid, "qa-refund")
    s.triage.add_tag(tom, cid, "qa-broken")
    s.triage.remove_tag(tom, cid, "qa-broken")
    s.triage.add_note(tom, cid, "<b>called them</b>")
    s.triage.set_status(tom, cid, "waiting")
    s.triage.resolve(tom, cid)
    row = _row(s, cid)
    assert (row.assignee_id, row.priority, row.status) == (marcus, "high", "resolved")
    assert row.resolved_at is not None
    assert "qa-refund" in s.triage.tags(cid)
    assert "qa-broken" not in s.triage.tags(cid)
    assert [n.text for n in s.triage.notes(cid)] == ["<b>called them</b>"]
    s.triage.reopen(tom, cid)
    assert _row(s, cid).status == "open"
    assert _row(s, cid).resolved_at is None
    s.triage.unassign(tom, cid)
    assert _row(s, cid).assignee_id is None

    kinds = [e.kind for e in _events(s, cid)]
    assert kinds == [
        "claimed", "assigned", "priority", "tagged", "tagged", "untagged", "note",
        "status", "status", "status", "unassigned",
    ]  # fmt: skip
    assert [e.event.kind for e in s.triage.history(cid)] == kinds
    assert len(_audit(s, cid)) == len(kinds)
    assert _events(s, cid)[0].person_name == "Tom Becker"


def test_hand_over_records_the_previous_unit_the_rule_and_the_reason(
    demo_services: Services,
) -> None:
    s = demo_services
    tom = _person(s, "tom.becker")
    orders, marketing = _unit(s, "Orders & Delivery"), _unit(s, "Marketing")
    with s.db.engine.begin() as conn:
        rule = conn.execute(
            insert(RoutingRule).values(position=99, name="delivery words", conditions={},
                                       actions={}, stop=False, enabled=True, created_at=0)
            .returning(RoutingRule.id)
        ).scalar_one()  # fmt: skip
    (cid,) = _conversations(s, orders, rule=rule)
    s.triage.claim(tom, cid)
    with pytest.raises(TriageError, match="reason"):
        s.triage.hand_over(tom, cid, marketing, "")
    s.triage.hand_over(tom, cid, marketing, "a campaign question", "They saw the ad")
    row = _row(s, cid)
    assert (row.unit_id, row.assignee_id, row.status) == (marketing, None, "open")
    event = _events(s, cid)[-1]
    assert (event.kind, event.unit_from, event.unit_to) == ("handed_over", orders, marketing)
    assert (event.rule_id, event.reason) == (rule, "a campaign question")
    with s.db.engine.connect() as conn:
        assert conn.scalars(select(Note.text).where(Note.conversation_id == cid)).all() == [
            "They saw the ad"
        ]
    assert _audit(s, cid)[-1] == "conversation.hand_over"
    with pytest.raises(NotAllowed, match="Marketing"):  # Tom is no agent of Marketing
        s.triage.hand_over(tom, cid, orders, "back again")


def test_a_hand_over_restarts_the_first_response_clock_by_the_new_units_target(
    demo_services: Services,
) -> None:
    """Unanswered, the new unit owes the answer by its own target from the customer's first
    message; a unit without a target shows no clock; an answered conversation keeps its time."""
    s = demo_services
    tom = _person(s, "tom.becker")
    orders, marketing = _unit(s, "Orders & Delivery"), _unit(s, "Marketing")
    first_in = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)  # a Tuesday morning
    with s.db.engine.begin() as conn:
        conn.execute(update(Unit).where(Unit.id == orders).values(first_response_target_h=2.0))
        conn.execute(update(Unit).where(Unit.id == marketing).values(first_response_target_h=8.0))
    with s.db.uow() as uow:
        setup = uow.rules.setup()
    a, b = _conversations(s, orders, n=2)
    with s.db.engine.begin() as conn:
        conn.execute(
            update(Conversation)
            .where(Conversation.id.in_([a, b]))
            .values(first_inbound_at=first_in, first_response_at=None,
                    sla_due_at=first_in + timedelta(hours=2))
        )  # fmt: skip
        conn.execute(
            update(Conversation)
            .where(Conversation.id == b)
            .values(first_response_at=first_in + timedelta(minutes=30))
        )
    s.triage.hand_over(tom, a, marketing, "a campaign question")
    s.triage.hand_over(tom, b, marketing, "a campaign question")
    expected = first_response_due(setup, marketing, first_in)
    assert expected is not None
    assert expected > first_in + timedelta(hours=2)  # eight business hours, not two
    assert _row(s, a).sla_due_at == expected
    assert _row(s, b).sla_due_at == first_in + timedelta(hours=2)  # answered: kept
    with s.db.engine.begin() as conn:
        conn.execute(update(Unit).where(Unit.id == orders).values(first_response_target_h=None))
    s.triage.hand_over(_person(s, "ingrid.solberg"), a, orders, "back to orders")
    assert _row(s, a).sla_due_at is None  # no target there: no clock


def test_refusals_write_nothing(demo_services: Services) -> None:
    s = demo_services
    tom, ingrid = _person(s, "tom.becker"), _person(s, "ingrid.solberg")
    (cid,) = _conversations(s, _unit(s, "Marketing"))
    with pytest.raises(NotAllowed, match="Marketing"):
        s.triage.claim(tom, cid)
    with pytest.raises(TriageError, match="Marketing"):
        s.triage.assign(ingrid, cid, tom)  # the assignee holds no role there
    with s.db.engine.begin() as conn:
        conn.execute(update(Person).where(Person.id == ingrid).values(active=False))
    with pytest.raises(NotAllowed, match="deactivated"):
        s.triage.resolve(ingrid, cid)
    assert _events(s, cid) == []
    assert _audit(s, cid) == []
    assert _row(s, cid).assignee_id is None


def _author_flag(s: Services, cid: int) -> bool:
    with s.db.engine.connect() as conn:
        return bool(
            conn.scalar(
                select(Author.is_spammer)
                .join(Conversation, Conversation.author_id == Author.id)
                .where(Conversation.id == cid)
            )
        )


def test_spam_and_not_spam_teach_the_author_list(demo_services: Services) -> None:
    s = demo_services
    tom, jamal = _person(s, "tom.becker"), _person(s, "jamal.carter")
    orders = _unit(s, "Orders & Delivery")
    (cid,) = _conversations(s, orders)
    with s.db.engine.begin() as conn:
        author = conn.scalar(select(Conversation.author_id).where(Conversation.id == cid))
        assert author is not None
        conn.execute(update(Author).where(Author.id == author).values(is_spammer=False))

    s.triage.mark_spam(tom, cid)
    assert _row(s, cid).status == "spam"
    assert _author_flag(s, cid)
    event = _events(s, cid)[-1]
    assert event.kind == "spam_verdict"
    assert event.after == {
        "verdict": "spam", "status": "spam", "author_id": author, "author_spammer": True
    }  # fmt: skip
    assert s.triage.details(cid).author_is_spammer

    s.triage.not_spam(tom, cid)
    assert _row(s, cid).status == "open"
    assert not _author_flag(s, cid)
    assert [e.kind for e in _events(s, cid)] == ["spam_verdict", "spam_verdict"]
    assert _audit(s, cid) == ["conversation.spam", "conversation.not_spam"]
    with pytest.raises(NotAllowed, match="Orders"):
        s.triage.mark_spam(jamal, cid)
    assert _row(s, cid).status == "open"
    assert len(_events(s, cid)) == 2


def test_details_and_tag_names_read_what_the_actions_wrote(demo_services: Services) -> None:
    s = demo_services
    tom = _person(s, "tom.becker")
    (cid,) = _conversations(s, _unit(s, "Orders & Delivery"))
    s.triage.claim(tom, cid)
    s.triage.add_tag(tom, cid, "qa-zz-last")
    s.triage.add_note(tom, cid, "<i>plain</i>")
    details = s.triage.details(cid)
    assert details.holder is not None
    assert details.holder.name == "Tom Becker"
    assert "qa-zz-last" in details.tags  # beside the demo's own tags
    assert [e.event.kind for e in details.history] == ["claimed", "tagged", "note"]
    assert [n.text for n in details.notes] == ["<i>plain</i>"]
    names = s.triage.tag_names()
    assert "qa-zz-last" in names
    assert names == sorted(names)


def test_a_conversation_is_tagged_with_the_social_goal_it_served(demo_services: Services) -> None:
    s = demo_services
    tom, jamal = _person(s, "tom.becker"), _person(s, "jamal.carter")
    helena = person_id(s, "helena.marsh")
    (cid,) = _conversations(s, _unit(s, "Orders & Delivery"))
    goals = s.triage.social_goals()
    assert len(goals) >= 3
    goal_id, title = goals[0]
    s.triage.set_social_goal(tom, cid, None)  # the demo may have tagged it already
    served = s.strategy.goal_served(helena, goal_id).conversations
    s.triage.set_social_goal(tom, cid, goal_id)
    assert s.triage.social_goal(cid) == (goal_id, title)
    assert s.strategy.goal_served(helena, goal_id).conversations == served + 1
    listed = s.strategy.goal_conversations(helena, goal_id, limit=500)
    assert cid in [c.id for c in listed]
    # Only a social goal, and only by someone who works the conversation's unit.
    other = next(o.item.id for o in s.strategy.outline(helena).items if o.item.type == "tactic")
    with pytest.raises(TriageError, match="not a social goal"):
        s.triage.set_social_goal(tom, cid, other)
    with pytest.raises(NotAllowed, match="Orders"):
        s.triage.set_social_goal(jamal, cid, None)
    s.triage.set_social_goal(tom, cid, goal_id)  # the same again: nothing recorded
    s.triage.set_social_goal(tom, cid, None)
    assert s.triage.social_goal(cid) is None
    events = [(e.kind, (e.after or {}).get("social_goal")) for e in _events(s, cid)]
    assert events[-2:] == [("tagged", title), ("untagged", title)]
    assert _audit(s, cid)[-2:] == ["conversation.social_goal", "conversation.social_goal"]


def test_the_demo_tags_conversations_with_the_goals_they_served(demo_services: Services) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    counts = [s.strategy.goal_served(helena, g).conversations for g, _ in s.triage.social_goals()]
    assert sum(counts) > 0
    assert sum(1 for n in counts if n) >= 3


# -- concurrent claims ------------------------------------------------------------------------

ROUNDS = 8


def _claim_all(triage: TriageService, person: int, ids: list[int]) -> list[ClaimOutcome]:
    return [triage.claim(person, cid) for cid in ids]


def _exactly_one_won(s: Services, ids: list[int], a: int, b: int, results: dict[int, Any]) -> None:
    names = {a: "Tom Becker", b: "Marcus Kelly"}
    for i, cid in enumerate(ids):
        first, second = results[a][i], results[b][i]
        assert first.won != second.won, f"conversation {cid}: both or neither won"
        winner, loser = (a, second) if first.won else (b, first)
        assert _row(s, cid).assignee_id == winner
        assert loser.message.startswith(f"{names[winner]} claimed it")
        assert [e.kind for e in _events(s, cid)] == ["claimed"]


def test_two_threads_claiming_at_once_exactly_one_wins(demo_services: Services) -> None:
    s = demo_services
    tom, marcus = _person(s, "tom.becker"), _person(s, "marcus.kelly")
    ids = _conversations(s, _unit(s, "Orders & Delivery"), ROUNDS)
    barrier = threading.Barrier(2)
    results: dict[int, list[ClaimOutcome]] = {}
    errors: list[BaseException] = []

    def run(person: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[person] = _claim_all(s.triage, person, ids)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(p,)) for p in (tom, marcus)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    _exactly_one_won(s, ids, tom, marcus, results)


def _claim_in_process(url: str, person: int, ids: list[int], barrier: Any, out: Any) -> None:
    db = open_database(url)
    try:
        triage = TriageService(db)
        barrier.wait(timeout=60)
        out.put((person, [(o.won, o.message) for o in _claim_all(triage, person, ids)]))
    finally:
        db.close()


def test_two_processes_claiming_at_once_on_postgresql_exactly_one_wins(
    workspace_url: Callable[[str], str], engine_name: str
) -> None:
    if engine_name != "postgresql":
        pytest.skip("two processes on one SQLite file is the threads test's case, serialised")
    url = workspace_url("demo")
    s = services_for(open_database(url))
    try:
        tom, marcus = _person(s, "tom.becker"), _person(s, "marcus.kelly")
        ids = _conversations(s, _unit(s, "Orders & Delivery"), ROUNDS)
        ctx = mp.get_context("spawn")
        barrier, out = ctx.Barrier(2), ctx.Queue()
        procs = [
            ctx.Process(target=_claim_in_process, args=(url, p, ids, barrier, out))
            for p in (tom, marcus)
        ]
        for p in procs:
            p.start()
        got = dict(out.get(timeout=120) for _ in procs)
        for p in procs:
            p.join(timeout=30)
            assert p.exitcode == 0

        class _O:
            def __init__(self, won: bool, message: str) -> None:
                self.won, self.message = won, message

        results = {k: [_O(*r) for r in v] for k, v in got.items()}
        _exactly_one_won(s, ids, tom, marcus, results)
    finally:
        s.close()
