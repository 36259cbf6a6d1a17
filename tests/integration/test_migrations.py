"""Migrations from an empty database, on an up-to-date one, and their safety on failure."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from app.models import Base
from app.storage import migrate
from app.storage.engine import build_engine
from app.storage.migrate import (
    MIGRATIONS,
    MigrationError,
    current_revision,
    revision_of,
    upgrade_sqlite_file,
)
from app.storage.schema import HEAD_REVISION, KNOWN_REVISIONS, mapped_by_models
from app.storage.search import search_conversation_ids
from app.storage.workspace import Database, WorkspaceError, open_database


def upgrade_down(conn: object, revision: str) -> None:
    """Alembic's downgrade on an open connection (as migrate.upgrade_connection upgrades)."""
    from alembic import command

    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    cfg.attributes["connection"] = conn
    command.downgrade(cfg, revision)


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
                opts={"compare_type": True, "include_name": mapped_by_models},
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


def test_ctrl_c_during_a_migration_leaves_the_original_and_no_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ws.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE precious (v TEXT)")
        conn.execute("INSERT INTO precious VALUES ('keep me')")
    conn.close()
    before = path.read_bytes()

    def interrupted(conn: object, revision: str = "head") -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(migrate, "upgrade_connection", interrupted)
    with pytest.raises(KeyboardInterrupt):
        upgrade_sqlite_file(path)
    assert path.read_bytes() == before
    assert not [p.name for p in tmp_path.iterdir() if "migrating" in p.name]


def test_files_left_by_a_killed_migration_go_at_the_next_one(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "ws.sqlite"
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = int(gone.stdout)  # that process has ended
    alive = os.getppid()  # still runs: another program's work in progress is left alone
    for name in (
        f".ws.sqlite.migrating-{dead}",
        f".ws.sqlite.migrating-{dead}-wal",
        f".ws.sqlite.copying-{dead}",
        f".ws.sqlite.migrating-{alive}",
        f".other.sqlite.migrating-{dead}",
    ):
        (tmp_path / name).write_bytes(b"half a database")
    upgrade_sqlite_file(path)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [
        f".other.sqlite.migrating-{dead}",
        f".ws.sqlite.migrating-{alive}",
    ]
    assert current_revision(build_engine(f"sqlite:///{path}")) == HEAD_REVISION


def test_the_schema_matches_the_models_on_both_engines(db: Database) -> None:
    """The same migrations on each engine give exactly the tables the models describe."""
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": mapped_by_models}
        )
        assert compare_metadata(ctx, Base.metadata) == []
        assert revision_of(conn) == HEAD_REVISION


