"""The organization service on fakes: the set-up in one commit, refusals, settings afterwards."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.domain.hours import standard_week
from app.domain.setup import SUGGESTED_UNITS, OrganizationSetup, SetupError
from app.domain.spam import SpamSettingsError
from app.services.access import NotAllowed
from app.services.organization import AlreadySetUp, OrganizationService
from app.storage.ports import PersonEntry, UnitEntry
from tests.unit.services.fakes import NOW, Clock, FakeData, FakeStorage

SETUP = OrganizationSetup(
    name="Acme",
    admin_name="Ada Admin",
    admin_email="ada@acme.example",
    mission="Answer as one company.",
    time_zone="Europe/Berlin",
)


@pytest.fixture
def storage() -> FakeStorage:
    return FakeStorage()


@pytest.fixture
def service(storage: FakeStorage) -> OrganizationService:
    return OrganizationService(storage, clock=Clock())


def test_set_up_writes_everything_in_one_commit(
    storage: FakeStorage, service: OrganizationService
) -> None:
    assert not service.is_set_up()
    done = service.set_up(SETUP)

    assert len(storage.history) == 1  # one transaction
    assert storage.setup_locks == [1]
    data = storage.data
    org = service.organization()
    assert org is not None
    assert service.is_set_up()
    assert (org.name, org.mission, org.time_zone) == (
        "Acme",
        "Answer as one company.",
        "Europe/Berlin",
    )
    assert org.business_hours == standard_week()
    admin = done.administrator
    assert (admin.name, admin.email, admin.roles) == (
        "Ada Admin",
        "ada@acme.example",
        (("admin", "Acme"),),
    )
    assert org.executive_sponsor_id == admin.id
    assert org.executive_sponsor_name == "Ada Admin"
    assert [p.name for p in data.people] == ["Ada Admin"]

    root, *children = done.units
    assert (root.name, root.kind, root.parent_id, root.path) == (
        "Acme",
        "company",
        None,
        f"/{root.id}/",
    )
    assert [u.name for u in children] == [*SUGGESTED_UNITS, "Triage"]
    assert all(u.parent_id == root.id and u.path == f"/{root.id}/{u.id}/" for u in children)
    assert [u.name for u in children if u.is_triage] == ["Triage"]
    assert children[-1].kind == "queue"
    assert {e.unit.id for e in data.units} == {u.id for u in done.units}
    assert data.roles == [(admin.id, "admin", root.id)]

    actions = [(a.action, a.entity, a.entity_id) for a in data.audit]
    assert actions[0] == ("organization.created", "organization", org.id)
    assert actions[1] == ("person.created", "person", admin.id)
    assert [a for a in actions if a[0] == "unit.created"] == [
        ("unit.created", "unit", u.id) for u in done.units
    ]
    assert actions[-1] == ("role.granted", "person", admin.id)
    assert all(a.person_id == admin.id and a.person_name == "Ada Admin" for a in data.audit)
    assert all(a.at == NOW for a in data.audit)
    assert data.audit[0].after is not None
    assert data.audit[0].after["executive_sponsor_id"] == admin.id


def test_a_second_set_up_is_refused_and_changes_nothing(
    storage: FakeStorage, service: OrganizationService
) -> None:
    service.set_up(SETUP)
    before = storage.data
    with pytest.raises(AlreadySetUp, match="already set up for Acme; nothing was changed"):
        service.set_up(OrganizationSetup(name="Other", admin_name="Bo", admin_email="bo@x.org"))
    assert len(storage.history) == 1
    assert storage.data == before


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (OrganizationSetup(name="", admin_name="Ada", admin_email="ada@x.org"), "organization"),
        (OrganizationSetup(name="Acme", admin_name="  ", admin_email="ada@x.org"), "administrator"),
        (OrganizationSetup(name="Acme", admin_name="Ada", admin_email="ada"), "email address"),
        (
            OrganizationSetup(
                name="Acme", admin_name="Ada", admin_email="a@x.org", time_zone="Nowhere"
            ),
            "time zone",
        ),
        (
            OrganizationSetup(
                name="Acme", admin_name="Ada", admin_email="a@x.org", units=("A", "a")
            ),
            "Two units",
        ),
    ],
)
def test_bad_input_writes_nothing(
    storage: FakeStorage, service: OrganizationService, setup: OrganizationSetup, message: str
) -> None:
    with pytest.raises(SetupError, match=message):
        service.set_up(setup)
    assert storage.history == []
    assert storage.data == FakeData()


def test_a_workspace_with_units_or_that_email_is_refused() -> None:
    with_units = FakeData()
    with_units.add_unit(1, None, "Company")
    storage = FakeStorage(with_units)
    with pytest.raises(AlreadySetUp, match="already holds units"):
        OrganizationService(storage).set_up(SETUP)
    assert storage.history == []

    with_person = FakeData(people=[PersonEntry(7, "Ada", "ADA@acme.example", "")])
    storage = FakeStorage(with_person)
    with pytest.raises(SetupError, match=r"ada@acme\.example is already in this workspace"):
        OrganizationService(storage).set_up(SETUP)
    assert storage.history == []


# -- changing the organization afterwards ----------------------------------------------------


@pytest.fixture
def set_up(storage: FakeStorage, service: OrganizationService) -> int:
    """The workspace set up, with an agent (id 2) in Marketing; the admin's id."""
    done = service.set_up(SETUP)
    data = storage.data
    data.people.append(PersonEntry(2, "Al Agent", "al@acme.example", ""))
    marketing = next(u for u in done.units if u.name == "Marketing")
    data.roles.append((2, "agent", marketing.id))
    storage.history.clear()
    return done.administrator.id


