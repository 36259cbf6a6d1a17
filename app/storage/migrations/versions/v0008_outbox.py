"""The outbox: each target of a draft claimed before it is sent, and who sent each message.

- draft_targets: ``attempts`` (sends that failed transiently), ``next_attempt_at`` (not before:
  a backoff, a rate limit's end, a reconcile's delay), ``claimed_by`` / ``claimed_at`` (the
  publisher sending it now: taken by a conditional update, so two publishers never send the
  same target) and ``needs_person`` (the network could not tell whether a write went out: a
  person decides); an index
  on ``(state, next_attempt_at)`` for the publisher's walk of what is due;
- messages: ``sent_by_id`` and ``sent_for_unit_id``, who sent an outbound message through
  Quiver and for which unit (plain ids, kept after the person or the unit goes, as the
  conversation history keeps its units).

Revision ID: 0008_outbox
Revises: 0007_filtered_walks
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_outbox"
down_revision: str | None = "0007_filtered_walks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("draft_targets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("next_attempt_at", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("needs_person", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(
            "ix_draft_targets_state_next_attempt_at", ["state", "next_attempt_at"], unique=False
        )
    # Plain ALTER TABLE ADD COLUMN on both engines: the messages table is not copied.
    op.add_column("messages", sa.Column("sent_by_id", sa.Integer(), nullable=True))
    op.add_column("messages", sa.Column("sent_for_unit_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("sent_for_unit_id")
        batch_op.drop_column("sent_by_id")
    with op.batch_alter_table("draft_targets", schema=None) as batch_op:
        batch_op.drop_index("ix_draft_targets_state_next_attempt_at")
        batch_op.drop_column("needs_person")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
