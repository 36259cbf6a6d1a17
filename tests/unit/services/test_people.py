"""The people service on fakes: every permission allowed and refused, audit, all-or-nothing import."""

from __future__ import annotations

import pytest

from app.services.people import (
    ImportRefused,
    NotAllowed,
    PeopleService,
    PersonError,
    UnknownOperatorError,
)
from app.storage.ports import PersonEntry
from tests.unit.services.fakes import NOW, Clock, FakeData, FakeStorage

ROOT_ADMIN, CARE_ADMIN, AGENT, MARKETER, BOTH = 1, 2, 3, 4, 5
ACME, CARE, ORDERS, MARKETING = 1, 2, 3, 4
HEADER = "name,email,unit,role\n"


@pytest.fixture
def storage() -> FakeStorage:
    data = FakeData(organization="Acme")
    data.add_unit(ACME, None, "Acme")
    data.add_unit(CARE, ACME, "Customer Care")
    data.add_unit(ORDERS, CARE, "Orders")
    data.add_unit(MARKETING, ACME, "Marketing")
    data.people = [
        PersonEntry(ROOT_ADMIN, "Rita Root", "rita@acme.example", ""),
        PersonEntry(CARE_ADMIN, "Carl Care", "carl@acme.example", ""),
        PersonEntry(AGENT, "Olga Orders", "olga@acme.example", ""),
        PersonEntry(MARKETER, "Mia Market", "mia@acme.example", ""),
        PersonEntry(BOTH, "Bea Both", "bea@acme.example", ""),
    ]
    data.roles = [
        (ROOT_ADMIN, "admin", ACME),
        (CARE_ADMIN, "admin", CARE),
        (AGENT, "agent", ORDERS),
        (MARKETER, "agent", MARKETING),
        (BOTH, "agent", ORDERS),
        (BOTH, "agent", MARKETING),
    ]
    return FakeStorage(data)


@pytest.fixture
def people(storage: FakeStorage) -> PeopleService:
    return PeopleService(storage, clock=Clock())


def test_add_needs_an_administrator_somewhere_and_is_audited(
    people: PeopleService, storage: FakeStorage
) -> None:
    with pytest.raises(
        NotAllowed, match=r"Only an administrator can add people: Olga Orders holds no such role\."
    ):
        people.add_person(AGENT, "Nia New", "nia@acme.example")
    new = people.add_person(CARE_ADMIN, "  Nia   New ", "NIA@acme.example", "Agent")
    person = people.person(new)
    assert person is not None
    assert (person.name, person.email, person.title, person.active) == (
        "Nia New",
        "nia@acme.example",
        "Agent",
        True,
    )
    entry = storage.data.audit[-1]
    assert (entry.action, entry.person_id, entry.entity_id, entry.at) == (
        "person.added",
        CARE_ADMIN,
        new,
        NOW,
    )
    assert entry.after == {"name": "Nia New", "email": "nia@acme.example", "title": "Agent"}


@pytest.mark.parametrize(
    ("name", "email", "message"),
    [
        ("", "x@acme.example", "The name is empty."),
        ("X", "not an email", "is not an email address"),
        ("X", "Rita@ACME.example", "rita@acme.example already belongs to Rita Root."),
    ],
)
def test_add_refuses_bad_details(
    people: PeopleService, name: str, email: str, message: str
) -> None:
    with pytest.raises(PersonError, match=message.replace(".", r"\.")):
        people.add_person(ROOT_ADMIN, name, email)


def test_grant_in_the_admins_unit_and_below_not_elsewhere(
    people: PeopleService, storage: FakeStorage
) -> None:
    assert people.grant_role(CARE_ADMIN, MARKETER, ORDERS, "supervisor")
    assert not people.grant_role(CARE_ADMIN, MARKETER, ORDERS, "supervisor")  # already held
    with pytest.raises(
        NotAllowed, match=r"Only an administrator of Marketing can grant roles there\."
    ):
        people.grant_role(CARE_ADMIN, AGENT, MARKETING, "agent")
    with pytest.raises(NotAllowed, match="Only an administrator of Acme"):
        people.grant_role(CARE_ADMIN, AGENT, ACME, "admin")
    assert (MARKETER, "supervisor", ORDERS) in storage.data.roles
    assert (AGENT, "agent", MARKETING) not in storage.data.roles
    entry = storage.data.audit[-1]
    assert entry.action == "role.granted"
    assert entry.after == {
        "unit": "Acme/Customer Care/Orders",
        "unit_id": ORDERS,
        "role": "supervisor",
    }
    assert len(storage.data.audit) == 1


