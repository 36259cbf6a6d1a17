"""Drafts through the approval service: the approvals queue.

- draft_approvers: who may decide a pending draft (a role in a unit or above), one row per
  demand of its requirement while the draft waits, written by the drafts service; the queue
  looks drafts up by it (indexed by role and unit: whose queue a draft is in);
- drafts: an index on ``(state, created_at, id)`` for the queue's keyset pages (oldest pending
  first), replacing the index on ``state`` alone, which it covers.

Revision ID: 0006_drafts
Revises: 0005_routing_spam_views
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_drafts"
down_revision: str | None = "0005_routing_spam_views"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# app.domain.enums.Role at this revision (a migration never changes).
_ROLES = "role IN ('agent', 'supervisor', 'strategist', 'admin')"


def upgrade() -> None:
    op.create_table(
        "draft_approvers",
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(_ROLES, name=op.f("ck_draft_approvers_role")),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["drafts.id"],
            name=op.f("fk_draft_approvers_draft_id_drafts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_draft_approvers_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("draft_id", "role", "unit_id", name=op.f("pk_draft_approvers")),
    )
    with op.batch_alter_table("draft_approvers", schema=None) as batch_op:
        batch_op.create_index("ix_draft_approvers_role_unit_id", ["role", "unit_id"], unique=False)
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drafts_state"))
        batch_op.create_index(
            "ix_drafts_state_created_at_id", ["state", "created_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_index("ix_drafts_state_created_at_id")
        batch_op.create_index(batch_op.f("ix_drafts_state"), ["state"], unique=False)
    with op.batch_alter_table("draft_approvers", schema=None) as batch_op:
        batch_op.drop_index("ix_draft_approvers_role_unit_id")
    op.drop_table("draft_approvers")
