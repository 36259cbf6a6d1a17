"""The audit log's read side on fakes: who reads what, filters, paging, CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.access import NotAllowed
from app.services.audit import CSV_COLUMNS, AuditFilter, AuditService, render
from app.storage.ports import PersonEntry
from tests.unit.services.fakes import NOW, FakeAccount, FakeData, FakeStorage
from tests.unit.services.fakes_admin import record

ADMIN, CARE_SUP, AGENT, GONE = 1, 2, 3, 4
ACME, CARE, ORDERS, MARKETING = 1, 2, 3, 4


def _storage() -> FakeStorage:
    data = FakeData(organization="Acme")
    data.add_unit(ACME, None, "Acme")
    data.add_unit(CARE, ACME, "Customer Care")
    data.add_unit(ORDERS, CARE, "Orders")
    data.add_unit(MARKETING, ACME, "Marketing")
    data.people = [
        PersonEntry(ADMIN, "Ingrid", "i@x", ""),
        PersonEntry(CARE_SUP, "Marcus", "m@x", ""),
        PersonEntry(AGENT, "Tom", "t@x", ""),
        PersonEntry(GONE, "Gus", "g@x", ""),
    ]
    data.roles = [
        (ADMIN, "admin", ACME),
        (CARE_SUP, "supervisor", CARE),
        (AGENT, "agent", ORDERS),
        (GONE, "supervisor", ACME),
    ]
    data.inactive = {GONE}
    data.accounts[7] = FakeAccount(7, "x", "@care", unit_id=ORDERS)
    data.audit = [
        record(NOW, "workspace.created", entity="organization"),
        record(NOW + timedelta(minutes=1), "unit.renamed", entity_id=ORDERS),
        record(NOW + timedelta(minutes=2), "account.poll_interval", entity="account", entity_id=7),
        record(
            NOW + timedelta(minutes=3),
            "account.connected",
            entity="account",
            entity_id=99,
            person_id=2,
            after={"unit_id": MARKETING, "handle": "@mkt"},
        ),
        record(NOW + timedelta(minutes=4), "unit.moved", entity_id=MARKETING),
    ]
    return FakeStorage(data)


@pytest.fixture
def audit() -> AuditService:
    return AuditService(_storage())


def _actions(rows: list) -> list[str]:
    return [r.action for r in rows]


def test_an_administrator_of_the_root_reads_everything_newest_first(audit: AuditService) -> None:
    assert _actions(audit.page(ADMIN, AuditFilter())) == [
        "unit.moved",
        "account.connected",
        "account.poll_interval",
        "unit.renamed",
        "workspace.created",
    ]
    assert _actions(audit.page(ADMIN, AuditFilter(kind="account."))) == [
        "account.connected",
        "account.poll_interval",
    ]
    assert _actions(audit.page(ADMIN, AuditFilter(kind="unit.moved"))) == ["unit.moved"]
    assert _actions(audit.page(ADMIN, AuditFilter(person_id=2))) == ["account.connected"]
    period = AuditFilter(since=NOW + timedelta(minutes=1), until=NOW + timedelta(minutes=3))
    assert _actions(audit.page(ADMIN, period)) == ["account.poll_interval", "unit.renamed"]
    assert audit.kinds(ADMIN) == [
        "account.",
        "account.connected",
        "account.poll_interval",
        "unit.",
        "unit.moved",
        "unit.renamed",
        "workspace.",
        "workspace.created",
    ]


def test_the_unit_filter_covers_sub_units_accounts_and_unit_ids(audit: AuditService) -> None:
    care = audit.page(ADMIN, AuditFilter(unit_id=CARE))
    assert _actions(care) == ["account.poll_interval", "unit.renamed"]  # Orders and its account
    assert _actions(audit.page(ADMIN, AuditFilter(unit_id=MARKETING))) == [
        "unit.moved",
        "account.connected",
    ]


def test_a_supervisor_reads_the_entries_of_their_units_only(audit: AuditService) -> None:
    assert _actions(audit.page(CARE_SUP, AuditFilter())) == [
        "account.poll_interval",
        "unit.renamed",
    ]
    assert [u.name for u in audit.units(CARE_SUP)] == ["Customer Care", "Orders"]
    with pytest.raises(NotAllowed, match="Only a supervisor or an administrator of Marketing"):
        audit.page(CARE_SUP, AuditFilter(unit_id=MARKETING))


def test_agents_and_deactivated_people_read_nothing(audit: AuditService) -> None:
    with pytest.raises(NotAllowed, match="Only a supervisor or an administrator of Acme"):
        audit.page(AGENT, AuditFilter())
    with pytest.raises(NotAllowed, match="Gus is deactivated"):
        audit.page(GONE, AuditFilter())
    with pytest.raises(NotAllowed, match="deactivated"):
        audit.export_text(GONE, AuditFilter())
    assert audit.decide_reading(AGENT)[0] is False
    assert audit.decide_reading(CARE_SUP) == (True, "")


@given(st.integers(min_value=1, max_value=4), st.lists(st.integers(0, 3), max_size=12))
def test_paging_never_repeats_or_drops_an_entry_while_entries_arrive(
    size: int, arrivals: list[int]
) -> None:
    db = _storage()
    audit = AuditService(db)
    expected = {r.id for r in audit.page(ADMIN, AuditFilter(), limit=1000)}
    seen: list[int] = []
    after = None
    for step in range(100):
        page = audit.page(ADMIN, AuditFilter(), after=after, limit=size)
        seen.extend(r.id for r in page)
        if len(page) < size:
            break
        after = page[-1].key
        for _ in range(arrivals[step] if step < len(arrivals) else 0):  # while reading on
            db.data.audit.append(record(NOW + timedelta(hours=1, seconds=step), "unit.added"))
    assert len(seen) == len(set(seen))
    assert set(seen) == expected  # every entry there at the start; the new ones are above


def test_csv_has_a_header_every_row_and_defused_formulas() -> None:
    db = _storage()
    db.data.audit.append(
        record(
            NOW + timedelta(hours=2),
            "unit.added",
            entity_id=CARE,
            after={"name": "=HYPERLINK(1)", "b": 1},
        )
    )
    text = AuditService(db).export_text(ADMIN, AuditFilter())
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 1 + 6
    assert rows[1][4] == "unit.added"
    assert rows[1][8] == '{"b": 1, "name": "=HYPERLINK(1)"}'  # sorted keys; starts with {
    assert rows[1][1].endswith("+00:00")
    assert render(None) == ""
    assert render({"z": 1, "a": [1]}) == '{"a": [1], "z": 1}'
