"""The units service on fakes: rules, permissions, audit entries, the inbox told."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.domain.hours import HoursError, standard_week
from app.services.access import NotAllowed
from app.services.inbox import InboxService
from app.services.units import UnitError, UnitsService
from app.storage.ports import PersonEntry, UnitEntry
from tests.unit.services.fakes import (
    NOW,
    Clock,
    FakeAccount,
    FakeConversation,
    FakeData,
    FakeStorage,
)

ADMIN, CARE_ADMIN, AGENT, GONE = 1, 2, 3, 4
ACME, CARE, ORDERS, MARKETING, TRIAGE = 1, 2, 3, 4, 5


def _storage() -> FakeStorage:
    data = FakeData(organization="Acme")
    data.add_unit(ACME, None, "Acme")
    data.add_unit(CARE, ACME, "Customer Care", 0)
    data.add_unit(ORDERS, CARE, "Orders", 0)
    data.add_unit(MARKETING, ACME, "Marketing", 1)
    data.add_unit(TRIAGE, ACME, "Triage", 2)
    triage = data.units[-1]
    data.units[-1] = UnitEntry(replace(triage.unit, is_triage=True), triage.sort_order)
    data.people = [
        PersonEntry(ADMIN, "Ingrid", "ingrid@x", ""),
        PersonEntry(CARE_ADMIN, "Carla", "carla@x", ""),
        PersonEntry(AGENT, "Tom", "tom@x", ""),
        PersonEntry(GONE, "Gus", "gus@x", ""),
    ]
    data.roles = [(ADMIN, "admin", ACME), (CARE_ADMIN, "admin", CARE), (AGENT, "agent", ORDERS)]
    data.roles.append((GONE, "admin", ACME))
    data.inactive = {GONE}
    data.accounts[1] = FakeAccount(1, "x", "@acme_mkt", unit_id=MARKETING)
    data.accounts[2] = FakeAccount(2, "x", "@acme_ads", unit_id=MARKETING)
    data.conversations = [
        FakeConversation(i, 1, MARKETING, f"t{i}", last_activity_at=NOW) for i in range(1, 4)
    ]
    data.roles.append((AGENT, "agent", MARKETING))
    return FakeStorage(data)


@pytest.fixture
def db() -> FakeStorage:
    return _storage()


def _service(db: FakeStorage) -> tuple[UnitsService, InboxService]:
    inbox = InboxService(db)
    return UnitsService(db, inbox, clock=Clock()), inbox


def _paths(db: FakeStorage) -> dict[str, str]:
    return {e.unit.name: e.unit.path for e in db.data.units}


def test_add_rename_and_settings_are_audited_and_the_inbox_follows(db: FakeStorage) -> None:
    units, inbox = _service(db)
    assert [u.name for u in inbox.units()][:2] == ["Acme", "Customer Care"]
    new = units.add(ADMIN, CARE, "Technical Support", colour="#1565C0")
    assert any(u.id == new for u in inbox.units())  # the cached tree was dropped
    assert _paths(db)["Technical Support"] == f"/1/2/{new}/"
    units.rename(ADMIN, new, "  Tech   Support ")
    units.set_languages(ADMIN, new, "EN, de")
    units.set_target(ADMIN, new, 4)
    units.set_hours(ADMIN, new, standard_week())
    units.set_head(ADMIN, new, AGENT)
    got = units.get(new)
    assert (got.name, got.colour, got.languages) == ("Tech Support", "#1565c0", "en,de")
    assert (got.first_response_target_h, got.head_id) == (4.0, AGENT)
    assert got.business_hours == standard_week()
    actions = [(e.action, e.entity, e.entity_id) for e in db.data.audit]
    assert actions == [
        ("unit.added", "unit", new),
        ("unit.renamed", "unit", new),
        ("unit.languages", "unit", new),
        ("unit.target", "unit", new),
        ("unit.hours", "unit", new),
        ("unit.head", "unit", new),
    ]
    renamed = db.data.audit[1]
    assert (renamed.before, renamed.after) == (
        {"name": "Technical Support"},
        {"name": "Tech Support"},
    )
    assert renamed.person_name == "Ingrid"
    assert renamed.at == NOW


def test_bad_values_are_refused_and_nothing_is_written(db: FakeStorage) -> None:
    units, _inbox = _service(db)
    with pytest.raises(UnitError, match="already a unit called “customer care”"):
        units.add(ADMIN, ACME, "customer care")
    with pytest.raises(UnitError, match="already a unit called"):
        units.rename(ADMIN, MARKETING, "CUSTOMER CARE")
    with pytest.raises(UnitError, match="is not a colour"):
        units.set_colour(ADMIN, CARE, "blue")
    with pytest.raises(UnitError, match="at most 720"):
        units.set_target(ADMIN, CARE, 1000)
    with pytest.raises(HoursError, match="overlap"):
        units.set_hours(ADMIN, CARE, {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]})
    with pytest.raises(UnitError, match="Gus is deactivated"):
        units.set_head(ADMIN, CARE, GONE)
    assert db.data.audit == []
    assert db.history == []


def test_a_move_rewrites_the_sub_tree_and_refuses_cycles(db: FakeStorage) -> None:
    units, inbox = _service(db)
    assert inbox.subtree(CARE) == (CARE, ORDERS)
    units.move(ADMIN, CARE, MARKETING)
    assert _paths(db)["Customer Care"] == "/1/4/2/"
    assert _paths(db)["Orders"] == "/1/4/2/3/"
    assert set(inbox.subtree(MARKETING)) == {MARKETING, CARE, ORDERS}
    moved = db.data.audit[-1]
    assert moved.before == {"parent_id": ACME, "path": "/1/2/", "position": 0}
    assert moved.after is not None
    assert moved.after["paths_rewritten"] == 2
    with pytest.raises(UnitError, match="below its own sub-unit Orders"):
        units.move(ADMIN, CARE, ORDERS)
    with pytest.raises(UnitError, match="top of the tree"):
        units.move(ADMIN, ACME, CARE)
    assert [p.name for p in units.parents_for(ADMIN, CARE)] == ["Acme", "Triage"]


def test_a_move_needs_the_role_on_both_sides(db: FakeStorage) -> None:
    units, _inbox = _service(db)
    units.add(CARE_ADMIN, CARE, "Returns")  # inside Care: fine
    with pytest.raises(NotAllowed, match="Only an administrator of Marketing can move units"):
        units.move(CARE_ADMIN, ORDERS, MARKETING)
    with pytest.raises(NotAllowed, match="Only an administrator of Acme can change its units"):
        units.rename(CARE_ADMIN, ACME, "Acme Inc")
    with pytest.raises(NotAllowed, match="Only an administrator of Orders can change its units"):
        units.set_colour(AGENT, ORDERS, "#000000")
    with pytest.raises(NotAllowed, match="Gus is deactivated"):
        units.rename(GONE, CARE, "Care")
    assert [p.name for p in units.parents_for(CARE_ADMIN, ORDERS)] == ["Returns"]
    assert _paths(db)["Orders"] == "/1/2/3/"


def test_delete_refuses_triage_the_root_and_a_unit_holding_things(db: FakeStorage) -> None:
    units, _inbox = _service(db)
    with pytest.raises(UnitError, match="Triage queue"):
        units.delete(ADMIN, TRIAGE)
    with pytest.raises(UnitError, match="top of the tree"):
        units.delete(ADMIN, ACME)
    with pytest.raises(
        UnitError,
        match=r"^Marketing holds 3 conversations, 2 accounts and 1 role assignment: "
        "choose where they go.$",
    ):
        units.delete(ADMIN, MARKETING)
    with pytest.raises(UnitError, match="is deleted with it"):
        units.delete(ADMIN, CARE, move_to=ORDERS)
    assert len(db.data.units) == 5
    assert db.data.audit == []


def test_delete_hands_everything_and_the_sub_units_to_the_destination(db: FakeStorage) -> None:
    units, inbox = _service(db)
    units.move(ADMIN, CARE, MARKETING)
    moved = units.delete(ADMIN, MARKETING, move_to=TRIAGE)
    assert (moved.conversations, moved.accounts, moved.roles, moved.sub_units) == (3, 2, 1, 1)
    assert {c.unit_id for c in db.data.conversations} == {TRIAGE}
    assert {a.unit_id for a in db.data.accounts.values()} == {TRIAGE}
    assert (AGENT, "agent", TRIAGE) in db.data.roles
    assert _paths(db) == {
        "Acme": "/1/",
        "Customer Care": "/1/5/2/",
        "Orders": "/1/5/2/3/",
        "Triage": "/1/5/",
    }
    assert inbox.subtree(TRIAGE) == (TRIAGE, CARE, ORDERS)
    last = db.data.audit[-1]
    assert last.action == "unit.deleted"
    assert last.entity_id == MARKETING
    assert last.after is not None
    assert last.after["unit_id"] == TRIAGE
    assert last.after["conversations"] == 3
    assert last.after["sub_units"] == 1


def test_delete_needs_the_role_on_the_destination(db: FakeStorage) -> None:
    units, _inbox = _service(db)
    empty = units.add(CARE_ADMIN, CARE, "Returns")
    units.delete(CARE_ADMIN, empty)  # empty: no destination needed
    assert all(e.unit.id != empty for e in db.data.units)
    db.data.conversations.append(FakeConversation(9, 1, ORDERS, "t9"))
    with pytest.raises(NotAllowed, match="Only an administrator of Marketing"):
        units.delete(CARE_ADMIN, ORDERS, move_to=MARKETING)
    assert {u.name for u in units.destinations_for(CARE_ADMIN, ORDERS)} == {"Customer Care"}
    units.delete(CARE_ADMIN, ORDERS, move_to=CARE)
    assert db.data.conversations[-1].unit_id == CARE
