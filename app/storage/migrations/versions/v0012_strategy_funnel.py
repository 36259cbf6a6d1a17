"""The strategy funnel, enforced: KPI numbers, stable policy lines, revisions and deletions.

- strategy_items: ``kpi_target`` and ``baseline`` (numbers) and ``kpi_unit`` beside ``kpi`` (its
  name), and ``created_at`` (a tactic's horizon counts from it). The old text ``target`` goes:
  its first number becomes ``kpi_target`` and the words after it ``kpi_unit`` ("≤ 2 h" → 2, "h");
  a text with no number in it is kept at the end of the item's body. The downgrade writes the
  text back from the numbers.
- policy_rules: a stable ``uuid`` per line (filled for existing lines), so lines merge one by one.
- strategy_revisions: the revisions the workspace exported, each with its snapshot (JSON).
- strategy_deletions: what was deleted (uuid, type, title, when, by whom, after which revision).
- units.goals: each non-empty text becomes a department-goal item of its unit, owned by the
  unit's head; the column stays (empty) for the downgrade, which writes the text back from the
  items it made (their uuids are kept in workspace_meta) and deletes those items.
- indexes for a social goal's drafts and conversations, newest first.

Revision ID: 0012_strategy_funnel
Revises: 0011_submitted_versions
Create Date: 2026-12-03 10:00:00
"""

import json
import re
import time
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_strategy_funnel"
down_revision: str | None = "0011_submitted_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: workspace_meta key: the uuids of the department goals made from units.goals.
MADE_FROM_UNIT_GOALS = "migration_0012_unit_goals"

_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")

_items = sa.table(
    "strategy_items",
    sa.column("id", sa.Integer),
    sa.column("uuid", sa.String),
    sa.column("type", sa.String),
    sa.column("title", sa.String),
    sa.column("body", sa.Text),
    sa.column("unit_id", sa.Integer),
    sa.column("owner_id", sa.Integer),
    sa.column("kpi", sa.String),
    sa.column("target", sa.String),
    sa.column("kpi_target", sa.Float),
    sa.column("kpi_unit", sa.String),
    sa.column("channel", sa.String),
    sa.column("cadence", sa.String),
    sa.column("position", sa.Integer),
    sa.column("created_at", sa.BigInteger),
    sa.column("updated_at", sa.BigInteger),
)
_units = sa.table(
    "units",
    sa.column("id", sa.Integer),
    sa.column("goals", sa.Text),
    sa.column("head_id", sa.Integer),
    sa.column("path", sa.String),
)
_policy = sa.table("policy_rules", sa.column("id", sa.Integer), sa.column("uuid", sa.String))
_meta = sa.table("workspace_meta", sa.column("key", sa.String), sa.column("value", sa.Text))


def parse_target(text: str) -> tuple[float | None, str]:
    """The number and unit of an old text target ("≤ 2 h" → (2.0, "h")); (None, "") if none."""
    found = _NUMBER.search(text)
    if found is None:
        return None, ""
    number = float(found.group().replace(",", "."))
    return number, text[found.end() :].strip()[:40]


def target_text(number: float | None, unit: str) -> str:
    """The old text target of a number and its unit (the downgrade's inverse of the above)."""
    if number is None:
        return ""
    return f"{number:g} {unit}".strip()[:100]


def upgrade() -> None:
    with op.batch_alter_table("strategy_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kpi_target", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("kpi_unit", sa.String(length=40), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("baseline", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("created_at", sa.BigInteger(), nullable=True))
    conn = op.get_bind()
    conn.execute(sa.update(_items).values(created_at=_items.c.updated_at))
    for row in conn.execute(
        sa.select(_items.c.id, _items.c.target, _items.c.body).where(_items.c.target != "")
    ).all():
        number, unit = parse_target(row.target)
        if number is None:
            body = f"{row.body}\n\nTarget: {row.target}".strip()
            conn.execute(sa.update(_items).where(_items.c.id == row.id).values(body=body))
        else:
            conn.execute(
                sa.update(_items)
                .where(_items.c.id == row.id)
                .values(kpi_target=number, kpi_unit=unit)
            )
    with op.batch_alter_table("strategy_items", schema=None) as batch_op:
        batch_op.alter_column("created_at", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("kpi_unit", existing_type=sa.String(length=40), server_default=None)
        batch_op.drop_column("target")

    with op.batch_alter_table("policy_rules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uuid", sa.String(length=36), nullable=True))
    for (line_id,) in conn.execute(sa.select(_policy.c.id)).all():
        conn.execute(
            sa.update(_policy).where(_policy.c.id == line_id).values(uuid=str(uuid.uuid4()))
        )
    with op.batch_alter_table("policy_rules", schema=None) as batch_op:
        batch_op.alter_column("uuid", existing_type=sa.String(length=36), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_policy_rules_uuid"), ["uuid"])

    op.create_table(
        "strategy_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("person_name", sa.String(length=200), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_strategy_revisions_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_revisions")),
        sa.UniqueConstraint("number", name=op.f("uq_strategy_revisions_number")),
    )
    op.create_table(
        "strategy_deletions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=False),
        sa.Column("after_revision", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("person_name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_strategy_deletions_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_deletions")),
    )
    with op.batch_alter_table("strategy_deletions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_strategy_deletions_uuid"), ["uuid"], unique=False)
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_drafts_social_goal_id_updated_at_id",
            ["social_goal_id", "updated_at", "id"],
            unique=False,
        )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversations_social_goal_activity",
            ["social_goal_id", "last_activity_at", "id"],
            unique=False,
        )
    _unit_goals_to_items(conn)


