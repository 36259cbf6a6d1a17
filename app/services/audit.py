"""Reading the audit log: who may read what, pages newest first, and a CSV export.

Reading needs :attr:`Action.VIEW_AUDIT` (supervisors and administrators). Who reads what:

- a supervisor or administrator of the root unit reads every entry;
- anyone else reads the entries about the units their role covers (their units and every unit
  below): entries that name such a unit (``app/storage/audit.py`` says how an entry names a
  unit). Entries that name no unit (workspace settings, sign-in) are the root's only;
- filtering on a unit the person's role does not cover is refused with the reason.

Before and after are shown as plain text: JSON with sorted keys, never rich text.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from app.domain.permissions import Action, Actor, Place, decide
from app.domain.units import UnitDetails, tree_order
from app.services.access import NotAllowed
from app.storage.audit import AuditQuery, AuditRow
from app.storage.ports import Storage, StorageUnitOfWork

__all__ = ["CSV_COLUMNS", "AuditFilter", "AuditRow", "AuditService", "render"]

PAGE_SIZE = 200
CSV_COLUMNS = (
    "id",
    "at_utc",
    "person_id",
    "person",
    "action",
    "entity",
    "entity_id",
    "before",
    "after",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What the log shows; ``None`` or empty means any."""

    person_id: int | None = None
    unit_id: int | None = None  # that unit and its sub-units
    kind: str = ""  # an action ("unit.moved") or a prefix ending in "." ("account.")
    since: datetime | None = None  # at or after
    until: datetime | None = None  # before


def render(value: Any, *, indent: int | None = None) -> str:
    """Before or after as plain text: JSON with sorted keys ("" for nothing)."""
    if value is None:
        return ""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=indent, default=str)


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run as a formula (a leading ' defuses it)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_row(row: AuditRow) -> list[str]:
    at = datetime.fromtimestamp(row.at_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")
    return [
        str(row.id),
        at,
        "" if row.person_id is None else str(row.person_id),
        _cell(row.person_name),
        _cell(row.action),
        _cell(row.entity),
        "" if row.entity_id is None else str(row.entity_id),
        _cell(render(row.before)),
        _cell(render(row.after)),
    ]


class AuditService:
    """The audit log's read side; safe from any thread (one unit of work per call)."""

    def __init__(self, db: Storage) -> None:
        self._db = db

    def decide_reading(self, operator_id: int) -> tuple[bool, str]:
        """Whether the person may read the log at all, and why not."""
        try:
            with self._db.uow() as uow:
                self._scope(uow, operator_id)
        except NotAllowed as exc:
            return False, str(exc)
        return True, ""

    def page(
        self,
        operator_id: int,
        query: AuditFilter,
        after: tuple[int, int] | None = None,
        limit: int = PAGE_SIZE,
    ) -> list[AuditRow]:
        """Entries matching ``query`` that the person may read, newest first, after ``after``.

        Raises:
            NotAllowed: the person may not read the log (or that unit's entries).
        """
        with self._db.uow() as uow:
            return uow.audit_entries.page(
                self._query(uow, operator_id, query), after=after, limit=limit
            )

    def export_csv(self, operator_id: int, query: AuditFilter, target: str | Path | IO[str]) -> int:
        """Write every matching entry to ``target`` (a path or a text file); how many rows.

        The file has a header (:data:`CSV_COLUMNS`); times are UTC ISO 8601; before and after
        are JSON with sorted keys. Run it off the GUI thread.

        Raises:
            NotAllowed: the person may not read the log (or that unit's entries).
            OSError: the file cannot be written.
        """
        with self._db.uow() as uow:
            audit_query = self._query(uow, operator_id, query)
            if isinstance(target, str | Path):
                with open(target, "w", encoding="utf-8", newline="") as out:
                    return self._write(out, uow.audit_entries.stream(audit_query))
            return self._write(target, uow.audit_entries.stream(audit_query))

    def export_text(self, operator_id: int, query: AuditFilter) -> str:
        """The CSV export as a string (small logs, tests)."""
        buffer = io.StringIO(newline="")
        self.export_csv(operator_id, query, buffer)
        return buffer.getvalue()

    def actors(self, operator_id: int) -> list[tuple[int | None, str]]:
        """Everyone the log names as acting (for the person filter)."""
        with self._db.uow() as uow:
            self._scope(uow, operator_id)
            return uow.audit_entries.actors()

    def kinds(self, operator_id: int) -> list[str]:
        """The kinds to filter on: each prefix ("account.") followed by its actions."""
        with self._db.uow() as uow:
            self._scope(uow, operator_id)
            actions = uow.audit_entries.actions()
        out: list[str] = []
        for action in actions:
            prefix = action.split(".", 1)[0] + "."
            if "." in action and prefix not in out:
                out.append(prefix)
            out.append(action)
        return out

    def units(self, operator_id: int) -> list[UnitDetails]:
        """The units whose entries the person may read, in tree order (for the unit filter)."""
        with self._db.uow() as uow:
            allowed = self._scope(uow, operator_id)
            units = tree_order(uow.units.all())
        return units if allowed is None else [u for u in units if u.id in allowed]

    # -- who reads what -----------------------------------------------------------------------

    def _scope(self, uow: StorageUnitOfWork, operator_id: int) -> set[int] | None:
        """The unit ids whose entries the person reads; ``None``: every entry.

        Raises:
            NotAllowed: the person reads nothing.
        """
        actor = uow.directory.actor(operator_id)
        if actor is None:
            raise NotAllowed("Nobody with that id works in this workspace.")
        root = uow.directory.place(None) or Place("/", "this workspace")
        at_root = decide(actor, Action.VIEW_AUDIT, root)
        if at_root.allowed:
            return None
        covered = {u.id for u in uow.units.all() if _may(actor, u)}
        if not covered:
            raise NotAllowed(at_root.reason)
        return covered

    def _query(self, uow: StorageUnitOfWork, operator_id: int, query: AuditFilter) -> AuditQuery:
        allowed = self._scope(uow, operator_id)
        unit_ids: tuple[int, ...] | None = None
        if query.unit_id is not None:
            units = uow.units.all()
            unit = next((u for u in units if u.id == query.unit_id), None)
            if unit is None:
                raise KeyError(f"no unit {query.unit_id}")
            actor = uow.directory.actor(operator_id)
            assert actor is not None  # _scope found them
            if allowed is not None and unit.id not in allowed:
                raise NotAllowed(decide(actor, Action.VIEW_AUDIT, _place(unit)).reason)
            unit_ids = _subtree(units, unit)
        elif allowed is not None:
            unit_ids = tuple(sorted(allowed))
        return AuditQuery(
            person_id=query.person_id,
            unit_ids=unit_ids,
            kind=query.kind.strip(),
            since=query.since,
            until=query.until,
        )

    @staticmethod
    def _write(out: IO[str], rows: Iterable[AuditRow]) -> int:
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        n = 0
        for row in rows:
            writer.writerow(_csv_row(row))
            n += 1
        return n


def _place(unit: UnitDetails) -> Place:
    return Place(unit.path, unit.name)


def _may(actor: Actor, unit: UnitDetails) -> bool:
    return decide(actor, Action.VIEW_AUDIT, _place(unit)).allowed


def _subtree(units: Iterable[UnitDetails], unit: UnitDetails) -> tuple[int, ...]:
    return tuple(u.id for u in units if u.path.startswith(unit.path))
