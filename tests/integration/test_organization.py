"""The first-run set-up on real databases (both engines), and ``quiver init``."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app import cli
from app.bootstrap import services_for
from app.domain.setup import SUGGESTED_UNITS, OrganizationSetup, SetupError
from app.models import (
    Account,
    AuditEntry,
    Conversation,
    Organization,
    Person,
    RoleAssignment,
    Unit,
)
from app.services.organization import AlreadySetUp, OrganizationService
from app.storage.workspace import Database, open_database
from tests import pgserver
from tests.conftest import PgDatabases

SETUP = OrganizationSetup(
    name="Acme",
    admin_name="Ada Admin",
    admin_email="ada@acme.example",
    mission="Answer as one company.",
    time_zone="Europe/Berlin",
)
TABLES = (Organization, Person, RoleAssignment, Unit, AuditEntry)


def _counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            t.__tablename__: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in TABLES
        }


def _units(db: Database) -> list[Any]:
    with db.engine.connect() as conn:
        return list(
            conn.execute(
                select(
                    Unit.id, Unit.parent_id, Unit.path, Unit.name, Unit.kind, Unit.is_triage
                ).order_by(Unit.sort_order, Unit.id)
            )
        )


def test_set_up_writes_the_organization_admin_units_triage_and_audit(db: Database) -> None:
    service = OrganizationService(db)
    assert not service.is_set_up()
    done = service.set_up(SETUP)

    with db.engine.connect() as conn:
        org = conn.execute(select(Organization)).one()
        person = conn.execute(select(Person)).one()
        roles = conn.execute(
            select(RoleAssignment.person_id, RoleAssignment.unit_id, RoleAssignment.role)
        ).all()
        audit = conn.execute(
            select(AuditEntry.action, AuditEntry.person_id, AuditEntry.person_name).order_by(
                AuditEntry.id
            )
        ).all()
    assert (org.name, org.mission, org.time_zone) == (
        "Acme",
        "Answer as one company.",
        "Europe/Berlin",
    )
    assert org.business_hours["mon"] == [["09:00", "17:00"]]
    assert org.business_hours["sun"] == []
    assert org.executive_sponsor_id == person.id
    assert (person.name, person.email, person.title) == (
        "Ada Admin",
        "ada@acme.example",
        "Administrator",
    )

    units = _units(db)
    root = next(u for u in units if u.parent_id is None)
    assert (root.name, root.kind, root.path) == ("Acme", "company", f"/{root.id}/")
    children = [u for u in units if u.parent_id == root.id]
    assert [u.name for u in children] == [*SUGGESTED_UNITS, "Triage"]
    assert all(u.path == f"/{root.id}/{u.id}/" for u in children)
    assert [(u.name, u.kind) for u in units if u.is_triage] == [("Triage", "queue")]
    assert len(units) == 7
    assert roles == [(person.id, root.id, "admin")]

    assert [a.action for a in audit] == [
        "organization.created",
        "person.created",
        *(["unit.created"] * 7),
        "role.granted",
    ]
    assert {(a.person_id, a.person_name) for a in audit} == {(person.id, "Ada Admin")}
    assert done.administrator.id == person.id
    # What the service reads back is what was stored.
    back = service.organization()
    assert back is not None
    assert (back.name, back.executive_sponsor_name, back.time_zone) == (
        "Acme",
        "Ada Admin",
        "Europe/Berlin",
    )
    # The rest of the application sees the new workspace.
    services = services_for(db)
    assert services.directory.organization_name() == "Acme"
    assert [u.name for u in services.inbox.units()] == ["Acme", *SUGGESTED_UNITS, "Triage"]
    assert [p.email for p in services.directory.people()] == ["ada@acme.example"]


def test_a_second_set_up_is_refused_and_writes_nothing(db: Database) -> None:
    service = OrganizationService(db)
    service.set_up(SETUP)
    before = _counts(db)
    with pytest.raises(AlreadySetUp, match="already set up for Acme"):
        service.set_up(OrganizationSetup(name="Other", admin_name="Bo", admin_email="bo@x.org"))
    assert _counts(db) == before


@pytest.mark.parametrize(
    "setup",
    [
        OrganizationSetup(name="Acme", admin_name="Ada", admin_email="not-an-email"),
        OrganizationSetup(name="Acme", admin_name="Ada", admin_email="a@x.org", time_zone="Nope"),
        OrganizationSetup(name="Acme", admin_name="Ada", admin_email="a@x.org", units=("A", "a")),
        OrganizationSetup(name="", admin_name="Ada", admin_email="a@x.org"),
    ],
)
def test_bad_input_writes_nothing(db: Database, setup: OrganizationSetup) -> None:
    with pytest.raises(SetupError):
        OrganizationService(db).set_up(setup)
    assert set(_counts(db).values()) == {0}


def test_two_set_ups_at_once_make_one_organization(
    workspace_url: Any,
) -> None:
    url = workspace_url("empty")
    first, second = open_database(url), open_database(url)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def run(db: Database, email: str) -> None:
        barrier.wait()
        try:
            OrganizationService(db).set_up(
                OrganizationSetup(name="Acme", admin_name="Ada", admin_email=email)
            )
            outcomes.append("set up")
        except AlreadySetUp:
            outcomes.append("refused")

    threads = [
        threading.Thread(target=run, args=(first, "one@acme.example")),
        threading.Thread(target=run, args=(second, "two@acme.example")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert sorted(outcomes) == ["refused", "set up"]
        counts = _counts(first)
        assert counts["organization"] == 1
        assert counts["people"] == 1
        assert counts["units"] == 7
    finally:
        first.close()
        second.close()


def test_update_and_a_sandbox_account_that_streams(db: Database) -> None:
    services = services_for(db, sandbox_pace_s=20.0)
    done = services.organization.set_up(SETUP)
    admin = done.administrator.id
    services.organization.update_organization(admin, name="Acme Mobility", time_zone="UTC")
    assert next(u.name for u in _units(db)) == "Acme Mobility"
    care = next(u for u in done.units if u.name == "Customer Care")
    account_id = services.accounts.add_sandbox_account(admin, "acme_training", care.id)
    [row] = services.directory.accounts()
    assert (row.id, row.network, row.handle, row.state) == (
        account_id,
        "sandbox",
        "acme_training",
        "connected",
    )
    outcomes = services.polling.poll_due()
    assert [o.account_id for o in outcomes] == [account_id]
    with db.engine.connect() as conn:
        units = (
            conn.execute(select(Conversation.unit_id).where(Conversation.account_id == account_id))
            .scalars()
            .all()
        )
        actions = conn.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
        assert conn.execute(select(Account.state)).scalar_one() == "connected"
    assert units
    assert set(units) == {care.id}
    assert actions[-2:] == ["organization.updated", "account.connected"]


def test_spam_settings_are_stored_and_read_back(db: Database) -> None:
    services = services_for(db)
    admin = services.organization.set_up(SETUP).administrator.id
    services.organization.update_spam_settings(
        admin, threshold=0.8, keywords=["free followers", "Crypto", "crypto", "Ünïcödé deal"]
    )
    again = services_for(db).organization.organization()  # a fresh read from the database
    assert again is not None
    assert (again.spam_threshold, again.spam_keywords) == (
        0.8,
        ("free followers", "Crypto", "Ünïcödé deal"),
    )
    with db.engine.connect() as conn:
        entry = conn.execute(
            select(AuditEntry.action, AuditEntry.after).order_by(AuditEntry.id.desc()).limit(1)
        ).one()
    assert entry.action == "organization.spam_settings"
    assert entry.after["spam_keywords"] == ["free followers", "Crypto", "Ünïcödé deal"]


# -- quiver init --------------------------------------------------------------------------------

INIT = ["--org", "Acme", "--admin-name", "Ada Admin", "--admin-email", "ada@acme.example"]


def test_quiver_init_on_a_new_sqlite_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "acme.db"
    code = cli.main(
        [
            "init",
            "--workspace",
            str(path),
            *INIT,
            "--time-zone",
            "Europe/Berlin",
            "--units",
            "Care, Marketing",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Set up Acme in" in out
    assert "administrator: Ada Admin <ada@acme.example>" in out
    assert "units: Acme > Care, Marketing, Triage" in out
    assert f"Open it with: quiver --workspace {path}" in out
    db = open_database(str(path))
    try:
        assert [u.name for u in _units(db)] == ["Acme", "Care", "Marketing", "Triage"]
        assert OrganizationService(db).organization().time_zone == "Europe/Berlin"  # type: ignore[union-attr]
    finally:
        db.close()

    # Again: refused in one line, nothing changed.
    code = cli.main(["init", "--workspace", str(path), *INIT])
    out, err = capsys.readouterr()
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("quiver init:")]
    assert lines == [
        f"quiver init: {path}: This workspace is already set up for Acme; nothing was changed."
    ]
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--admin-email", "ada"], "is not an email address"),
        (["--time-zone", "Mars/Base"], "is not a time zone"),
        (["--units", "Care,care"], "Two units are called"),
        (["--org", "  "], "Enter the organization's name"),
    ],
)
def test_quiver_init_refuses_bad_input_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    path = tmp_path / "new.db"
    code = cli.main(["init", "--workspace", str(path), *INIT, *extra])
    _out, err = capsys.readouterr()
    assert code == 2
    [line] = err.strip().splitlines()
    assert line.startswith("quiver init: ")
    assert message in line
    assert not path.exists()


def test_quiver_init_on_a_new_postgresql_database(
    pg_databases: PgDatabases, capsys: pytest.CaptureFixture[str]
) -> None:
    url = pg_databases.url(pg_databases.new_name("x"))
    try:
        # Bad input: the database is not even created.
        assert cli.main(["init", "--workspace", url, *INIT, "--admin-email", "x"]) == 2
        capsys.readouterr()
        assert not _database_exists(pg_databases, url)

        assert cli.main(["init", "--workspace", url, *INIT]) == 0
        out, err = capsys.readouterr()
        assert "Set up Acme in" in out, err
        assert "on PostgreSQL" in out
        password = pgserver.PASSWORD
        assert password not in out  # the command to open it never shows the password
        db = open_database(url)
        try:
            assert [u.name for u in _units(db)] == ["Acme", *SUGGESTED_UNITS, "Triage"]
            assert _counts(db)["people"] == 1
        finally:
            db.close()

        assert cli.main(["init", "--workspace", url, *INIT]) == 2
        _out, err = capsys.readouterr()
        assert "already set up for Acme; nothing was changed" in err
        assert "Traceback" not in err
    finally:
        pg_databases.drop(url)


def _database_exists(pg_databases: PgDatabases, url: str) -> bool:
    name = url.rsplit("/", 1)[1]
    with pgserver.admin_connection(pg_databases.server) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return found is not None
