"""What routing reads in SQL: the stored rules (read side only), the organization and units.

The rules editor writes rules (``app/storage/rule_store.py``); routing only reads them. It reads
them once per ingest batch as a fingerprint (:meth:`SqlRules.fingerprint`, a hash of every rule
row's columns, JSON as the database holds the text) and decodes the rows only when that changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from app.models import Organization, Person, RoleAssignment, RoutingRule, Unit


@dataclass(frozen=True, slots=True)
class RuleRecord:
    """One stored routing rule, its conditions and actions as their JSON objects.

    ``app.domain.rule_codec`` makes a domain rule of it; ingest reads the enabled ones, the
    rules editor (``app.storage.rule_store``) every one.
    """

    id: int
    position: int
    name: str
    enabled: bool
    conditions: dict[str, Any]
    actions: dict[str, Any]
    stop: bool

    def snapshot(self) -> dict[str, Any]:
        """The rule as an audit entry keeps it."""
        return {
            "name": self.name,
            "position": self.position,
            "enabled": self.enabled,
            "conditions": self.conditions,
            "actions": self.actions,
            "stop": self.stop,
        }


RECORD_COLUMNS = (
    RoutingRule.id,
    RoutingRule.position,
    RoutingRule.name,
    RoutingRule.enabled,
    RoutingRule.conditions,
    RoutingRule.actions,
    RoutingRule.stop,
)


def rule_record(row: Any) -> RuleRecord:
    """A :class:`RuleRecord` of a row selected with :data:`RECORD_COLUMNS`."""
    return RuleRecord(
        id=row.id,
        position=row.position,
        name=row.name,
        enabled=bool(row.enabled),
        conditions=_mapping(row.conditions),
        actions=_mapping(row.actions),
        stop=bool(row.stop),
    )


@dataclass(frozen=True, slots=True)
class RoutingUnit:
    """A unit as routing needs it: its name for reasons, its languages, its clock."""

    id: int
    name: str
    path: str
    languages: str
    is_triage: bool
    first_response_target_h: float | None
    business_hours: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class RoutingSetup:
    """The organization's settings routing and the spam filter use, and its units."""

    time_zone: str
    business_hours: dict[str, Any]
    holidays: tuple[str, ...]
    spam_threshold: float
    spam_keywords: tuple[str, ...]
    units: tuple[RoutingUnit, ...]


@dataclass(frozen=True, slots=True)
class Assignable:
    """A person a rule assigns to: whether they still work here, and in which units."""

    id: int
    name: str
    active: bool
    unit_paths: tuple[str, ...]  # where they hold a role (a role there covers the sub-units)


_COLUMNS = (
    RoutingRule.id,
    RoutingRule.name,
    RoutingRule.position,
    RoutingRule.enabled,
    RoutingRule.stop,
)


class SqlRules:
    """:class:`app.storage.ports.RoutingRules` on a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def fingerprint(self) -> str:
        """A hash of every rule row (one query of short rows): equal means unchanged."""
        rows = self._s.execute(
            select(
                *_COLUMNS, cast(RoutingRule.conditions, Text), cast(RoutingRule.actions, Text)
            ).order_by(RoutingRule.id)
        ).tuples()
        digest = hashlib.blake2b(digest_size=16)
        for row in rows:
            digest.update(repr(tuple(row)).encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def enabled(self) -> list[RuleRecord]:
        """The enabled rules in evaluation order (``position``, then ``id``)."""
        rows = self._s.execute(
            select(*RECORD_COLUMNS)
            .where(RoutingRule.enabled.is_(True))
            .order_by(RoutingRule.position, RoutingRule.id)
        )
        return [rule_record(row) for row in rows]

    def setup(self) -> RoutingSetup:
        """The organization's zone, hours, holidays and spam settings, and every unit."""
        org = self._s.execute(
            select(
                Organization.time_zone,
                Organization.business_hours,
                Organization.holidays,
                Organization.spam_threshold,
                Organization.spam_keywords,
            )
            .order_by(Organization.id)
            .limit(1)
        ).first()
        units = tuple(
            RoutingUnit(*row)
            for row in self._s.execute(
                select(
                    Unit.id,
                    Unit.name,
                    Unit.path,
                    Unit.languages,
                    Unit.is_triage,
                    Unit.first_response_target_h,
                    Unit.business_hours,
                ).order_by(Unit.id)
            ).tuples()
        )
        if org is None:  # a workspace before its first-run set-up: the defaults
            return RoutingSetup("UTC", {}, (), 0.6, (), units)
        zone, hours, holidays, threshold, keywords = org
        return RoutingSetup(
            time_zone=zone or "UTC",
            business_hours=dict(hours or {}),
            holidays=tuple(str(h) for h in holidays or ()),
            spam_threshold=float(threshold),
            spam_keywords=tuple(str(k) for k in keywords or ()),
            units=units,
        )

    def assignable(self, person_ids: Sequence[int]) -> list[Assignable]:
        """The people of ``person_ids`` that exist, with their role units' paths."""
        if not person_ids:
            return []
        wanted = sorted(set(person_ids))
        people = self._s.execute(
            select(Person.id, Person.name, Person.active).where(Person.id.in_(wanted))
        ).tuples()
        paths: dict[int, list[str]] = {}
        for pid, path in self._s.execute(
            select(RoleAssignment.person_id, Unit.path)
            .join(Unit, Unit.id == RoleAssignment.unit_id)
            .where(RoleAssignment.person_id.in_(wanted))
        ).tuples():
            paths.setdefault(pid, []).append(path)
        return [
            Assignable(pid, name, bool(active), tuple(sorted(paths.get(pid, ()))))
            for pid, name, active in people
        ]


def _mapping(value: Any) -> dict[str, Any]:
    """A JSON column's object; a row holding text or something else is handed on as found."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {"unreadable": value}
    if value is None:
        return {}
    return value if isinstance(value, dict) else {"unreadable": value}
