"""What happened to drafts since a moment, read from the audit log: the notifications' source.

Every change of a draft writes one audit entry in the same transaction (``app/services/drafts.py``),
so the log says when a draft started waiting (``draft.submit``, ``draft.approval_lapsed``) and
who decided it (``draft.approve``, ``draft.reject``, ``draft.request_changes``, with the reason
in the entry's ``after``). Both reads walk ``ix_audit_log_at`` from ``since`` and join the draft
by its primary key: the work grows with what happened since, never with the size of the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.enums import DraftState
from app.models import AuditEntry, Draft

#: The entries after which a draft waits for approvers.
STARTED_WAITING = ("draft.submit", "draft.approval_lapsed")
#: The entries of a reviewer's decision, and the outbox's news for the author.
DECIDED = (
    "draft.approve",
    "draft.reject",
    "draft.request_changes",
    "draft.missed_approval",  # not approved 5 minutes before its time: not published
    "draft.policy_blocked",  # the policy changed and now blocks it
    "draft.published",
    "draft.failed",
)


@dataclass(frozen=True, slots=True)
class DraftEntry:
    """One audit entry about a draft: who did what to it, when, and what it became."""

    entry_id: int
    at: datetime
    action: str
    draft_id: int
    person_id: int | None
    person_name: str
    after: dict[str, Any]


class SqlApprovalNews:
    """:class:`app.storage.ports.ApprovalNewsRepository` on a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def started_waiting(self, since: datetime, *, limit: int = 100) -> list[DraftEntry]:
        """Entries since ``since`` after which a draft waited, for drafts that still wait.

        Oldest first, at most ``limit``.
        """
        return self._entries(
            STARTED_WAITING, since, limit, Draft.state == DraftState.PENDING_APPROVAL.value
        )

    def decided(self, author_id: int, since: datetime, *, limit: int = 100) -> list[DraftEntry]:
        """Decisions since ``since`` on the drafts ``author_id`` wrote, oldest first."""
        return self._entries(DECIDED, since, limit, Draft.created_by_id == author_id)

    def _entries(
        self, actions: Sequence[str], since: datetime, limit: int, draft_filter: Any
    ) -> list[DraftEntry]:
        rows = self._s.execute(
            select(
                AuditEntry.id,
                AuditEntry.at,
                AuditEntry.action,
                AuditEntry.entity_id,
                AuditEntry.person_id,
                AuditEntry.person_name,
                AuditEntry.after,
            )
            .join(Draft, Draft.id == AuditEntry.entity_id)
            .where(
                AuditEntry.at >= since,
                AuditEntry.entity == "draft",
                AuditEntry.action.in_(actions),
                draft_filter,
            )
            .order_by(AuditEntry.at, AuditEntry.id)
            .limit(max(1, limit))
        )
        return [
            DraftEntry(r[0], r[1], r[2], int(r[3]), r[4], r[5] or "", dict(r[6] or {}))
            for r in rows
        ]
