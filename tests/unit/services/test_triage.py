"""Triage use cases on fakes: permissions, one event and one audit entry per change, refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.enums import ConversationEventKind, ConversationStatus
from app.services.triage import NotAllowed, TriageError, TriageService, ago
from app.storage.ports import PersonEntry
from tests.unit.services.fakes import (
    NOW,
    Clock,
    FakeConversation,
    FakeData,
    FakeStorage,
)
from tests.unit.services.fakes_triage import set_extra

AISHA, BEN, CARLA, DEE, ADMIN = 1, 2, 3, 4, 5
ACME, CARE, ORDERS, SALES = 1, 2, 3, 4
CONV = 10
RULE = 7


@pytest.fixture
def storage() -> FakeStorage:
    data = FakeData(organization="Acme")
    data.add_unit(ACME, None, "Acme")
    data.add_unit(CARE, ACME, "Customer Care")
    data.add_unit(ORDERS, CARE, "Orders")
    data.add_unit(SALES, ACME, "Sales")
    data.people = [
        PersonEntry(AISHA, "Aisha Bello", "aisha@x", ""),
        PersonEntry(BEN, "Ben Ode", "ben@x", ""),
        PersonEntry(CARLA, "Carla Sales", "carla@x", ""),
        PersonEntry(DEE, "Dee Gone", "dee@x", ""),
        PersonEntry(ADMIN, "Ingrid Admin", "ingrid@x", ""),
    ]
    data.roles = [
        (AISHA, "agent", CARE),
        (BEN, "agent", ORDERS),
        (CARLA, "agent", SALES),
        (DEE, "agent", CARE),
        (ADMIN, "admin", ACME),
    ]
    data.inactive = {DEE}
    data.conversations = [FakeConversation(CONV, 1, ORDERS, "t10")]
    set_extra(data, CONV, rule_id=RULE)
    return FakeStorage(data)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def triage(storage: FakeStorage, clock: Clock) -> TriageService:
    return TriageService(storage, clock=clock)


def kinds(storage: FakeStorage) -> list[str]:
    return [e.kind for e in storage.data.triage.events]


def test_a_claim_takes_it_once_and_the_loser_is_told_who_and_since_when(
    storage: FakeStorage, triage: TriageService, clock: Clock
) -> None:
    won = triage.claim(AISHA, CONV)
    assert won.won
    assert won.holder is not None
    assert won.holder.person_id == AISHA
    clock.advance(180)
    lost = triage.claim(BEN, CONV)
    assert not lost.won
    assert lost.message == "Aisha Bello claimed it 3 minutes ago."
    assert storage.data.triage.extra[CONV].assignee_id == AISHA
    assert storage.data.triage.extra[CONV].claimed_at == NOW
    assert kinds(storage) == ["claimed"]
    assert [a.action for a in storage.data.audit] == ["conversation.claim"]
    assert storage.data.audit[0].person_name == "Aisha Bello"
    again = triage.claim(AISHA, CONV)
    assert again.won
    assert len(storage.history) == 1


def test_refusals_name_what_is_missing(storage: FakeStorage, triage: TriageService) -> None:
    with pytest.raises(NotAllowed, match="Orders"):
        triage.claim(CARLA, CONV)  # a Sales agent
    with pytest.raises(NotAllowed, match="deactivated"):
        triage.claim(DEE, CONV)
    with pytest.raises(TriageError, match="does not exist"):
        triage.claim(AISHA, 999)
    assert storage.history == []


def test_assign_needs_an_active_assignee_with_a_role_there_or_above(
    storage: FakeStorage, triage: TriageService
) -> None:
    with pytest.raises(TriageError, match="deactivated"):
        triage.assign(ADMIN, CONV, DEE)
    with pytest.raises(TriageError, match="Orders"):
        triage.assign(ADMIN, CONV, CARLA)
    assert triage.assign(ADMIN, CONV, AISHA) == CONV  # a role in Customer Care, above Orders
    assert triage.assign(ADMIN, CONV, BEN) == CONV
    assert triage.unassign(ADMIN, CONV) == CONV
    assert storage.data.triage.extra[CONV].assignee_id is None
    assert kinds(storage) == ["assigned", "assigned", "unassigned"]
    assert [a.action for a in storage.data.audit][-1] == "conversation.unassign"
    assert storage.data.audit[1].before == {"unit_id": ORDERS, "assignee_id": AISHA}


def test_hand_over_keeps_the_rule_and_the_reason_and_clears_the_assignee(
    storage: FakeStorage, triage: TriageService
) -> None:
    triage.claim(BEN, CONV)
    with pytest.raises(TriageError, match="reason"):
        triage.hand_over(BEN, CONV, SALES, "  ")
    assert triage.hand_over(BEN, CONV, SALES, "asks for a quote", "Customer wants 40 bikes") == CONV
    c = storage.data.conversations[0]
    assert (c.unit_id, c.status) == (SALES, ConversationStatus.OPEN)
    assert storage.data.triage.extra[CONV].assignee_id is None
    event = storage.data.triage.events[-1]
    assert event.kind == ConversationEventKind.HANDED_OVER
    assert (event.unit_from, event.unit_to, event.rule_id) == (ORDERS, SALES, RULE)
    assert event.reason == "asks for a quote"
    assert storage.data.triage.notes[0].text == "Customer wants 40 bikes"
    assert storage.data.audit[-1].after is not None
    assert storage.data.audit[-1].after["unit_id"] == SALES
    with pytest.raises(NotAllowed):  # Ben has no role in Sales any more than before
        triage.hand_over(BEN, CONV, ORDERS, "back")


def test_hand_over_keeps_resolved_and_spam(storage: FakeStorage, triage: TriageService) -> None:
    triage.resolve(AISHA, CONV)
    triage.hand_over(AISHA, CONV, CARE, "filed")
    assert storage.data.conversations[0].status == ConversationStatus.RESOLVED
    with pytest.raises(TriageError, match="already"):
        triage.hand_over(AISHA, CONV, CARE, "again")


def test_resolve_stamps_resolved_at_and_reopen_clears_it(
    storage: FakeStorage, triage: TriageService, clock: Clock
) -> None:
    triage.resolve(AISHA, CONV)
    assert storage.data.triage.extra[CONV].resolved_at == NOW
    clock.advance(60)
    triage.reopen(AISHA, CONV)
    assert storage.data.conversations[0].status == ConversationStatus.OPEN
    assert storage.data.triage.extra[CONV].resolved_at is None
    triage.reopen(AISHA, CONV)  # already open: nothing written
    with pytest.raises(TriageError, match="not a status"):
        triage.set_status(AISHA, CONV, "new")
    events = storage.data.triage.events
    assert [(e.before, e.after) for e in events] == [
        ({"status": "new"}, {"status": "resolved"}),
        ({"status": "resolved"}, {"status": "open"}),
    ]
    assert len(storage.data.audit) == 2


def test_priority_tags_and_notes(storage: FakeStorage, triage: TriageService) -> None:
    triage.set_priority(AISHA, CONV, "urgent")
    with pytest.raises(TriageError, match="priority"):
        triage.set_priority(AISHA, CONV, "whenever")
    triage.add_tag(AISHA, CONV, "  refund  ")
    triage.add_tag(AISHA, CONV, "refund")  # already there: nothing written
    triage.remove_tag(AISHA, CONV, "refund")
    with pytest.raises(TriageError, match="empty"):
        triage.add_note(AISHA, CONV, " \n ")
    with pytest.raises(TriageError, match="10,000"):
        triage.add_note(AISHA, CONV, "x" * 10_001)
    triage.add_note(AISHA, CONV, "<b>not bold</b>")
    assert triage.notes(CONV)[0].text == "<b>not bold</b>"
    assert kinds(storage) == ["priority", "tagged", "untagged", "note"]
    assert [e.event.kind for e in triage.history(CONV)] == kinds(storage)
    assert len(storage.data.audit) == 4
    with pytest.raises(NotAllowed):
        triage.add_note(CARLA, CONV, "hello")


def test_ago_reads_as_a_person_says_it() -> None:
    assert ago(NOW, NOW + timedelta(seconds=20)) == "just now"
    assert ago(NOW, NOW + timedelta(minutes=1)) == "1 minute ago"
    assert ago(NOW, NOW + timedelta(hours=5, minutes=3)) == "5 hours ago"
    assert ago(NOW, NOW + timedelta(days=2)) == "2 days ago"


def test_the_newest_migration_allows_exactly_the_event_kinds_of_the_enum() -> None:
    import importlib

    from app.models.base import one_of

    older = importlib.import_module("app.storage.migrations.versions.v0004_triage")
    newest = importlib.import_module("app.storage.migrations.versions.v0005_routing_spam_views")
    assert one_of("kind", ConversationEventKind) == newest._KINDS
    assert newest._KINDS_0004 == older._KINDS  # the downgrade restores what 0004 made


AUTHOR = 42


def test_spam_sets_the_status_and_teaches_the_author_list(
    storage: FakeStorage, triage: TriageService
) -> None:
    set_extra(storage.data, CONV, author_id=AUTHOR)
    triage.resolve(AISHA, CONV)
    assert triage.mark_spam(AISHA, CONV) == CONV
    assert storage.data.conversations[0].status == ConversationStatus.SPAM
    assert storage.data.triage.extra[CONV].resolved_at is None
    assert storage.data.triage.spammers[AUTHOR] is True
    event = storage.data.triage.events[-1]
    assert event.kind == ConversationEventKind.SPAM_VERDICT
    assert event.before == {"status": "resolved", "author_spammer": False}
    assert event.after == {
        "verdict": "spam",
        "status": "spam",
        "author_id": AUTHOR,
        "author_spammer": True,
    }
    assert storage.data.audit[-1].action == "conversation.spam"
    assert triage.details(CONV).author_is_spammer
    before = len(storage.history)
    triage.mark_spam(AISHA, CONV)  # already spam, author already listed: nothing written
    assert len(storage.history) == before


def test_not_spam_reopens_and_clears_the_author(
    storage: FakeStorage, triage: TriageService
) -> None:
    set_extra(storage.data, CONV, author_id=AUTHOR)
    triage.mark_spam(AISHA, CONV)
    assert triage.not_spam(AISHA, CONV) == CONV
    assert storage.data.conversations[0].status == ConversationStatus.OPEN
    assert storage.data.triage.spammers[AUTHOR] is False
    assert kinds(storage) == ["spam_verdict", "spam_verdict"]
    assert storage.data.triage.events[-1].after is not None
    assert storage.data.triage.events[-1].after["verdict"] == "not_spam"
    assert [a.action for a in storage.data.audit] == ["conversation.spam", "conversation.not_spam"]
    assert not triage.details(CONV).author_is_spammer


def test_not_spam_on_a_conversation_that_is_not_spam_keeps_its_status(
    storage: FakeStorage, triage: TriageService
) -> None:
    set_extra(storage.data, CONV, author_id=AUTHOR)
    storage.data.triage.spammers[AUTHOR] = True  # flagged by an earlier verdict elsewhere
    triage.set_status(AISHA, CONV, "waiting")
    triage.not_spam(AISHA, CONV)
    assert storage.data.conversations[0].status == ConversationStatus.WAITING
    assert storage.data.triage.spammers[AUTHOR] is False
    before = len(storage.history)
    triage.not_spam(AISHA, CONV)  # nothing left to change
    assert len(storage.history) == before


def test_a_verdict_without_an_author_still_sets_the_status(
    storage: FakeStorage, triage: TriageService
) -> None:
    triage.mark_spam(AISHA, CONV)
    assert storage.data.conversations[0].status == ConversationStatus.SPAM
    assert storage.data.triage.spammers == {}
    assert storage.data.triage.events[-1].after is not None
    assert storage.data.triage.events[-1].after["author_id"] is None


def test_verdicts_need_the_right_to_work_there(storage: FakeStorage, triage: TriageService) -> None:
    set_extra(storage.data, CONV, author_id=AUTHOR)
    with pytest.raises(NotAllowed, match="Orders"):
        triage.mark_spam(CARLA, CONV)
    with pytest.raises(NotAllowed, match="deactivated"):
        triage.not_spam(DEE, CONV)
    with pytest.raises(TriageError, match="does not exist"):
        triage.mark_spam(AISHA, 999)
    assert storage.history == []


def test_details_gather_holder_tags_history_and_notes(
    storage: FakeStorage, triage: TriageService, clock: Clock
) -> None:
    triage.claim(AISHA, CONV)
    triage.add_tag(AISHA, CONV, "refund")
    triage.add_note(AISHA, CONV, "called")
    clock.advance(720)
    details = triage.details(CONV)
    assert details.holder is not None
    assert details.holder.text(clock.now) == "Aisha Bello claimed it 12 minutes ago"
    assert details.tags == ("refund",)
    assert [e.event.kind for e in details.history] == ["claimed", "tagged", "note"]
    assert [n.text for n in details.notes] == ["called"]
    assert triage.tag_names() == ["refund"]
    with pytest.raises(TriageError, match="does not exist"):
        triage.details(999)
