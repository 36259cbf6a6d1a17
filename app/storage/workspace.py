"""Opening a workspace: check the URL and file, migrate if due, build the engine and sessions.

Every refusal is a :class:`WorkspaceError` whose message says what happened and what to do, and
nothing on disk is modified before the checks pass.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from app.storage import server
from app.storage.engine import build_engine, retire
from app.storage.migrate import MigrationError, upgrade_sqlite_file
from app.storage.schema import HEAD_REVISION, KNOWN_REVISIONS
from app.storage.uow import UnitOfWork

log = logging.getLogger("quiver.storage")

SQLITE_HEADER = b"SQLite format 3\x00"


class WorkspaceError(Exception):
    """The workspace cannot be opened; the message is meant for a person."""


@dataclass
class Database:
    """An open workspace: its engine and a factory of units of work."""

    url: URL
    engine: Engine
    session_factory: sessionmaker[Session] = field(repr=False)
    backup: Path | None = None  # the backup taken before a migration on this open, if any

    @property
    def display_name(self) -> str:
        if self.path is not None:
            return str(self.path)
        if self.url.get_backend_name() == "postgresql":
            return f"{server.where(self.url)} on PostgreSQL"
        return self.url.render_as_string(hide_password=True)

    @property
    def path(self) -> Path | None:
        if self.url.get_backend_name() == "sqlite" and self.url.database:
            return Path(self.url.database)
        return None

    @property
    def location(self) -> str:
        """How to name this workspace again later: a file path, or the URL without password.

        What a person may keep in their preferences: a server's password stays in PGPASSWORD,
        ~/.pgpass or the command line, never in a file of Quiver's.
        """
        if self.path is not None:
            return str(self.path)
        return self.url._replace(password=None).render_as_string(hide_password=False)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)

    def close(self) -> None:
        retire(self.engine)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def parse_workspace(value: str) -> URL:
    """A workspace given as a SQLAlchemy URL or a plain file path.

    Raises:
        WorkspaceError: the text is neither.
    """
    if "://" not in value:
        return make_url(sqlite_url(Path(value).expanduser().resolve()))
    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise WorkspaceError(
            f"“{value}” is not a workspace URL. Give a file path or a URL such as "
            "sqlite:///path/to/quiver.sqlite."
        ) from exc
    if url.get_backend_name() == "postgresql":
        if url.drivername != "postgresql+psycopg":  # the driver Quiver ships with
            url = url.set(drivername="postgresql+psycopg")
        if not url.database:
            raise WorkspaceError(
                "Name the database in the workspace URL: "
                "postgresql+psycopg://user@host:5432/database."
            )
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise WorkspaceError(
                "A workspace must be stored in a file: give a path such as "
                "sqlite:///path/to/quiver.sqlite."
            )
        url = url.set(database=str(Path(url.database).expanduser().resolve()))
    return url


def workspace_exists(url: URL) -> bool:
    """Whether a workspace file is already there (a server's database is checked on open)."""
    return url.get_backend_name() == "sqlite" and Path(url.database or "").exists()


def remove_workspace_file(url: URL) -> None:
    """Delete a SQLite workspace file with its WAL sidecars (``quiver demo --force``).

    A database on a server is never dropped by Quiver; filling one that holds an organization
    is refused when it is opened for the demo.
    """
    if url.get_backend_name() != "sqlite":
        return
    path = Path(url.database or "")
    for suffix in ("", "-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.unlink()


def open_database(url: str | URL, *, create: bool = False) -> Database:
    """Open (and if needed create or migrate) the workspace at ``url``.

    Args:
        url: SQLAlchemy URL or file path of the workspace.
        create: Create a new, empty workspace if the file does not exist yet.

    Raises:
        WorkspaceError: the workspace is missing, unreadable, not writable, not a Quiver
            database, written by a newer Quiver, or its migration failed.
    """
    parsed = parse_workspace(url) if isinstance(url, str) else url
    backup: Path | None = None
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        _check_sqlite_file(path, create=create)
        revision = _sqlite_revision(path) if path.exists() else None
        _check_revision(revision, str(path))
        if revision != HEAD_REVISION:
            log.info("migrating %s from %s to %s", path, revision or "empty", HEAD_REVISION)
            try:
                backup = upgrade_sqlite_file(path)
            except MigrationError as exc:
                raise WorkspaceError(
                    f"Quiver could not upgrade the workspace {path}: {exc}. The file was left "
                    "exactly as it was; please report this problem."
                ) from exc
        engine = build_engine(parsed)
    elif parsed.get_backend_name() == "postgresql":
        engine = _open_server(parsed, create=create)
    else:
        raise WorkspaceError(
            f"Quiver keeps workspaces in SQLite files or on PostgreSQL servers, not in "
            f"“{parsed.get_backend_name()}”. Give a file path or a postgresql+psycopg:// URL."
        )
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    return Database(url=parsed, engine=engine, session_factory=factory, backup=backup)


def _open_server(url: URL, *, create: bool) -> Engine:
    """Connect to a PostgreSQL workspace, create its database if asked, migrate it if due."""
    engine = build_engine(url)
    try:
        try:
            revision = server.probe(engine, url)
        except server.ServerError as exc:
            if not (create and exc.missing_database):
                raise
            engine.dispose()
            server.create_database(url, build_engine)
            engine = build_engine(url)
            revision = server.probe(engine, url)
        _check_revision(revision, server.where(url))
        if revision != HEAD_REVISION:
            log.info(
                "migrating %s from %s to %s", server.where(url), revision or "empty", HEAD_REVISION
            )
            server.migrate(engine, url, KNOWN_REVISIONS)
    except (server.ServerError, WorkspaceError) as exc:
        engine.dispose()
        if isinstance(exc, WorkspaceError):
            raise
        raise WorkspaceError(str(exc)) from exc
    return engine


def _check_revision(revision: str | None, where: str) -> None:
    if revision is not None and revision not in KNOWN_REVISIONS:
        raise WorkspaceError(
            f"The workspace {where} was written by a newer version of Quiver (schema "
            f"“{revision}”; this version knows up to “{HEAD_REVISION}”). Update Quiver to open "
            "it; the workspace was not changed."
        )


def _check_sqlite_file(path: Path, *, create: bool) -> None:
    if not path.exists():
        if not create:
            raise WorkspaceError(
                f"There is no workspace at {path}. Check the path, or start Quiver with "
                "--create to make a new workspace there."
            )
        parent = path.parent
        if not parent.is_dir():
            raise WorkspaceError(
                f"Cannot create a workspace at {path}: the folder {parent} does not exist."
            )
        if not os.access(parent, os.W_OK | os.X_OK):
            raise WorkspaceError(
                f"Cannot create a workspace at {path}: the folder {parent} is not writable. "
                "Choose a folder you can write to."
            )
        return
    if path.is_dir():
        raise WorkspaceError(f"{path} is a folder, not a workspace file.")
    if not os.access(path, os.R_OK):
        raise WorkspaceError(f"The workspace {path} cannot be read: check its permissions.")
    with path.open("rb") as fh:
        header = fh.read(len(SQLITE_HEADER))
    if header and header != SQLITE_HEADER:
        raise WorkspaceError(
            f"{path} is not a Quiver workspace (it is not a SQLite database). Nothing was changed."
        )
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK | os.X_OK):
        raise WorkspaceError(
            f"The workspace {path} is read-only (Quiver needs to write to the file and to its "
            "folder). Check the permissions, or copy it somewhere you can write to."
        )


def _sqlite_revision(path: Path) -> str | None:
    """Read the stamped revision with plain sqlite3, only reading, before anything else runs.

    A read-write connection that only reads: unlike ``mode=ro`` on a WAL database, it removes
    the ``-wal`` and ``-shm`` files it needed when it closes, so the folder is left as it was.
    """
    if path.stat().st_size == 0:
        return None
    try:
        conn = sqlite3.connect(path)
    except sqlite3.Error as exc:
        raise WorkspaceError(f"The workspace {path} cannot be opened: {exc}.") from exc
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "alembic_version" in tables:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            return None if row is None else str(row[0])
        if tables:
            raise WorkspaceError(
                f"{path} is a SQLite database, but not a Quiver workspace (it has other tables). "
                "Nothing was changed."
            )
        return None
    except sqlite3.DatabaseError as exc:
        raise WorkspaceError(
            f"{path} is not a Quiver workspace or is damaged ({exc}). Nothing was changed."
        ) from exc
    finally:
        conn.close()
