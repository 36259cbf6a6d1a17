"""The records the drafts repository hands out and takes (``app/storage/drafts.py``).

Frozen: no ORM object leaves its session. The ports, the service and the fakes share them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from app.domain.enums import Network
from app.domain.policy import PolicyLine


def account_label(network: str, handle: str, display_name: str) -> str:
    """How an account reads in a sentence: "@acme" on X and Sandbox, the Page's name on Facebook."""
    if network == Network.FACEBOOK:
        return display_name or handle
    return f"@{handle}" if handle else display_name


@dataclass(frozen=True, slots=True)
class TargetRecord:
    """One account a draft goes out to, and how far it got there."""

    account_id: int
    network: str
    handle: str
    display_name: str
    unit_id: int
    state: str
    external_id: str | None
    error: str

    @property
    def label(self) -> str:
        return account_label(self.network, self.handle, self.display_name)


@dataclass(frozen=True, slots=True)
class DraftRecord:
    """A draft with its current version's text and its targets."""

    id: int
    kind: str
    state: str
    unit_id: int
    unit_path: str
    unit_name: str
    author_id: int
    author_name: str
    conversation_id: int | None
    in_reply_to_message_id: int | None
    version: int
    text: str
    schedule_at: datetime | None
    social_goal_id: int | None
    failure_reason: str
    created_at: datetime
    updated_at: datetime
    targets: tuple[TargetRecord, ...] = ()

    @property
    def key(self) -> tuple[datetime, int]:
        """The approvals queue's keyset key."""
        return (self.created_at, self.id)


@dataclass(frozen=True, slots=True)
class VersionRecord:
    version: int
    text: str
    author_id: int
    author_name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One stored decision (``approvals`` row) with the name of who gave it."""

    version: int
    person_id: int
    person_name: str
    decision: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class NewDraft:
    kind: str
    unit_id: int
    author_id: int
    text: str
    account_ids: tuple[int, ...]
    at: datetime
    conversation_id: int | None = None
    in_reply_to_message_id: int | None = None
    schedule_at: datetime | None = None
    social_goal_id: int | None = None


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """An account as a draft's target: its network and name, and the unit owning it."""

    id: int
    network: str
    handle: str
    display_name: str
    unit_id: int

    @property
    def label(self) -> str:
        return account_label(self.network, self.handle, self.display_name)


@dataclass(frozen=True, slots=True)
class ConversationFacts:
    """What a reply or direct message needs of its conversation.

    ``author_is_new``: the conversation has an author from outside and it is their first
    conversation (no conversation of theirs began earlier), as routing's "first seen author".
    """

    id: int
    account_id: int
    unit_id: int
    thread_type: str
    sentiment: float | None
    author_is_new: bool


@dataclass(frozen=True, slots=True)
class PolicySource:
    """The policy's lines, and the names its messages use for units and accounts."""

    lines: tuple[PolicyLine, ...]
    unit_names: Mapping[int, str]
    account_names: Mapping[int, str]


class Keep:
    """A value left as it is (``schedule_at=KEEP``)."""


KEEP = Keep()
