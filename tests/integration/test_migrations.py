"""Migrations from an empty database, on an up-to-date one, and their safety on failure."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from app.models import Base
from app.storage import migrate
from app.storage.migrate import MIGRATIONS, MigrationError, current_revision, upgrade_sqlite_file
from app.storage.schema import HEAD_REVISION, KNOWN_REVISIONS
from app.storage.workspace import WorkspaceError, open_database


def _script() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    return ScriptDirectory.from_config(cfg)


def test_known_revisions_match_alembic_history() -> None:
    script = _script()
    assert script.get_heads() == [HEAD_REVISION]
    history = [rev.revision for rev in script.walk_revisions()]
    assert list(reversed(history)) == list(KNOWN_REVISIONS)


def test_migration_from_empty_matches_the_models(tmp_path: Path) -> None:
    db = open_database(str(tmp_path / "new.sqlite"), create=True)
    try:
        assert current_revision(db.engine) == HEAD_REVISION
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_name": lambda name, type_, _p: (
                        not (type_ == "table" and name and name.startswith("messages_fts"))
                    ),
                },
            )
            assert compare_metadata(ctx, Base.metadata) == []
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            fts = conn.execute(
                text("SELECT count(*) FROM sqlite_master WHERE name = 'messages_fts'")
            ).scalar()
            assert fts == 1
    finally:
        db.close()


def test_opening_an_up_to_date_workspace_changes_nothing(template_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite"
    path.write_bytes(template_db.read_bytes())
    db = open_database(str(path))
    db.close()
    assert db.backup is None
    assert list(tmp_path.glob("*.backup-*")) == []
    assert path.read_bytes()[:16] == b"SQLite format 3\x00"


def test_migration_takes_a_backup_first(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE precious (v TEXT)")
        conn.execute("INSERT INTO precious VALUES ('keep me')")
    conn.close()
    backup = upgrade_sqlite_file(path)
    assert backup is not None
    assert backup.name.startswith("ws.sqlite.backup-")
    with sqlite3.connect(backup) as conn:
        assert conn.execute("SELECT v FROM precious").fetchall() == [("keep me",)]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "alembic_version" not in tables
    conn.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (HEAD_REVISION,)
        ]
        assert conn.execute("SELECT v FROM precious").fetchall() == [("keep me",)]
    conn.close()
    assert not (tmp_path / "ws.sqlite-wal").exists()


def test_unknown_revision_is_refused(template_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite"
    path.write_bytes(template_db.read_bytes())
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'zzzz'")
    conn.close()
    with pytest.raises(WorkspaceError, match="newer version of Quiver"):
        open_database(str(path))


def test_failed_migration_leaves_the_original_intact(
    template_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ws.sqlite"
    # A workspace with data, at no revision (as if written before migrations were stamped).
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE precious (v TEXT)")
        conn.execute("INSERT INTO precious VALUES ('keep me')")
    conn.close()
    before = path.read_bytes()

    def broken(conn: object, revision: str = "head") -> None:
        raise RuntimeError("disk full while creating an index")

    monkeypatch.setattr(migrate, "upgrade_connection", broken)
    with pytest.raises(MigrationError, match="disk full"):
        upgrade_sqlite_file(path)
    assert path.read_bytes() == before
    assert sorted(
        p.name for p in tmp_path.iterdir() if not p.name.startswith("ws.sqlite.backup")
    ) == ["ws.sqlite"]
    backups = list(tmp_path.glob("ws.sqlite.backup-*"))
    assert len(backups) == 1
    with sqlite3.connect(backups[0]) as conn:
        assert conn.execute("SELECT v FROM precious").fetchall() == [("keep me",)]
    conn.close()
