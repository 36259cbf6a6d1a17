"""Applying the routing rules again, on both engines: preview, apply, hand-overs kept, refusals."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, update

from app.models import (
    AuditEntry,
    Conversation,
    ConversationEvent,
    Person,
    RoleAssignment,
    RoutingRule,
)
from app.services.access import NotAllowed
from app.services.ingest import IngestService
from app.services.routing import RoutingAgainError, RoutingService
from app.services.triage import TriageService
from app.storage.workspace import Database
from tests.integration.test_routing_ingest import add_rule, conversation, item, ws

__all__ = ["ws"]  # the fixture, shared with the ingest tests

SUPERVISOR, AGENT, CARE_SUPERVISOR = 10, 11, 12


@pytest.fixture
def routed(ws: Database) -> Database:
    """Three conversations in Company (no rules yet); people with different roles."""
    with ws.engine.begin() as conn:
        for pid, name in ((SUPERVISOR, "Sam Super"), (AGENT, "Ann Agent"), (CARE_SUPERVISOR, "Cy")):
            conn.execute(insert(Person).values(id=pid, name=name, email=f"{pid}@x.test"))
        conn.execute(
            insert(RoleAssignment),
            [
                {"person_id": SUPERVISOR, "unit_id": 1, "role": "supervisor"},
                {"person_id": AGENT, "unit_id": 1, "role": "agent"},
                {"person_id": CARE_SUPERVISOR, "unit_id": 2, "role": "supervisor"},
            ],
        )
    IngestService(ws).store(
        7,
        [
            item("1", text="my lawyer will write to you"),
            item("2", text="a lawyer again", author="43", minutes=1),
            item("3", text="nothing to see here", author="44", minutes=2),
            item("4", text="the lawyer said so", author="45", minutes=3),
        ],
        None,
    )
    add_rule(ws, 1, "lawyers", {"words": ["lawyer"]}, {"route_to_unit": 3})
    return ws


def test_preview_lists_what_would_move_and_changes_nothing(routed: Database) -> None:
    outcome = RoutingService(routed).preview_again(SUPERVISOR, unit_id=1)

    assert [(r.conversation_id, r.from_unit, r.to_unit) for r in outcome.rows] == [
        (4, "Company", "Legal"),
        (2, "Company", "Legal"),
        (1, "Company", "Legal"),
    ]
    assert outcome.rows[0].reason == "Legal, by rule 'lawyers'"
    assert outcome.rows[0].rule_id == 1
    assert outcome.looked_at == 4
    assert conversation(routed, "1")["unit_id"] == 1  # nothing moved


def test_apply_moves_audits_and_records_a_routed_event(routed: Database) -> None:
    with routed.engine.begin() as conn:
        conn.execute(update(Conversation).where(Conversation.id == 1).values(assignee_id=AGENT))

    outcome = RoutingService(routed).apply_again(SUPERVISOR, conversation_ids=[1, 3])

    assert [r.conversation_id for r in outcome.rows] == [1]
    moved = conversation(routed, "1")
    assert moved["unit_id"] == 3
    assert moved["routed_by_rule_id"] == 1
    assert moved["routing_reason"] == "Legal, by rule 'lawyers'"
    assert moved["assignee_id"] is None
    assert conversation(routed, "2")["unit_id"] == 1  # not selected
    with routed.engine.connect() as conn:
        events = conn.execute(
            select(
                ConversationEvent.kind,
                ConversationEvent.unit_from,
                ConversationEvent.unit_to,
                ConversationEvent.person_name,
                ConversationEvent.rule_id,
            ).where(ConversationEvent.conversation_id == 1)
        ).all()
        audit = conn.execute(
            select(AuditEntry.action, AuditEntry.entity_id, AuditEntry.before, AuditEntry.after)
        ).all()
    assert [tuple(e) for e in events] == [("routed", 1, 3, "Sam Super", 1)]
    assert [(a.action, a.entity_id) for a in audit] == [("conversation.routed_again", 1)]
    assert audit[0].before["unit_id"] == 1
    assert audit[0].before["assignee_id"] == AGENT
    assert audit[0].after["unit_id"] == 3


def test_a_hand_over_is_never_undone_and_resolved_ones_stay_unless_asked(
    routed: Database,
) -> None:
    TriageService(routed).hand_over(SUPERVISOR, 2, 2, "Care knows this customer")
    with routed.engine.begin() as conn:
        conn.execute(update(Conversation).where(Conversation.id == 4).values(status="resolved"))
    svc = RoutingService(routed)

    outcome = svc.apply_again(SUPERVISOR, unit_id=1)

    assert [r.conversation_id for r in outcome.rows] == [1]
    assert outcome.kept_hand_overs == 1
    assert conversation(routed, "2")["unit_id"] == 2  # where the person sent it
    assert conversation(routed, "4")["unit_id"] == 1
    again = svc.apply_again(SUPERVISOR, unit_id=1, include_closed=True)
    assert [r.conversation_id for r in again.rows] == [4]


def test_only_a_supervisor_of_both_units_may_and_the_refusal_says_so(routed: Database) -> None:
    svc = RoutingService(routed)
    with pytest.raises(NotAllowed, match="Only a supervisor of Company can apply the routing"):
        svc.preview_again(AGENT, unit_id=1)
    with pytest.raises(NotAllowed, match="Only a supervisor of Company"):
        svc.apply_again(CARE_SUPERVISOR, conversation_ids=[1])
    with routed.engine.begin() as conn:  # Cy's conversation in Care would go to Legal
        conn.execute(update(Conversation).where(Conversation.id == 1).values(unit_id=2))
    with pytest.raises(NotAllowed, match="Only a supervisor of Legal"):
        svc.apply_again(CARE_SUPERVISOR, conversation_ids=[1])
    assert conversation(routed, "1")["unit_id"] == 2  # nothing moved
    with pytest.raises(NotAllowed, match="Nobody with that id"):
        svc.preview_again(999, unit_id=1)


def test_a_request_without_unit_or_conversations_is_refused(routed: Database) -> None:
    with pytest.raises(RoutingAgainError, match="Choose a unit or some conversations"):
        RoutingService(routed).preview_again(SUPERVISOR)
    with pytest.raises(RoutingAgainError, match="no unit #99"):
        RoutingService(routed).preview_again(SUPERVISOR, unit_id=99)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rules=st.lists(
        st.tuples(
            st.sampled_from(["lawyer", "again", "nothing", "said"]), st.sampled_from([1, 2, 3])
        ),
        min_size=1,
        max_size=4,
    ),
    hand=st.sets(st.sampled_from([1, 2, 3, 4])),
)
def test_applying_again_never_undoes_a_hand_over_and_settles(
    routed: Database, rules: list[tuple[str, int]], hand: set[int]
) -> None:
    with routed.engine.begin() as conn:
        conn.execute(delete(RoutingRule))
    for n, (word, unit) in enumerate(rules, start=1):
        add_rule(routed, 100 + n, f"{word} to {unit}", {"words": [word]}, {"route_to_unit": unit})
    triage = TriageService(routed)
    for cid in sorted(hand):
        current = conversation(routed, str(cid))["unit_id"]
        triage.hand_over(SUPERVISOR, cid, 2 if current != 2 else 3, "a person decided")
    with routed.engine.connect() as conn:
        handed = dict(
            conn.execute(
                select(Conversation.id, Conversation.unit_id).where(
                    Conversation.id.in_(
                        select(ConversationEvent.conversation_id).where(
                            ConversationEvent.kind == "handed_over"
                        )
                    )
                )
            )
            .tuples()
            .all()
        )
    svc = RoutingService(routed)

    svc.apply_again(SUPERVISOR, unit_id=1, include_closed=True)

    for cid, unit in handed.items():
        assert conversation(routed, str(cid))["unit_id"] == unit
    assert svc.preview_again(SUPERVISOR, unit_id=1, include_closed=True).rows == ()
