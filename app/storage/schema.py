"""Schema revisions this version of Quiver knows, without importing Alembic on start-up.

``tests/integration/test_migrations.py`` checks these against Alembic's script directory.
"""

from __future__ import annotations

#: Every revision in upgrade order; the last one is the head this build writes.
KNOWN_REVISIONS: tuple[str, ...] = (
    "0001_initial",
    "0002_search_audit",
    "0003_administration",
    "0004_triage",
    "0005_routing_spam_views",
    "0006_drafts",
    "0007_filtered_walks",
    "0008_outbox",
    "0009_calendar",
    "0010_saved_replies",
    "0011_submitted_versions",
    "0012_strategy_funnel",
)
HEAD_REVISION = KNOWN_REVISIONS[-1]

#: Search structures no ORM class maps: SQLite's FTS5 tables, PostgreSQL's tsvector column.
FTS_PREFIX = "messages_fts"
AUTHORS_FTS_PREFIX = "authors_fts"
SEARCH_COLUMN = "search_vector"
SEARCH_INDEX = "ix_messages_search_vector"
AUTHORS_SEARCH_INDEX = "ix_authors_search"


def mapped_by_models(name: str | None, type_: str, parent_names: object) -> bool:
    """Whether Alembic should compare this object with the models (``include_name``)."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith((FTS_PREFIX, AUTHORS_FTS_PREFIX))
    if type_ == "column":
        return name != SEARCH_COLUMN
    if type_ == "index":
        return name not in (SEARCH_INDEX, AUTHORS_SEARCH_INDEX)
    return True