def test_an_admin_changes_the_organization_with_an_audit_entry(
    storage: FakeStorage, service: OrganizationService, set_up: int
) -> None:
    week = standard_week() | {"sat": [["10:00", "14:00"]]}
    row = service.update_organization(
        set_up,
        name="Acme Mobility",
        mission="  Cleaner trips.  ",
        time_zone="America/New_York",
        business_hours=week,
        executive_sponsor_id=2,
    )
    assert (row.name, row.mission, row.time_zone) == (
        "Acme Mobility",
        "Cleaner trips.",
        "America/New_York",
    )
    assert row.business_hours["sat"] == [["10:00", "14:00"]]
    assert (row.executive_sponsor_id, row.executive_sponsor_name) == (2, "Al Agent")
    assert service.organization() == row
    root = next(e.unit for e in storage.data.units if e.unit.parent_id is None)
    assert root.name == "Acme Mobility"  # the company unit follows the organization's name
    assert len(storage.history) == 1
    entry = storage.data.audit[-1]
    assert entry.action == "organization.updated"
    assert entry.person_id == set_up
    assert entry.before == {
        "name": "Acme",
        "mission": "Answer as one company.",
        "executive_sponsor_id": set_up,
        "time_zone": "Europe/Berlin",
        "business_hours": standard_week(),
    }
    assert entry.after is not None
    assert entry.after["name"] == "Acme Mobility"


def test_only_what_changed_is_audited_and_nothing_is_a_no_op(
    storage: FakeStorage, service: OrganizationService, set_up: int
) -> None:
    service.update_organization(set_up, name="Acme")  # the same: nothing written
    assert storage.history == []
    service.update_organization(set_up, mission="New")
    entry = storage.data.audit[-1]
    assert (entry.before, entry.after) == (
        {"mission": "Answer as one company."},
        {"mission": "New"},
    )


