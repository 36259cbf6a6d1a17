"""The approval engine: rules per unit, account and kind; who counts; the strictest wins."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from app.domain.approval import (
    ApprovalFacts,
    Review,
    Rule,
    applies,
    condition_holds,
    evaluate,
    may_decide,
    required,
    verdict_for,
)
from app.domain.drafts import DraftEvent, can, edit_makes_new_version, outbox_event, transition
from app.domain.enums import ApprovalCondition, Decision, DraftKind, DraftState, Role
from app.domain.permissions import Actor, Grant, Place

# /1/ Acme > /1/2/ Customer Care > /1/2/3/ Orders; /1/4/ Marketing; /1/5/ Legal.
ACME, CARE, ORDERS, MARKETING, LEGAL = (
    Place("/1/", "Acme"),
    Place("/1/2/", "Customer Care"),
    Place("/1/2/3/", "Orders"),
    Place("/1/4/", "Marketing"),
    Place("/1/5/", "Legal"),
)
PLACES = (ACME, CARE, ORDERS, MARKETING, LEGAL)
CARE_X, CARE_FB, BRAND_X = 10, 11, 12
NOW = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)


def person(pid: int, name: str, *grants: tuple[Role, Place], active: bool = True) -> Actor:
    return Actor(pid, name, active, tuple(Grant(r, p.unit_path) for r, p in grants))


ALEX = person(1, "Alex", (Role.AGENT, ORDERS))  # the author
SAM = person(2, "Sam", (Role.SUPERVISOR, CARE))
TESS = person(3, "Tess", (Role.SUPERVISOR, CARE))
OLGA = person(4, "Olga", (Role.SUPERVISOR, ORDERS))
MARK = person(5, "Mark", (Role.SUPERVISOR, MARKETING))
CARL = person(6, "Carl", (Role.SUPERVISOR, ACME))
ADA = person(7, "Ada", (Role.ADMIN, ACME))
LEA = person(8, "Lea", (Role.SUPERVISOR, LEGAL))
DEE = person(9, "Dee", (Role.SUPERVISOR, CARE), active=False)


def facts(**changes: object) -> ApprovalFacts:
    base = ApprovalFacts(
        draft_id=100,
        kind=DraftKind.POST,
        unit=ORDERS,
        author_id=ALEX.person_id,
        version=1,
        account_ids=(CARE_X,),
    )
    return replace(base, **changes)  # type: ignore[arg-type]  # test helper over the fields


def approve(*people: Actor, version: int = 1) -> list[Review]:
    return [Review(p, version, Decision.APPROVED) for p in people]


def decide(
    actor: Actor,
    decision: Decision = Decision.APPROVED,
    *,
    rules: Sequence[Rule],
    draft: ApprovalFacts,
    reviews: Sequence[Review] = (),
    reason: str = "",
    version: int | None = None,
    state: DraftState = DraftState.PENDING_APPROVAL,
) -> tuple[bool, str]:
    answer = may_decide(
        actor,
        decision,
        reason=reason,
        version=draft.version if version is None else version,
        state=state,
        requirement=required(rules, draft),
        facts=draft,
        reviews=reviews,
    )
    return answer.allowed, answer.reason


POSTS_NEED_TWO = Rule(
    1, "posts need two", unit=CARE, draft_kind=DraftKind.POST, required_approvals=2
)


# -- which rules apply -----------------------------------------------------------------------


def test_a_rule_on_a_unit_applies_in_its_sub_units_and_nowhere_else() -> None:
    on_care = Rule(1, "care", unit=CARE)
    assert applies(on_care, facts(unit=ORDERS))  # /1/2/ covers /1/2/3/
    assert applies(on_care, facts(unit=CARE))
    assert not applies(on_care, facts(unit=MARKETING))
    assert not applies(on_care, facts(unit=ACME))  # never upwards
    assert not applies(Rule(2, unit=ORDERS), facts(unit=CARE))
    assert all(applies(Rule(3), facts(unit=p)) for p in PLACES)  # no unit: everywhere


def test_a_sibling_unit_whose_id_starts_the_same_is_not_a_sub_unit() -> None:
    unit_2 = Rule(1, unit=Place("/1/2/", "Care"))
    assert not applies(unit_2, facts(unit=Place("/1/22/", "Care Two")))


def test_a_rule_for_an_account_applies_when_the_draft_goes_to_it() -> None:
    for_care_fb = Rule(1, account_id=CARE_FB)
    assert not applies(for_care_fb, facts(account_ids=(CARE_X,)))
    assert applies(for_care_fb, facts(account_ids=(CARE_X, CARE_FB)))
    assert not applies(for_care_fb, facts(account_ids=()))


def test_a_rule_for_a_kind_applies_to_that_kind_only() -> None:
    replies = Rule(1, draft_kind=DraftKind.REPLY)
    assert applies(replies, facts(kind=DraftKind.REPLY))
    assert not applies(replies, facts(kind=DraftKind.POST))
    assert not applies(replies, facts(kind=DraftKind.DM))


TRIGGERS = [
    (ApprovalCondition.ALWAYS, {}, None),
    (ApprovalCondition.POSTS_ONLY, {"kind": DraftKind.POST}, {"kind": DraftKind.REPLY}),
    (ApprovalCondition.HAS_LINKS, {"has_links": True}, {"has_links": False}),
    (ApprovalCondition.POLICY_WARNS, {"policy_warns": True}, {"policy_warns": False}),
    (ApprovalCondition.NEGATIVE_SENTIMENT, {"sentiment": -0.6}, {"sentiment": 0.4}),
    (ApprovalCondition.NEGATIVE_SENTIMENT, {"sentiment": -0.051}, {"sentiment": -0.05}),
    (ApprovalCondition.NEGATIVE_SENTIMENT, {"sentiment": -1.0}, {"sentiment": None}),
    (ApprovalCondition.NEW_AUTHOR, {"author_is_new": True}, {"author_is_new": False}),
]


@pytest.mark.parametrize(("condition", "holds", "fails"), TRIGGERS)
def test_each_trigger_makes_its_rule_apply_exactly_when_it_holds(
    condition: ApprovalCondition, holds: dict[str, object], fails: dict[str, object] | None
) -> None:
    the_rule = Rule(1, "trigger", condition=condition)
    assert condition_holds(condition, facts(**holds))
    assert required([the_rule], facts(**holds)).needed
    if fails is not None:
        assert not condition_holds(condition, facts(**fails))
        assert not required([the_rule], facts(**fails)).needed


def test_a_trigger_is_named_in_the_reason() -> None:
    links = Rule(4, "links", unit=ACME, condition=ApprovalCondition.HAS_LINKS)
    need = required([links], facts(has_links=True, unit=CARE))
    assert need.reasons == (
        "1 approval from a supervisor of Customer Care (rule 'links': the text has links)",
    )


def test_the_requirement_says_how_many_from_whom_and_by_which_rule() -> None:
    need = required([POSTS_NEED_TWO], facts(unit=CARE))
    assert need.reasons == (
        "2 approvals from a supervisor of Customer Care (rule 'posts need two')",
    )
    assert need.rule_ids == (1,)
    assert need.approvals_needed == 2
    (demand,) = need.demands
    assert (demand.role, demand.unit, demand.count) == (Role.SUPERVISOR, CARE, 2)


def test_without_an_approver_unit_the_drafts_own_unit_is_meant() -> None:
    need = required([POSTS_NEED_TWO], facts(unit=ORDERS))
    assert need.demands[0].unit == ORDERS
    assert need.summary.startswith("2 approvals from a supervisor of Orders")


def test_a_rule_without_a_name_is_named_by_its_id_and_its_account() -> None:
    need = required([Rule(9, account_id=CARE_X, account_name="@acme_care")], facts())
    assert need.reasons == ("1 approval from a supervisor of Orders (rule 9, for @acme_care)",)


def test_no_rule_no_approval_needed() -> None:
    need = required([Rule(1, unit=MARKETING)], facts())
    assert not need.needed
    assert need.approvals_needed == 0
    assert need.reasons == ("No approval rule applies to this draft",)
    verdict = evaluate(need, [], facts())
    assert verdict.approved
    assert verdict.summary == "Approved."


def test_a_rule_asking_for_none_never_lifts_another() -> None:
    free_on_x = Rule(1, "free on X", account_id=CARE_X, account_name="@care", required_approvals=0)
    care = Rule(2, "care", unit=CARE)
    need = required([free_on_x, care], facts())
    assert need.approvals_needed == 1
    assert need.rule_ids == (1, 2)
    assert need.reasons == (
        "1 approval from a supervisor of Orders (rule 'care')",
        "No approval needed (rule 'free on X', for @care)",
    )
    alone = required([free_on_x], facts())
    assert not alone.needed
    assert alone.reasons == ("No approval needed (rule 'free on X', for @care)",)


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="rule 'odd' cannot ask for a negative number"):
        Rule(1, "odd", required_approvals=-1)


# -- the strictest requirement wins ----------------------------------------------------------


def test_over_several_accounts_every_distinct_approver_requirement_must_be_met() -> None:
    care_x = Rule(1, "care X", account_id=CARE_X, required_approvals=2, approver_unit=CARE)
    care_fb = Rule(2, "care FB", account_id=CARE_FB, approver_unit=LEGAL)
    draft = facts(account_ids=(CARE_X, CARE_FB))
    need = required([care_x, care_fb], draft)
    assert need.approvals_needed == 2
    assert [(d.unit, d.count) for d in need.demands] == [(CARE, 2), (LEGAL, 1)]
    two_care = evaluate(need, approve(SAM, TESS), draft)
    assert not two_care.approved
    assert two_care.missing == (
        "1 more approval from a supervisor of Legal (0 of 1 so far; rule 'care FB', for account 11)",
    )
    assert evaluate(need, approve(SAM, TESS, LEA), draft).approved
    # One approval counts towards every demand its giver is eligible for: Carl supervises all.
    assert evaluate(need, approve(CARL, SAM), draft).approved
    assert not evaluate(need, approve(CARL), draft).approved  # still the highest number: 2
    # Only one of the accounts: only its own rule.
    assert required([care_x, care_fb], facts(account_ids=(CARE_FB,))).approvals_needed == 1


def test_rules_asking_the_same_approvers_merge_into_the_highest_count() -> None:
    one = Rule(1, "one", account_id=CARE_X, approver_unit=CARE)
    two = Rule(2, "two", account_id=CARE_FB, approver_unit=CARE, required_approvals=2)
    need = required([two, one], facts(account_ids=(CARE_X, CARE_FB)))
    (demand,) = need.demands
    assert demand.count == 2
    assert demand.rule_ids == (1, 2)
    assert demand.text == (
        "2 approvals from a supervisor of Customer Care (rule 'one', for account 10; rule 'two', "
        "for account 11)"
    )


def test_different_roles_in_one_unit_are_different_requirements() -> None:
    sup = Rule(1, "sup", approver_unit=ACME)
    admin = Rule(2, "admin", approver_unit=ACME, approver_role=Role.ADMIN)
    need = required([sup, admin], facts())
    assert len(need.demands) == 2
    assert not evaluate(need, approve(CARL), facts()).approved
    assert evaluate(need, approve(CARL, ADA), facts()).approved


# -- who counts ------------------------------------------------------------------------------


def test_not_enough_approvals_says_what_is_missing() -> None:
    draft = facts(unit=CARE)
    verdict = evaluate(required([POSTS_NEED_TWO], draft), approve(SAM), draft)
    assert not verdict.approved
    assert verdict.approver_ids == (SAM.person_id,)
    assert verdict.missing == (
        "1 more approval from a supervisor of Customer Care (1 of 2 so far; rule 'posts need two')",
    )
    assert verdict.summary.startswith("Not approved: 1 more approval from a supervisor")
    assert evaluate(required([POSTS_NEED_TWO], draft), approve(SAM, TESS), draft).approved


def test_a_supervisor_above_the_unit_counts_and_one_below_does_not() -> None:
    in_care = facts(unit=CARE)
    need = required([Rule(1)], in_care)
    assert evaluate(need, approve(CARL), in_care).approved  # /1/ is above /1/2/
    verdict = evaluate(need, approve(OLGA), in_care)  # /1/2/3/ is below
    assert not verdict.approved
    assert verdict.not_counted == (
        "Olga's approval does not count: Olga is not a supervisor of Customer Care "
        "(or of a unit above)",
    )
    in_orders = facts(unit=ORDERS)
    assert evaluate(required([Rule(1)], in_orders), approve(OLGA), in_orders).approved


def test_an_approver_unit_names_where_the_role_must_be_held() -> None:
    legal = Rule(1, "legal reads it", approver_unit=LEGAL)
    draft = facts(unit=CARE)
    need = required([legal], draft)
    assert need.reasons == ("1 approval from a supervisor of Legal (rule 'legal reads it')",)
    assert not evaluate(need, approve(SAM), draft).approved  # supervises the draft's unit only
    assert evaluate(need, approve(LEA), draft).approved
    assert evaluate(need, approve(CARL), draft).approved  # above Legal


def test_the_wrong_role_does_not_count_not_even_an_administrator() -> None:
    draft = facts()
    need = required([Rule(1)], draft)
    verdict = evaluate(need, approve(ADA), draft)
    assert not verdict.approved
    assert verdict.not_counted == (
        "Ada's approval does not count: Ada is not a supervisor of Orders (or of a unit above)",
    )
    ok, why = decide(ADA, rules=[Rule(1)], draft=draft)
    assert not ok
    assert why == (
        "Only a supervisor of Orders (or of a unit above) can approve this draft; "
        "Ada holds no such role."
    )


def test_outside_the_unit_does_not_count_and_may_not_decide() -> None:
    draft = facts(unit=CARE)
    assert not evaluate(required([Rule(1)], draft), approve(MARK), draft).approved
    ok, why = decide(MARK, rules=[Rule(1)], draft=draft)
    assert not ok
    assert "a supervisor of Customer Care" in why
    assert "Mark holds no such role" in why


def test_nobody_approves_their_own_draft() -> None:
    boss = person(1, "Alex", (Role.SUPERVISOR, ACME))  # the author, a supervisor too
    draft = facts()
    verdict = evaluate(required([Rule(1)], draft), approve(boss), draft)
    assert not verdict.approved
    assert verdict.approver_ids == ()
    assert verdict.not_counted == ("Alex wrote this draft, and nobody approves their own draft",)
    ok, why = decide(boss, rules=[Rule(1)], draft=draft)
    assert (ok, why) == (False, "Nobody can approve their own draft: Alex wrote this one.")
    ok, why = decide(boss, Decision.REJECTED, rules=[Rule(1)], draft=draft, reason="no")
    assert not ok
    assert why.startswith("Nobody can reject their own draft")


def test_one_person_cannot_give_two_of_the_approvals() -> None:
    draft = facts(unit=CARE)
    need = required([POSTS_NEED_TWO], draft)
    verdict = evaluate(need, approve(SAM, SAM), draft)
    assert not verdict.approved
    assert verdict.approver_ids == (SAM.person_id,)
    assert verdict.not_counted == ("Sam approved twice; one person is one approval",)
    ok, why = decide(SAM, rules=[POSTS_NEED_TWO], draft=draft, reviews=approve(SAM))
    assert not ok
    assert why == ("Sam has already approved version 1; one person gives one decision per version.")


def test_an_approval_counts_only_for_its_version() -> None:
    edited = facts(unit=CARE, version=2)
    need = required([Rule(1)], edited)
    verdict = evaluate(need, approve(SAM, version=1), edited)
    assert not verdict.approved
    assert verdict.not_counted == ("Sam's approval was for version 1; the draft is at version 2",)
    assert evaluate(need, approve(SAM, version=2), edited).approved
    # A decision on the old version does not stop a decision on the new one ...
    assert decide(SAM, rules=[Rule(1)], draft=edited, reviews=approve(SAM, version=1))[0]
    # ... but approving the stale version does not happen.
    ok, why = decide(SAM, rules=[Rule(1)], draft=edited, version=1)
    assert not ok
    assert why.startswith("Version 1 is no longer current: the draft was edited")


def test_a_deactivated_persons_approval_no_longer_counts() -> None:
    draft = facts(unit=CARE)
    verdict = evaluate(required([Rule(1)], draft), approve(DEE), draft)
    assert not verdict.approved
    assert verdict.not_counted == ("Dee's approval no longer counts: Dee is deactivated",)
    ok, why = decide(DEE, rules=[Rule(1)], draft=draft)
    assert (ok, why) == (False, "Dee is deactivated and can no longer act in this workspace.")


def test_an_approver_who_lost_the_role_no_longer_counts() -> None:
    draft = facts(unit=CARE)
    sam_now = person(2, "Sam", (Role.AGENT, CARE))
    assert evaluate(required([Rule(1)], draft), approve(SAM), draft).approved
    assert not evaluate(required([Rule(1)], draft), approve(sam_now), draft).approved


def test_a_rejection_or_a_request_for_changes_needs_a_reason_and_blocks() -> None:
    draft = facts(unit=CARE)
    for decision, word in [
        (Decision.REJECTED, "A rejection"),
        (Decision.CHANGES_REQUESTED, "A request for changes"),
    ]:
        for blank in ("", "   \n"):
            ok, why = decide(SAM, decision, rules=[Rule(1)], draft=draft, reason=blank)
            assert not ok
            assert why.startswith(f"{word} needs a reason")
        assert decide(SAM, decision, rules=[Rule(1)], draft=draft, reason="Off-brand.")[0]
    reviews = [*approve(TESS), Review(SAM, 1, Decision.REJECTED, "Off-brand.")]
    verdict = evaluate(required([Rule(1)], draft), reviews, draft)
    assert not verdict.approved
    assert verdict.blocked_by == ("Sam rejected version 1: Off-brand.",)
    assert verdict.summary == "Not approved: Sam rejected version 1: Off-brand."
    changes = [Review(SAM, 1, Decision.CHANGES_REQUESTED, "Add the link.")]
    assert evaluate(required([], draft), changes, draft).missing == (
        "Sam asked for changes to version 1: Add the link.",
    )
    # A rejection of an older version does not block the new one.
    v2 = facts(unit=CARE, version=2)
    old_no = [Review(SAM, 1, Decision.REJECTED, "Off-brand."), *approve(TESS, version=2)]
    assert evaluate(required([Rule(1)], v2), old_no, v2).approved


def test_decisions_are_taken_while_the_draft_waits_for_approval() -> None:
    draft = facts(unit=CARE)
    ok, why = decide(SAM, rules=[Rule(1)], draft=draft, state=DraftState.APPROVED)
    assert (ok, why) == (
        False,
        "Only a draft waiting for approval can be decided on; this one is approved.",
    )
    ok, why = decide(SAM, rules=[], draft=draft)
    assert (ok, why) == (False, "This draft needs no approval under the rules in force.")
    assert decide(SAM, rules=[Rule(1)], draft=draft) == (True, "")


def test_a_rule_that_changed_between_approval_and_publishing() -> None:
    draft = facts(unit=CARE)
    given_under = [Rule(1, "one")]
    reviews = approve(SAM)
    assert verdict_for(given_under, reviews, draft).approved  # on submit
    stricter = [Rule(1, "one", required_approvals=2)]
    at_publish = verdict_for(stricter, reviews, draft)
    assert not at_publish.approved
    assert at_publish.missing == (
        "1 more approval from a supervisor of Customer Care (1 of 2 so far; rule 'one')",
    )
    elsewhere = [Rule(1, "one", approver_unit=LEGAL)]
    assert not verdict_for(elsewhere, reviews, draft).approved  # Sam no longer the approver
    new_rule = [*given_under, Rule(2, "links", condition=ApprovalCondition.HAS_LINKS)]
    assert verdict_for(new_rule, reviews, draft).approved  # not triggered
    assert verdict_for(new_rule, reviews, replace(draft, has_links=True)).approved  # same demand
    relaxed = [Rule(1, "one", required_approvals=0)]
    assert verdict_for(relaxed, [], draft).approved


# -- properties ------------------------------------------------------------------------------

PATHS = [p.unit_path for p in PLACES]
BY_PATH = {p.unit_path: p for p in PLACES}
ACCOUNTS = (CARE_X, CARE_FB, BRAND_X)
# Mostly supervisors, as rules mostly ask them: otherwise few random people could ever decide.
ROLES_ST = st.sampled_from([Role.SUPERVISOR] * 3 + list(Role))
CONDITIONS_ST = st.sampled_from([ApprovalCondition.ALWAYS] * 3 + list(ApprovalCondition))
ACTIVE_ST = st.sampled_from([True, True, True, False])

rules_st = st.builds(
    Rule,
    id=st.integers(1, 50),
    name=st.sampled_from(["", "r"]),
    unit=st.none() | st.sampled_from(PLACES),
    account_id=st.none() | st.sampled_from(ACCOUNTS),
    draft_kind=st.none() | st.sampled_from(list(DraftKind)),
    condition=CONDITIONS_ST,
    required_approvals=st.sampled_from([0, 1, 1, 2, 2, 3]),
    approver_role=ROLES_ST,
    approver_unit=st.none() | st.sampled_from(PLACES),
)
grants_st = st.lists(st.builds(Grant, ROLES_ST, st.sampled_from(PATHS)), max_size=3).map(tuple)
facts_st = st.builds(
    ApprovalFacts,
    draft_id=st.just(100),
    kind=st.sampled_from(list(DraftKind)),
    unit=st.sampled_from(PLACES),
    author_id=st.just(1),
    version=st.integers(1, 3),
    account_ids=st.lists(st.sampled_from(ACCOUNTS), min_size=1, max_size=3, unique=True).map(tuple),
    has_links=st.booleans(),
    policy_warns=st.booleans(),
    sentiment=st.none() | st.floats(-1, 1),
    author_is_new=st.booleans(),
)
people_st = st.tuples(
    *(st.builds(Actor, st.just(i), st.just(f"P{i}"), ACTIVE_ST, grants_st) for i in range(1, 7))
)


def rule_applies_by_hand(r: Rule, f: ApprovalFacts) -> bool:
    """The rule test, written out again without the engine."""
    if r.unit is not None and not f.unit.unit_path.startswith(r.unit.unit_path):
        return False
    if r.account_id is not None and r.account_id not in f.account_ids:
        return False
    if r.draft_kind is not None and r.draft_kind != f.kind:
        return False
    return {
        ApprovalCondition.ALWAYS: True,
        ApprovalCondition.POSTS_ONLY: f.kind == DraftKind.POST,
        ApprovalCondition.HAS_LINKS: f.has_links,
        ApprovalCondition.POLICY_WARNS: f.policy_warns,
        ApprovalCondition.NEGATIVE_SENTIMENT: f.sentiment is not None and f.sentiment < -0.05,
        ApprovalCondition.NEW_AUTHOR: f.author_is_new,
    }[r.condition]


def satisfied_by_hand(rules: Iterable[Rule], reviews: Iterable[Review], f: ApprovalFacts) -> bool:
    """The invariant: every applying rule has its count of distinct eligible non-authors who
    approved the current version, and nobody rejected or asked changes for that version."""
    current = [r for r in reviews if r.version == f.version]
    if any(r.decision != Decision.APPROVED for r in current):
        return False
    approvers = {r.person.person_id: r.person for r in current}
    approvers = {pid: p for pid, p in approvers.items() if pid != f.author_id and p.active}
    for r in rules:
        if not rule_applies_by_hand(r, f):
            continue
        where = (r.approver_unit or f.unit).unit_path
        n = sum(
            1
            for p in approvers.values()
            if any(g.role == r.approver_role and where.startswith(g.unit_path) for g in p.grants)
        )
        if n < r.required_approvals:
            return False
    return True


reviews_st = st.lists(
    st.tuples(
        st.integers(0, 5),
        st.integers(1, 3),
        st.sampled_from(list(Decision)),
    ),
    max_size=8,
)


@given(st.lists(rules_st, max_size=6), facts_st, people_st, reviews_st)
def test_approved_exactly_when_every_applying_rule_is_satisfied(
    rules: list[Rule],
    f: ApprovalFacts,
    people: tuple[Actor, ...],
    raw: list[tuple[int, int, Decision]],
) -> None:
    reviews = [Review(people[i], v, d, "why") for i, v, d in raw]
    verdict = verdict_for(rules, reviews, f)
    assert verdict.approved == satisfied_by_hand(rules, reviews, f)
    assert (verdict.summary == "Approved.") == verdict.approved
    assert bool(verdict.missing) != verdict.approved  # a refusal always says why
    assert f.author_id not in verdict.approver_ids


@given(st.lists(rules_st, max_size=6), facts_st)
def test_the_requirement_is_the_highest_count_of_any_applying_rule(
    rules: list[Rule], f: ApprovalFacts
) -> None:
    need = required(rules, f)
    counts = [r.required_approvals for r in rules if rule_applies_by_hand(r, f)]
    assert need.approvals_needed == max(counts, default=0)
    assert set(need.rule_ids) == {r.id for r in rules if rule_applies_by_hand(r, f)}
    assert need.reasons  # always something to show


@given(st.lists(rules_st, max_size=6), facts_st, people_st, reviews_st, st.integers(0, 5))
def test_one_more_approval_never_takes_an_approval_away(
    rules: list[Rule],
    f: ApprovalFacts,
    people: tuple[Actor, ...],
    raw: list[tuple[int, int, Decision]],
    extra: int,
) -> None:
    reviews = [Review(people[i], v, d, "why") for i, v, d in raw]
    if verdict_for(rules, reviews, f).approved:
        more = [*reviews, Review(people[extra], f.version, Decision.APPROVED)]
        assert verdict_for(rules, more, f).approved


@given(st.lists(rules_st, max_size=6), facts_st, people_st, st.integers(0, 5))
def test_whoever_may_approve_is_counted_once_they_do(
    rules: list[Rule], f: ApprovalFacts, people: tuple[Actor, ...], who: int
) -> None:
    need = required(rules, f)
    actor = people[who]
    answer = may_decide(
        actor,
        Decision.APPROVED,
        reason="",
        version=f.version,
        state=DraftState.PENDING_APPROVAL,
        requirement=need,
        facts=f,
        reviews=(),
    )
    assert (answer.reason == "") == answer.allowed
    if answer.allowed:
        assert actor.active
        assert actor.person_id != f.author_id
        verdict = evaluate(need, approve(actor, version=f.version), f)
        assert verdict.approver_ids == (actor.person_id,)
        assert not verdict.not_counted


# -- the stateful model: drafts, approvals, edits, rule and role changes --------------------


AUTHOR_EVENTS = (
    DraftEvent.SUBMIT,
    DraftEvent.EDIT,
    DraftEvent.WITHDRAW,
    DraftEvent.SCHEDULE,
    DraftEvent.UNSCHEDULE,
    DraftEvent.RETRY,
)


class ApprovalMachine(RuleBasedStateMachine):
    """One draft through submit, decisions, edits, withdrawals, rule changes and publishing.

    Stored decisions keep only the person's id (as the ``approvals`` table does); each check
    reads the people as they are at that moment, as the service would.
    """

    def __init__(self) -> None:
        super().__init__()
        self.rules: dict[int, Rule] = {}
        self.people: dict[int, Actor] = {}
        self.stored: list[tuple[int, int, Decision]] = []
        self.state = DraftState.DRAFT
        self.facts = facts()
        self.published_versions: list[int] = []

    @initialize(people=people_st, f=facts_st, rules=st.lists(rules_st, min_size=1, max_size=3))
    def start(self, people: tuple[Actor, ...], f: ApprovalFacts, rules: list[Rule]) -> None:
        self.people = {p.person_id: p for p in people}
        self.facts = replace(f, version=1)
        self.rules = {r.id: r for r in rules}

    # -- helpers ---------------------------------------------------------------------------

    def reviews(self) -> list[Review]:
        return [Review(self.people[pid], v, d, "why") for pid, v, d in self.stored]

    def verdict(self) -> bool:
        return verdict_for(self.rules.values(), self.reviews(), self.facts).approved

    def fire(self, event: DraftEvent) -> None:
        self.state = transition(self.state, event)

    # -- the world changes -----------------------------------------------------------------

    @rule(data=st.data(), put=st.none() | rules_st)
    def change_rules(self, data: st.DataObject, put: Rule | None) -> None:
        """A rule added or replaced, or (``None``) one removed."""
        if put is not None:
            self.rules[put.id] = put
        elif self.rules:
            del self.rules[data.draw(st.sampled_from(sorted(self.rules)))]

    @rule(who=st.integers(1, 6), active=ACTIVE_ST, grants=grants_st)
    def change_person(self, who: int, active: bool, grants: tuple[Grant, ...]) -> None:
        self.people[who] = Actor(who, f"P{who}", active, grants)

    @rule(who=st.sampled_from([1, 1, 2, 3, 4, 5, 6]), version_back=st.integers(0, 2))
    def approval_from_the_past(self, who: int, version_back: int) -> None:
        """An approval stored earlier, under other rules, roles or versions (the author's too)."""
        version = self.facts.version - version_back
        if version >= 1:
            self.stored.append((who, version, Decision.APPROVED))

    # -- the author ------------------------------------------------------------------------

    @precondition(lambda self: any(can(self.state, e) for e in AUTHOR_EVENTS))
    @rule(data=st.data(), links=st.booleans(), sentiment=st.none() | st.floats(-1, 1))
    def author_acts(self, data: st.DataObject, links: bool, sentiment: float | None) -> None:
        """Submit, edit (new signals with the new text), withdraw, (un)schedule or retry."""
        event = data.draw(st.sampled_from([e for e in AUTHOR_EVENTS if can(self.state, e)]))
        if event is DraftEvent.EDIT:
            decided = any(v == self.facts.version for _, v, _ in self.stored)
            new = edit_makes_new_version(self.state, version_decided=decided)
            self.facts = replace(
                self.facts,
                version=self.facts.version + new,
                has_links=links,
                policy_warns=not links,
                sentiment=sentiment,
            )
        self.fire(event)
        if event is DraftEvent.SUBMIT and self.verdict():
            self.fire(DraftEvent.APPROVE)

    # -- the approvers ---------------------------------------------------------------------

    @rule(
        who=st.integers(1, 6),
        decision=st.sampled_from(list(Decision)),
        stale=st.sampled_from([False, False, True]),
        reason=st.sampled_from(["", "  ", "Off-brand."]),
    )
    def decide(self, who: int, decision: Decision, stale: bool, reason: str) -> None:
        self.try_decision(who, decision, self.facts.version - stale, reason)

    @precondition(lambda self: self.state is DraftState.PENDING_APPROVAL)
    @rule(
        data=st.data(),
        decision=st.sampled_from([Decision.APPROVED] * 4 + list(Decision)),
        reason=st.sampled_from(["", "Off-brand."]),
    )
    def someone_given_the_role_decides(
        self, data: st.DataObject, decision: Decision, reason: str
    ) -> None:
        """Gives a non-author the role one demand asks for (if need be), then they decide."""
        need = required(self.rules.values(), self.facts)
        if not need.demands:
            return
        demand = data.draw(st.sampled_from(need.demands))
        who = data.draw(st.integers(2, 6))
        p = self.people[who]
        grant = Grant(demand.role, demand.unit.unit_path)
        self.people[who] = Actor(who, p.name, True, (*p.grants, grant))
        self.try_decision(who, decision, self.facts.version, reason)

    def try_decision(self, who: int, decision: Decision, version: int, reason: str) -> None:
        actor = self.people[who]
        need = required(self.rules.values(), self.facts)
        answer = may_decide(
            actor,
            decision,
            reason=reason,
            version=version,
            state=self.state,
            requirement=need,
            facts=self.facts,
            reviews=self.reviews(),
        )
        if not answer.allowed:
            assert answer.reason
            return
        # What an allowed decision always is:
        assert actor.active
        assert who != self.facts.author_id
        assert self.state is DraftState.PENDING_APPROVAL
        assert version == self.facts.version
        assert decision is Decision.APPROVED or reason.strip()
        assert all(not (pid == who and v == version) for pid, v, _ in self.stored)
        self.stored.append((who, version, decision))
        if decision is Decision.REJECTED:
            self.fire(DraftEvent.REJECT)
        elif decision is Decision.CHANGES_REQUESTED:
            self.fire(DraftEvent.REQUEST_CHANGES)
        elif self.verdict():
            self.fire(DraftEvent.APPROVE)

    # -- the outbox and the publisher ------------------------------------------------------

    @precondition(
        lambda self: (
            self.state
            in (
                DraftState.PENDING_APPROVAL,
                DraftState.APPROVED,
                DraftState.SCHEDULED,
                DraftState.PUBLISHING,
            )
        )
    )
    @rule(minutes_to_go=st.none() | st.integers(-10, 30), ok=st.booleans())
    def outbox_runs(self, minutes_to_go: int | None, ok: bool) -> None:
        """Just before publishing, the check again with the rules in force now; then the network."""
        if self.state is DraftState.PUBLISHING:
            if ok:
                self.published_versions.append(self.facts.version)
            self.fire(DraftEvent.PUBLISHED if ok else DraftEvent.FAILED)
            return
        at = None if minutes_to_go is None else NOW + timedelta(minutes=minutes_to_go)
        event = outbox_event(self.state, approved=self.verdict(), schedule_at=at, now=NOW)
        if event is DraftEvent.START_PUBLISHING:
            assert satisfied_by_hand(self.rules.values(), self.reviews(), self.facts)
        if event is not None:
            self.fire(event)

    # -- what must always hold -------------------------------------------------------------

    @invariant()
    def publishable_only_when_the_current_rules_are_satisfied(self) -> None:
        assert self.verdict() == satisfied_by_hand(self.rules.values(), self.reviews(), self.facts)

    @invariant()
    def published_at_most_once(self) -> None:
        assert len(self.published_versions) <= 1


ApprovalMachine.TestCase.settings = settings(
    max_examples=100, stateful_step_count=50, deadline=None
)
TestApprovalMachine = ApprovalMachine.TestCase