def test_revoke_is_scoped_and_audited(people: PeopleService, storage: FakeStorage) -> None:
    with pytest.raises(NotAllowed, match="Marketing"):
        people.revoke_role(CARE_ADMIN, BOTH, MARKETING, "agent")
    assert people.revoke_role(CARE_ADMIN, BOTH, ORDERS, "agent")
    assert not people.revoke_role(CARE_ADMIN, BOTH, ORDERS, "agent")
    assert (BOTH, "agent", ORDERS) not in storage.data.roles
    assert storage.data.audit[-1].before == {
        "unit": "Acme/Customer Care/Orders",
        "unit_id": ORDERS,
        "role": "agent",
    }


def test_unknown_role_is_refused(people: PeopleService) -> None:
    with pytest.raises(PersonError, match="There is no role “boss”"):
        people.grant_role(ROOT_ADMIN, AGENT, CARE, "boss")


def test_deactivate_needs_every_unit_of_the_person(
    people: PeopleService, storage: FakeStorage
) -> None:
    with pytest.raises(NotAllowed, match="Only an administrator of Marketing can deactivate"):
        people.deactivate(CARE_ADMIN, BOTH)  # Bea is in Orders (his) and Marketing (not)
    people.deactivate(CARE_ADMIN, AGENT)  # Olga is in Orders only
    assert AGENT in storage.data.inactive
    assert (AGENT, "agent", ORDERS) in storage.data.roles  # her roles stay on record
    entry = storage.data.audit[-1]
    assert (entry.action, entry.before, entry.after) == (
        "person.deactivated",
        {"active": True},
        {"active": False},
    )
    assert people.person(AGENT).active is False  # type: ignore[union-attr]


def test_a_deactivated_person_may_do_nothing(people: PeopleService) -> None:
    people.deactivate(ROOT_ADMIN, CARE_ADMIN)
    with pytest.raises(NotAllowed, match="Carl Care is deactivated"):
        people.grant_role(CARE_ADMIN, AGENT, ORDERS, "supervisor")
    with pytest.raises(NotAllowed, match="deactivated"):
        people.add_person(CARE_ADMIN, "X", "x@acme.example")
    assert not people.may_manage(CARE_ADMIN).allowed
    with pytest.raises(PersonError, match="reactivate them first"):
        people.grant_role(ROOT_ADMIN, CARE_ADMIN, CARE, "agent")
    people.reactivate(ROOT_ADMIN, CARE_ADMIN)
    assert people.grant_role(CARE_ADMIN, AGENT, ORDERS, "supervisor")


def test_nobody_deactivates_themselves(people: PeopleService) -> None:
    with pytest.raises(NotAllowed, match="Nobody can deactivate themselves"):
        people.deactivate(ROOT_ADMIN, ROOT_ADMIN)


def test_the_last_root_administrator_keeps_that_role(
    people: PeopleService, storage: FakeStorage
) -> None:
    with pytest.raises(NotAllowed, match="last active administrator of Acme"):
        people.revoke_role(ROOT_ADMIN, ROOT_ADMIN, ACME, "admin")
    people.grant_role(ROOT_ADMIN, CARE_ADMIN, ACME, "admin")
    assert people.revoke_role(CARE_ADMIN, ROOT_ADMIN, ACME, "admin")  # now there is another
    assert (ROOT_ADMIN, "admin", ACME) not in storage.data.roles


def test_edit_is_scoped_checked_and_audited(people: PeopleService, storage: FakeStorage) -> None:
    with pytest.raises(NotAllowed, match="Marketing"):
        people.edit_person(CARE_ADMIN, BOTH, name="Bea B", email="bea@acme.example")
    with pytest.raises(PersonError, match="already belongs to Mia Market"):
        people.edit_person(CARE_ADMIN, AGENT, name="Olga", email="MIA@acme.example")
    people.edit_person(CARE_ADMIN, AGENT, name="Olga Orr", email="olga.orr@acme.example")
    entry = storage.data.audit[-1]
    assert entry.action == "person.edited"
    assert entry.before == {"name": "Olga Orders", "email": "olga@acme.example", "title": ""}
    assert entry.after == {"name": "Olga Orr", "email": "olga.orr@acme.example", "title": ""}
    assert people.may_change(CARE_ADMIN, AGENT).allowed
    assert "Marketing" in people.may_change(CARE_ADMIN, BOTH).reason


def test_search_and_manageable_units(people: PeopleService) -> None:
    assert [p.name for p in people.search("ca")] == ["Carl Care"]
    assert [p.id for p in people.search("acme.example", limit=2)] == [BOTH, CARE_ADMIN]
    assert [u.label for u in people.manageable_units(CARE_ADMIN)] == [
        "Acme/Customer Care",
        "Acme/Customer Care/Orders",
    ]
    assert people.manageable_units(AGENT) == []
    assert people.may_manage(AGENT).reason == (
        "Only an administrator can change people and their roles: Olga Orders holds no such role."
    )


