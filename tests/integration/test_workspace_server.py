"""A workspace on a PostgreSQL server: opened, migrated, and refused with a clear message."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app.bootstrap import services_for
from app.models import AuditEntry
from app.storage import migrate, server
from app.storage.schema import HEAD_REVISION
from app.storage.workspace import WorkspaceError, open_database
from tests import pgserver
from tests.conftest import PgDatabases

READER = "quiver_reader"
READER_PASSWORD = "reader-secret-9431"


def _url(base: str, *, user: str | None = None, password: str | None = None) -> str:
    parsed = make_url(base)
    if user is not None:
        parsed = parsed.set(username=user)
    parsed = parsed._replace(password=password)  # set() would keep the old one for None
    return parsed.render_as_string(hide_password=False)


def _tables(url: str) -> list[str]:
    with pgserver.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' ORDER BY 1"
        ).fetchall()
    return [r[0] for r in rows]


def _refused(url: str, **kwargs: bool) -> tuple[str, float]:
    started = time.monotonic()
    with pytest.raises(WorkspaceError) as info:
        open_database(url, **kwargs)
    return str(info.value), time.monotonic() - started


def test_a_new_database_is_created_with_create_and_migrated(
    pg_server: str, pg_databases: PgDatabases
) -> None:
    name = pg_databases.new_name("created")
    url = pg_databases.url(name)
    message, _ = _refused(url)
    assert f"There is no database “{name}”" in message
    assert "--create" in message
    db = open_database(url, create=True)
    pg_databases._made.append(name)  # dropped with the others
    try:
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
                HEAD_REVISION
            )
            kind = conn.execute(
                text(
                    "SELECT attgenerated FROM pg_attribute WHERE attrelid = 'messages'::regclass "
                    "AND attname = 'search_vector'"
                )
            ).scalar()
            assert kind == "s"  # a stored generated column
        assert db.display_name.endswith(f"/{name} on PostgreSQL")
        assert "quiver-test-secret" not in db.display_name
    finally:
        db.close()


def test_a_wrong_password_is_refused_in_words_without_the_password(
    pg_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = _url(pg_server, password="not-the-password-7781")
    message, took = _refused(url)
    assert "refused the password" in message
    assert "not-the-password-7781" not in message
    assert "not-the-password-7781" not in caplog.text
    assert "Traceback" not in message
    assert took < 5


def test_an_unreachable_server_is_named_within_five_seconds() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    message, took = _refused(f"postgresql+psycopg://quiver:pw@127.0.0.1:{port}/quiver")
    assert f"could not reach the PostgreSQL server 127.0.0.1:{port}" in message
    assert "Check the host name and port" in message
    assert took < 5


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never answers (a server that hangs)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    listener.close()


@pytest.mark.slow
def test_a_server_that_does_not_answer_is_given_up_within_five_seconds(
    silent_server: int,
) -> None:
    message, took = _refused(f"postgresql+psycopg://quiver:pw@127.0.0.1:{silent_server}/quiver")
    assert "did not answer" in message or "could not reach" in message
    assert 3 < took < 5


@pytest.fixture
def reader(pg_server: str, pg_databases: PgDatabases) -> str:
    """A role that may connect to a fresh database but not create anything in it."""
    with pgserver.admin_connection(pg_server) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (READER,)).fetchone()
        verb = "CREATE" if exists is None else "ALTER"
        conn.execute(f"{verb} ROLE {READER} LOGIN NOCREATEDB PASSWORD '{READER_PASSWORD}'")
    return pg_databases.create("locked")


def test_missing_privileges_are_named_and_nothing_is_written(reader: str, pg_server: str) -> None:
    url = _url(reader, user=READER, password=READER_PASSWORD)
    message, took = _refused(url)
    assert f"The user “{READER}” lacks a privilege" in message
    assert "permission denied" in message
    assert "rolled the whole upgrade back" in message
    assert READER_PASSWORD not in message
    assert took < 5
    assert _tables(reader) == []


def test_a_user_who_may_not_create_databases_is_told_who_can(reader: str) -> None:
    url = _url(reader, user=READER, password=READER_PASSWORD).rsplit("/", 1)[0] + "/not_there"
    message, _ = _refused(url, create=True)
    assert f"The user “{READER}” may not create the database “not_there”" in message


def test_the_password_comes_from_pgpassword_or_pgpass(
    pg_databases: PgDatabases, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = pg_databases.create("pgpass")
    parsed = make_url(url)
    bare = _url(url, password=None)
    assert parsed.password
    assert parsed.password not in bare
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    message, _ = _refused(bare)
    assert "none was given" in message or "refused the password" in message
    monkeypatch.setenv("PGPASSWORD", parsed.password)
    open_database(bare).close()
    monkeypatch.delenv("PGPASSWORD")
    pgpass = tmp_path / ".pgpass"
    pgpass.write_text(f"{parsed.host}:{parsed.port}:*:{parsed.username}:{parsed.password}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    db = services_for(open_database(bare))
    try:
        assert parsed.password not in db.workspace_name
        # the operator remembered for it does not depend on how the password was given
        assert db.workspace_url == _url(url, password=None)
    finally:
        db.close()


def test_a_database_with_other_tables_is_not_taken_over(pg_databases: PgDatabases) -> None:
    url = pg_databases.create("foreign")
    with pgserver.connect(url) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    message, _ = _refused(url)
    assert "holds other tables and is not a Quiver workspace" in message
    assert _tables(url) == ["invoices"]


def test_a_newer_schema_is_refused_and_left_untouched(pg_databases: PgDatabases) -> None:
    url = pg_databases.create("newer")
    open_database(url).close()
    db = open_database(url)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
    db.close()
    message, _ = _refused(url)
    assert "written by a newer version of Quiver" in message
    assert "0099_future" in message
    with pgserver.connect(url) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            ("0099_future",)
        ]


def test_a_failed_migration_is_rolled_back_completely(
    pg_databases: PgDatabases, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_databases.create("broken")

    def upgrade_then_fail(conn: object, revision: str = "head") -> None:
        real_upgrade(conn, revision)  # every table created, then:
        raise RuntimeError("disk full while creating an index")

    real_upgrade = migrate.upgrade_connection
    monkeypatch.setattr(server, "upgrade_connection", upgrade_then_fail)
    message, _ = _refused(url)
    assert "disk full while creating an index" in message
    assert "PostgreSQL rolled the whole upgrade back" in message
    assert _tables(url) == []
    monkeypatch.undo()
    open_database(url).close()  # and a later open migrates it for real
    assert "messages" in _tables(url)


def test_two_workstations_migrating_at_once_both_open_it(pg_databases: PgDatabases) -> None:
    url = pg_databases.create("race")
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            open_database(url).close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert "audit_log" in _tables(url)


def test_the_audit_log_is_append_only_on_both_engines(db: object) -> None:
    from app.storage.workspace import Database

    assert isinstance(db, Database)
    with db.engine.begin() as conn:
        conn.execute(insert(AuditEntry).values(action="test.kept", entity="test", at=1))
    for statement in (
        update(AuditEntry).values(action="test.rewritten"),
        AuditEntry.__table__.delete(),
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(statement)
    if db.url.get_backend_name() == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_log"))
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT action FROM audit_log")).scalars().all()
    assert rows == ["test.kept"]


def test_every_command_takes_a_server_url(
    pg_databases: PgDatabases, capsys: pytest.CaptureFixture[str]
) -> None:
    """``quiver demo``, ``migrate`` and ``poll --once`` on a PostgreSQL workspace."""
    from app.cli import main

    url = pg_databases.url(pg_databases.new_name("cli"))
    password = make_url(url).password or ""
    assert main(["migrate", "--workspace", url]) == 2  # no such database, and no --create
    err = capsys.readouterr().err
    assert "There is no database" in err
    assert "Traceback" not in err
    assert password not in err
    made = pg_databases.create("clidemo")
    assert main(["demo", "--workspace", made, "--conversations", "40", "--seed", "3"]) == 0
    assert "Demo workspace ready: 40 conversations" in capsys.readouterr().err
    assert main(["demo", "--workspace", made, "--conversations", "40"]) == 2
    assert "already holds an organization" in capsys.readouterr().err
    assert main(["migrate", "--workspace", made]) == 0
    out = capsys.readouterr().out
    assert "is up to date" in out
    assert password not in out
    assert main(["poll", "--once", "--workspace", made]) == 0
    polled = capsys.readouterr().out.splitlines()
    assert len(polled) == 4
    assert all("connected" in line for line in polled)
