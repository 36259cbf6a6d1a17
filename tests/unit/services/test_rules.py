"""The routing rules service on fakes: permissions, checks, audit entries, order, the preview."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.routing import RuleError
from app.services.access import NotAllowed
from app.services.rules import SAMPLE_TTL_S, RuleChanged, RuleDraft, RulesService
from app.storage.ports import PersonEntry, UnitEntry
from app.storage.rule_store import SampleMessage
from app.storage.rules import RuleRecord
from tests.unit.services.fakes import NOW, Clock, FakeAccount, FakeData, FakeStorage

ADMIN, CARE_ADMIN, AGENT, GONE = 1, 2, 3, 4
ACME, CARE, SALES, TRIAGE = 1, 2, 3, 4
DOING = "Only an administrator of Acme can change the routing rules."


def _storage() -> FakeStorage:
    data = FakeData(organization="Acme")
    data.add_unit(ACME, None, "Acme")
    data.add_unit(CARE, ACME, "Customer Care", 0)
    data.add_unit(SALES, ACME, "Sales", 1)
    data.add_unit(TRIAGE, ACME, "Triage", 2)
    triage = data.units[-1]
    data.units[-1] = UnitEntry(replace(triage.unit, is_triage=True), triage.sort_order)
    data.people = [
        PersonEntry(ADMIN, "Ingrid", "ingrid@x", ""),
        PersonEntry(CARE_ADMIN, "Carla", "carla@x", ""),
        PersonEntry(AGENT, "Tom", "tom@x", ""),
        PersonEntry(GONE, "Gus", "gus@x", ""),
    ]
    data.roles = [(ADMIN, "admin", ACME), (CARE_ADMIN, "admin", CARE), (AGENT, "agent", CARE)]
    data.inactive = {GONE}
    data.accounts[1] = FakeAccount(1, "x", "acme", unit_id=CARE)
    data.accounts[2] = FakeAccount(2, "x", "acme_sales", unit_id=SALES)
    return FakeStorage(data)


@pytest.fixture
def db() -> FakeStorage:
    return _storage()


@pytest.fixture
def service(db: FakeStorage) -> RulesService:
    return RulesService(db, clock=Clock())


def _msg(
    cid: int,
    text: str,
    *,
    unit: int = CARE,
    account: int = 1,
    handed_over: bool = False,
    handle: str = "someone",
) -> SampleMessage:
    return SampleMessage(
        conversation_id=cid,
        message_id=cid * 10,
        account_id=account,
        network="x",
        kind="mention",
        text=text,
        author_external_id=f"a{cid}",
        author_handle=handle,
        author_followers=100,
        author_first_seen=False,
        created_at=NOW - timedelta(minutes=cid),
        unit_id=unit,
        owner_unit_id=CARE if account == 1 else SALES,
        handed_over=handed_over,
    )


def _rules(db: FakeStorage) -> list[RuleRecord]:
    return sorted(db.data.rule_store.rules, key=lambda r: r.position)


# -- permissions ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [AGENT, CARE_ADMIN])
def test_only_an_administrator_of_the_whole_workspace_changes_rules(
    service: RulesService, db: FakeStorage, who: int
) -> None:
    rule_id = service.add(ADMIN, RuleDraft("r", {"words": ["refund"]}, {}))
    audit_before = len(db.data.audit)
    draft = RuleDraft("x", {}, {})
    for call in (
        lambda: service.add(who, draft),
        lambda: service.update(who, rule_id, draft),
        lambda: service.set_enabled(who, rule_id, False),
        lambda: service.move(who, rule_id, 0),
        lambda: service.delete(who, rule_id),
    ):
        with pytest.raises(NotAllowed, match=DOING):
            call()
    assert [r.name for r in _rules(db)] == ["r"]
    assert _rules(db)[0].enabled
    assert len(db.data.audit) == audit_before
    assert not service.decision(who).allowed
    assert service.decision(ADMIN).allowed


def test_a_deactivated_administrator_changes_nothing(
    service: RulesService, db: FakeStorage
) -> None:
    db.data.roles.append((GONE, "admin", ACME))
    with pytest.raises(NotAllowed, match="Gus is deactivated"):
        service.add(GONE, RuleDraft("x", {}, {}))


# -- checks -----------------------------------------------------------------------------------


def test_a_regex_re2_cannot_run_is_refused_with_re2s_reason(
    service: RulesService, db: FakeStorage
) -> None:
    with pytest.raises(RuleError, match=r"cannot be used: invalid escape sequence: \\1") as info:
        service.add(ADMIN, RuleDraft("echo", {"regex": r"(a)\1"}, {}))
    assert info.value.reason == r"invalid escape sequence: \1"
    with pytest.raises(RuleError, match="invalid perl operator: \\(\\?="):
        service.add(ADMIN, RuleDraft("look", {"regex": "refund(?=now)"}, {}))
    assert db.data.rule_store.rules == []
    assert db.data.audit == []
    assert "invalid escape sequence" in service.problem(RuleDraft("e", {"regex": r"(a)\1"}, {}))
    assert service.problem(RuleDraft("ok", {"regex": "order [0-9]{6}"}, {})) == ""


@pytest.mark.parametrize(
    ("conditions", "actions", "said"),
    [
        ({}, {"route_to_unit": 99}, "there is no unit #99 to route to"),
        ({}, {"assign_person": 77}, "nobody with id 77 works here"),
        ({}, {"assign_person": GONE}, "Gus is deactivated and cannot be assigned"),
        ({"accounts": [1, 9]}, {}, "there is no account #9"),
        ({"colour": "red"}, {}, "unknown condition 'colour'"),
        ({"min_followers": "many"}, {}, "min_followers is a whole number"),
        ({"words": []}, {}, "needs at least one word"),
        ({}, {"set_priority": "asap"}, "'asap' is not one of low, normal, high, urgent"),
    ],
)
def test_what_the_engine_cannot_use_is_refused_in_words(
    service: RulesService, db: FakeStorage, conditions: dict, actions: dict, said: str
) -> None:
    with pytest.raises(RuleError, match=said):
        service.add(ADMIN, RuleDraft("r", conditions, actions))
    assert db.data.rule_store.rules == []


def test_a_rule_needs_a_name(service: RulesService, db: FakeStorage) -> None:
    with pytest.raises(RuleError, match="a rule needs a name"):
        service.add(ADMIN, RuleDraft("   ", {}, {}))
    with pytest.raises(RuleError, match="at most 200 characters"):
        service.add(ADMIN, RuleDraft("n" * 201, {}, {}))
    assert db.data.rule_store.rules == []


# -- changes and their audit entries ----------------------------------------------------------


def test_add_stores_the_codecs_form_last_and_audits_it(
    service: RulesService, db: FakeStorage
) -> None:
    first = service.add(ADMIN, RuleDraft("first", {}, {"route_to_unit": SALES}))
    second = service.add(
        ADMIN,
        RuleDraft(
            "  refund   words ",
            {"words": ["refund"], "words_mode": "any", "first_seen_author": False},
            {"add_tag": "refund", "route_to_unit": CARE},
            stop=True,
        ),
    )
    stored = {r.id: r for r in _rules(db)}
    assert [r.id for r in _rules(db)] == [first, second]
    assert stored[second].name == "refund words"
    assert stored[second].conditions == {"words": ["refund"]}  # canonical: defaults dropped
    assert stored[second].actions == {"route_to_unit": CARE, "add_tags": ["refund"]}
    assert stored[second].position == 2
    assert stored[second].stop
    entry = db.data.audit[-1]
    assert (entry.action, entry.entity, entry.entity_id) == (
        "routing_rule.added",
        "routing_rule",
        second,
    )
    assert entry.person_name == "Ingrid"
    assert entry.before is None
    assert entry.after is not None
    assert entry.after["conditions"] == {"words": ["refund"]}
    third = service.add(ADMIN, RuleDraft("third", {}, {}), position=0)
    assert [(r.id, r.position) for r in _rules(db)] == [(third, 1), (first, 2), (second, 3)]


def test_update_audits_before_and_after_and_skips_no_change(
    service: RulesService, db: FakeStorage
) -> None:
    rule_id = service.add(ADMIN, RuleDraft("r", {"words": ["refund"]}, {}))
    read = service.get(rule_id)
    after = service.update(ADMIN, rule_id, RuleDraft("r", {"words": ["refund", "money back"]}, {}))
    assert after.conditions == {"words": ["refund", "money back"]}
    entry = db.data.audit[-1]
    assert entry.action == "routing_rule.changed"
    assert entry.before is not None
    assert entry.after is not None
    assert (entry.before["conditions"], entry.after["conditions"]) == (
        {"words": ["refund"]},
        {"words": ["refund", "money back"]},
    )
    entries = len(db.data.audit)
    service.update(ADMIN, rule_id, RuleDraft("r", {"words": ["refund", "money back"]}, {}))
    assert len(db.data.audit) == entries  # nothing changed, nothing recorded
    with pytest.raises(RuleChanged, match="Someone else changed the rule 'r'"):
        service.update(ADMIN, rule_id, RuleDraft("mine", {}, {}), expected=read)
    assert service.get(rule_id).name == "r"


def test_a_move_by_someone_else_is_not_a_conflict(service: RulesService, db: FakeStorage) -> None:
    a = service.add(ADMIN, RuleDraft("a", {}, {}))
    b = service.add(ADMIN, RuleDraft("b", {}, {}))
    read = service.get(b)
    service.move(ADMIN, b, 0)  # another workstation reorders meanwhile
    service.update(ADMIN, b, RuleDraft("b2", {}, {}), expected=read)
    assert [(r.id, r.name) for r in _rules(db)] == [(b, "b2"), (a, "a")]


def test_enable_and_disable_are_audited(service: RulesService, db: FakeStorage) -> None:
    rule_id = service.add(ADMIN, RuleDraft("r", {}, {}))
    service.set_enabled(ADMIN, rule_id, False)
    assert not service.get(rule_id).enabled
    assert db.data.audit[-1].action == "routing_rule.disabled"
    service.set_enabled(ADMIN, rule_id, False)
    assert db.data.audit[-1].action == "routing_rule.disabled"
    assert len([e for e in db.data.audit if e.action.endswith("abled")]) == 1
    service.set_enabled(ADMIN, rule_id, True)
    assert db.data.audit[-1].action == "routing_rule.enabled"


def test_move_keeps_positions_dense_takes_the_lock_and_audits(
    service: RulesService, db: FakeStorage
) -> None:
    ids = [service.add(ADMIN, RuleDraft(n, {}, {})) for n in "abcd"]
    locks = db.data.rule_store.locks
    order = service.move(ADMIN, ids[3], 1)
    assert [r.id for r in order] == [ids[0], ids[3], ids[1], ids[2]]
    assert [r.position for r in _rules(db)] == [1, 2, 3, 4]
    assert db.data.rule_store.locks == locks + 1
    entry = db.data.audit[-1]
    assert (entry.action, entry.before, entry.after) == (
        "routing_rule.moved",
        {"name": "d", "position": 4},
        {"name": "d", "position": 2},
    )
    entries = len(db.data.audit)
    service.move(ADMIN, ids[3], 1)
    assert len(db.data.audit) == entries
    with pytest.raises(KeyError):
        service.move(ADMIN, 999, 0)


def test_delete_moves_the_later_rules_up(service: RulesService, db: FakeStorage) -> None:
    ids = [service.add(ADMIN, RuleDraft(n, {}, {})) for n in "abc"]
    service.delete(ADMIN, ids[0])
    assert [(r.id, r.position) for r in _rules(db)] == [(ids[1], 1), (ids[2], 2)]
    entry = db.data.audit[-1]
    assert entry.action == "routing_rule.deleted"
    assert entry.before is not None
    assert entry.before["name"] == "a"
    assert entry.after is None
    with pytest.raises(KeyError, match=f"Routing rule #{ids[0]} no longer exists"):
        service.delete(ADMIN, ids[0])


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(-2, 8)), max_size=12))
def test_any_sequence_of_moves_is_a_list_move(moves: list[tuple[int, int]]) -> None:
    db = _storage()
    service = RulesService(db, clock=Clock())
    ids = [service.add(ADMIN, RuleDraft(f"r{i}", {}, {})) for i in range(6)]
    model = list(ids)
    for which, to in moves:
        rule_id = ids[which]
        model.remove(rule_id)
        model.insert(max(0, min(to, len(model))), rule_id)
        service.move(ADMIN, rule_id, to)
    stored = _rules(db)
    assert [r.id for r in stored] == model
    assert [r.position for r in stored] == list(range(1, 7))


# -- in words ---------------------------------------------------------------------------------


def test_each_rule_says_what_it_does(service: RulesService, db: FakeStorage) -> None:
    service.add(
        ADMIN,
        RuleDraft(
            "refunds",
            {"words": ["refund", "money back"], "accounts": [1], "sentiment_below": -0.3},
            {"route_to_unit": CARE, "set_priority": "high", "add_tags": ["refund"]},
            stop=True,
        ),
    )
    service.add(
        ADMIN,
        RuleDraft(
            "nights",
            {"weekdays": ["sat", "sun"], "time_from": "22:00", "time_to": "06:00"},
            {"assign_person": AGENT},
        ),
    )
    db.data.rule_store.rules.append(
        RuleRecord(9, 3, "broken", True, {"regex": "(a)\\1"}, {}, False)
    )
    views = service.rules()
    assert views[0].summary == (
        "When on @acme and the text has any of “refund”, “money back” and sentiment below "
        "-0.30: route to Customer Care, priority high, tag “refund”; then stop"
    )
    assert views[1].summary == "When on Sat, Sun 22:00-06:00: assign Tom"
    assert views[2].problem.startswith("The engine skips this rule: Rule 'broken'")
    assert "invalid escape sequence" in views[2].problem


# -- the preview ------------------------------------------------------------------------------


def test_preview_counts_matches_unit_changes_and_leaves_hand_overs_alone(
    service: RulesService, db: FakeStorage
) -> None:
    db.data.rule_store.sample = [
        _msg(1, "I want a refund for my order"),
        _msg(2, "Refund please, the parcel never came", unit=SALES, account=2),
        _msg(3, "Where is my refund?", handed_over=True, unit=TRIAGE),
        _msg(4, "Love the new scooter"),
        _msg(5, "Do you sell fleets?", unit=SALES, account=2),
    ]
    preview = service.preview(
        RuleDraft("refunds", {"words": ["refund"]}, {"route_to_unit": CARE, "add_tags": ["r"]})
    )
    assert preview.sample_size == 5
    assert preview.matched == 3
    assert [m.conversation_id for m in preview.matches] == [1, 2, 3]
    # 2 moves Sales -> Care; 3 would move Triage -> Care but a person handed it over.
    assert preview.unit_changes == 1
    assert preview.handed_over_kept == 1
    assert preview.edit_changes == 1  # without the rule, 2 stays with its account owner (Sales)
    second = preview.matches[1]
    assert second.moves
    assert second.lands_in == "Customer Care"
    assert second.routed_by == "rule 'refunds'"
    assert second.does == "routed to Customer Care; tagged 'r'"
    assert second.author == "@someone"
    assert preview.summary == (
        "Matches 3 of the last 5 messages. 1 conversation would change unit (1 because of this "
        "edit); 1 handed over by a person stay where they are."
    )


def test_preview_puts_the_edited_rule_in_its_place(service: RulesService, db: FakeStorage) -> None:
    db.data.rule_store.sample = [
        _msg(1, "refund now"),
        _msg(2, "refund my order"),
        _msg(3, "hello"),
    ]
    stopper = service.add(ADMIN, RuleDraft("orders", {"words": ["order"]}, {}, stop=True))
    edited = service.add(ADMIN, RuleDraft("refunds", {"words": ["refund"]}, {}))
    below = service.preview(RuleDraft("refunds", {"words": ["refund"]}, {}), rule_id=edited)
    assert below.matched == 1  # "refund my order" stops at 'orders'
    assert below.alone_matched == 2
    assert below.shadowed == 1
    service.move(ADMIN, stopper, 1)
    above = service.preview(RuleDraft("refunds", {"words": ["refund"]}, {}), rule_id=edited)
    assert above.matched == 2
    first = service.preview(RuleDraft("new", {"words": ["refund"]}, {}), position=0)
    assert first.matched == 2
    last = service.preview(RuleDraft("new", {"words": ["order"]}, {}))
    assert last.matched == 0  # 'orders' stops first
    assert last.shadowed == 1


def test_preview_of_a_rule_that_cannot_run_says_why(service: RulesService, db: FakeStorage) -> None:
    db.data.rule_store.sample = [_msg(1, "refund")]
    preview = service.preview(RuleDraft("bad", {"regex": "(?<=a)b"}, {}))
    assert preview.matched == 0
    assert "cannot be used: invalid perl operator: (?<" in preview.problem
    assert preview.summary == preview.problem


def test_preview_tests_a_switched_off_rule_as_if_on(service: RulesService, db: FakeStorage) -> None:
    db.data.rule_store.sample = [_msg(1, "refund")]
    preview = service.preview(RuleDraft("off", {"words": ["refund"]}, {}, enabled=False))
    assert preview.matched == 1
    assert "switched off" in preview.note


def test_preview_sentiment_is_scored_for_english(service: RulesService, db: FakeStorage) -> None:
    db.data.rule_store.sample = [
        _msg(1, "This is the worst service ever, I am furious"),
        _msg(2, "Thank you so much, wonderful help!"),
    ]
    preview = service.preview(RuleDraft("angry", {"sentiment_below": -0.3}, {}))
    assert [m.conversation_id for m in preview.matches] == [1]


def test_the_sample_is_read_once_until_it_is_old_or_forgotten(db: FakeStorage) -> None:
    now = [0.0]
    service = RulesService(db, clock=Clock(), monotonic=lambda: now[0])
    db.data.rule_store.sample = [_msg(1, "refund")]
    draft = RuleDraft("r", {"words": ["refund"]}, {})
    service.preview(draft)
    service.preview(draft)
    assert db.data.rule_store.samples_read.n == 1
    now[0] = SAMPLE_TTL_S + 1
    service.preview(draft)
    assert db.data.rule_store.samples_read.n == 2
    service.forget_sample()
    service.preview(draft)
    assert db.data.rule_store.samples_read.n == 3


def test_an_empty_workspace_says_there_is_nothing_to_test(service: RulesService) -> None:
    preview = service.preview(RuleDraft("r", {"words": ["refund"]}, {}))
    assert preview.summary == "There are no messages yet to test the rule against."


def test_the_saved_rules_verdicts_follow_a_saved_change(
    service: RulesService, db: FakeStorage
) -> None:
    db.data.rule_store.sample = [_msg(1, "refund please", unit=SALES, account=2)]
    first = service.add(
        ADMIN, RuleDraft("to sales", {"words": ["refund"]}, {"route_to_unit": SALES})
    )
    draft = RuleDraft("to care", {"words": ["refund"]}, {"route_to_unit": CARE})
    assert service.preview(draft).edit_changes == 0  # 'to sales' routes it first either way
    service.delete(ADMIN, first)
    again = service.preview(draft)
    assert again.edit_changes == 1  # without 'to sales' the saved rules leave it with Sales
    assert again.unit_changes == 1
