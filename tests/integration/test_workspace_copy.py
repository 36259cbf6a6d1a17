"""``quiver workspace copy``: a whole workspace between SQLite and PostgreSQL, all or nothing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, func, insert, select, text, update
from sqlalchemy.engine import make_url

from app.cli import main
from app.models import Account, Base, Message, MetaEntry, Tag, Unit
from app.storage import transfer
from app.storage.schema import HEAD_REVISION
from app.storage.search import search_conversation_ids
from app.storage.transfer import Checksum, TransferError, copy_workspace
from app.storage.workspace import open_database
from tests.conftest import PgDatabases

TABLES = [t.name for t in Base.metadata.sorted_tables]
ROOT = Path(__file__).resolve().parents[2]


# --- helpers -----------------------------------------------------------------------------------


def _rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table through the models' types, in primary-key order."""
    db = open_database(url)
    try:
        with db.engine.connect() as conn:
            out: dict[str, list[tuple[Any, ...]]] = {}
            for table in Base.metadata.sorted_tables:
                keys = [table.columns.keys().index(c.key) for c in table.primary_key]
                rows = [tuple(r) for r in conn.execute(select(table))]
                if table.name == "workspace_meta":
                    rows = [r for r in rows if r[0] not in transfer.BOOKKEEPING_META_KEYS]
                out[table.name] = sorted(rows, key=lambda r: tuple(r[k] for k in keys))
            return out
    finally:
        db.close()


def _counts(url: str) -> dict[str, int]:
    return {name: len(rows) for name, rows in _rows(url).items()}


def _revision(url: str) -> str | None:
    db = open_database(url)
    try:
        with db.engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        db.close()


def _search_word(conn: Connection) -> tuple[str, int]:
    """A plain word of some message, and that message's conversation."""
    for body, conversation_id in conn.execute(
        select(Message.text, Message.conversation_id).order_by(Message.id)
    ):
        for word in re.findall(r"[A-Za-z]{7,}", body):
            return word, conversation_id
    raise AssertionError("no message with a plain word")


def _search(url: str, word: str | None = None) -> tuple[str, int, list[int]]:
    db = open_database(url)
    try:
        with db.engine.connect() as conn:
            chosen, conversation_id = _search_word(conn)
            word = word or chosen
            return word, conversation_id, search_conversation_ids(conn, word, limit=5000)
    finally:
        db.close()


def _check_search(src: str, dst: str) -> None:
    word, conversation_id, expected = _search(src)
    _, _, found = _search(dst, word)
    assert conversation_id in found
    assert set(expected) <= set(found)  # PostgreSQL may fold a few more letters, never fewer


def _non_sandbox_accounts(url: str) -> set[tuple[str, str]]:
    db = open_database(url)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(
                select(Account.network, Account.handle).where(Account.network != "sandbox")
            )
            return {(n, h) for n, h in rows}
    finally:
        db.close()


def _assert_copied(src: str, dst: str, result: transfer.CopyResult) -> None:
    expected = _rows(src)
    assert _rows(dst) == expected
    assert result.tables == tuple(TABLES)
    assert result.rows == {name: len(rows) for name, rows in expected.items()}
    assert all(result.rows[name] > 0 for name in TABLES), "the demo fills every table"
    accounts = _non_sandbox_accounts(src)
    assert accounts, "the demo has X and Facebook accounts"
    assert {(a.network, a.handle) for a in result.reconnect} == accounts
    assert all(a.network != "sandbox" for a in result.reconnect)
    assert result.seconds > 0


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if "copying" in p.name)


@pytest.fixture
def team_file(demo_template: Path, tmp_path: Path) -> str:
    """A private copy of the small demo workspace in a file."""
    path = tmp_path / "team.sqlite"
    shutil.copyfile(demo_template, path)
    return str(path)


@pytest.fixture
def server_demo(pg_databases: PgDatabases, pg_demo_template: str) -> Iterator[str]:
    """A private copy of the small demo workspace on the PostgreSQL server."""
    url = pg_databases.create("copysrc", template=pg_demo_template)
    yield url
    pg_databases.drop(url)


@pytest.fixture
def new_server_db(pg_databases: PgDatabases) -> Iterator[str]:
    """The URL of a database that does not exist yet (dropped after the test)."""
    url = pg_databases.url(pg_databases.new_name("copydst"))
    yield url
    pg_databases.drop(url)


@pytest.fixture
def empty_server_db(pg_databases: PgDatabases, pg_template: str) -> Iterator[str]:
    url = pg_databases.create("copyempty", template=pg_template)
    yield url
    pg_databases.drop(url)


# --- copies ------------------------------------------------------------------------------------