def test_a_filled_workspace_at_0001_keeps_its_search_when_upgraded(
    demo_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "old.sqlite"
    path.write_bytes(demo_template.read_bytes())
    engine = build_engine(f"sqlite:///{path}", foreign_keys=False)
    with engine.begin() as conn:  # back to the first release's schema, data kept
        upgrade_down(conn, "0001_initial")
    engine.dispose()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            ("0001_initial",)
        ]
        triggers = {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
        assert "messages_fts_forget" not in triggers
    conn.close()
    db = open_database(str(path))
    try:
        assert db.backup is not None
        with db.engine.begin() as conn:
            [hit, *_] = search_conversation_ids(conn, "battery")
            conn.execute(text("DELETE FROM conversations WHERE id = :c"), {"c": hit})
            assert hit not in search_conversation_ids(conn, "battery")
            conn.execute(text("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')"))
    finally:
        db.close()


_WALKED = {
    "ix_conversations_activity": ["last_activity_at", "id", "unit_id"],
    "ix_conversations_unit_activity": ["unit_id", "last_activity_at", "id"],
    "ix_conversations_unit_due": ["unit_id", "sla_due_at", "id"],
}
_FILTERED = ["status", "assignee_id", "language", "kind", "network", "account_id", "sentiment"]


def _indexes(url: str, table: str) -> dict[str, list[str]]:
    engine = build_engine(url)
    try:
        from sqlalchemy import inspect

        return {
            str(ix["name"]): [str(c) for c in ix["column_names"]]
            for ix in inspect(engine).get_indexes(table)
        }
    finally:
        engine.dispose()


def _conversation_indexes(url: str) -> dict[str, list[str]]:
    return _indexes(url, "conversations")


def _pages(url: str) -> list[list[int]]:
    """The first page of a few lists that walk each of the rebuilt indexes."""
    from app.domain.rows import SORT_ACTIVITY, SORT_DUE, FeedQuery
    from app.storage.feed import feed_page

    engine = build_engine(url)
    try:
        with engine.connect() as conn:
            units = list(conn.execute(text("SELECT id FROM units ORDER BY id")).scalars())
            queries = [
                FeedQuery(unit_ids=unit_ids, sort=sort, **extra)  # type: ignore[arg-type]
                for unit_ids in (None, tuple(units[:3]), tuple(units[2:3]))
                for sort in (SORT_ACTIVITY, SORT_DUE)
                for extra in ({}, {"statuses": ("new",)}, {"languages": ("de",)})
            ]
            return [[r.id for r in feed_page(conn, q, limit=50)] for q in queries]
    finally:
        engine.dispose()


def test_a_filled_workspace_at_0005_gets_the_filtered_walks_when_upgraded(
    workspace_url: Callable[[str], str], engine_name: str
) -> None:
    """0007 rebuilds the walked indexes wider and adds the due-time walk across units, on a
    workspace with data, on each engine: same rows in every list, the schema of the models."""
    made = workspace_url("demo")
    url = made if engine_name == "postgresql" else f"sqlite:///{made}"
    engine = build_engine(url, foreign_keys=False)
    with engine.begin() as conn:  # back to 0005, data kept
        upgrade_down(conn, "0005_routing_spam_views")
    engine.dispose()
    before = _conversation_indexes(url)
    for name, order in _WALKED.items():
        assert before[name] == (order[:2] if name == "ix_conversations_activity" else order)
    assert "ix_conversations_due" not in before
    assert before["ix_conversations_unit_status"] == ["unit_id", "status"]
    assert _indexes(url, "conversation_tags")["ix_conversation_tags_tag_id"] == ["tag_id"]
    pages = _pages(url)  # the same queries read the narrow indexes at 0005
    assert any(pages)

    db = open_database(made)
    try:
        if engine_name == "sqlite":
            assert db.backup is not None  # a file workspace is copied before it is migrated
        with db.engine.connect() as conn:
            assert revision_of(conn) == HEAD_REVISION
            ctx = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_name": mapped_by_models}
            )
            assert compare_metadata(ctx, Base.metadata) == []
    finally:
        db.close()
    after = _conversation_indexes(url)
    for name, order in _WALKED.items():
        assert after[name] == [*order, *_FILTERED]
    assert after["ix_conversations_due"] == ["sla_due_at", "id", "unit_id", *_FILTERED]
    assert after["ix_conversations_unit_status"] == ["unit_id", "status", "id"]
    tags = _indexes(url, "conversation_tags")
    assert tags["ix_conversation_tags_tag_id_conversation_id"] == ["tag_id", "conversation_id"]
    assert "ix_conversation_tags_tag_id" not in tags
    assert _pages(url) == pages


def test_0007_goes_back_to_the_narrow_indexes(db: Database) -> None:
    with db.engine.begin() as conn:
        upgrade_down(conn, "0005_routing_spam_views")
        assert revision_of(conn) == "0005_routing_spam_views"
    indexes = _conversation_indexes(db.url.render_as_string(hide_password=False))
    assert indexes["ix_conversations_activity"] == ["last_activity_at", "id"]
    assert indexes["ix_conversations_unit_activity"] == ["unit_id", "last_activity_at", "id"]
    assert indexes["ix_conversations_unit_due"] == ["unit_id", "sla_due_at", "id"]
    assert "ix_conversations_due" not in indexes
    assert indexes["ix_conversations_unit_status"] == ["unit_id", "status"]
    tags = _indexes(db.url.render_as_string(hide_password=False), "conversation_tags")
    assert tags["ix_conversation_tags_tag_id"] == ["tag_id"]


def test_0009_adds_the_calendar_indexes_and_goes_back(db: Database) -> None:
    url = db.url.render_as_string(hide_password=False)
    at_head = _indexes(url, "drafts")
    assert at_head["ix_drafts_schedule_at_id"] == ["schedule_at", "id"]
    assert at_head["ix_drafts_state_kind_updated_at_id"] == ["state", "kind", "updated_at", "id"]
    with db.engine.begin() as conn:
        upgrade_down(conn, "0008_outbox")
        assert revision_of(conn) == "0008_outbox"
    before = _indexes(url, "drafts")
    assert "ix_drafts_schedule_at_id" not in before
    assert "ix_drafts_state_kind_updated_at_id" not in before
    assert "ix_drafts_state_created_at_id" in before