def test_a_renamed_company_unit_keeps_its_own_name(
    storage: FakeStorage, service: OrganizationService, set_up: int
) -> None:
    root = next(e.unit for e in storage.data.units if e.unit.parent_id is None)
    storage.data.units = [
        UnitEntry(replace(e.unit, name="Acme Group"), e.sort_order) if e.unit.id == root.id else e
        for e in storage.data.units
    ]
    service.update_organization(set_up, name="Acme Mobility")
    assert next(e.unit.name for e in storage.data.units if e.unit.id == root.id) == "Acme Group"


def test_refusals(storage: FakeStorage, service: OrganizationService, set_up: int) -> None:
    with pytest.raises(
        NotAllowed, match="Only an administrator of Acme can change the organization"
    ):
        service.update_organization(2, name="Mine")
    storage.data.inactive.add(set_up)
    with pytest.raises(NotAllowed, match="deactivated"):
        service.update_organization(set_up, name="Mine")
    storage.data.inactive.clear()
    with pytest.raises(SetupError, match="not a time zone"):
        service.update_organization(set_up, time_zone="Moon/Base")
    with pytest.raises(SetupError, match="overlap"):
        service.update_organization(
            set_up, business_hours={"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}
        )
    with pytest.raises(SetupError, match="cannot be empty"):
        service.update_organization(set_up, name=" ")
    with pytest.raises(SetupError, match="active person"):
        service.update_organization(set_up, executive_sponsor_id=99)
    storage.data.inactive.add(2)
    with pytest.raises(SetupError, match="active person"):
        service.update_organization(set_up, executive_sponsor_id=2)
    assert storage.history == []
    assert service.organization() is not None
    assert service.organization().name == "Acme"  # type: ignore[union-attr]


# -- the spam filter's settings ----------------------------------------------------------------


def test_an_admin_sets_the_spam_threshold_and_words_with_an_audit_entry(
    storage: FakeStorage, service: OrganizationService, set_up: int
) -> None:
    row = service.update_spam_settings(
        set_up, threshold=0.75, keywords=["  Free   followers ", "crypto", "CRYPTO", "", "promo"]
    )
    assert (row.spam_threshold, row.spam_keywords) == (0.75, ("Free followers", "crypto", "promo"))
    assert service.organization() == row
    assert len(storage.history) == 1
    entry = storage.data.audit[-1]
    assert (entry.action, entry.person_id) == ("organization.spam_settings", set_up)
    assert entry.before == {"spam_threshold": 0.6, "spam_keywords": []}
    assert entry.after == {
        "spam_threshold": 0.75,
        "spam_keywords": ["Free followers", "crypto", "promo"],
    }
    storage.history.clear()
    service.update_spam_settings(set_up, keywords=[])
    assert storage.data.audit[-1].after == {"spam_keywords": []}  # an empty list clears them
    storage.history.clear()
    service.update_spam_settings(set_up, threshold=0.75)  # as it is: nothing written
    assert storage.history == []


@pytest.mark.parametrize(
    ("threshold", "keywords", "message"),
    [
        (0, None, "above 0 and at most 1, not 0"),
        (1.5, None, "above 0 and at most 1, not 1.5"),
        (None, ["!!!"], "has no letter or digit"),
        (None, ["x" * 101], "longer than 100 characters"),
        (None, [f"word{i}" for i in range(501)], "At most 500 spam words"),
    ],
)
def test_spam_settings_that_cannot_be_used_are_refused_and_nothing_changes(
    storage: FakeStorage,
    service: OrganizationService,
    set_up: int,
    threshold: float | None,
    keywords: list[str] | None,
    message: str,
) -> None:
    before = service.organization()
    with pytest.raises(SpamSettingsError, match=message):
        service.update_spam_settings(set_up, threshold=threshold, keywords=keywords)
    assert service.organization() == before
    assert storage.history == []


def test_only_an_administrator_changes_the_spam_filter(
    storage: FakeStorage, service: OrganizationService, set_up: int
) -> None:
    with pytest.raises(
        NotAllowed, match="Only an administrator of Acme can change the spam filter"
    ):
        service.update_spam_settings(2, threshold=0.9)
    assert storage.history == []
