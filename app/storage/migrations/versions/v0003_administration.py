"""Administration: the organization's time zone, business hours and sign-in; unit targets.

Revision ID: 0003_administration
Revises: 0002_search_audit
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_administration"
down_revision: str | None = "0002_search_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Monday to Friday, nine to five: what an organization made before this revision is given.
_WEEKDAYS = '{"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]], "wed": [["09:00", "17:00"]], "thu": [["09:00", "17:00"]], "fri": [["09:00", "17:00"]], "sat": [], "sun": []}'


def upgrade() -> None:
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("time_zone", sa.String(length=64), nullable=False, server_default="UTC")
        )
        batch_op.add_column(
            sa.Column("business_hours", sa.JSON(), nullable=False, server_default=_WEEKDAYS)
        )
        batch_op.add_column(sa.Column("holidays", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(
            sa.Column(
                "passphrase_required", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deactivated_at", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("passphrase_hash", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("sign_in_blocked_until", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_response_target_h", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("business_hours", sa.JSON(), nullable=True))
    # The defaults served only the rows already there: the models give every new row its values.
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.alter_column("time_zone", server_default=None)
        batch_op.alter_column("business_hours", server_default=None)
        batch_op.alter_column("holidays", server_default=None)
        batch_op.alter_column("passphrase_required", server_default=None)
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.alter_column("failed_sign_ins", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_column("business_hours")
        batch_op.drop_column("first_response_target_h")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("sign_in_blocked_until")
        batch_op.drop_column("failed_sign_ins")
        batch_op.drop_column("passphrase_hash")
        batch_op.drop_column("deactivated_at")
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_column("passphrase_required")
        batch_op.drop_column("holidays")
        batch_op.drop_column("business_hours")
        batch_op.drop_column("time_zone")
