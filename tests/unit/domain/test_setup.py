"""The first-run set-up plan: checks on what was entered, the suggested tree, exactly one Triage."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.enums import UnitKind
from app.domain.hours import standard_week
from app.domain.setup import (
    SUGGESTED_UNITS,
    TRIAGE,
    OrganizationSetup,
    SetupError,
    name_key,
    parse_unit_list,
    plan_setup,
)


def _setup(**kw: object) -> OrganizationSetup:
    base: dict[str, object] = {
        "name": "Acme",
        "admin_name": "Ada Admin",
        "admin_email": "ada@acme.example",
    }
    base.update(kw)
    return OrganizationSetup(**base)  # type: ignore[arg-type]  # test data


def test_the_suggested_tree() -> None:
    plan = plan_setup(_setup(time_zone="Europe/Berlin", mission="  Answer as one.  "))
    assert plan.root.name == "Acme"
    assert plan.root.kind is UnitKind.COMPANY
    assert [u.name for u in plan.children] == [*SUGGESTED_UNITS, TRIAGE]
    assert SUGGESTED_UNITS == (
        "Customer Care",
        "Marketing",
        "Public Relations",
        "Sales & E-commerce",
        "Legal & Compliance",
    )
    triage = plan.children[-1]
    assert triage.is_triage
    assert triage.kind is UnitKind.QUEUE
    assert all(u.kind is UnitKind.DEPARTMENT for u in plan.children[:-1])
    assert [u.sort_order for u in plan.children] == list(range(6))
    assert plan.time_zone == "Europe/Berlin"
    assert plan.mission == "Answer as one."
    assert plan.business_hours == standard_week()


def test_names_are_tidied_and_units_can_be_renamed_removed_or_added() -> None:
    plan = plan_setup(
        _setup(
            name="  Acme   Mobility ",
            admin_name=" Ada  Admin",
            admin_email=" Ada@Acme.example ",
            units=("Care", "Investor Relations"),
        )
    )
    assert plan.name == "Acme Mobility"
    assert plan.admin_name == "Ada Admin"
    assert plan.admin_email == "Ada@Acme.example"
    assert [u.name for u in plan.children] == ["Care", "Investor Relations", TRIAGE]


def test_only_triage_when_no_unit_is_kept() -> None:
    plan = plan_setup(_setup(units=()))
    assert [(u.name, u.is_triage) for u in plan.children] == [(TRIAGE, True)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "   "}, "Enter the organization's name"),
        ({"admin_name": ""}, "Enter the administrator's name"),
        ({"admin_email": ""}, "Enter the administrator's email"),
        ({"admin_email": "ada@"}, "is not an email address"),
        ({"admin_email": "ada acme@x.org"}, "is not an email address"),
        ({"admin_email": "ada@localhost"}, "is not an email address"),
        ({"time_zone": "Mars/Olympus"}, "is not a time zone"),
        ({"time_zone": ""}, "is not a time zone"),
        ({"business_hours": {"mon": [["17:00", "09:00"]]}}, "ends before it starts"),
        ({"business_hours": {"someday": []}}, "Unknown day"),
        ({"units": ("Care", " care ")}, "Two units are called"),
        ({"units": ("Care", "")}, "Enter the unit's name"),
        ({"units": ("triage",)}, "Triage is always there"),
        ({"units": ("Sales/EMEA",)}, "contains a “/”"),
        ({"name": "Acme/Europe"}, "contains a “/”"),
        ({"units": ("Care\nTeam",)}, "Care Team"),  # a newline is only whitespace: tidied
        ({"units": ("Care\x00",)}, "control characters"),
        ({"name": "x" * 201}, "200 at most"),
        ({"units": "Care"}, "list of names"),
        ({"units": tuple(f"Unit {i}" for i in range(101))}, "at most 100 units"),
    ],
)
def test_bad_input_is_refused_with_what_to_fix(change: dict[str, object], message: str) -> None:
    if message == "Care Team":
        assert plan_setup(_setup(**change)).children[0].name == "Care Team"
        return
    with pytest.raises(SetupError, match=message):
        plan_setup(_setup(**change))


def test_parse_unit_list() -> None:
    assert parse_unit_list("Customer Care, Marketing ,,Sales & E-commerce,") == [
        "Customer Care",
        "Marketing",
        "Sales & E-commerce",
    ]
    assert parse_unit_list("  ") == []


def assert_refusal(exc: SetupError) -> None:
    assert str(exc)  # a refusal always says what to fix


# -- properties -------------------------------------------------------------------------------

NAME_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=30
)
UNIT_NAMES = st.lists(
    st.one_of(NAME_TEXT, st.sampled_from([*SUGGESTED_UNITS, "triage", " Marketing ", "a/b"])),
    max_size=12,
)


@given(units=UNIT_NAMES, name=st.one_of(NAME_TEXT, st.just("Acme")))
def test_any_accepted_setup_has_unique_siblings_and_exactly_one_triage(
    units: list[str], name: str
) -> None:
    try:
        plan = plan_setup(_setup(name=name, units=tuple(units)))
    except SetupError as exc:
        assert_refusal(exc)
        return
    keys = [name_key(u.name) for u in plan.children]
    assert len(keys) == len(set(keys))
    assert sum(u.is_triage for u in plan.children) == 1
    assert plan.children[-1].name == TRIAGE
    assert plan.children[-1].is_triage
    assert all(u.name and u.name == u.name.strip() and "/" not in u.name for u in plan.children)
    assert [u.sort_order for u in plan.children] == list(range(len(plan.children)))
    # Every unit kept is one that was given, in the order given.
    assert [u.name for u in plan.children[:-1]] == [" ".join(n.split()) for n in units]


@given(
    name=NAME_TEXT,
    admin=NAME_TEXT,
    email=st.one_of(NAME_TEXT, st.emails()),
    zone=st.one_of(NAME_TEXT, st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kolkata"])),
)
def test_arbitrary_text_is_either_planned_or_refused_never_crashes(
    name: str, admin: str, email: str, zone: str
) -> None:
    try:
        plan = plan_setup(_setup(name=name, admin_name=admin, admin_email=email, time_zone=zone))
    except SetupError as exc:
        assert_refusal(exc)
        return
    assert plan.name
    assert plan.admin_name
    assert "@" in plan.admin_email
