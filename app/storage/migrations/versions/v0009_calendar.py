"""The Publishing calendar's indexes: drafts by schedule time, and sent drafts by when.

The calendar reads, in one statement, the drafts with a schedule time in a week or a month
(``ix_drafts_schedule_at_id``) and the drafts without one that went out or failed in it
(``ix_drafts_state_kind_updated_at_id``: state and kind, then the time of the last change). The
queue's recently published drafts are the same range from "since" on the second index, so the
history of published drafts is never walked.

Revision ID: 0009_calendar
Revises: 0008_outbox
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_calendar"
down_revision: str | None = "0008_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.create_index("ix_drafts_schedule_at_id", ["schedule_at", "id"], unique=False)
        batch_op.create_index(
            "ix_drafts_state_kind_updated_at_id",
            ["state", "kind", "updated_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_index("ix_drafts_state_kind_updated_at_id")
        batch_op.drop_index("ix_drafts_schedule_at_id")
