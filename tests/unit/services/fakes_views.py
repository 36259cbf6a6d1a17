"""The saved views' fake repository (:class:`app.storage.ports.SavedViewRepository`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from app.storage.views import SavedViewRecord


class FakeSavedViews:
    """Views in a list of records; the (person, name) pair is unique as in the table."""

    def __init__(self, views: list[SavedViewRecord]) -> None:
        self._v = views

    def of(self, person_id: int) -> list[SavedViewRecord]:
        return sorted(
            (v for v in self._v if v.person_id == person_id), key=lambda v: (v.position, v.id)
        )

    def get(self, view_id: int) -> SavedViewRecord | None:
        return next((v for v in self._v if v.id == view_id), None)

    def add(
        self, person_id: int, name: str, filters: dict[str, Any], position: int, at: datetime
    ) -> int:
        if any(v.person_id == person_id and v.name == name for v in self._v):
            raise AssertionError("unique (person_id, name) violated")
        view_id = max((v.id for v in self._v), default=0) + 1
        self._v.append(SavedViewRecord(view_id, person_id, name, filters, position))
        return view_id

    def _put(self, view_id: int, **changes: Any) -> None:
        i = next(i for i, v in enumerate(self._v) if v.id == view_id)
        self._v[i] = replace(self._v[i], **changes)

    def rename(self, view_id: int, name: str) -> None:
        self._put(view_id, name=name)

    def set_filters(self, view_id: int, filters: dict[str, Any]) -> None:
        self._put(view_id, filters=filters)

    def delete(self, view_id: int) -> None:
        self._v[:] = [v for v in self._v if v.id != view_id]

    def set_positions(self, positions: Mapping[int, int]) -> None:
        for view_id, position in positions.items():
            self._put(view_id, position=position)
