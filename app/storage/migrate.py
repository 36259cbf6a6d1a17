"""Alembic migrations, run on open; SQLite files are migrated on a copy, then swapped in."""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from app.storage.engine import build_engine
from app.storage.leftovers import remove_leftovers, temporary_path

log = logging.getLogger("quiver.storage")

MIGRATIONS = "app.storage:migrations"


def current_revision(engine: Engine) -> str | None:
    """The schema revision stamped in the database, or ``None`` when it has none."""
    with engine.connect() as conn:
        return revision_of(conn)


def revision_of(conn: Connection) -> str | None:
    """The revision stamped in the database the connection is on, or ``None``.

    On PostgreSQL the table is looked up first: a failed statement would abort the caller's
    transaction (and release the locks it holds).
    """
    if conn.dialect.name == "postgresql":
        if conn.execute(text("SELECT to_regclass('alembic_version')")).scalar() is None:
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    try:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError):
        conn.rollback()
        return None


def upgrade_connection(conn: Connection, revision: str = "head") -> None:
    """Run Alembic's upgrade on an open connection (Alembic is imported only here)."""
    # Imported here, not at the top: Alembic stays off the start-up path.
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)


def upgrade_sqlite_file(path: Path, *, backup_dir: Path | None = None) -> Path | None:
    """Migrate a SQLite workspace file to the head revision without risking the original.

    The original is first copied to a backup (kept), then a second copy is migrated with foreign
    keys off and checked with ``PRAGMA foreign_key_check``; only a fully migrated copy replaces
    the original. If anything fails, the original file is untouched.

    Returns:
        The path of the backup taken, or ``None`` when the file was new and empty.

    Raises:
        MigrationError: the migration failed; the original is left as it was.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    remove_leftovers(path)
    work = temporary_path(path, "migrating")
    backup: Path | None = None
    try:
        existed = path.exists() and path.stat().st_size > 0
        if existed:
            backup = (backup_dir or path.parent) / f"{path.name}.backup-{stamp}"
            _sqlite_copy(path, backup)
        _sqlite_copy(path, work)
        engine = build_engine(f"sqlite:///{work}", foreign_keys=False)
        try:
            with engine.begin() as conn:
                upgrade_connection(conn)
                problems = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise MigrationError(f"the migrated data breaks foreign keys: {problems[:5]}")
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            engine.dispose()
        _drop_sidecars(work)
        os.replace(work, path)
        _drop_sidecars(path)
    except MigrationError:
        _cleanup(work)
        raise
    except Exception as exc:
        _cleanup(work)
        raise MigrationError(str(exc)) from exc
    except BaseException:  # Ctrl+C, SystemExit: the original was not touched; the copy goes
        _cleanup(work)
        raise
    return backup


class MigrationError(Exception):
    """A migration failed; the workspace file was left as it was."""


def _sqlite_copy(src: Path, dst: Path) -> None:
    """Copy a SQLite database consistently (including committed WAL content)."""
    source = sqlite3.connect(src) if src.exists() else None
    target = sqlite3.connect(dst)
    try:
        if source is not None:
            source.backup(target)
    finally:
        target.close()
        if source is not None:
            source.close()


def _drop_sidecars(path: Path) -> None:
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.unlink()


def _cleanup(work: Path) -> None:
    _drop_sidecars(work)
    if work.exists():
        work.unlink()