def _unit_goals_to_items(conn: sa.Connection) -> None:
    now = int(time.time() * 1000)
    position = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(_items.c.position), -1)).where(
            _items.c.type == "department_goal"
        )
    ).scalar_one()
    made: list[str] = []
    units = conn.execute(
        sa.select(_units.c.id, _units.c.goals, _units.c.head_id).order_by(_units.c.path)
    ).all()
    for unit in units:
        text = (unit.goals or "").strip()
        if not text:
            continue
        title = next(line.strip() for line in text.splitlines() if line.strip())[:300]
        position += 1
        made.append(str(uuid.uuid4()))
        conn.execute(
            sa.insert(_items).values(
                uuid=made[-1],
                type="department_goal",
                title=title,
                body=text,
                unit_id=unit.id,
                owner_id=unit.head_id,
                kpi="",
                kpi_unit="",
                channel="",
                cadence="",
                position=position,
                created_at=now,
                updated_at=now,
            )
        )
        conn.execute(sa.update(_units).where(_units.c.id == unit.id).values(goals=""))
    if made:
        conn.execute(sa.insert(_meta).values(key=MADE_FROM_UNIT_GOALS, value=json.dumps(made)))


def _items_to_unit_goals(conn: sa.Connection) -> None:
    stored = conn.execute(
        sa.select(_meta.c.value).where(_meta.c.key == MADE_FROM_UNIT_GOALS)
    ).scalar()
    if stored is None:
        return
    made = json.loads(stored)
    rows = conn.execute(
        sa.select(_items.c.uuid, _items.c.unit_id, _items.c.title, _items.c.body)
        .where(_items.c.uuid.in_(made), _items.c.unit_id.is_not(None))
        .order_by(_items.c.position, _items.c.id)
    ).all()
    texts: dict[int, list[str]] = {}
    for row in rows:
        texts.setdefault(row.unit_id, []).append((row.body or "").strip() or row.title)
    for unit_id, parts in texts.items():
        conn.execute(
            sa.update(_units).where(_units.c.id == unit_id).values(goals="\n\n".join(parts))
        )
    conn.execute(sa.delete(_items).where(_items.c.uuid.in_(made)))
    conn.execute(sa.delete(_meta).where(_meta.c.key == MADE_FROM_UNIT_GOALS))


def downgrade() -> None:
    conn = op.get_bind()
    _items_to_unit_goals(conn)
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_social_goal_activity")
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_index("ix_drafts_social_goal_id_updated_at_id")
    with op.batch_alter_table("strategy_deletions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_strategy_deletions_uuid"))
    op.drop_table("strategy_deletions")
    op.drop_table("strategy_revisions")
    with op.batch_alter_table("policy_rules", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_policy_rules_uuid"), type_="unique")
        batch_op.drop_column("uuid")

    with op.batch_alter_table("strategy_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("target", sa.String(length=100), nullable=False, server_default="")
        )
    for row in conn.execute(
        sa.select(_items.c.id, _items.c.kpi_target, _items.c.kpi_unit).where(
            _items.c.kpi_target.is_not(None)
        )
    ).all():
        conn.execute(
            sa.update(_items)
            .where(_items.c.id == row.id)
            .values(target=target_text(row.kpi_target, row.kpi_unit))
        )
    with op.batch_alter_table("strategy_items", schema=None) as batch_op:
        batch_op.alter_column("target", existing_type=sa.String(length=100), server_default=None)
        batch_op.drop_column("created_at")
        batch_op.drop_column("baseline")
        batch_op.drop_column("kpi_unit")
        batch_op.drop_column("kpi_target")
