"""In-memory unit tree and audit log reads for service tests (beside ``fakes.py``, which
registers them on :class:`tests.unit.services.fakes.FakeUnitOfWork`).

They work on the same :class:`FakeData` as the other fakes, so a rollback drops their changes
too: units are ``FakeData.units`` (the settings a ``UnitRow`` lacks sit in
``FakeData.unit_extra``), audit entries ``FakeData.audit`` (an entry's id is its position + 1).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from app.domain.rows import UnitRow
from app.domain.units import UnitDetails, UnitHoldings, make_path
from app.storage.audit import AuditQuery, AuditRow
from app.storage.ports import AuditRecord, UnitEntry

if TYPE_CHECKING:
    from tests.unit.services.fakes import FakeData

_EXTRA_DEFAULTS: dict[str, Any] = {
    "head_id": None,
    "region": "",
    "first_response_target_h": None,
    "business_hours": None,
    "goals": "",
}
_ON_ROW = ("colour", "languages", "kind")


class FakeUnits:
    def __init__(self, data: FakeData) -> None:
        self._d = data

    def _entry(self, unit_id: int) -> tuple[int, UnitEntry]:
        return next((i, e) for i, e in enumerate(self._d.units) if e.unit.id == unit_id)

    def _details(self, e: UnitEntry) -> UnitDetails:
        extra = {**_EXTRA_DEFAULTS, **self._d.unit_extra.get(e.unit.id, {})}
        u = e.unit
        return UnitDetails(
            id=u.id,
            parent_id=u.parent_id,
            path=u.path,
            name=u.name,
            kind=u.kind,
            colour=u.colour,
            head_id=extra["head_id"],
            region=extra["region"],
            languages=u.languages,
            is_triage=u.is_triage,
            sort_order=e.sort_order,
            first_response_target_h=extra["first_response_target_h"],
            business_hours=extra["business_hours"],
        )

    def all(self) -> list[UnitDetails]:
        return sorted((self._details(e) for e in self._d.units), key=lambda u: u.path)

    def get(self, unit_id: int) -> UnitDetails | None:
        found = next((e for e in self._d.units if e.unit.id == unit_id), None)
        return None if found is None else self._details(found)

    def add(self, parent_id: int, name: str, *, kind: str, colour: str, sort_order: int) -> int:
        unit_id = max((e.unit.id for e in self._d.units), default=0) + 1
        _i, parent = self._entry(parent_id)
        row = UnitRow(
            unit_id, parent_id, make_path(parent.unit.path, unit_id), name, kind, colour, "", False
        )
        self._d.units.append(UnitEntry(row, sort_order))
        return unit_id

    def _replace(self, unit_id: int, **changes: Any) -> None:
        i, e = self._entry(unit_id)
        self._d.units[i] = UnitEntry(dataclasses.replace(e.unit, **changes), e.sort_order)

    def rename(self, unit_id: int, name: str) -> None:
        self._replace(unit_id, name=name)

    def move(self, unit_id: int, new_parent_id: int) -> int:
        _i, unit = self._entry(unit_id)
        _j, parent = self._entry(new_parent_id)
        old, new = unit.unit.path, make_path(parent.unit.path, unit_id)
        self._replace(unit_id, parent_id=new_parent_id)
        if old == new:
            return 0
        moved = 0
        for i, e in enumerate(self._d.units):
            if e.unit.path.startswith(old):
                path = new + e.unit.path[len(old) :]
                self._d.units[i] = UnitEntry(dataclasses.replace(e.unit, path=path), e.sort_order)
                moved += 1
        return moved

    def set_sort_orders(self, orders: Mapping[int, int]) -> None:
        for unit_id, position in orders.items():
            i, e = self._entry(unit_id)
            self._d.units[i] = UnitEntry(e.unit, position)

    def set_field(self, unit_id: int, field: str, value: Any) -> None:
        if field in _ON_ROW:
            self._replace(unit_id, **{field: value})
        elif field in _EXTRA_DEFAULTS:
            self._d.unit_extra.setdefault(unit_id, {})[field] = value
        else:
            raise ValueError(f"{field!r} is not a unit setting")

    def holdings(self, unit_id: int) -> UnitHoldings:
        return UnitHoldings(
            conversations=sum(c.unit_id == unit_id for c in self._d.conversations),
            accounts=sum(a.unit_id == unit_id for a in self._d.accounts.values()),
            drafts=0,
            roles=sum(u == unit_id for _p, _r, u in self._d.roles),
            sub_units=sum(e.unit.parent_id == unit_id for e in self._d.units),
        )

    def reassign(self, from_id: int, to_id: int) -> UnitHoldings:
        held = self.holdings(from_id)
        for c in self._d.conversations:
            if c.unit_id == from_id:
                c.unit_id = to_id
        for a in self._d.accounts.values():
            if a.unit_id == from_id:
                a.unit_id = to_id
        roles: list[tuple[int, str, int]] = []
        for p, r, u in self._d.roles:
            moved = (p, r, to_id if u == from_id else u)
            if moved not in roles:
                roles.append(moved)
        self._d.roles = roles
        return dataclasses.replace(held, sub_units=0)

    def delete(self, unit_id: int) -> None:
        if any(e.unit.parent_id == unit_id for e in self._d.units):
            raise RuntimeError("FOREIGN KEY constraint failed: the unit has sub-units")
        self._d.units = [e for e in self._d.units if e.unit.id != unit_id]
        self._d.unit_extra.pop(unit_id, None)


def _ms(at: datetime) -> int:
    return int(at.astimezone(UTC).timestamp() * 1000)


class FakeAuditEntries:
    def __init__(self, data: FakeData) -> None:
        self._d = data

    def _rows(self) -> list[AuditRow]:
        rows = [
            AuditRow(
                i + 1,
                _ms(e.at),
                e.person_id,
                e.person_name,
                e.action,
                e.entity,
                e.entity_id,
                e.before,
                e.after,
            )
            for i, e in enumerate(self._d.audit)
        ]
        return sorted(rows, key=lambda r: r.key, reverse=True)

    def _matches(self, q: AuditQuery, e: AuditRow) -> bool:
        if q.person_id is not None and e.person_id != q.person_id:
            return False
        if q.kind and not (
            e.action.startswith(q.kind) if q.kind.endswith(".") else e.action == q.kind
        ):
            return False
        if q.since is not None and e.at_ms < _ms(q.since):
            return False
        if q.until is not None and e.at_ms >= _ms(q.until):
            return False
        if q.unit_ids is not None:
            ids = set(q.unit_ids)
            owned = {a.id for a in self._d.accounts.values() if a.unit_id in ids}
            named = (
                (e.entity == "unit" and e.entity_id in ids)
                or (e.entity == "account" and e.entity_id in owned)
                or any(isinstance(v, dict) and v.get("unit_id") in ids for v in (e.before, e.after))
            )
            if not named:
                return False
        return True

    def page(
        self, query: AuditQuery, *, after: tuple[int, int] | None = None, limit: int = 200
    ) -> list[AuditRow]:
        rows = [
            r for r in self._rows() if self._matches(query, r) and (after is None or r.key < after)
        ]
        return rows[:limit]

    def stream(self, query: AuditQuery, *, chunk: int = 1000) -> Iterator[AuditRow]:
        yield from (r for r in self._rows() if self._matches(query, r))

    def actors(self) -> list[tuple[int | None, str]]:
        return sorted({(e.person_id, e.person_name) for e in self._d.audit}, key=lambda p: p[1])

    def actions(self) -> list[str]:
        return sorted({e.action for e in self._d.audit})


def record(
    at: datetime,
    action: str,
    *,
    entity: str = "unit",
    entity_id: int | None = None,
    person_id: int | None = 1,
    after: dict[str, Any] | None = None,
) -> AuditRecord:
    """An audit entry for a test to put in ``FakeData.audit``."""
    return AuditRecord(at, person_id, f"person {person_id}", action, entity, entity_id, None, after)
