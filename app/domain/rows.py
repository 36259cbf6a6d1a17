"""Frozen read-model rows handed from the service layer to the UI (no ORM objects cross over)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

ASSIGNEE_ME = "me"
ASSIGNEE_NOBODY = "unassigned"
SORT_ACTIVITY = "activity"  # newest activity first
SORT_DUE = "due"  # first-response due time, soonest first; no due time last
SORTS = (SORT_ACTIVITY, SORT_DUE)
#: The key a row without a due time sorts under in the due-time order (after every real time).
NO_DUE_MS = 2**62


@dataclass(frozen=True, slots=True)
class FeedFilter:
    """What the conversation list shows; empty tuples and ``None`` mean "any".

    ``assignee`` is ``"me"`` (the person reading the list), ``"unassigned"`` or a person's id.
    ``sentiments`` are bands of :mod:`app.domain.filters` (``negative``, ``neutral``,
    ``positive``, ``none``). ``text`` is searched in message text and in the author's name and
    handle. Saved views keep this as JSON (:func:`app.domain.filters.filter_to_json`).
    """

    unit_id: int | None = None  # the unit chosen in the tree; its sub-units are included
    networks: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    account_ids: tuple[int, ...] = ()
    kinds: tuple[str, ...] = ()
    assignee: str | int | None = None
    tags: tuple[str, ...] = ()
    sentiments: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    text: str = ""
    sort: str = SORT_ACTIVITY


@dataclass(frozen=True, slots=True)
class FeedQuery:
    """A :class:`FeedFilter` resolved for storage: the unit sub-tree as ids, "me" as a person.

    ``unit_ids`` ``None`` is every unit; ``assignee_ids`` empty with ``unassigned`` false is
    anyone.
    """

    unit_ids: tuple[int, ...] | None = None
    networks: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    account_ids: tuple[int, ...] = ()
    kinds: tuple[str, ...] = ()
    assignee_ids: tuple[int, ...] = ()
    unassigned: bool = False
    tags: tuple[str, ...] = ()
    sentiments: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    text: str = ""
    sort: str = SORT_ACTIVITY


@dataclass(frozen=True, slots=True)
class ConversationRow:
    """One line of the inbox; times are UTC epoch milliseconds (formatted only when painted)."""

    id: int
    last_activity_ms: int
    network: str
    kind: str
    status: str
    priority: str
    unit_id: int
    account_id: int
    preview: str
    message_count: int
    sentiment: float | None
    author_name: str
    author_handle: str | None
    first_inbound_ms: int | None = None
    first_response_ms: int | None = None
    sla_due_ms: int | None = None

    @property
    def key(self) -> tuple[int, int]:
        """The keyset position of this row: ``(last_activity_ms, id)``, newest first."""
        return (self.last_activity_ms, self.id)

    @property
    def due_key(self) -> tuple[int, int]:
        """The position in the due-time order: ``(sla_due_ms, id)``, no due time last."""
        return (NO_DUE_MS if self.sla_due_ms is None else self.sla_due_ms, self.id)

    def key_for(self, sort: str) -> tuple[int, int]:
        return self.due_key if sort == SORT_DUE else self.key


@dataclass(frozen=True, slots=True)
class MessageRow:
    id: int
    direction: str
    kind: str
    text: str
    created_ms: int
    author_name: str
    author_handle: str | None
    permalink: str | None


@dataclass(frozen=True, slots=True)
class ThreadView:
    """A conversation with its messages, for the thread pane."""

    conversation: ConversationRow
    unit_name: str
    account_name: str
    assignee_name: str | None
    routing_reason: str
    language: str
    author_followers: int | None
    messages: tuple[MessageRow, ...] = field(default=())
    more_before: bool = False  # older messages exist beyond the ones loaded


@dataclass(frozen=True, slots=True)
class UnitRow:
    id: int
    parent_id: int | None
    path: str
    name: str
    kind: str
    colour: str
    languages: str
    is_triage: bool


@dataclass(frozen=True, slots=True)
class UnitCount:
    """Conversation counts of a unit including its sub-units."""

    backlog: int  # new + open + waiting
    new: int
    total: int


@dataclass(frozen=True, slots=True)
class PersonRow:
    id: int
    name: str
    email: str
    title: str
    roles: tuple[tuple[str, str], ...]  # (role, unit name)


@dataclass(frozen=True, slots=True)
class AccountRow:
    id: int
    network: str
    handle: str
    display_name: str
    unit_id: int
    state: str
    state_detail: str
    poll_interval_s: int = 0
    rate_limited_until: datetime | None = None  # aware, UTC
