"""Reading the audit log: keyset pages newest first, filtered, and every matching row for export.

Pages are ordered by ``(at DESC, id DESC)`` and continue after a key ``(at_ms, id)`` with a
row-value comparison, so an entry written while someone reads is never listed twice and never
skipped (a new entry is newer than every key already shown). The order rides on
``ix_audit_log_at``: on SQLite the index carries the rowid (``id``), on PostgreSQL the index
gives the order of ``at`` and ties are sorted within a page. Filters are applied while walking
that index; the log is small next to the inbox, so no further index is needed for its filters
(a sparse person filter on a very large log would want ``(person_id, at, id)``).

An entry is *about a unit* when it names it: ``entity = 'unit'`` with its ``entity_id``, an
entry about an account the unit owns now (``entity = 'account'``), or a ``unit_id`` key in its
``before`` or ``after``. Those are what the unit filter matches (the JSON key is read with
``json_extract`` on SQLite, ``->>`` on PostgreSQL: not indexed, filtered during the walk).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Select, and_, bindparam, func, or_, select, tuple_
from sqlalchemy.orm import Session

from app.models import Account, AuditEntry
from app.models.base import to_epoch_ms


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Which entries to read; ``None`` or empty means any."""

    person_id: int | None = None
    unit_ids: tuple[int, ...] | None = None  # the units named (a sub-tree, resolved already)
    kind: str = ""  # "account." : every action with that prefix; "unit.moved" : exactly that
    since: datetime | None = None  # at or after
    until: datetime | None = None  # before


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One audit entry as the log shows it; ``at_ms`` is UTC epoch milliseconds."""

    id: int
    at_ms: int
    person_id: int | None
    person_name: str
    action: str
    entity: str
    entity_id: int | None
    before: Any
    after: Any

    @property
    def key(self) -> tuple[int, int]:
        return (self.at_ms, self.id)


_COLUMNS = (
    AuditEntry.id,
    AuditEntry.at,
    AuditEntry.person_id,
    AuditEntry.person_name,
    AuditEntry.action,
    AuditEntry.entity,
    AuditEntry.entity_id,
    AuditEntry.before,
    AuditEntry.after,
)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlAuditEntries:
    """:class:`app.storage.ports.AuditEntries` on a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def page(
        self, query: AuditQuery, *, after: tuple[int, int] | None = None, limit: int = 200
    ) -> list[AuditRow]:
        """Up to ``limit`` entries matching ``query``, newest first, after the key ``after``."""
        stmt = self._select(query).limit(limit)
        params: dict[str, Any] = {}
        if after is not None:
            stmt = stmt.where(
                tuple_(AuditEntry.at, AuditEntry.id)
                < tuple_(bindparam("after_ms", type_=BigInteger), bindparam("after_id"))
            )
            params = {"after_ms": after[0], "after_id": after[1]}
        return [self._row(r) for r in self._s.execute(stmt, params)]

    def stream(self, query: AuditQuery, *, chunk: int = 1000) -> Iterator[AuditRow]:
        """Every entry matching ``query``, newest first, read ``chunk`` rows at a time."""
        after: tuple[int, int] | None = None
        while True:
            rows = self.page(query, after=after, limit=chunk)
            yield from rows
            if len(rows) < chunk:
                return
            after = rows[-1].key

    def actors(self) -> list[tuple[int | None, str]]:
        """Everyone the log names as acting (deactivated people too), by name."""
        rows = self._s.execute(
            select(AuditEntry.person_id, AuditEntry.person_name)
            .group_by(AuditEntry.person_id, AuditEntry.person_name)
            .order_by(AuditEntry.person_name)
        )
        return [(r.person_id, r.person_name) for r in rows]

    def actions(self) -> list[str]:
        """Every action the log holds, sorted."""
        rows = self._s.execute(
            select(AuditEntry.action).group_by(AuditEntry.action).order_by(AuditEntry.action)
        )
        return [a for (a,) in rows]

    # -- building the query ---------------------------------------------------------------------

    def _select(self, query: AuditQuery) -> Select[Any]:
        stmt = select(*_COLUMNS).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        if query.person_id is not None:
            stmt = stmt.where(AuditEntry.person_id == query.person_id)
        if query.kind:
            if query.kind.endswith("."):
                stmt = stmt.where(
                    AuditEntry.action.like(_escape_like(query.kind) + "%", escape="\\")
                )
            else:
                stmt = stmt.where(AuditEntry.action == query.kind)
        if query.since is not None:
            stmt = stmt.where(AuditEntry.at >= to_epoch_ms(query.since))
        if query.until is not None:
            stmt = stmt.where(AuditEntry.at < to_epoch_ms(query.until))
        if query.unit_ids is not None:
            stmt = stmt.where(self._about_units(query.unit_ids))
        return stmt

    def _about_units(self, unit_ids: Sequence[int]) -> Any:
        ids = list(unit_ids)
        if not ids:
            return AuditEntry.id.is_(None)  # nothing: no unit to name
        named = [
            and_(AuditEntry.entity == "unit", AuditEntry.entity_id.in_(ids)),
            and_(
                AuditEntry.entity == "account",
                AuditEntry.entity_id.in_(select(Account.id).where(Account.unit_id.in_(ids))),
            ),
        ]
        for column in (AuditEntry.after, AuditEntry.before):
            named.append(self._json_unit(column).in_(self._json_ids(ids)))
        return or_(*named)

    def _json_unit(self, column: Any) -> Any:
        if self._dialect == "sqlite":
            return func.json_extract(column, "$.unit_id")
        return column["unit_id"].as_string()  # ->> : text, whatever the value is

    def _json_ids(self, ids: list[int]) -> list[Any]:
        return list(ids) if self._dialect == "sqlite" else [str(i) for i in ids]

    @property
    def _dialect(self) -> str:
        return self._s.get_bind().dialect.name

    @staticmethod
    def _row(r: Any) -> AuditRow:
        return AuditRow(
            id=r.id,
            at_ms=to_epoch_ms(r.at),
            person_id=r.person_id,
            person_name=r.person_name or "",
            action=r.action,
            entity=r.entity,
            entity_id=r.entity_id,
            before=r.before,
            after=r.after,
        )