def test_0010_adds_the_saved_replies_and_takes_them_away(db: Database) -> None:
    assert "saved_replies" in inspect(db.engine).get_table_names()
    url = db.url.render_as_string(hide_password=False)
    with db.engine.begin() as conn:
        upgrade_down(conn, "0009_calendar")
        assert revision_of(conn) == "0009_calendar"
    engine = build_engine(url)
    try:
        assert "saved_replies" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_0012_turns_units_goals_into_department_goals_and_back(db: Database) -> None:
    """0011 → 0012 → 0011 with data, on each engine: goals text, KPI target, policy lines."""
    from app.storage.migrate import upgrade_connection

    with db.engine.begin() as conn:
        upgrade_down(conn, "0011_submitted_versions")
        conn.execute(
            text(
                "INSERT INTO people (name, email, title, active, failed_sign_ins, created_at) "
                "VALUES ('Hana Head', 'hana@example.org', '', true, 0, 0)"
            )
        )
        head = conn.execute(text("SELECT id FROM people")).scalar_one()
        for n, (name, goals, head_id) in enumerate(
            [
                ("Root", "", None),
                ("Care", "Answer fast.\nResolve on first contact.", head),
                ("Sales", "   ", None),
                ("Legal", "No liability.", None),
            ]
        ):
            conn.execute(
                text(
                    "INSERT INTO units (id, parent_id, path, name, kind, colour, head_id, region,"
                    " languages, goals, is_triage, sort_order) VALUES (:id, :parent, :path,"
                    " :name, 'department', '#607d8b', :head, '', '', :goals, false, 0)"
                ),
                {
                    "id": 100 + n,
                    "parent": None if n == 0 else 100,
                    "path": "/100/" if n == 0 else f"/100/{100 + n}/",
                    "name": name,
                    "head": head_id,
                    "goals": goals,
                },
            )
        for uuid, target in (("sg-1", "≤ 2 h"), ("sg-2", "500"), ("sg-3", "more than before")):
            conn.execute(
                text(
                    "INSERT INTO strategy_items (uuid, type, title, body, kpi, target, channel,"
                    " cadence, position, updated_at) VALUES (:u, 'social_goal', :u, '', 'k',"
                    " :t, '', '', 0, 1000)"
                ),
                {"u": uuid, "t": target},
            )
        conn.execute(
            text("INSERT INTO policy_rules (kind, value, note) VALUES ('banned_term', 'x', '')")
        )
        upgrade_connection(conn, "0012_strategy_funnel")
        made = conn.execute(
            text(
                "SELECT unit_id, title, body, owner_id, created_at FROM strategy_items"
                " WHERE type = 'department_goal' ORDER BY unit_id"
            )
        ).all()
        assert [(r[0], r[1], r[2], r[3]) for r in made] == [
            (101, "Answer fast.", "Answer fast.\nResolve on first contact.", head),
            (103, "No liability.", "No liability.", None),
        ]
        assert (
            conn.execute(text("SELECT count(*) FROM units WHERE trim(goals) != ''")).scalar() == 0
        )
        kpis = conn.execute(
            text(
                "SELECT uuid, kpi_target, kpi_unit, body, created_at FROM strategy_items"
                " WHERE type = 'social_goal' ORDER BY uuid"
            )
        ).all()
        assert [(r[0], r[1], r[2], r[3], r[4]) for r in kpis] == [
            ("sg-1", 2.0, "h", "", 1000),
            ("sg-2", 500.0, "", "", 1000),
            ("sg-3", None, "", "Target: more than before", 1000),
        ]
        [line_uuid] = conn.execute(text("SELECT uuid FROM policy_rules")).scalars()
        assert len(line_uuid) == 36

        upgrade_down(conn, "0011_submitted_versions")
        goals = dict(conn.execute(text("SELECT name, goals FROM units")).all())
        assert goals == {
            "Root": "",
            "Care": "Answer fast.\nResolve on first contact.",
            "Sales": "   ",
            "Legal": "No liability.",
        }
        assert (
            conn.execute(
                text("SELECT count(*) FROM strategy_items WHERE type = 'department_goal'")
            ).scalar()
            == 0
        )
        targets = dict(conn.execute(text("SELECT uuid, target FROM strategy_items")).all())
        assert targets == {"sg-1": "2 h", "sg-2": "500", "sg-3": ""}
        assert revision_of(conn) == "0011_submitted_versions"
