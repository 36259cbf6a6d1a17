"""Writing the audit log: one entry per change, who, what, when, before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.storage.ports import AuditRecord, StorageUnitOfWork


def record_change(
    uow: StorageUnitOfWork,
    *,
    at: datetime,
    person_id: int | None,
    action: str,
    entity: str,
    entity_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    person_name: str | None = None,
) -> None:
    """Add one entry in the use case's unit of work (it commits with the change itself).

    The person's name is stored with the entry (looked up unless given), so the log still
    names them after they are deactivated.
    """
    if person_name is None:
        person_name = (uow.directory.person_name(person_id) if person_id else None) or ""
    uow.audit.record(
        AuditRecord(
            at=at,
            person_id=person_id,
            person_name=person_name,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
        )
    )
