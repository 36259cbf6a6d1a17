"""Drafts and approvals on fakes: every rule, every refusal, one audit entry per change."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.drafts import DraftEvent
from app.domain.enums import DraftState, Network, PolicyKind, Role, ThreadType
from app.domain.policy import PolicyLine, Scope
from app.services.drafts import DraftError, DraftsService, NotAllowed, PolicyBlocked
from app.storage.ports import PersonEntry
from tests.unit.services.fakes import (
    NOW,
    Clock,
    FakeAccount,
    FakeConversation,
    FakeData,
    FakeStorage,
)
from tests.unit.services.fakes_drafts import FakeApprovalRule

ACME, CARE, ORDERS, MARKETING, LEGAL = 1, 2, 3, 4, 5
AISHA, BEN, PRIYA, MARCUS, OMAR, EMMA, JAMAL, INGRID, DEE, LOWE = range(1, 11)
SBX, XHELP, PAGE = 1, 2, 3
CONV, DM_CONV, OTHER_CONV = 10, 11, 12
MSG = 100
GOAL = 7


@pytest.fixture
def storage() -> FakeStorage:
    data = FakeData(organization="Acme")
    data.add_unit(ACME, None, "Acme")
    data.add_unit(CARE, ACME, "Customer Care")
    data.add_unit(ORDERS, CARE, "Orders")
    data.add_unit(MARKETING, ACME, "Marketing")
    data.add_unit(LEGAL, ACME, "Legal")
    names = {
        AISHA: "Aisha Bello", BEN: "Ben Ode", PRIYA: "Priya Raman", MARCUS: "Marcus Kelly",
        OMAR: "Omar Haddad", EMMA: "Emma Laurent", JAMAL: "Jamal Carter", INGRID: "Ingrid Admin",
        DEE: "Dee Gone", LOWE: "Margaret Lowe",
    }  # fmt: skip
    data.people = [PersonEntry(i, n, f"{i}@x", "") for i, n in names.items()]
    data.roles = [
        (AISHA, "agent", ORDERS),
        (BEN, "agent", ORDERS),
        (PRIYA, "supervisor", ORDERS),
        (MARCUS, "supervisor", CARE),
        (OMAR, "supervisor", ACME),
        (EMMA, "supervisor", MARKETING),
        (JAMAL, "agent", MARKETING),
        (INGRID, "admin", ACME),
        (DEE, "supervisor", CARE),
        (LOWE, "supervisor", LEGAL),
    ]
    data.inactive = {DEE}
    data.accounts = {
        SBX: FakeAccount(SBX, Network.SANDBOX, "acme", MARKETING, display_name="Acme"),
        XHELP: FakeAccount(XHELP, Network.X, "acmehelp", CARE, display_name="Acme Help"),
        PAGE: FakeAccount(PAGE, Network.FACEBOOK, "acmepage", MARKETING, display_name="Acme Page"),
    }
    data.conversations = [
        FakeConversation(CONV, XHELP, ORDERS, "t10"),
        FakeConversation(DM_CONV, XHELP, ORDERS, "d11", thread_type=ThreadType.X_DM),
        FakeConversation(OTHER_CONV, XHELP, ORDERS, "t12"),
    ]
    data.drafts.messages = {MSG: CONV}
    data.drafts.social_goals = {GOAL}
    data.drafts.policy = [
        PolicyLine(1, PolicyKind.BANNED_TERM, "idiot", note="Never insult anyone."),
        PolicyLine(2, PolicyKind.RISKY_TERM, "refund"),
        PolicyLine(3, PolicyKind.DISCLAIMER, "Not legal advice.", Scope(unit_id=LEGAL)),
    ]
    return FakeStorage(data)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def drafts(storage: FakeStorage, clock: Clock) -> DraftsService:
    return DraftsService(storage, clock=clock)


def rules(storage: FakeStorage, *rules: FakeApprovalRule) -> None:
    storage.data.drafts.rules = list(rules)


def one_supervisor(rule_id: int = 1, **kw: object) -> FakeApprovalRule:
    return FakeApprovalRule(rule_id, unit_id=ACME, **kw)  # type: ignore[arg-type]


def actions(storage: FakeStorage) -> list[str]:
    return [a.action for a in storage.data.audit]


def state(storage: FakeStorage, draft_id: int) -> str:
    return storage.data.drafts.drafts[draft_id].state


def reply(drafts: DraftsService, text: str = "Sorry about that, we are on it.") -> int:
    return drafts.create(AISHA, "reply", ORDERS, text, conversation_id=CONV)


def pending_reply(drafts: DraftsService, storage: FakeStorage, text: str = "On it!") -> int:
    draft_id = reply(drafts, text)
    assert drafts.submit(AISHA, draft_id) == DraftState.PENDING_APPROVAL
    return draft_id


# -- writing -----------------------------------------------------------------------------------


def test_a_post_is_stored_with_its_accounts_its_first_version_and_an_audit_entry(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    draft_id = drafts.create(
        JAMAL, "post", MARKETING, "Spring rides!", [SBX, PAGE, SBX], social_goal_id=GOAL
    )
    d = storage.data.drafts.drafts[draft_id]
    assert (d.kind, d.state, d.unit_id, d.author_id, d.current_version) == (
        "post", "draft", MARKETING, JAMAL, 1,
    )  # fmt: skip
    assert d.social_goal_id == GOAL
    assert [t.account_id for t in storage.data.drafts.targets] == [SBX, PAGE]
    assert [v.text for v in storage.data.drafts.versions] == ["Spring rides!"]
    assert actions(storage) == ["draft.create"]
    entry = storage.data.audit[0]
    assert (entry.entity, entry.entity_id, entry.person_name) == ("draft", draft_id, "Jamal Carter")
    assert entry.after is not None
    assert entry.after["account_ids"] == [SBX, PAGE]
    assert entry.after["unit_id"] == MARKETING  # in Marketing's audit log


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"kind": "tweet"}, DraftError, "post, reply, dm"),
        ({"account_ids": []}, DraftError, "at least one account"),
        ({"account_ids": [99]}, DraftError, "No account with id 99"),
        ({"conversation_id": CONV}, DraftError, "answers none"),
        ({"unit_id": 99}, DraftError, "unit does not exist"),
        ({"operator": AISHA}, NotAllowed, "Marketing"),
        ({"schedule_at": NOW.replace(tzinfo=None)}, DraftError, "time zone"),
        ({"schedule_at": NOW - timedelta(minutes=1)}, DraftError, "has passed"),
        ({"social_goal_id": 99}, DraftError, "social goal does not exist"),
        ({"text": "x" * 100_001}, DraftError, "longer than 100,000"),
    ],
)
def test_a_post_that_does_not_fit_is_refused_and_nothing_is_stored(
    storage: FakeStorage,
    drafts: DraftsService,
    kwargs: dict[str, object],
    error: type[Exception],
    match: str,
) -> None:
    args: dict[str, object] = {
        "operator": JAMAL, "kind": "post", "unit_id": MARKETING, "text": "Hi",
        "account_ids": [SBX],
    }  # fmt: skip
    args.update(kwargs)
    with pytest.raises(error, match=match):
        drafts.create(**args)  # type: ignore[arg-type]
    assert storage.history == []


def test_a_deactivated_person_writes_nothing(storage: FakeStorage, drafts: DraftsService) -> None:
    storage.data.inactive.add(JAMAL)
    with pytest.raises(NotAllowed, match="deactivated"):
        drafts.create(JAMAL, "post", MARKETING, "Hi", [SBX])


def test_a_reply_goes_out_from_its_conversations_account(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    draft_id = drafts.create(
        AISHA, "reply", ORDERS, "On it", conversation_id=CONV, in_reply_to_message_id=MSG
    )
    assert [t.account_id for t in storage.data.drafts.targets] == [XHELP]
    assert storage.data.drafts.drafts[draft_id].in_reply_to_message_id == MSG
    assert drafts.create(AISHA, "reply", ORDERS, "x", [XHELP], conversation_id=CONV) > draft_id
    dm = drafts.create(AISHA, "dm", ORDERS, "Your order number?", conversation_id=DM_CONV)
    assert storage.data.drafts.drafts[dm].kind == "dm"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"conversation_id": None}, DraftError, "needs the conversation"),
        ({"conversation_id": 99}, DraftError, "conversation does not exist"),
        ({"account_ids": [SBX]}, DraftError, "conversation's account, @acmehelp"),
        ({"kind": "dm"}, DraftError, "direct-message conversation"),
        ({"conversation_id": DM_CONV}, DraftError, "answered with a direct message"),
        ({"in_reply_to_message_id": 99}, DraftError, "not in that conversation"),
        ({"conversation_id": OTHER_CONV, "in_reply_to_message_id": MSG}, DraftError, "not in"),
        ({"operator": JAMAL, "unit_id": MARKETING}, NotAllowed, "Orders"),  # not its unit
    ],
)
def test_a_reply_that_does_not_fit_is_refused(
    storage: FakeStorage,
    drafts: DraftsService,
    kwargs: dict[str, object],
    error: type[Exception],
    match: str,
) -> None:
    args: dict[str, object] = {
        "operator": AISHA, "kind": "reply", "unit_id": ORDERS, "text": "Hi",
        "conversation_id": CONV,
    }  # fmt: skip
    args.update(kwargs)
    with pytest.raises(error, match=match):
        drafts.create(**args)  # type: ignore[arg-type]
    assert storage.history == []


def test_autosave_rewrites_a_never_decided_draft_in_place_and_the_same_text_writes_nothing(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    draft_id = reply(drafts, "Sorry")
    assert drafts.save_text(AISHA, draft_id, "Sorry about") == 1
    assert drafts.save_text(AISHA, draft_id, "Sorry about that") == 1
    assert [v.text for v in storage.data.drafts.versions] == ["Sorry about that"]
    commits = len(storage.history)
    assert drafts.edit(AISHA, draft_id, "Sorry about that") == 1
    assert len(storage.history) == commits
    assert actions(storage) == ["draft.create", "draft.edit", "draft.edit"]
    with pytest.raises(NotAllowed, match="Only Aisha Bello, who wrote this draft, can edit it"):
        drafts.save_text(BEN, draft_id, "mine now")
    with pytest.raises(DraftError, match="does not exist"):
        drafts.save_text(AISHA, 999, "x")


# -- submitting --------------------------------------------------------------------------------


def test_with_no_rule_a_submitted_draft_is_approved_at_once_or_scheduled(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    now_id = reply(drafts)
    assert drafts.submit(AISHA, now_id) == DraftState.APPROVED
    later = drafts.create(
        JAMAL,
        "post",
        MARKETING,
        "Soon",
        [SBX],
        schedule_at=NOW + timedelta(hours=1),
        social_goal_id=GOAL,
    )
    assert drafts.submit(JAMAL, later) == DraftState.SCHEDULED
    entry = storage.data.audit[-1]
    assert entry.action == "draft.submit"
    assert entry.after is not None
    assert entry.after["events"] == ["submit", "approve", "schedule"]
    assert entry.after["requirement"] == "No approval rule applies to this draft"


def test_submitting_needs_the_author_a_text_a_future_time_and_a_draft(
    storage: FakeStorage, drafts: DraftsService, clock: Clock
) -> None:
    rules(storage, one_supervisor())
    draft_id = reply(drafts, "  ")
    with pytest.raises(NotAllowed, match="Only Aisha Bello"):
        drafts.submit(BEN, draft_id)
    with pytest.raises(DraftError, match="empty"):
        drafts.submit(AISHA, draft_id)
    drafts.save_text(AISHA, draft_id, "Fixed it")
    drafts.schedule(AISHA, draft_id, NOW + timedelta(minutes=3))
    with pytest.raises(DraftError, match="needs approval at least 5 minutes before"):
        drafts.submit(AISHA, draft_id)
    clock.advance(600)
    with pytest.raises(DraftError, match="has passed"):
        drafts.submit(AISHA, draft_id)
    drafts.unschedule(AISHA, draft_id)
    assert drafts.submit(AISHA, draft_id) == DraftState.PENDING_APPROVAL
    with pytest.raises(DraftError, match="cannot take 'submit'"):
        drafts.submit(AISHA, draft_id)


def test_a_reply_with_a_banned_term_is_refused_with_its_finding(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    draft_id = reply(drafts, "Only an idiot would say that.")
    commits = len(storage.history)
    with pytest.raises(PolicyBlocked, match="“idiot” is a banned term: Never insult anyone") as e:
        drafts.submit(AISHA, draft_id)
    assert e.value.blocks == ("“idiot” is a banned term: Never insult anyone.",)
    ((target,),) = [e.value.findings]
    assert (target.account_id, target.account) == (XHELP, "@acmehelp")
    assert [f.line_id for f in target.findings.blocks] == [1]
    assert state(storage, draft_id) == DraftState.DRAFT
    assert len(storage.history) == commits


def test_a_post_is_not_submitted_without_the_social_goal_it_serves(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    draft_id = drafts.create(JAMAL, "post", MARKETING, "Spring rides!", [SBX])
    with pytest.raises(DraftError, match="A post needs the social goal it serves"):
        drafts.submit(JAMAL, draft_id)
    assert state(storage, draft_id) == DraftState.DRAFT
    assert actions(storage) == ["draft.create"]


def test_a_disclaimer_of_the_drafts_unit_applies_on_any_account(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    storage.data.roles.append((JAMAL, "agent", LEGAL))
    draft_id = drafts.create(
        JAMAL, "post", LEGAL, "Know your rights.", [SBX, PAGE], social_goal_id=GOAL
    )
    with pytest.raises(PolicyBlocked, match=r"disclaimer “Not legal advice\.” is missing"):
        drafts.submit(JAMAL, draft_id)
    drafts.save_text(JAMAL, draft_id, "Know your rights. Not legal advice.")
    assert drafts.submit(JAMAL, draft_id) == DraftState.APPROVED


def test_a_risky_term_needs_a_supervisors_approval_even_without_a_rule(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    draft_id = reply(drafts, "We will refund you.")
    assert drafts.submit(AISHA, draft_id) == DraftState.PENDING_APPROVAL
    view = drafts.draft_view(draft_id)
    assert view.requirement == (
        "1 approval from a supervisor of Orders "
        "(rule 'risky terms need approval': the policy warns)",
    )
    assert drafts.approve(PRIYA, draft_id, version=1) == DraftState.APPROVED


@pytest.mark.parametrize(
    ("condition", "setup", "text"),
    [
        ("negative_sentiment", lambda d: d.drafts.sentiments.update({CONV: -0.6}), "On it"),
        ("new_author", lambda d: d.drafts.new_authors.add(CONV), "On it"),
        ("has_links", lambda d: None, "See acme.example/help"),
        ("policy_warns", lambda d: None, "A refund is on its way"),
    ],
)
def test_each_condition_asks_for_approval_only_when_it_holds(
    storage: FakeStorage, drafts: DraftsService, condition: str, setup: object, text: str
) -> None:
    rules(storage, FakeApprovalRule(1, unit_id=CARE, condition=condition, draft_kind="reply"))
    plain = reply(drafts, "Thanks for waiting")
    assert drafts.submit(AISHA, plain) == DraftState.APPROVED
    setup(storage.data)  # type: ignore[operator]
    held = reply(drafts, text)
    assert drafts.submit(AISHA, held) == DraftState.PENDING_APPROVAL
    assert "rule 1" in drafts.draft_view(held).requirement_summary


# -- deciding ----------------------------------------------------------------------------------


def test_nobody_approves_their_own_draft(storage: FakeStorage, drafts: DraftsService) -> None:
    rules(storage, one_supervisor())
    draft_id = drafts.create(PRIYA, "reply", ORDERS, "On it", conversation_id=CONV)
    drafts.submit(PRIYA, draft_id)
    with pytest.raises(NotAllowed, match="Nobody can approve their own draft"):
        drafts.approve(PRIYA, draft_id, version=1)
    assert storage.data.drafts.decisions == []


def test_approval_needs_the_role_the_rules_ask_in_the_unit_or_above(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    rules(storage, one_supervisor())
    draft_id = pending_reply(drafts, storage)
    with pytest.raises(NotAllowed, match=r"Only a supervisor of Orders .* Ben Ode holds no such"):
        drafts.approve(BEN, draft_id, version=1)  # an agent
    with pytest.raises(NotAllowed, match="Emma Laurent holds no such role"):
        drafts.approve(EMMA, draft_id, version=1)  # a supervisor elsewhere
    with pytest.raises(NotAllowed, match="Ingrid Admin holds no such role"):
        drafts.approve(INGRID, draft_id, version=1)  # an administrator is no supervisor
    with pytest.raises(NotAllowed, match="deactivated"):
        drafts.approve(DEE, draft_id, version=1)
    assert storage.data.drafts.decisions == []
    assert drafts.approve(MARCUS, draft_id, version=1) == DraftState.APPROVED  # Care, above
    assert actions(storage)[-1] == "draft.approve"


def test_two_approvals_from_two_people_then_it_is_approved(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    rules(storage, one_supervisor(required_approvals=2))
    draft_id = pending_reply(drafts, storage)
    assert drafts.approve(PRIYA, draft_id, version=1) == DraftState.PENDING_APPROVAL
    view = drafts.draft_view(draft_id)
    assert view.missing == ("1 more approval from a supervisor of Orders (1 of 2 so far; rule 1)",)
    with pytest.raises(NotAllowed, match="Priya Raman has already approved version 1"):
        drafts.approve(PRIYA, draft_id, version=1)
    assert drafts.approve(OMAR, draft_id, version=1) == DraftState.APPROVED
    assert drafts.draft_view(draft_id).outcome == (
        "Approved by Priya Raman, Omar Haddad; it goes out as soon as the outbox runs."
    )


def test_a_stale_version_cannot_be_approved(storage: FakeStorage, drafts: DraftsService) -> None:
    rules(storage, one_supervisor())
    draft_id = pending_reply(drafts, storage)
    assert drafts.save_text(AISHA, draft_id, "On it, really") == 2  # a new version, back to draft
    assert state(storage, draft_id) == DraftState.DRAFT
    drafts.submit(AISHA, draft_id)
    with pytest.raises(NotAllowed, match="Version 1 is no longer current"):
        drafts.approve(PRIYA, draft_id, version=1)
    assert drafts.approve(PRIYA, draft_id, version=2) == DraftState.APPROVED


def test_a_rejection_needs_a_reason_and_the_author_sees_who_and_why(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    rules(storage, one_supervisor())
    draft_id = pending_reply(drafts, storage)
    with pytest.raises(DraftError, match="A rejection needs a reason"):
        drafts.reject(PRIYA, draft_id, "   ", version=1)
    with pytest.raises(DraftError, match="A request for changes needs a reason"):
        drafts.request_changes(PRIYA, draft_id, "", version=1)
    assert drafts.reject(PRIYA, draft_id, "Off-brand tone.", version=1) == DraftState.REJECTED
    view = drafts.draft_view(draft_id)
    assert view.outcome == "Rejected by Priya Raman: Off-brand tone."
    (decision,) = view.decisions
    assert (decision.reviewer_name, decision.reason, decision.current) == (
        "Priya Raman", "Off-brand tone.", True,
    )  # fmt: skip
    assert decision.text == "Priya Raman rejected version 1: Off-brand tone."
    assert view.allowed_events == (DraftEvent.EDIT,)
    with pytest.raises(DraftError, match="rejected cannot take 'submit'"):
        drafts.submit(AISHA, draft_id)
    with pytest.raises(NotAllowed, match="Only a draft waiting for approval"):
        drafts.approve(MARCUS, draft_id, version=1)
    assert drafts.save_text(AISHA, draft_id, "Better words") == 2
    assert drafts.submit(AISHA, draft_id) == DraftState.PENDING_APPROVAL
    assert actions(storage).count("draft.reject") == 1


def test_a_request_for_changes_sends_it_back_with_the_reason(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    rules(storage, one_supervisor())
    draft_id = pending_reply(drafts, storage)
    state_after = drafts.request_changes(PRIYA, draft_id, "Add the order number.", version=1)
    assert state_after == DraftState.CHANGES_REQUESTED
    assert (
        drafts.draft_view(draft_id).outcome
        == "Priya Raman asked for changes: Add the order number."
    )
    assert storage.data.audit[-1].action == "draft.request_changes"
    assert storage.data.audit[-1].after is not None
    assert storage.data.audit[-1].after["reason"] == "Add the order number."


def test_an_edit_voids_the_approvals_and_a_withdrawal_keeps_them(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    rules(storage, one_supervisor())
    draft_id = pending_reply(drafts, storage)
    drafts.approve(PRIYA, draft_id, version=1)
    assert drafts.withdraw(AISHA, draft_id) == DraftState.DRAFT
    assert drafts.submit(AISHA, draft_id) == DraftState.APPROVED  # same version, still approved
    assert drafts.save_text(AISHA, draft_id, "A new text") == 2
    view = drafts.draft_view(draft_id)
    assert (view.state, view.version, view.approved) == (DraftState.DRAFT, 2, False)
    assert view.not_counted == (
        "Priya Raman's approval was for version 1; the draft is at version 2",
    )
    assert [v.version for v in view.versions] == [1, 2]
    assert drafts.submit(AISHA, draft_id) == DraftState.PENDING_APPROVAL


def test_an_edit_after_a_withdrawal_of_a_decided_version_makes_a_new_version(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    rules(storage, one_supervisor())
    draft_id = pending_reply(drafts, storage)
    drafts.approve(PRIYA, draft_id, version=1)
    drafts.withdraw(AISHA, draft_id)
    assert drafts.save_text(AISHA, draft_id, "Changed") == 2
    assert [v.text for v in storage.data.drafts.versions] == ["On it!", "Changed"]


def test_approving_a_version_means_the_text_the_reviewer_read(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    """Submitted, withdrawn before any decision, rewritten, submitted again: a new version, so an
    approval given for the version first shown in the queue does not pass the new text."""
    rules(storage, one_supervisor())
    draft_id = pending_reply(drafts, storage)
    read = drafts.draft_view(draft_id)  # what the supervisor has on screen: version 1
    assert drafts.withdraw(AISHA, draft_id) == DraftState.DRAFT
    assert drafts.save_text(AISHA, draft_id, "Something else entirely") == 2
    assert drafts.submit(AISHA, draft_id) == DraftState.PENDING_APPROVAL
    with pytest.raises(NotAllowed, match="version"):
        drafts.approve(PRIYA, draft_id, version=read.version)
    assert [v.text for v in storage.data.drafts.versions] == [read.text, "Something else entirely"]
    assert drafts.approve(PRIYA, draft_id, version=2) == DraftState.APPROVED


# -- scheduling, withdrawing, deleting ---------------------------------------------------------


def test_scheduling_an_approved_draft_and_moving_its_time_keeps_the_approvals(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    rules(storage, one_supervisor())
    draft_id = pending_reply(drafts, storage)
    drafts.approve(PRIYA, draft_id, version=1)
    at = NOW + timedelta(hours=2)
    assert drafts.schedule(AISHA, draft_id, at) == DraftState.SCHEDULED
    assert drafts.schedule(INGRID, draft_id, at + timedelta(hours=1)) == DraftState.SCHEDULED
    assert storage.data.drafts.drafts[draft_id].schedule_at == at + timedelta(hours=1)
    assert drafts.draft_view(draft_id).approved
    assert not drafts.check_before_publish(draft_id, at).ready  # not due yet
    due = drafts.check_before_publish(draft_id, at + timedelta(hours=1))
    assert (due.ready, due.state, due.events) == (True, DraftState.SCHEDULED, ())
    assert drafts.unschedule(AISHA, draft_id) == DraftState.APPROVED
    assert storage.data.drafts.drafts[draft_id].schedule_at is None
    assert actions(storage)[-3:] == ["draft.schedule", "draft.schedule", "draft.unschedule"]
    with pytest.raises(DraftError, match="has passed"):
        drafts.schedule(AISHA, draft_id, NOW)


def test_only_the_author_or_an_administrator_schedules_withdraws_or_deletes(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    draft_id = reply(drafts)
    at = NOW + timedelta(hours=1)
    for call in (  # a reviewer is neither
        lambda who: drafts.schedule(who, draft_id, at),
        lambda who: drafts.withdraw(who, draft_id),
        lambda who: drafts.delete(who, draft_id),
    ):
        with pytest.raises(NotAllowed, match="Only Aisha Bello, who wrote this draft, or an admin"):
            call(BEN)
        with pytest.raises(NotAllowed, match="Only Aisha Bello"):
            call(PRIYA)  # her supervisor is no administrator
    with pytest.raises(DraftError, match="draft cannot take 'withdraw'"):
        drafts.withdraw(INGRID, draft_id)
    drafts.delete(INGRID, draft_id)
    assert storage.data.drafts.drafts == {}
    assert storage.data.drafts.versions == []
    assert storage.data.audit[-1].action == "draft.delete"
    assert storage.data.audit[-1].before is not None
    assert storage.data.audit[-1].before["text"] == "Sorry about that, we are on it."


@pytest.mark.parametrize("frozen", [DraftState.PUBLISHING, DraftState.PUBLISHED])
def test_nothing_changes_a_draft_on_its_way_out_or_out(
    storage: FakeStorage, drafts: DraftsService, frozen: DraftState
) -> None:
    draft_id = reply(drafts)
    storage.data.drafts.drafts[draft_id].state = frozen.value
    at = NOW + timedelta(hours=1)
    with pytest.raises(DraftError, match="cannot take 'edit'"):
        drafts.save_text(AISHA, draft_id, "changed")
    with pytest.raises(DraftError, match="cannot be rescheduled"):
        drafts.schedule(AISHA, draft_id, at)
    with pytest.raises(DraftError, match="cannot be unscheduled"):
        drafts.unschedule(AISHA, draft_id)
    with pytest.raises(DraftError, match="cannot take 'withdraw'"):
        drafts.withdraw(AISHA, draft_id)
    with pytest.raises(DraftError, match="cannot be deleted"):
        drafts.delete(INGRID, draft_id)
    with pytest.raises(DraftError, match="cannot take 'submit'"):
        drafts.submit(AISHA, draft_id)
    assert state(storage, draft_id) == frozen


def test_a_draft_published_on_some_accounts_stays_on_record(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    draft_id = drafts.create(JAMAL, "post", MARKETING, "Hi", [SBX, PAGE])
    storage.data.drafts.drafts[draft_id].state = DraftState.FAILED.value
    storage.data.drafts.targets[0].state = "published"
    with pytest.raises(DraftError, match="published on @acme already"):
        drafts.delete(JAMAL, draft_id)


# -- the check before publishing ---------------------------------------------------------------


def test_without_enough_approvals_nothing_is_ready_to_publish(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    rules(storage, one_supervisor(required_approvals=2))
    draft_id = pending_reply(drafts, storage)
    drafts.approve(PRIYA, draft_id, version=1)
    check = drafts.check_before_publish(draft_id, NOW)
    assert (check.ready, check.approved, check.events) == (False, False, ())
    assert check.state == DraftState.PENDING_APPROVAL
    assert check.summary.startswith("Not approved: 1 more approval")


def test_a_rule_added_after_the_approval_lapses_it_before_publishing(
    storage: FakeStorage, drafts: DraftsService, clock: Clock
) -> None:
    rules(storage, one_supervisor())
    draft_id = pending_reply(drafts, storage)
    drafts.approve(PRIYA, draft_id, version=1)
    assert drafts.check_before_publish(draft_id, NOW).ready
    rules(storage, one_supervisor(), FakeApprovalRule(2, unit_id=ACME, approver_unit_id=LEGAL))
    clock.advance(60)
    check = drafts.check_before_publish(draft_id)
    assert (check.ready, check.state, check.events) == (
        False, DraftState.PENDING_APPROVAL, (DraftEvent.APPROVAL_LAPSED,),
    )  # fmt: skip
    assert check.verdict.missing == (
        "1 more approval from a supervisor of Legal (0 of 1 so far; rule 2)",
    )
    assert storage.data.audit[-1].action == "draft.approval_lapsed"
    assert storage.data.audit[-1].person_name == "Outbox"
    assert [r.draft_id for r in drafts.pending_for(LOWE)] == [draft_id]  # the new approvers
    assert drafts.approve(LOWE, draft_id, version=1) == DraftState.APPROVED
    assert drafts.check_before_publish(draft_id).ready


def test_an_approver_who_lost_the_role_no_longer_vouches(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    rules(storage, one_supervisor())
    draft_id = pending_reply(drafts, storage)
    drafts.approve(PRIYA, draft_id, version=1)
    storage.data.roles.remove((PRIYA, "supervisor", ORDERS))
    check = drafts.check_before_publish(draft_id, NOW)
    assert check.events == (DraftEvent.APPROVAL_LAPSED,)
    assert "Priya Raman's approval does not count" in check.verdict.not_counted[0]


def test_rules_relaxed_meanwhile_let_a_pending_draft_go_on(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    rules(storage, one_supervisor())
    draft_id = pending_reply(drafts, storage)
    rules(storage)
    check = drafts.check_before_publish(draft_id, NOW)
    assert (check.state, check.events, check.ready) == (
        DraftState.APPROVED, (DraftEvent.APPROVE,), True,
    )  # fmt: skip
    assert storage.data.audit[-1].action == "draft.approved"


def test_a_draft_not_approved_in_time_goes_back_to_draft_with_the_reason(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    rules(storage, one_supervisor())
    at = NOW + timedelta(hours=1)
    draft_id = drafts.create(AISHA, "reply", ORDERS, "Hi", conversation_id=CONV, schedule_at=at)
    drafts.submit(AISHA, draft_id)
    assert drafts.check_before_publish(draft_id, at - timedelta(minutes=6)).events == ()
    check = drafts.check_before_publish(draft_id, at - timedelta(minutes=4))
    assert (check.state, check.events) == (DraftState.DRAFT, (DraftEvent.MISSED_APPROVAL,))
    reason = storage.data.drafts.drafts[draft_id].failure_reason
    assert reason.startswith("Not approved 5 minutes before 2026-11-23 13:00 UTC")
    assert drafts.draft_view(draft_id).outcome == reason
    assert storage.data.audit[-1].action == "draft.missed_approval"


def test_a_policy_that_blocks_it_now_takes_it_back_to_draft(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    draft_id = reply(drafts, "We promise a fast fix")
    assert drafts.submit(AISHA, draft_id) == DraftState.APPROVED
    storage.data.drafts.policy.append(PolicyLine(9, PolicyKind.BANNED_TERM, "promise"))
    check = drafts.check_before_publish(draft_id, NOW)
    assert (check.ready, check.state) == (False, DraftState.DRAFT)
    assert check.blocks == ("“promise” is a banned term",)
    assert (
        "The policy no longer lets it go out" in storage.data.drafts.drafts[draft_id].failure_reason
    )
    assert storage.data.audit[-1].action == "draft.policy_blocked"


def test_a_published_draft_is_left_alone(storage: FakeStorage, drafts: DraftsService) -> None:
    draft_id = reply(drafts)
    storage.data.drafts.drafts[draft_id].state = DraftState.PUBLISHED.value
    commits = len(storage.history)
    check = drafts.check_before_publish(draft_id, NOW)
    assert (check.ready, check.events, check.state) == (False, (), DraftState.PUBLISHED)
    assert len(storage.history) == commits


# -- the approvals queue -----------------------------------------------------------------------


def test_the_queue_shows_the_drafts_a_person_may_decide_oldest_first(
    storage: FakeStorage, drafts: DraftsService, clock: Clock
) -> None:
    rules(storage, one_supervisor())
    ids = []
    for i in range(5):
        ids.append(pending_reply(drafts, storage, f"Reply {i}"))
        clock.advance(60)
    post = drafts.create(JAMAL, "post", MARKETING, "Spring!", [SBX, PAGE], social_goal_id=GOAL)
    drafts.submit(JAMAL, post)
    assert [r.draft_id for r in drafts.pending_for(PRIYA)] == ids
    assert [r.draft_id for r in drafts.pending_for(MARCUS)] == ids  # Care, above Orders
    assert [r.draft_id for r in drafts.pending_for(OMAR)] == [*ids, post]
    assert [r.draft_id for r in drafts.pending_for(EMMA)] == [post]
    for nobody in (AISHA, BEN, INGRID, LOWE):
        assert drafts.pending_for(nobody) == []
    with pytest.raises(NotAllowed, match="deactivated"):
        drafts.pending_for(DEE)
    first = drafts.pending_for(EMMA)[0]
    assert (first.kind, first.text, first.unit_name, first.author_name) == (
        "post", "Spring!", "Marketing", "Jamal Carter",
    )  # fmt: skip
    assert first.accounts == ("@acme", "Acme Page")
    assert first.requirement == "1 approval from a supervisor of Marketing (rule 1)"
    assert first.missing == (
        "1 more approval from a supervisor of Marketing (0 of 1 so far; rule 1)",
    )


def test_the_queue_pages_by_key_and_drops_what_the_person_decided(
    storage: FakeStorage, drafts: DraftsService, clock: Clock
) -> None:
    rules(storage, one_supervisor(required_approvals=2))
    ids = []
    for i in range(5):
        ids.append(pending_reply(drafts, storage, f"Reply {i}"))
        clock.advance(1)
    seen: list[int] = []
    page = drafts.pending_for(PRIYA, limit=2)
    while page:
        seen.extend(r.draft_id for r in page)
        page = drafts.pending_for(PRIYA, limit=2, after=page[-1].key)
    assert seen == ids
    drafts.approve(PRIYA, ids[1], version=1)
    assert [r.draft_id for r in drafts.pending_for(PRIYA)] == [ids[0], *ids[2:]]
    assert [r.draft_id for r in drafts.pending_for(OMAR)] == ids  # still needs a second one
    assert drafts.pending_for(OMAR)[1].missing == (
        "1 more approval from a supervisor of Orders (1 of 2 so far; rule 1)",
    )


def test_the_queue_checks_each_draft_against_the_rules_in_force(
    storage: FakeStorage, drafts: DraftsService, clock: Clock
) -> None:
    rules(storage, one_supervisor())
    a = pending_reply(drafts, storage, "A")
    clock.advance(1)
    b = pending_reply(drafts, storage, "B")
    clock.advance(1)
    c = pending_reply(drafts, storage, "C")
    # now only Legal's supervisors may approve: the stored approvers of a, b, c are stale
    rules(storage, FakeApprovalRule(1, unit_id=ACME, approver_unit_id=LEGAL))
    assert drafts.pending_for(PRIYA, limit=1) == []  # offered to her, checked: not hers now
    assert drafts.pending_for(LOWE) == []  # not offered to Legal yet
    entries = len(storage.data.audit)
    assert drafts.refresh_queue(chunk=2) == 3
    assert [r.draft_id for r in drafts.pending_for(LOWE)] == [a, b, c]
    assert drafts.pending_for(PRIYA) == []
    assert storage.data.drafts.approvers[a] == {("supervisor", "/1/5/")}
    assert len(storage.data.audit) == entries  # the queue's index is no change to a draft


# -- forbidden transitions and locks -----------------------------------------------------------


def test_every_forbidden_step_names_the_state_and_changes_nothing(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    rules(storage, one_supervisor())
    draft_id = reply(drafts)
    commits = len(storage.history)
    with pytest.raises(NotAllowed, match=r"Only a draft waiting for approval .* this one is draft"):
        drafts.approve(PRIYA, draft_id, version=1)
    with pytest.raises(NotAllowed, match="waiting for approval"):
        drafts.reject(PRIYA, draft_id, "no", version=1)
    with pytest.raises(DraftError, match="A draft that is draft cannot take 'withdraw'"):
        drafts.withdraw(AISHA, draft_id)
    assert drafts.unschedule(AISHA, draft_id) == DraftState.DRAFT  # no time: nothing to do
    assert len(storage.history) == commits
    drafts.submit(AISHA, draft_id)
    drafts.approve(PRIYA, draft_id, version=1)
    with pytest.raises(NotAllowed, match="this one is approved"):
        drafts.approve(OMAR, draft_id, version=1)
    with pytest.raises(DraftError, match="approved cannot take 'submit'"):
        drafts.submit(AISHA, draft_id)


def test_every_change_reads_the_draft_locked(storage: FakeStorage, drafts: DraftsService) -> None:
    rules(storage, one_supervisor())
    draft_id = reply(drafts)
    drafts.save_text(AISHA, draft_id, "changed")
    drafts.submit(AISHA, draft_id)
    drafts.approve(PRIYA, draft_id, version=1)
    drafts.schedule(AISHA, draft_id, NOW + timedelta(hours=1))
    drafts.unschedule(AISHA, draft_id)
    drafts.withdraw(AISHA, draft_id)
    drafts.check_before_publish(draft_id, NOW)
    drafts.draft_view(draft_id)  # reading takes no lock
    drafts.delete(AISHA, draft_id)
    assert storage.draft_locks == [draft_id] * 8


def test_live_findings_for_the_compose_pane(storage: FakeStorage, drafts: DraftsService) -> None:
    (target,) = drafts.check_text("reply", ORDERS, "a refund, idiot", conversation_id=CONV)
    assert target.account == "@acmehelp"
    assert [f.kind for f in target.findings] == [PolicyKind.RISKY_TERM, PolicyKind.BANNED_TERM]
    both = drafts.check_text("post", MARKETING, "x" * 300, [SBX, PAGE])
    assert [t.findings.blocked for t in both] == [True, False]  # Sandbox counts as X: 280


def test_the_migration_allows_exactly_the_roles_of_the_enum() -> None:
    import importlib

    from app.models.base import one_of

    migration = importlib.import_module("app.storage.migrations.versions.v0006_drafts")
    assert one_of("role", Role) == migration._ROLES


def test_every_audit_entry_names_the_drafts_unit(
    storage: FakeStorage, drafts: DraftsService
) -> None:
    rules(storage, one_supervisor())
    draft_id = pending_reply(drafts, storage)
    drafts.reject(PRIYA, draft_id, "No.", version=1)
    drafts.save_text(AISHA, draft_id, "Yes?")
    drafts.delete(AISHA, draft_id)
    assert actions(storage) == [
        "draft.create", "draft.submit", "draft.reject", "draft.edit", "draft.delete",
    ]  # fmt: skip
    for entry in storage.data.audit:
        assert (entry.before or entry.after or {})["unit_id"] == ORDERS
        assert entry.entity_id == draft_id
