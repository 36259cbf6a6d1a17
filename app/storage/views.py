"""A person's saved inbox views in SQL (the ``saved_views`` table): read, add, rename, order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from app.models import SavedView

_views = SavedView.__table__


@dataclass(frozen=True, slots=True)
class SavedViewRecord:
    """One stored view; ``filters`` is its JSON object as stored (read by the service)."""

    id: int
    person_id: int
    name: str
    filters: Any
    position: int


class SqlSavedViews:
    """:class:`app.storage.ports.SavedViewRepository` on the connection of a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def of(self, person_id: int) -> list[SavedViewRecord]:
        """The person's views in their order (position, then when they were made)."""
        stmt = (
            select(
                _views.c.id, _views.c.person_id, _views.c.name, _views.c.filters, _views.c.position
            )
            .where(_views.c.person_id == person_id)
            .order_by(_views.c.position, _views.c.id)
        )
        return [SavedViewRecord(*r) for r in self._s.execute(stmt)]

    def get(self, view_id: int) -> SavedViewRecord | None:
        stmt = select(
            _views.c.id, _views.c.person_id, _views.c.name, _views.c.filters, _views.c.position
        ).where(_views.c.id == view_id)
        row = self._s.execute(stmt).first()
        return None if row is None else SavedViewRecord(*row)

    def add(
        self, person_id: int, name: str, filters: dict[str, Any], position: int, at: datetime
    ) -> int:
        stmt = insert(SavedView).values(
            person_id=person_id, name=name, filters=filters, position=position, created_at=at
        )
        return int(self._s.execute(stmt.returning(SavedView.id)).scalar_one())

    def rename(self, view_id: int, name: str) -> None:
        self._s.execute(update(SavedView).where(SavedView.id == view_id).values(name=name))

    def set_filters(self, view_id: int, filters: dict[str, Any]) -> None:
        self._s.execute(update(SavedView).where(SavedView.id == view_id).values(filters=filters))

    def delete(self, view_id: int) -> None:
        self._s.execute(delete(SavedView).where(SavedView.id == view_id))

    def set_positions(self, positions: Mapping[int, int]) -> None:
        for view_id, position in positions.items():
            self._s.execute(
                update(SavedView).where(SavedView.id == view_id).values(position=position)
            )