def test_sqlite_workspace_is_copied_to_a_new_postgresql_database(
    team_file: str, new_server_db: str
) -> None:
    seen: list[tuple[str, int, int]] = []
    result = copy_workspace(team_file, new_server_db, batch=500, progress=lambda *a: seen.append(a))
    _assert_copied(team_file, new_server_db, result)
    assert [t for t, done, total in seen if done == total] == TABLES  # each table finished
    assert ("messages", 500, result.rows["messages"]) in seen  # in batches
    assert "***" in result.destination
    assert make_url(new_server_db).password not in result.destination
    _check_search(team_file, new_server_db)
    # The sequences were advanced: new rows get ids above the copied ones.
    db = open_database(new_server_db)
    try:
        with db.engine.begin() as conn:
            top_tag = conn.execute(select(func.max(Tag.id))).scalar_one()
            tag_id = conn.execute(
                insert(Tag).values(name="after the copy").returning(Tag.id)
            ).scalar_one()
            top_message = conn.execute(select(func.max(Message.id))).scalar_one()
            model = conn.execute(select(Message).limit(1)).mappings().one()
            fresh = {k: v for k, v in model.items() if k != "id"}
            fresh["external_id"] = "after-the-copy-1"
            message_id = conn.execute(
                insert(Message).values(**fresh).returning(Message.id)
            ).scalar_one()
        assert tag_id > top_tag
        assert message_id > top_message
    finally:
        db.close()


def test_postgresql_workspace_is_copied_to_a_new_sqlite_file(
    server_demo: str, tmp_path: Path
) -> None:
    laptop = tmp_path / "laptop.sqlite"
    result = copy_workspace(server_demo, str(laptop))
    assert laptop.is_file()
    assert _leftovers(tmp_path) == []
    assert result.destination == str(laptop)
    assert "***" in result.source
    _assert_copied(server_demo, str(laptop), result)
    _check_search(server_demo, str(laptop))
    db = open_database(str(laptop))
    try:
        with db.engine.connect() as conn:
            upto = conn.execute(
                select(MetaEntry.value).where(MetaEntry.key == "fts_indexed_upto")
            ).scalar_one()
            assert int(upto) == conn.execute(select(func.max(Message.id))).scalar_one()
    finally:
        db.close()


def test_sqlite_is_copied_into_an_existing_empty_workspace(
    team_file: str, template_db: Path, tmp_path: Path
) -> None:
    dst = tmp_path / "empty.sqlite"
    shutil.copyfile(template_db, dst)
    db = open_database(str(dst))  # bookkeeping alone does not make a workspace hold data
    with db.engine.begin() as conn:
        conn.execute(insert(MetaEntry).values(key="fts_indexed_upto", value="0"))
    db.close()
    result = copy_workspace(team_file, str(dst))
    _assert_copied(team_file, str(dst), result)
    _check_search(team_file, str(dst))


def test_postgresql_is_copied_into_an_existing_empty_database(
    server_demo: str, empty_server_db: str
) -> None:
    result = copy_workspace(server_demo, empty_server_db)
    _assert_copied(server_demo, empty_server_db, result)
    _check_search(server_demo, empty_server_db)


def test_a_unit_moved_under_a_newer_unit_is_copied(team_file: str, tmp_path: Path) -> None:
    """A parent with a higher id than its child: the child goes in first, its parent set after."""
    db = open_database(team_file)
    with db.engine.begin() as conn:
        root_id, root_path = conn.execute(
            select(Unit.id, Unit.path).where(Unit.parent_id.is_(None))
        ).one()
        moved_id = conn.execute(
            select(func.min(Unit.id)).where(Unit.parent_id == root_id)
        ).scalar_one()
        new_id = conn.execute(
            insert(Unit)
            .values(parent_id=root_id, path=f"{root_path}new/", name="Newer Division")
            .returning(Unit.id)
        ).scalar_one()
        conn.execute(
            update(Unit)
            .where(Unit.id == moved_id)
            .values(parent_id=new_id, path=f"{root_path}new/{moved_id}/")
        )
    db.close()
    assert new_id > moved_id
    dst = str(tmp_path / "moved.sqlite")
    result = copy_workspace(team_file, dst)
    assert _rows(dst) == _rows(team_file)
    assert result.rows["units"] == len(_rows(team_file)["units"])