# -- the import ---------------------------------------------------------------------------------

GOOD = (
    HEADER + "Nia New,nia@acme.example,Acme/Customer Care,agent\n"
    "Nia New,nia@acme.example,Acme/Customer Care/Orders,supervisor\n"
    "Olga Orders,OLGA@acme.example,Acme/Customer Care,strategist\n"
    "Olga Orders,olga@acme.example,Acme/Customer Care/Orders,agent\n"
)


def test_import_all_at_once_with_audit(people: PeopleService, storage: FakeStorage) -> None:
    result = people.import_people(CARE_ADMIN, GOOD)
    assert (result.people_added, result.roles_added, result.people_renamed, result.unchanged) == (
        1,
        3,
        0,
        1,
    )
    assert len(storage.history) == 1  # one transaction
    nia = people.search("nia")[0]
    assert [(r.unit_label, r.role) for r in people.person(nia.id).roles] == [  # type: ignore[union-attr]
        ("Acme/Customer Care", "agent"),
        ("Acme/Customer Care/Orders", "supervisor"),
    ]
    actions = [e.action for e in storage.data.audit]
    assert actions == ["person.added", "people.imported"]
    summary = storage.data.audit[-1].after
    assert summary is not None
    assert (summary["people_added"], summary["roles_added"]) == (1, 3)
    assert summary["roles_for_existing_people"] == [
        {"email": "olga@acme.example", "unit": "Acme/Customer Care", "role": "strategist"}
    ]


def test_import_with_one_bad_line_changes_nothing(
    people: PeopleService, storage: FakeStorage
) -> None:
    before = (list(storage.data.people), list(storage.data.roles))
    bad = GOOD + "Zed,zed@acme.example,Acme/Custmer Care,agent\n"
    with pytest.raises(ImportRefused) as refused:
        people.import_people(CARE_ADMIN, bad)
    assert [str(p) for p in refused.value.preview.problems] == [
        "line 6: unknown unit “Acme/Custmer Care” (did you mean “Acme/Customer Care”?)"
    ]
    assert storage.history == []
    assert (storage.data.people, storage.data.roles) == before
    assert storage.data.audit == []


def test_import_refuses_roles_the_operator_may_not_grant(people: PeopleService) -> None:
    text = (
        HEADER
        + "Nia,nia@acme.example,Acme/Customer Care,agent\nNia,nia@acme.example,Acme/Marketing,agent\n"
    )
    preview = people.preview_import(text, CARE_ADMIN)
    assert [str(p) for p in preview.problems] == [
        "line 3: Only an administrator of Marketing can grant roles there."
    ]
    assert people.preview_import(text).ok  # without an operator: the file alone
    assert people.preview_import(text, ROOT_ADMIN).ok
    refused = people.preview_import(text, AGENT)
    assert [str(p) for p in refused.problems] == [
        "Only an administrator can import people: Olga Orders holds no such role."
    ]


def test_import_renames_existing_people_when_allowed(
    people: PeopleService, storage: FakeStorage
) -> None:
    text = HEADER + "Bea Brown,bea@acme.example,Acme/Marketing,agent\n"
    preview = people.preview_import(text, CARE_ADMIN)
    assert [str(p) for p in preview.problems] == [
        "line 2: renaming Bea Both: Only an administrator of Marketing can rename its people."
    ]
    result = people.import_people(ROOT_ADMIN, text)
    assert (result.people_renamed, result.unchanged) == (1, 1)
    assert people.person(BOTH).name == "Bea Brown"  # type: ignore[union-attr]
    edited = [e for e in storage.data.audit if e.action == "person.edited"]
    assert [(e.before, e.after) for e in edited] == [({"name": "Bea Both"}, {"name": "Bea Brown"})]


def test_import_operator(people: PeopleService, storage: FakeStorage) -> None:
    assert people.import_operator(None) == ROOT_ADMIN
    assert people.import_operator("CARL@acme.example") == CARE_ADMIN
    with pytest.raises(UnknownOperatorError, match=r"Nobody with the email x@y\.z"):
        people.import_operator("x@y.z")
    storage.data.roles.append((CARE_ADMIN, "admin", ACME))
    with pytest.raises(UnknownOperatorError, match=r"2 people administer Acme .*--operator EMAIL"):
        people.import_operator(None)
    storage.data.inactive.add(CARE_ADMIN)
    assert people.import_operator(None) == ROOT_ADMIN
    with pytest.raises(UnknownOperatorError, match="deactivated"):
        people.import_operator("carl@acme.example")
