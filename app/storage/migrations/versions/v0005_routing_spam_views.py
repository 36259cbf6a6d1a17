"""Routing and spam on ingest, author search, saved views.

- organization: the spam threshold and keyword list;
- conversations: the spam score with its reasons; indexes for the SLA sort within a unit and for
  an author's conversations (search by author name or handle);
- text_sightings: who wrote which spam fingerprint when, across ingest batches;
- saved_views: a person's named inbox filters;
- conversation_events: two more kinds, ``routed`` (rules applied again) and ``spam_verdict``;
- author search: SQLite gets an external-content FTS5 table over handle and display name, kept
  in step by triggers (authors are written far less often than messages); PostgreSQL a GIN
  index over the same words, folded by ``quiver_search_text`` (migration 0002).

Revision ID: 0005_routing_spam_views
Revises: 0004_triage
Create Date: 2026-12-01 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_routing_spam_views"
down_revision: str | None = "0004_triage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# app.domain.enums.ConversationEventKind before and at this revision (a migration never changes).
_KINDS_0004 = (
    "kind IN ('claimed', 'assigned', 'unassigned', 'handed_over', 'status', 'priority', "
    "'tagged', 'untagged', 'note')"
)
_KINDS = (
    "kind IN ('claimed', 'assigned', 'unassigned', 'handed_over', 'status', 'priority', "
    "'tagged', 'untagged', 'note', 'routed', 'spam_verdict')"
)
_AUTHOR_WORDS = "quiver_search_text(coalesce(handle, '') || ' ' || coalesce(display_name, ''))"


def upgrade() -> None:
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("spam_threshold", sa.Float(), nullable=False, server_default="0.6")
        )
        batch_op.add_column(
            sa.Column("spam_keywords", sa.JSON(), nullable=False, server_default="[]")
        )
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.alter_column("spam_threshold", server_default=None)
        batch_op.alter_column("spam_keywords", server_default=None)
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("spam_score", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("spam_reasons", sa.Text(), nullable=False, server_default=""))
        batch_op.create_index(
            "ix_conversations_unit_due", ["unit_id", "sla_due_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_conversations_author_activity", ["author_id", "last_activity_at"], unique=False
        )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.alter_column("spam_reasons", server_default=None)
    with op.batch_alter_table("conversation_events", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_conversation_events_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_conversation_events_kind"), sa.text(_KINDS))
    op.create_table(
        "text_sightings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_sightings")),
    )
    with op.batch_alter_table("text_sightings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_text_sightings_fingerprint_at", ["fingerprint", "at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_text_sightings_at"), ["at"], unique=False)
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_saved_views_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
        sa.UniqueConstraint("person_id", "name", name=op.f("uq_saved_views_person_id_name")),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_authors_up()
    elif dialect == "postgresql":
        op.execute(
            f"CREATE INDEX ix_authors_search ON authors "
            f"USING gin (to_tsvector('simple', {_AUTHOR_WORDS}))"
        )


def _sqlite_authors_up() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE authors_fts USING fts5(handle, display_name, "
        "content='authors', content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
    )
    op.execute("INSERT INTO authors_fts(authors_fts) VALUES ('rebuild')")
    op.execute(
        "CREATE TRIGGER authors_fts_add AFTER INSERT ON authors BEGIN "
        "INSERT INTO authors_fts(rowid, handle, display_name) "
        "VALUES (new.id, new.handle, new.display_name); END"
    )
    op.execute(
        "CREATE TRIGGER authors_fts_forget AFTER DELETE ON authors BEGIN "
        "INSERT INTO authors_fts(authors_fts, rowid, handle, display_name) "
        "VALUES ('delete', old.id, old.handle, old.display_name); END"
    )
    op.execute(
        "CREATE TRIGGER authors_fts_rename AFTER UPDATE OF handle, display_name ON authors "
        "BEGIN "
        "INSERT INTO authors_fts(authors_fts, rowid, handle, display_name) "
        "VALUES ('delete', old.id, old.handle, old.display_name); "
        "INSERT INTO authors_fts(rowid, handle, display_name) "
        "VALUES (new.id, new.handle, new.display_name); END"
    )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("authors_fts_rename", "authors_fts_forget", "authors_fts_add"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS authors_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_authors_search")
    op.drop_table("saved_views")
    with op.batch_alter_table("text_sightings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_text_sightings_at"))
        batch_op.drop_index("ix_text_sightings_fingerprint_at")
    op.drop_table("text_sightings")
    with op.batch_alter_table("conversation_events", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_conversation_events_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_conversation_events_kind"), sa.text(_KINDS_0004))
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_author_activity")
        batch_op.drop_index("ix_conversations_unit_due")
        batch_op.drop_column("spam_reasons")
        batch_op.drop_column("spam_score")
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_column("spam_keywords")
        batch_op.drop_column("spam_threshold")
