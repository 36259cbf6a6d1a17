"""A version once submitted is never rewritten: draft_versions.submitted_at.

A reviewer may have read a submitted version in the queue; approving "version 1" must mean the
text they read. An edit of a version nobody decided used to rewrite it in place even after it
had been submitted and withdrawn. ``submitted_at`` (when it was first submitted) tells the
drafts service to make a new version instead.

Revision ID: 0011_submitted_versions
Revises: 0010_saved_replies
Create Date: 2026-12-01 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_submitted_versions"
down_revision: str | None = "0010_saved_replies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("draft_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submitted_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("draft_versions", schema=None) as batch_op:
        batch_op.drop_column("submitted_at")
