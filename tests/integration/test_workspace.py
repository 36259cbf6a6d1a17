"""Bad workspaces get a clear message and are never modified."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.storage.workspace import WorkspaceError, open_database, parse_workspace


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_missing_workspace_is_refused_without_create(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="There is no workspace at"):
        open_database(str(tmp_path / "nope.sqlite"))
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_refused_even_with_create(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="does not exist"):
        open_database(str(tmp_path / "no" / "such" / "ws.sqlite"), create=True)


def test_not_a_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("These are my meeting notes, not a database.\n" * 20)
    before = _snapshot(tmp_path)
    with pytest.raises(WorkspaceError, match="not a SQLite database"):
        open_database(str(path))
    assert _snapshot(tmp_path) == before


def test_foreign_sqlite_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.close()
    before = _snapshot(tmp_path)
    with pytest.raises(WorkspaceError, match="not a Quiver workspace"):
        open_database(str(path))
    assert _snapshot(tmp_path) == before


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[None]:
    """Make ``path`` unwritable, also for root (who ignores permission bits): chattr +i."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], check=False).returncode:
        pytest.fail("running as root without a working chattr: cannot make a read-only file")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


def test_read_only_workspace_is_refused_and_untouched(template_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "ro.sqlite"
    path.write_bytes(template_db.read_bytes())
    before = _snapshot(tmp_path)
    with _read_only(path), pytest.raises(WorkspaceError, match="read-only"):
        open_database(str(path))
    assert _snapshot(tmp_path) == before


def test_read_only_folder_is_refused_for_a_new_workspace(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    with _read_only(folder), pytest.raises(WorkspaceError, match="not writable"):
        open_database(str(folder / "ws.sqlite"), create=True)
    assert list(folder.iterdir()) == []


def test_newer_schema_is_refused_and_untouched(template_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    path.write_bytes(template_db.read_bytes())
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    conn.close()
    before = _snapshot(tmp_path)
    with pytest.raises(WorkspaceError, match="newer version of Quiver") as info:
        open_database(str(path))
    assert "0099_from_the_future" in str(info.value)
    assert _snapshot(tmp_path) == before


def test_a_directory_is_not_a_workspace(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="is a folder"):
        open_database(str(tmp_path))


def test_memory_and_garbage_urls_are_explained() -> None:
    with pytest.raises(WorkspaceError, match="stored in a file"):
        parse_workspace("sqlite://")
    with pytest.raises(WorkspaceError, match="not a workspace URL"):
        parse_workspace("not a url://at all")


def test_plain_paths_become_sqlite_urls(tmp_path: Path) -> None:
    url = parse_workspace(str(tmp_path / "a.sqlite"))
    assert url.get_backend_name() == "sqlite"
    assert url.database == str(tmp_path / "a.sqlite")
