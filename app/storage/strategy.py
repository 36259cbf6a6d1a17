"""The strategy in SQL: items and links, policy lines, exported revisions and deletions.

The outline reads every item in one query (with its unit's and owner's names) and every link
in a second; the per-goal lists walk ``ix_drafts_social_goal_id_updated_at_id`` and
``ix_conversations_social_goal_activity`` newest first, keyset-paged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, literal, or_, select, tuple_, update
from sqlalchemy.orm import Session, aliased

from app.domain.enums import StrategyItemType
from app.domain.strategy_funnel import ItemFields
from app.models import (
    Conversation,
    Draft,
    DraftVersion,
    Organization,
    Person,
    PolicyRule,
    StrategyDeletion,
    StrategyItem,
    StrategyLink,
    StrategyRevision,
    Unit,
    UtcDateTime,
)


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """A strategy item as stored, with its unit's and owner's names."""

    id: int
    uuid: str
    type: StrategyItemType
    fields: ItemFields
    position: int
    created_at: datetime
    updated_at: datetime
    unit_name: str | None
    owner_name: str | None


@dataclass(frozen=True, slots=True)
class PolicyLineRecord:
    """One line of the social media policy, with its stable uuid."""

    id: int
    uuid: str
    kind: str
    value: str
    network: str | None
    unit_id: int | None
    account_id: int | None
    note: str


@dataclass(frozen=True, slots=True)
class RevisionRecord:
    """An exported revision and the strategy as it was then."""

    number: int
    created_at: datetime
    person_id: int | None
    person_name: str
    note: str
    snapshot: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DeletionRecord:
    """Something deleted from the strategy: what, when, by whom, after which revision."""

    uuid: str
    type: str
    title: str
    deleted_at: datetime
    after_revision: int | None
    person_id: int | None
    person_name: str


@dataclass(frozen=True, slots=True)
class ServedDraftRow:
    """A post or reply that served a social goal; ``key`` pages on."""

    id: int
    kind: str
    state: str
    unit_id: int
    text: str
    updated_at: datetime

    @property
    def key(self) -> tuple[datetime, int]:
        return (self.updated_at, self.id)


@dataclass(frozen=True, slots=True)
class TaggedConversationRow:
    """A conversation tagged with a social goal; ``key`` pages on."""

    id: int
    network: str
    status: str
    unit_id: int
    preview: str
    last_activity_at: datetime

    @property
    def key(self) -> tuple[datetime, int]:
        return (self.last_activity_at, self.id)


_Unit = aliased(Unit)
_Owner = aliased(Person)
_ITEM = (
    StrategyItem.id,
    StrategyItem.uuid,
    StrategyItem.type,
    StrategyItem.title,
    StrategyItem.body,
    StrategyItem.unit_id,
    StrategyItem.owner_id,
    StrategyItem.kpi,
    StrategyItem.kpi_target,
    StrategyItem.kpi_unit,
    StrategyItem.baseline,
    StrategyItem.deadline,
    StrategyItem.channel,
    StrategyItem.cadence,
    StrategyItem.horizon,
    StrategyItem.position,
    StrategyItem.created_at,
    StrategyItem.updated_at,
    _Unit.name.label("unit_name"),
    _Owner.name.label("owner_name"),
)


def _item(row: Any) -> ItemRecord:
    return ItemRecord(
        id=row.id,
        uuid=row.uuid,
        type=StrategyItemType(row.type),
        fields=ItemFields(
            title=row.title,
            body=row.body or "",
            unit_id=row.unit_id,
            owner_id=row.owner_id,
            kpi=row.kpi or "",
            kpi_target=row.kpi_target,
            kpi_unit=row.kpi_unit or "",
            baseline=row.baseline,
            deadline=row.deadline,
            channel=row.channel or "",
            cadence=row.cadence or "",
            horizon=row.horizon,
        ),
        position=row.position,
        created_at=row.created_at,
        updated_at=row.updated_at,
        unit_name=row.unit_name,
        owner_name=row.owner_name,
    )


def _values(fields: ItemFields) -> dict[str, Any]:
    return {
        "title": fields.title,
        "body": fields.body,
        "unit_id": fields.unit_id,
        "owner_id": fields.owner_id,
        "kpi": fields.kpi,
        "kpi_target": fields.kpi_target,
        "kpi_unit": fields.kpi_unit,
        "baseline": fields.baseline,
        "deadline": fields.deadline,
        "channel": fields.channel,
        "cadence": fields.cadence,
        "horizon": fields.horizon,
    }


_POLICY = (
    PolicyRule.id,
    PolicyRule.uuid,
    PolicyRule.kind,
    PolicyRule.value,
    PolicyRule.network,
    PolicyRule.unit_id,
    PolicyRule.account_id,
    PolicyRule.note,
)


def _line(row: Any) -> PolicyLineRecord:
    return PolicyLineRecord(
        id=row.id,
        uuid=row.uuid,
        kind=row.kind,
        value=row.value,
        network=row.network,
        unit_id=row.unit_id,
        account_id=row.account_id,
        note=row.note or "",
    )


class SqlStrategy:
    """:class:`app.storage.ports.StrategyRepository` on a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    # -- items and links ----------------------------------------------------------------------

    def _items(self) -> Any:
        return (
            select(*_ITEM)
            .outerjoin(_Unit, _Unit.id == StrategyItem.unit_id)
            .outerjoin(_Owner, _Owner.id == StrategyItem.owner_id)
        )

    def items(self) -> list[ItemRecord]:
        """Every item, by type, position and id (one query)."""
        stmt = self._items().order_by(StrategyItem.type, StrategyItem.position, StrategyItem.id)
        return [_item(r) for r in self._s.execute(stmt)]

    def get(self, item_id: int) -> ItemRecord | None:
        row = self._s.execute(self._items().where(StrategyItem.id == item_id)).first()
        return None if row is None else _item(row)

    def many(self, item_ids: Sequence[int]) -> list[ItemRecord]:
        if not item_ids:
            return []
        stmt = self._items().where(StrategyItem.id.in_(list(item_ids)))
        return [_item(r) for r in self._s.execute(stmt)]

    def links(self) -> list[tuple[int, int]]:
        """Every link as ``(child_id, parent_id)`` (one query)."""
        rows = self._s.execute(
            select(StrategyLink.child_id, StrategyLink.parent_id).order_by(
                StrategyLink.child_id, StrategyLink.parent_id
            )
        )
        return [(int(c), int(p)) for c, p in rows]

    def parents(self, item_id: int) -> list[int]:
        return [
            int(p)
            for p in self._s.scalars(
                select(StrategyLink.parent_id)
                .where(StrategyLink.child_id == item_id)
                .order_by(StrategyLink.parent_id)
            )
        ]

    def next_position(self, kind: StrategyItemType) -> int:
        top = self._s.scalar(
            select(func.max(StrategyItem.position)).where(StrategyItem.type == kind.value)
        )
        return 0 if top is None else int(top) + 1

    def add(
        self,
        kind: StrategyItemType,
        uuid: str,
        fields: ItemFields,
        *,
        position: int,
        at: datetime,
    ) -> int:
        item_id = self._s.execute(
            insert(StrategyItem)
            .values(
                uuid=uuid,
                type=kind.value,
                position=position,
                created_at=at,
                updated_at=at,
                **_values(fields),
            )
            .returning(StrategyItem.id)
        ).scalar_one()
        return int(item_id)

    def update(self, item_id: int, fields: ItemFields, at: datetime) -> None:
        self._s.execute(
            update(StrategyItem)
            .where(StrategyItem.id == item_id)
            .values(updated_at=at, **_values(fields))
        )

    def set_positions(self, positions: Mapping[int, int]) -> None:
        for item_id, position in positions.items():
            self._s.execute(
                update(StrategyItem).where(StrategyItem.id == item_id).values(position=position)
            )

    def set_parents(self, child_id: int, parent_ids: Sequence[int]) -> None:
        self._s.execute(delete(StrategyLink).where(StrategyLink.child_id == child_id))
        if parent_ids:
            self._s.execute(
                insert(StrategyLink),
                [{"child_id": child_id, "parent_id": p} for p in sorted(set(parent_ids))],
            )

    def delete(self, item_ids: Sequence[int]) -> None:
        """Delete the items and their links (drafts and conversations keep no goal)."""
        ids = list(item_ids)
        if not ids:
            return
        self._s.execute(
            delete(StrategyLink).where(
                or_(StrategyLink.child_id.in_(ids), StrategyLink.parent_id.in_(ids))
            )
        )
        self._s.execute(
            update(Draft).where(Draft.social_goal_id.in_(ids)).values(social_goal_id=None)
        )
        self._s.execute(update(Draft).where(Draft.tactic_id.in_(ids)).values(tactic_id=None))
        self._s.execute(
            update(Conversation)
            .where(Conversation.social_goal_id.in_(ids))
            .values(social_goal_id=None)
        )
        self._s.execute(delete(StrategyItem).where(StrategyItem.id.in_(ids)))

    # -- the organization's part --------------------------------------------------------------

    def mission(self) -> str:
        return self._s.scalar(select(Organization.mission).order_by(Organization.id)) or ""

    def set_mission(self, text: str) -> None:
        self._s.execute(update(Organization).values(mission=text))

    def sponsor_id(self) -> int | None:
        found = self._s.scalar(select(Organization.executive_sponsor_id).order_by(Organization.id))
        return None if found is None else int(found)

    def person_active(self, person_id: int) -> bool | None:
        """Whether the person is active; None: there is nobody with that id."""
        found = self._s.scalar(select(Person.active).where(Person.id == person_id))
        return None if found is None else bool(found)

    # -- the policy ---------------------------------------------------------------------------

    def policy_lines(self) -> list[PolicyLineRecord]:
        """Every line, by kind then id."""
        rows = self._s.execute(select(*_POLICY).order_by(PolicyRule.kind, PolicyRule.id))
        return [_line(r) for r in rows]

    def policy_line(self, line_id: int) -> PolicyLineRecord | None:
        row = self._s.execute(select(*_POLICY).where(PolicyRule.id == line_id)).first()
        return None if row is None else _line(row)

    def add_policy_line(self, line: PolicyLineRecord) -> int:
        line_id = self._s.execute(
            insert(PolicyRule)
            .values(
                uuid=line.uuid,
                kind=line.kind,
                value=line.value,
                network=line.network,
                unit_id=line.unit_id,
                account_id=line.account_id,
                note=line.note,
            )
            .returning(PolicyRule.id)
        ).scalar_one()
        return int(line_id)

    def update_policy_line(self, line: PolicyLineRecord) -> None:
        self._s.execute(
            update(PolicyRule)
            .where(PolicyRule.id == line.id)
            .values(
                kind=line.kind,
                value=line.value,
                network=line.network,
                unit_id=line.unit_id,
                account_id=line.account_id,
                note=line.note,
            )
        )

    def delete_policy_line(self, line_id: int) -> None:
        self._s.execute(delete(PolicyRule).where(PolicyRule.id == line_id))

    # -- revisions and deletions --------------------------------------------------------------

    def last_revision(self) -> int | None:
        found = self._s.scalar(select(func.max(StrategyRevision.number)))
        return None if found is None else int(found)

    def add_revision(self, revision: RevisionRecord) -> None:
        self._s.execute(
            insert(StrategyRevision).values(
                number=revision.number,
                created_at=revision.created_at,
                person_id=revision.person_id,
                person_name=revision.person_name,
                note=revision.note,
                snapshot=revision.snapshot,
            )
        )

    def revision(self, number: int) -> RevisionRecord | None:
        row = self._s.execute(
            select(StrategyRevision).where(StrategyRevision.number == number)
        ).scalar_one_or_none()
        if row is None:
            return None
        return RevisionRecord(
            number=row.number,
            created_at=row.created_at,
            person_id=row.person_id,
            person_name=row.person_name,
            note=row.note,
            snapshot=row.snapshot,
        )

    def revisions(self) -> list[tuple[int, datetime, str, str]]:
        """Every revision's number, time, who and note (no snapshot), newest first."""
        rows = self._s.execute(
            select(
                StrategyRevision.number,
                StrategyRevision.created_at,
                StrategyRevision.person_name,
                StrategyRevision.note,
            ).order_by(StrategyRevision.number.desc())
        )
        return [(int(r[0]), r[1], r[2], r[3]) for r in rows]

    def record_deletions(self, deletions: Sequence[DeletionRecord]) -> None:
        if deletions:
            self._s.execute(
                insert(StrategyDeletion),
                [
                    {
                        "uuid": d.uuid,
                        "type": d.type,
                        "title": d.title[:300],
                        "deleted_at": d.deleted_at,
                        "after_revision": d.after_revision,
                        "person_id": d.person_id,
                        "person_name": d.person_name,
                    }
                    for d in deletions
                ],
            )

    def deletions(self, since_revision: int | None = None) -> list[DeletionRecord]:
        """What was deleted (after revision ``since_revision`` was exported, if given), in order.

        A deletion made before any export has ``after_revision`` None and counts as before
        every revision.
        """
        stmt = select(StrategyDeletion).order_by(StrategyDeletion.id)
        if since_revision is not None:
            stmt = stmt.where(StrategyDeletion.after_revision >= since_revision)
        return [
            DeletionRecord(
                uuid=d.uuid,
                type=d.type,
                title=d.title,
                deleted_at=d.deleted_at,
                after_revision=d.after_revision,
                person_id=d.person_id,
                person_name=d.person_name,
            )
            for d in self._s.scalars(stmt)
        ]

    # -- what served a social goal ------------------------------------------------------------

    def goal_counts(self, goal_id: int) -> tuple[int, int, int]:
        """How many posts, replies (and messages) served the goal, and conversations tagged."""
        kinds: dict[str, int] = {
            str(kind): int(n)
            for kind, n in self._s.execute(
                select(Draft.kind, func.count())
                .where(Draft.social_goal_id == goal_id)
                .group_by(Draft.kind)
            )
        }
        conversations = self._s.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.social_goal_id == goal_id)
        )
        posts = int(kinds.pop("post", 0))
        return posts, int(sum(kinds.values())), int(conversations or 0)

    def goal_drafts(
        self, goal_id: int, *, after: tuple[datetime, int] | None, limit: int
    ) -> list[ServedDraftRow]:
        stmt = (
            select(
                Draft.id,
                Draft.kind,
                Draft.state,
                Draft.unit_id,
                Draft.updated_at,
                DraftVersion.text,
            )
            .outerjoin(
                DraftVersion,
                and_(
                    DraftVersion.draft_id == Draft.id,
                    DraftVersion.version == Draft.current_version,
                ),
            )
            .where(Draft.social_goal_id == goal_id)
        )
        if after is not None:
            stmt = stmt.where(tuple_(Draft.updated_at, Draft.id) < tuple_(*_bind(after)))
        stmt = stmt.order_by(Draft.updated_at.desc(), Draft.id.desc()).limit(limit)
        return [
            ServedDraftRow(r.id, r.kind, r.state, r.unit_id, r.text or "", r.updated_at)
            for r in self._s.execute(stmt)
        ]

    def goal_conversations(
        self, goal_id: int, *, after: tuple[datetime, int] | None, limit: int
    ) -> list[TaggedConversationRow]:
        c = Conversation
        stmt = select(c.id, c.network, c.status, c.unit_id, c.preview, c.last_activity_at).where(
            c.social_goal_id == goal_id
        )
        if after is not None:
            stmt = stmt.where(tuple_(c.last_activity_at, c.id) < tuple_(*_bind(after)))
        stmt = stmt.order_by(c.last_activity_at.desc(), c.id.desc()).limit(limit)
        return [
            TaggedConversationRow(
                r.id, r.network, r.status, r.unit_id, r.preview or "", r.last_activity_at
            )
            for r in self._s.execute(stmt)
        ]


def _bind(key: tuple[datetime, int]) -> tuple[Any, Any]:
    return literal(key[0], UtcDateTime()), literal(key[1])


__all__ = [
    "DeletionRecord",
    "ItemRecord",
    "PolicyLineRecord",
    "RevisionRecord",
    "ServedDraftRow",
    "SqlStrategy",
    "TaggedConversationRow",
]
