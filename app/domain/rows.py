"""Frozen read-model rows handed from the service layer to the UI (no ORM objects cross over)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FeedFilter:
    """What the conversation list shows; empty tuples mean "any"."""

    unit_id: int | None = None  # the unit chosen in the tree; its sub-units are included
    networks: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    account_ids: tuple[int, ...] = ()


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

    @property
    def key(self) -> tuple[int, int]:
        """The keyset position of this row: ``(last_activity_ms, id)``, newest first."""
        return (self.last_activity_ms, self.id)


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
