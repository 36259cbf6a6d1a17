"""Filtered inbox walks that read no table row: the walked indexes carry the filtered columns.

A page of the inbox, and a search's newest conversations of the filters, walk one of three
ordered indexes (newest activity across units, newest activity in a unit, soonest due time in a
unit) and check every filter on the way. With only the order's columns in the index, each
walked entry read its row from the table: a rare filter (a language, "status new" in the
due-time order, an agent in the units they do not work in) read hundreds of thousands of rows,
80-300 ms at 1M messages. The same three indexes now also hold the columns the filters read
(unit, status, assignee, language, kind, network, account, sentiment): such a walk reads the
index alone, 20 ms for every conversation of that workspace. Each of the three is rebuilt
wider under its name.

The due-time order across units gets its own walk, ``ix_conversations_due``: it was one walk
per unit, merged, each walking its whole unit when the filters kept none of its conversations
(an agent's, the German ones). A tag's conversations are read from the tag index alone
(``ix_conversation_tags_tag_id_conversation_id`` replaces ``ix_conversation_tags_tag_id``):
the tag filter reads them as a list several times per search. The status index gets the id:
PostgreSQL then reads a unit's (or its backlog's) ids from it alone, which it did from the
narrow due-time index before that grew wide.

Revision ID: 0007_filtered_walks
Revises: 0006_drafts
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_filtered_walks"
down_revision: str | None = "0006_drafts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The columns app.storage.feed.filter_conditions reads, after each index's order (at this
# revision: a migration never changes).
_FILTERED = (
    "status",
    "assignee_id",
    "language",
    "kind",
    "network",
    "account_id",
    "sentiment",
)
_WIDE = {
    "ix_conversations_activity": ["last_activity_at", "id", "unit_id", *_FILTERED],
    "ix_conversations_unit_activity": ["unit_id", "last_activity_at", "id", *_FILTERED],
    "ix_conversations_unit_due": ["unit_id", "sla_due_at", "id", *_FILTERED],
    "ix_conversations_unit_status": ["unit_id", "status", "id"],
}
_DUE = ["sla_due_at", "id", "unit_id", *_FILTERED]
_NARROW = {
    "ix_conversations_activity": ["last_activity_at", "id"],
    "ix_conversations_unit_activity": ["unit_id", "last_activity_at", "id"],
    "ix_conversations_unit_due": ["unit_id", "sla_due_at", "id"],
    "ix_conversations_unit_status": ["unit_id", "status"],
}


def upgrade() -> None:
    _rebuild(_WIDE)
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index("ix_conversations_due", _DUE, unique=False)
    with op.batch_alter_table("conversation_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_tags_tag_id")
        batch_op.create_index(
            "ix_conversation_tags_tag_id_conversation_id", ["tag_id", "conversation_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("conversation_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_tags_tag_id_conversation_id")
        batch_op.create_index("ix_conversation_tags_tag_id", ["tag_id"], unique=False)
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_due")
    _rebuild(_NARROW)


def _rebuild(indexes: dict[str, list[str]]) -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        for name in indexes:
            batch_op.drop_index(name)
        for name, columns in indexes.items():
            batch_op.create_index(name, columns, unique=False)
