"""The permission function: roles reach their unit and every unit below it, and nothing else."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.domain.enums import Role
from app.domain.permissions import GRANTS, Action, Actor, Grant, Place, covers, decide

# A small tree: /1/ company, /1/2/ care, /1/2/3/ orders, /1/4/ marketing, /1/4/5/ de office.
PATHS = ["/1/", "/1/2/", "/1/2/3/", "/1/4/", "/1/4/5/"]
NAMES = dict(
    zip(PATHS, ["Acme", "Customer Care", "Orders", "Marketing", "Marketing DE"], strict=True)
)

grants = st.builds(Grant, st.sampled_from(list(Role)), st.sampled_from(PATHS))
actors = st.builds(
    Actor,
    st.just(7),
    st.just("Kim"),
    st.booleans(),
    st.lists(grants, max_size=5).map(tuple),
)


def place(path: str) -> Place:
    return Place(path, NAMES[path])


@given(actors, st.sampled_from(list(Action)), st.sampled_from(PATHS))
def test_allowed_exactly_when_an_active_role_granting_it_covers_the_unit(
    actor: Actor, action: Action, path: str
) -> None:
    decision = decide(actor, action, place(path))
    expected = actor.active and any(
        action in GRANTS[g.role] and path.startswith(g.unit_path) for g in actor.grants
    )
    assert decision.allowed == expected
    assert (decision.reason == "") == decision.allowed  # a refusal always says why


@given(actors, st.sampled_from(list(Action)), st.sampled_from(PATHS), grants)
def test_a_further_role_never_takes_a_permission_away(
    actor: Actor, action: Action, path: str, extra: Grant
) -> None:
    more = Actor(actor.person_id, actor.name, actor.active, (*actor.grants, extra))
    if decide(actor, action, place(path)).allowed:
        assert decide(more, action, place(path)).allowed


@given(actors, st.sampled_from(list(Action)), st.sampled_from(PATHS))
def test_what_is_allowed_in_a_unit_is_allowed_in_its_sub_units(
    actor: Actor, action: Action, path: str
) -> None:
    if decide(actor, action, place(path)).allowed:
        for below in (p for p in PATHS if p.startswith(path)):
            assert decide(actor, action, place(below)).allowed


@given(actors, st.sampled_from(list(Action)), st.sampled_from(PATHS))
def test_a_deactivated_person_may_do_nothing(actor: Actor, action: Action, path: str) -> None:
    gone = Actor(actor.person_id, actor.name, False, actor.grants)
    decision = decide(gone, action, place(path))
    assert not decision.allowed
    assert "deactivated" in decision.reason


def test_a_role_in_a_sibling_or_a_sub_unit_does_not_reach_up_or_across() -> None:
    care_admin = Actor(1, "Ana", True, (Grant(Role.ADMIN, "/1/2/"),))
    assert decide(care_admin, Action.MANAGE_ACCOUNTS, place("/1/2/3/")).allowed
    assert not decide(care_admin, Action.MANAGE_ACCOUNTS, place("/1/4/")).allowed
    assert not decide(care_admin, Action.MANAGE_ACCOUNTS, place("/1/")).allowed
    assert not covers(Grant(Role.ADMIN, "/1/2/"), "/1/22/")  # a path prefix, not a string one


def test_a_refusal_names_the_role_the_unit_and_what_was_tried() -> None:
    agent = Actor(2, "Bo", True, (Grant(Role.AGENT, "/1/4/"),))
    refused = decide(
        agent, Action.MANAGE_ACCOUNTS, place("/1/4/"), doing="change its accounts' poll interval"
    )
    assert refused.reason == (
        "Only an administrator of Marketing can change its accounts' poll interval."
    )
    refused = decide(agent, Action.APPROVE_DRAFTS, place("/1/4/5/"))
    assert refused.reason == "Only a supervisor of Marketing DE can approve its drafts."
    nobody = Actor(3, "Cy", True, ())
    refused = decide(nobody, Action.WORK_CONVERSATIONS, place("/1/2/"))
    assert refused.reason == (
        "Only an agent, a supervisor or an administrator of Customer Care can work on its "
        "conversations."
    )


def test_the_roles_grant_what_product_md_says() -> None:
    assert GRANTS[Role.AGENT] == {Action.WORK_CONVERSATIONS}
    assert Action.APPROVE_DRAFTS in GRANTS[Role.SUPERVISOR]
    assert Action.EDIT_STRATEGY in GRANTS[Role.STRATEGIST]
    assert Action.MANAGE_ACCOUNTS not in GRANTS[Role.SUPERVISOR]
    assert {Action.MANAGE_ACCOUNTS, Action.MANAGE_UNITS, Action.MANAGE_PEOPLE} <= GRANTS[Role.ADMIN]
