"""People and roles on real databases (SQLite and PostgreSQL): import all or nothing, permissions,
search, and ``quiver people import``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.bootstrap import services_for
from app.cli import main
from app.domain.permissions import Action
from app.models import AuditEntry, Person, RoleAssignment
from app.services.container import Services
from app.services.people import ImportRefused, NotAllowed, PersonError
from app.storage.workspace import open_database

DOMAIN = "acme-mobility.example"
ADMIN = f"ingrid.solberg@{DOMAIN}"  # admin of the root, Acme Mobility
CARE_HEAD = f"marcus.kelly@{DOMAIN}"  # supervisor of Customer Care (made its admin below)
AGENT = f"tom.becker@{DOMAIN}"  # agent in Orders & Delivery
CARE = "Acme Mobility/Customer Care"
ORDERS = "Acme Mobility/Customer Care/Orders & Delivery"
HEADER = "name,email,unit,role\n"
GOOD = (
    HEADER + f"Nia New,nia@example.org,{CARE},agent\n"
    f"Nia New,nia@example.org,{ORDERS},supervisor\n"
    f"Oli Other,oli@example.org,{ORDERS},agent\n"
)


@pytest.fixture
def url(workspace_url: Callable[[str], str]) -> str:
    return workspace_url("demo")


@pytest.fixture
def services(url: str) -> Iterator[Services]:
    s = services_for(open_database(url))
    yield s
    s.close()


def pid(services: Services, email: str) -> int:
    person = services.directory.person_by_email(email)
    assert person is not None
    return person.id


def unit_id(services: Services, label: str) -> int:
    return next(u.id for u in services.people.units() if u.label == label)


def rows(services: Services) -> tuple[list[Any], list[Any], int]:
    """Every people and role row, and the number of audit entries."""
    with services.db.engine.connect() as conn:
        people = conn.execute(
            select(Person.id, Person.name, Person.email, Person.active).order_by(Person.id)
        ).all()
        roles = conn.execute(
            select(RoleAssignment.person_id, RoleAssignment.unit_id, RoleAssignment.role).order_by(
                RoleAssignment.person_id, RoleAssignment.unit_id, RoleAssignment.role
            )
        ).all()
        audit = conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    return list(people), list(roles), int(audit)


PAT = f"Pat,pat@example.org,{CARE},agent\n".encode()
REFUSED: list[tuple[str, bytes, str]] = [
    (
        "unknown unit on line 3",
        (
            HEADER + f"Nia New,nia@example.org,{CARE},agent\n"
            "Oli Other,oli@example.org,Acme Mobility/Custmer Care,agent\n"
        ).encode(),
        "line 3: unknown unit “Acme Mobility/Custmer Care” (did you mean “" + CARE + "”?)",
    ),
    (
        "duplicate email",
        (GOOD + f"Nia Newer,NIA@example.org,{CARE},strategist\n").encode(),
        "line 5: nia@example.org is called “Nia Newer” here but “Nia New” on line 2",
    ),
    (
        "missing column",
        b"name,email,unit\nNia New,nia@example.org,Acme Mobility\n",
        "line 1: missing column “role”",
    ),
    (
        "missing value",
        (GOOD + "Pat,pat@example.org,Acme Mobility\n").encode(),
        "line 5: missing column “role”",
    ),
    (
        "unknown role",
        (GOOD + f"Pat,pat@example.org,{CARE},manager\n").encode(),
        "line 5: unknown role “manager” (one of agent, supervisor, strategist, admin)",
    ),
    (
        "20 MB file",
        GOOD.encode() + PAT * (20 * 2**20 // len(PAT) + 1),
        "The file is 20.0 MB; at most 5 MB can be imported at once: split it into smaller files.",
    ),
]


@pytest.mark.parametrize(("case", "data", "problem"), REFUSED, ids=[c for c, _d, _p in REFUSED])
def test_a_wrong_file_is_refused_with_the_line_named_and_nothing_changes(
    services: Services, case: str, data: bytes, problem: str
) -> None:
    before = rows(services)
    admin = pid(services, ADMIN)
    assert problem in [str(p) for p in services.people.preview_import(data, admin).problems]
    with pytest.raises(ImportRefused) as refused:
        services.people.import_people(admin, data)
    assert problem in [str(p) for p in refused.value.preview.problems]
    assert rows(services) == before


def test_a_good_file_is_imported_in_one_go(services: Services) -> None:
    before_people, before_roles, before_audit = rows(services)
    result = services.people.import_people(pid(services, ADMIN), GOOD)
    assert (result.people_added, result.roles_added) == (2, 3)
    people, roles, audit = rows(services)
    assert len(people) == len(before_people) + 2
    assert len(roles) == len(before_roles) + 3
    assert audit == before_audit + 3  # one per person added, one for the import
    nia = services.people.person(pid(services, "nia@example.org"))
    assert nia is not None
    assert [(r.unit_label, r.role) for r in nia.roles] == [(CARE, "agent"), (ORDERS, "supervisor")]
    # the same file again: nothing to add, every line already true
    again = services.people.import_people(pid(services, ADMIN), GOOD)
    assert (again.people_added, again.roles_added, again.unchanged) == (0, 0, 3)


def test_roles_are_granted_in_the_admins_unit_and_below_only(services: Services) -> None:
    admin, head, agent = pid(services, ADMIN), pid(services, CARE_HEAD), pid(services, AGENT)
    care, orders = unit_id(services, CARE), unit_id(services, ORDERS)
    marketing = unit_id(services, "Acme Mobility/Marketing")
    with pytest.raises(NotAllowed, match="Only an administrator of Orders & Delivery"):
        services.people.grant_role(head, agent, orders, "supervisor")  # a supervisor, not admin
    assert services.people.grant_role(admin, head, care, "admin")
    assert services.people.grant_role(head, agent, orders, "supervisor")  # a sub-unit of Care
    with pytest.raises(NotAllowed, match="Only an administrator of Marketing can grant roles"):
        services.people.grant_role(head, agent, marketing, "agent")
    text = (
        HEADER
        + f"Pat,pat@example.org,{ORDERS},agent\nPat,pat@example.org,Acme Mobility/Marketing,agent\n"
    )
    with pytest.raises(ImportRefused) as refused:
        services.people.import_people(head, text)
    assert [str(p) for p in refused.value.preview.problems] == [
        "line 3: Only an administrator of Marketing can grant roles there."
    ]
    detail = services.people.person(agent)
    assert detail is not None
    assert ("supervisor", ORDERS) in [(r.role, r.unit_label) for r in detail.roles]


def test_a_deactivated_person_keeps_roles_and_may_do_nothing(services: Services) -> None:
    admin, head, agent = pid(services, ADMIN), pid(services, CARE_HEAD), pid(services, AGENT)
    care = unit_id(services, CARE)
    services.people.grant_role(admin, head, care, "admin")
    services.people.deactivate(admin, head)
    detail = services.people.person(head)
    assert detail is not None
    assert not detail.active
    assert ("admin", CARE) in [(r.role, r.unit_label) for r in detail.roles]
    with pytest.raises(NotAllowed, match="Marcus Kelly is deactivated"):
        services.people.grant_role(head, agent, care, "supervisor")
    with pytest.raises(ImportRefused) as refused:
        services.people.import_people(head, GOOD)
    assert "Marcus Kelly is deactivated" in str(refused.value.preview.problems[0])
    assert not services.access.may(head, Action.WORK_CONVERSATIONS, care)
    with services.db.engine.connect() as conn:
        at = conn.execute(select(Person.deactivated_at).where(Person.id == head)).scalar_one()
    assert at is not None
    services.people.reactivate(admin, head)
    assert services.people.grant_role(head, agent, care, "supervisor")


def test_the_last_root_admin_and_oneself(services: Services) -> None:
    admin, head = pid(services, ADMIN), pid(services, CARE_HEAD)
    root = unit_id(services, "Acme Mobility")
    with pytest.raises(NotAllowed, match="Nobody can deactivate themselves"):
        services.people.deactivate(admin, admin)
    with pytest.raises(NotAllowed, match="last active administrator of Acme Mobility"):
        services.people.revoke_role(admin, admin, root, "admin")
    services.people.grant_role(admin, head, root, "admin")
    assert services.people.revoke_role(head, admin, root, "admin")
    with pytest.raises(NotAllowed, match="last active administrator"):
        services.people.revoke_role(head, head, root, "admin")


def test_add_edit_and_search_with_like_escaped(services: Services) -> None:
    admin = pid(services, ADMIN)
    odd = services.people.add_person(admin, "100% Sure_Thing", "odd@example.org")
    with pytest.raises(PersonError, match="already belongs to 100% Sure_Thing"):
        services.people.add_person(admin, "Other", "ODD@example.org")
    assert [p.id for p in services.people.search("%")] == [odd]
    assert [p.id for p in services.people.search("_")] == [odd]
    assert [p.name for p in services.people.search("MARCUS")] == ["Marcus Kelly"]
    assert [p.name for p in services.people.search("kelly acme-mobility")] == ["Marcus Kelly"]
    services.people.edit_person(admin, odd, name="Odd Person", email="odd.p@example.org")
    assert [p.email for p in services.people.search("odd")] == ["odd.p@example.org"]
    everyone = services.people.search()
    paged: list[int] = []
    after = None
    while True:
        page = services.people.search(after=after, limit=4)
        paged += [p.id for p in page]
        if len(page) < 4:
            break
        after = (page[-1].name, page[-1].id)
    assert paged == [p.id for p in everyone]
    with services.db.engine.connect() as conn:
        actions = (
            conn.execute(
                select(AuditEntry.action)
                .where(AuditEntry.entity == "person", AuditEntry.entity_id == odd)
                .order_by(AuditEntry.id)
            )
            .scalars()
            .all()
        )
    assert actions == ["person.added", "person.edited"]


# -- the command line ---------------------------------------------------------------------------


def test_cli_import(
    url: str, services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(REFUSED[0][1])
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    big = tmp_path / "big.csv"
    big.write_bytes(REFUSED[-1][1])
    before = rows(services)

    assert main(["people", "import", str(bad), "--workspace", url]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: {REFUSED[0][2]}" in err
    assert "Nothing was imported." in err
    assert main(["people", "import", str(big), "--workspace", url]) == 2
    assert "at most 5 MB" in capsys.readouterr().err
    assert main(["people", "import", str(good), "--workspace", url, "--operator", AGENT]) == 2
    assert f"{good}: Only an administrator can import people: Tom Becker holds no such role." in (
        capsys.readouterr().err
    )
    assert main(["people", "import", str(good), "--workspace", url, "--dry-run"]) == 0
    assert "2 people to add, 3 roles to grant" in capsys.readouterr().out
    assert main(["people", "import", str(tmp_path / "none.csv"), "--workspace", url]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert rows(services) == before

    assert main(["people", "import", str(good), "--workspace", url]) == 0
    assert "imported: 2 people added, 3 roles granted" in capsys.readouterr().out
    assert len(rows(services)[0]) == len(before[0]) + 2
    # two root administrators: the CLI asks who imports
    services.people.grant_role(
        pid(services, ADMIN), pid(services, CARE_HEAD), unit_id(services, "Acme Mobility"), "admin"
    )
    assert main(["people", "import", str(good), "--workspace", url]) == 2
    assert "--operator EMAIL" in capsys.readouterr().err
    assert main(["people", "import", str(good), "--workspace", url, "--operator", CARE_HEAD]) == 0


def test_cli_import_with_sign_in_on_asks_who_imports_to_prove_it(
    url: str,
    services: Services,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    admin = pid(services, ADMIN)
    services.signin.set_own_passphrase(admin, None, "correct horse battery")
    services.signin.set_required(admin, True)
    before = rows(services)
    monkeypatch.delenv("QUIVER_PASSPHRASE", raising=False)

    assert main(["people", "import", str(good), "--workspace", url]) == 2  # no terminal here
    err = capsys.readouterr().err
    assert "sign-in is on in this workspace" in err
    assert "QUIVER_PASSPHRASE" in err
    assert "Nothing was imported." in err
    monkeypatch.setenv("QUIVER_PASSPHRASE", "wrong horse battery")
    assert main(["people", "import", str(good), "--workspace", url]) == 2
    assert "That passphrase is not right." in capsys.readouterr().err
    assert rows(services) == before

    monkeypatch.setenv("QUIVER_PASSPHRASE", "correct horse battery")
    assert main(["people", "import", str(good), "--workspace", url]) == 0
    assert "imported: 2 people added" in capsys.readouterr().out
