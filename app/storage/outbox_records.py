"""The records the outbox views hand out (``app/storage/outbox_views.py``); frozen, no ORM."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.storage.draft_records import account_label


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    """One target account of a draft and what happened there.

    The publisher's bookkeeping (attempts, the next attempt's time, "needs a person") joins
    here as fields with defaults, read by :data:`_TARGET_COLUMNS`.
    """

    draft_id: int
    account_id: int
    network: str
    handle: str
    display_name: str
    state: str
    external_id: str | None
    published_at: datetime | None
    error: str
    permalink: str | None
    needs_person: bool = False  # the network could not tell whether it went out
    next_attempt_at: datetime | None = None  # a retry's time (after a transient error)

    @property
    def label(self) -> str:
        return account_label(self.network, self.handle, self.display_name)


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """A draft in the outbox (or on the calendar) with its current text and its targets."""

    id: int
    kind: str
    state: str
    unit_id: int
    unit_name: str
    author_id: int
    author_name: str
    version: int
    text: str
    schedule_at: datetime | None
    updated_at: datetime
    failure_reason: str
    conversation_id: int | None
    targets: tuple[OutcomeRecord, ...] = ()

    @property
    def due(self) -> datetime:
        """Its schedule time, or the time of its last change (see the module)."""
        return self.schedule_at if self.schedule_at is not None else self.updated_at