# --- refusals ----------------------------------------------------------------------------------


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_a_destination_holding_data_is_refused_and_left_unchanged(
    engine_name: str, workspace_url: Callable[[str], str], template_db: Path, tmp_path: Path
) -> None:
    src = tmp_path / "source.sqlite"
    shutil.copyfile(template_db, src)
    dst = workspace_url("demo")
    before = _rows(dst)
    files = _snapshot(tmp_path)
    first = next(name for name in TABLES if before[name])
    with pytest.raises(TransferError, match=f"not empty: the table “{first}” holds data") as info:
        copy_workspace(str(src), dst)
    assert "Nothing was changed" in str(info.value)
    assert _snapshot(tmp_path) == files  # not a byte changed (SQLite), no file added
    assert _rows(dst) == before


def test_a_setting_is_data_but_the_search_watermark_is_not(
    team_file: str, template_db: Path, tmp_path: Path
) -> None:
    dst = tmp_path / "configured.sqlite"
    shutil.copyfile(template_db, dst)
    db = open_database(str(dst))
    with db.engine.begin() as conn:
        conn.execute(insert(MetaEntry).values(key="fts_indexed_upto", value="0"))
        conn.execute(insert(MetaEntry).values(key="theme", value="dark"))
    db.close()
    before = dst.read_bytes()
    with pytest.raises(TransferError, match="the table “workspace_meta” holds data"):
        copy_workspace(team_file, str(dst))
    assert dst.read_bytes() == before


def test_the_source_itself_is_refused(team_file: str) -> None:
    with pytest.raises(TransferError, match="the same workspace"):
        copy_workspace(team_file, "sqlite:///" + team_file)


def test_a_missing_source_is_refused_without_creating_anything(tmp_path: Path) -> None:
    with pytest.raises(TransferError, match=r"There is no workspace at .* to copy"):
        copy_workspace(str(tmp_path / "nope.sqlite"), str(tmp_path / "copy.sqlite"))
    assert list(tmp_path.iterdir()) == []


# --- interruptions -----------------------------------------------------------------------------

DESTINATIONS = ("new-sqlite", "empty-sqlite", "new-postgresql", "empty-postgresql")


@pytest.fixture(params=DESTINATIONS)
def destination(
    request: pytest.FixtureRequest, template_db: Path, tmp_path: Path
) -> tuple[str, str]:
    """(kind, URL or path) of a destination that holds no data."""
    kind = str(request.param)
    if kind == "new-sqlite":
        return kind, str(tmp_path / "new.sqlite")
    if kind == "empty-sqlite":
        path = tmp_path / "empty.sqlite"
        shutil.copyfile(template_db, path)
        return kind, str(path)
    fixture = "new_server_db" if kind == "new-postgresql" else "empty_server_db"
    return kind, str(request.getfixturevalue(fixture))


def _assert_left_empty(kind: str, dst: str, folder: Path) -> None:
    assert _leftovers(folder) == []
    if kind == "new-sqlite":
        assert not Path(dst).exists()
        return
    assert _revision(dst) == HEAD_REVISION  # created/migrated, but without a row
    assert set(_counts(dst).values()) == {0}


class InjectedError(Exception):
    pass


@pytest.mark.parametrize("when", ["third table", "half way through messages"])
def test_an_interrupted_copy_leaves_the_destination_empty(
    team_file: str, destination: tuple[str, str], tmp_path: Path, when: str
) -> None:
    kind, dst = destination
    started: list[str] = []

    def progress(table: str, done: int, total: int) -> None:
        if table not in started:
            started.append(table)
        if when == "third table" and len(started) == 3:
            raise InjectedError("failure injected on the third table")
        if table == "messages" and 0 < done < total:
            raise KeyboardInterrupt  # Ctrl+C in the middle of the biggest table

    raised = InjectedError if when == "third table" else KeyboardInterrupt
    with pytest.raises(raised):
        copy_workspace(team_file, dst, batch=200, progress=progress)
    _assert_left_empty(kind, dst, tmp_path)


@pytest.mark.parametrize("direction", ["sqlite-to-postgresql", "postgresql-to-sqlite"])
def test_a_checksum_mismatch_fails_the_copy_and_leaves_the_destination_empty(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    direction: str,
) -> None:
    if direction == "sqlite-to-postgresql":
        src, kind = request.getfixturevalue("team_file"), "new-postgresql"
        dst, dst_engine = request.getfixturevalue("new_server_db"), "postgresql"
    else:
        src, kind = request.getfixturevalue("server_demo"), "new-sqlite"
        dst, dst_engine = str(tmp_path / "laptop.sqlite"), "sqlite"
    real = transfer.table_checksum

    def tampered(conn: Connection, table: Any, **kwargs: Any) -> Checksum:
        found = real(conn, table, **kwargs)
        if table.name == "conversations" and conn.dialect.name == dst_engine:
            return Checksum(found.rows, "0" * 64)  # as if one value had changed on the way
        return found

    monkeypatch.setattr(transfer, "table_checksum", tampered)
    with pytest.raises(TransferError) as info:
        copy_workspace(src, dst)
    message = str(info.value)
    assert "The copy of the table “conversations” does not match its source" in message
    assert "the same 600 rows, but their contents differ" in message
    if kind == "new-sqlite":
        assert f"No file was left at {dst}" in message
    else:
        assert "holds no data" in message
    _assert_left_empty(kind, dst, tmp_path)


