"""Reading the audit log on real databases (SQLite and PostgreSQL): pages, filters, scope, CSV."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from app.models import Account, AuditEntry, Person
from app.services.access import NotAllowed
from app.services.audit import CSV_COLUMNS, AuditFilter
from app.services.container import Services

T0 = datetime(2030, 1, 1, 12, tzinfo=UTC)  # after anything the demo wrote


def _unit(s: Services, name: str) -> int:
    return next(u.id for u in s.units.tree() if u.name == name)


def _person(s: Services, local: str) -> int:
    person = s.directory.person_by_email(f"{local}@acme-mobility.example")
    assert person is not None
    return person.id


def _write(
    s: Services, n: int, *, at: datetime, action: str = "test.entry", **values: object
) -> None:
    if n == 0:
        return
    with s.db.engine.begin() as conn:
        conn.execute(
            insert(AuditEntry),
            [
                {
                    "at": at,
                    "person_id": None,
                    "person_name": "script",
                    "action": action,
                    "entity": "test",
                    "entity_id": i,
                    "before": None,
                    "after": {"i": i},
                    **values,
                }
                for i in range(n)
            ],
        )


def _all_ids(s: Services) -> list[int]:
    with s.db.engine.connect() as conn:
        return list(
            conn.execute(
                select(AuditEntry.id).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            ).scalars()
        )


def test_paging_never_repeats_or_drops_an_entry_while_entries_arrive(
    demo_services: Services,
) -> None:
    s = demo_services
    admin = _person(s, "ingrid.solberg")
    _write(s, 25, at=T0)  # many entries at the same millisecond: the id breaks the tie
    _write(s, 10, at=T0 - timedelta(days=1))
    expected = _all_ids(s)
    seen: list[int] = []
    after = None
    for step in range(1000):
        page = s.audit.page(admin, AuditFilter(), after=after, limit=7)
        seen.extend(r.id for r in page)
        if len(page) < 7:
            break
        after = page[-1].key
        _write(s, step % 3, at=T0 + timedelta(minutes=step + 1))  # newer: above what is read
    assert seen == expected
    assert len(set(seen)) == len(seen)


def test_filters_by_person_unit_kind_and_period(demo_services: Services) -> None:
    s = demo_services
    admin, marcus = _person(s, "ingrid.solberg"), _person(s, "marcus.kelly")
    care, orders, marketing = (
        _unit(s, n) for n in ("Customer Care", "Orders & Delivery", "Marketing")
    )
    s.units.rename(admin, orders, "Orders")
    s.units.set_colour(admin, marketing, "#123456")
    with s.db.engine.begin() as conn:
        account = conn.execute(select(Account.id).order_by(Account.id).limit(1)).scalar_one()
        conn.execute(update(Account).where(Account.id == account).values(unit_id=orders))
    s.accounts.set_poll_interval(admin, account, 600)
    _write(
        s,
        1,
        at=T0,
        action="person.role_added",
        person_id=marcus,
        person_name="Marcus Kelly",
        entity="person",
        entity_id=marcus,
        after={"unit_id": care, "role": "agent"},
    )

    def actions(f: AuditFilter) -> list[str]:
        """What the filter finds, the demo's own drafts and strategy history set aside."""
        rows = s.audit.page(admin, f, limit=1000)
        return [r.action for r in rows if not r.action.startswith(("draft.", "strategy."))]

    assert actions(AuditFilter(unit_id=care)) == [
        "person.role_added",
        "account.poll_interval",
        "unit.renamed",
    ]
    assert actions(AuditFilter(unit_id=marketing)) == ["unit.colour"]
    assert actions(AuditFilter(kind="unit.")) == ["unit.colour", "unit.renamed"]
    assert actions(AuditFilter(kind="unit.colour")) == ["unit.colour"]
    assert actions(AuditFilter(kind="unit")) == []  # an exact action, not a prefix
    assert actions(AuditFilter(kind="u%")) == []  # LIKE's wildcards are taken literally
    assert actions(AuditFilter(person_id=marcus)) == ["person.role_added"]
    assert actions(AuditFilter(since=T0)) == ["person.role_added"]
    assert "person.role_added" not in actions(AuditFilter(until=T0))
    assert "workspace.created" in actions(AuditFilter(until=T0))
    assert (None, "script") not in s.audit.actors(admin)
    assert (marcus, "Marcus Kelly") in s.audit.actors(admin)
    assert "unit." in s.audit.kinds(admin)


def test_who_reads_what(demo_services: Services) -> None:
    s = demo_services
    admin = _person(s, "ingrid.solberg")
    marcus = _person(s, "marcus.kelly")  # supervisor of Customer Care
    tom = _person(s, "tom.becker")  # agent
    orders, marketing = _unit(s, "Orders & Delivery"), _unit(s, "Marketing")
    s.units.rename(admin, orders, "Orders")
    s.units.rename(admin, marketing, "Brand")
    mine = [r.action for r in s.audit.page(marcus, AuditFilter(), limit=1000)]
    # Orders (below Care), and the demo's drafts in Care's units; not Brand, not the workspace
    assert [a for a in mine if not a.startswith(("draft.", "strategy."))] == ["unit.renamed"]
    assert {a.split(".")[0] for a in mine} == {"unit", "draft"}
    in_orders = s.audit.page(marcus, AuditFilter(unit_id=orders, kind="unit."))
    assert [r.entity_id for r in in_orders] == [orders]
    with pytest.raises(NotAllowed, match=r"^Only a supervisor or an administrator of Brand"):
        s.audit.page(marcus, AuditFilter(unit_id=marketing))
    with pytest.raises(NotAllowed, match=r"^Only a supervisor or an administrator of Acme"):
        s.audit.page(tom, AuditFilter())
    everything = s.audit.page(admin, AuditFilter(), limit=1000)
    assert {"workspace.created", "unit.renamed"} <= {r.action for r in everything}
    with s.db.engine.begin() as conn:
        conn.execute(update(Person).where(Person.id == marcus).values(active=False))
    with pytest.raises(NotAllowed, match="Marcus Kelly is deactivated"):
        s.audit.page(marcus, AuditFilter())


def test_csv_export_has_a_header_and_every_row(demo_services: Services, tmp_path: Path) -> None:
    s = demo_services
    admin = _person(s, "ingrid.solberg")
    _write(s, 2500, at=T0)  # more than one chunk of the stream
    _write(s, 1, at=T0 + timedelta(seconds=1), person_name="=cmd|' /C calc'!A0")
    with s.db.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    target = tmp_path / "audit.csv"
    assert s.audit.export_csv(admin, AuditFilter(), target) == total
    with open(target, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == total + 1
    assert [int(r[0]) for r in rows[1:]] == _all_ids(s)
    assert rows[1][3] == "'=cmd|' /C calc'!A0"  # a spreadsheet shows it, never runs it
    assert rows[2][8] == '{"i": 2499}'
    only = tmp_path / "units.csv"
    assert s.audit.export_csv(admin, AuditFilter(kind="test."), only) == 2501
