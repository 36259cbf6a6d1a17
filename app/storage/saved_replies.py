"""Saved replies in SQL (the ``saved_replies`` table): a unit's, and those of the units above."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from app.models import SavedReply, Unit


@dataclass(frozen=True, slots=True)
class SavedReplyRecord:
    id: int
    unit_id: int
    unit_name: str
    unit_path: str
    title: str
    body: str


_COLUMNS = (
    SavedReply.id,
    SavedReply.unit_id,
    Unit.name,
    Unit.path,
    SavedReply.title,
    SavedReply.body,
)


class SqlSavedReplies:
    """:class:`app.storage.ports.SavedReplyRepository` on a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def of_units(self, unit_ids: Sequence[int]) -> list[SavedReplyRecord]:
        """The saved replies of these units, by title (then unit path, nearest last)."""
        if not unit_ids:
            return []
        stmt = (
            select(*_COLUMNS)
            .join(Unit, Unit.id == SavedReply.unit_id)
            .where(SavedReply.unit_id.in_(unit_ids))
            .order_by(SavedReply.title, Unit.path, SavedReply.id)
        )
        return [SavedReplyRecord(*r) for r in self._s.execute(stmt)]

    def get(self, reply_id: int) -> SavedReplyRecord | None:
        stmt = (
            select(*_COLUMNS)
            .join(Unit, Unit.id == SavedReply.unit_id)
            .where(SavedReply.id == reply_id)
        )
        row = self._s.execute(stmt).first()
        return None if row is None else SavedReplyRecord(*row)

    def add(self, unit_id: int, title: str, body: str, person_id: int, at: datetime) -> int:
        stmt = insert(SavedReply).values(
            unit_id=unit_id,
            title=title,
            body=body,
            created_by_id=person_id,
            created_at=at,
            updated_at=at,
        )
        return int(self._s.execute(stmt.returning(SavedReply.id)).scalar_one())

    def edit(self, reply_id: int, title: str, body: str, at: datetime) -> None:
        self._s.execute(
            update(SavedReply)
            .where(SavedReply.id == reply_id)
            .values(title=title, body=body, updated_at=at)
        )

    def delete(self, reply_id: int) -> None:
        self._s.execute(delete(SavedReply).where(SavedReply.id == reply_id))