KILLER = """
import os, signal, sys
from app.storage.transfer import copy_workspace

def progress(table, done, total):
    if table == "messages" and done > 0:
        os.kill(os.getpid(), signal.SIGKILL)  # no clean-up of any kind

copy_workspace(sys.argv[1], sys.argv[2], batch=200, progress=progress)
"""


@pytest.mark.parametrize("kind", ["new-sqlite", "new-postgresql"])
def test_a_killed_copy_leaves_no_row(
    request: pytest.FixtureRequest, team_file: str, tmp_path: Path, kind: str
) -> None:
    if kind == "new-sqlite":
        dst = str(tmp_path / "killed.sqlite")
    else:
        dst = request.getfixturevalue("new_server_db")
    done = subprocess.run(
        [sys.executable, "-c", KILLER, team_file, dst],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == -9, done.stderr
    if kind == "new-sqlite":
        assert not Path(dst).exists()  # only a hidden temporary file may remain
        left = _leftovers(tmp_path)
        assert all(name.startswith(".killed.sqlite.copying-") for name in left)
        copy_workspace(team_file, dst)  # the next copy there sweeps up after the killed one
        assert _leftovers(tmp_path) == []
        assert Path(dst).exists()
    else:
        assert _revision(dst) == HEAD_REVISION
        assert set(_counts(dst).values()) == {0}


# --- the command line --------------------------------------------------------------------------


def test_cli_copies_lists_the_accounts_and_never_prints_the_password(
    team_file: str, new_server_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    password = make_url(new_server_db).password
    assert password, "the test server's URL carries a password"
    assert main(["workspace", "copy", team_file, new_server_db]) == 0
    out, err = capsys.readouterr()
    assert "every table was verified row for row" in out
    assert "reconnect these accounts" in out
    for network, handle in _non_sandbox_accounts(team_file):
        label = {"x": "X", "facebook": "Facebook"}[network]
        assert f"  {handle} ({label}, " in out
    for table in TABLES:  # one line per table
        assert re.search(rf"^  {table} +[\d,]+ / [\d,]+ rows$", err, re.MULTILINE), table
    assert "verifying" in err
    assert str(password) not in out + err
    assert "***" in out


def test_cli_refuses_a_non_empty_destination_in_one_line(
    team_file: str, server_demo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _counts(server_demo)
    assert main(["workspace", "copy", team_file, server_demo]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    message = err.strip().splitlines()[-1]
    assert message.startswith("quiver workspace copy: The destination postgresql+psycopg://")
    assert "is not empty: the table “authors” holds data" in message
    assert "Traceback" not in err
    assert str(make_url(server_demo).password) not in err
    assert _counts(server_demo) == before


def _run_app(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_cli_process_refuses_a_missing_source_without_a_traceback(tmp_path: Path) -> None:
    done = _run_app("workspace", "copy", str(tmp_path / "nope.sqlite"), str(tmp_path / "x.sqlite"))
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert lines == [
        f"quiver workspace copy: There is no workspace at {tmp_path / 'nope.sqlite'} to copy: "
        "check the path."
    ]
    assert list(tmp_path.iterdir()) == []


TERMINATED = """
import os, signal, sys
from app.cli import main
from app.storage import transfer

real = transfer.table_checksum

def checksum(conn, table, **kwargs):  # SIGTERM while verifying
    os.kill(os.getpid(), signal.SIGTERM)
    return real(conn, table, **kwargs)

transfer.table_checksum = checksum
sys.exit(main(["workspace", "copy", sys.argv[1], sys.argv[2]]))
"""


def test_cli_process_terminated_during_the_copy_leaves_no_file(
    team_file: str, tmp_path: Path
) -> None:
    dst = tmp_path / "terminated.sqlite"
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(TERMINATED), team_file, str(dst)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "quiver workspace copy: interrupted: the copy was rolled back and the destination "
        "holds no data."
    )
    assert "Traceback" not in done.stderr
    assert not dst.exists()
    assert _leftovers(tmp_path) == []


def test_the_bookkeeping_keys_are_the_ones_storage_writes() -> None:
    from app.storage import search

    assert search.INDEX_WATERMARK_KEY in transfer.BOOKKEEPING_META_KEYS
