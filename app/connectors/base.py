"""The connector interface every network implements, its result type and its errors.

Names here are a contract (``connectors.md`` §6): acceptance tests outside the package use them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from app.domain.items import InboundItem

__all__ = [
    "AuthExpired",
    "Capabilities",
    "Connector",
    "ConnectorError",
    "FetchResult",
    "InboundItem",
    "PermissionDenied",
    "PublishResult",
    "RateLimited",
    "TransientError",
]


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one poll brought: items, the cursor to persist with them, malformed items skipped."""

    items: tuple[InboundItem, ...] = ()
    cursor: dict[str, Any] = field(default_factory=dict)
    skipped: int = 0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PublishResult:
    external_id: str
    thread_external_id: str | None = None
    permalink: str | None = None


@dataclass(frozen=True, slots=True)
class Capabilities:
    network: str
    can_post: bool
    can_reply: bool
    can_dm: bool
    max_text: Mapping[str, int]  # per draft kind: post / reply / dm
    min_poll_interval_s: int


class ConnectorError(Exception):
    """A whole request failed; the message is safe to show and to log (no token in it)."""


class AuthExpired(ConnectorError):  # noqa: N818 - name fixed by connectors.md §6
    """The token is expired, revoked or invalid: the account needs reconnecting."""


class RateLimited(ConnectorError):  # noqa: N818 - name fixed by connectors.md §6
    """The network asks us to wait until ``until`` (aware UTC)."""

    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message)
        self.until = until


class PermissionDenied(ConnectorError):  # noqa: N818 - name fixed by connectors.md §6
    """The token or the plan lacks access to this stream or action."""


class TransientError(ConnectorError):
    """5xx, timeout or connection error: try again later with backoff."""


@runtime_checkable
class Connector(Protocol):
    """One connected account on one network."""

    def capabilities(self) -> Capabilities: ...

    def fetch(self, cursor: dict[str, Any] | None) -> FetchResult:
        """Poll every read stream once, continuing from ``cursor``.

        Raises:
            AuthExpired, RateLimited, PermissionDenied, TransientError: the whole poll failed.
        """
        ...

    def publish(self, text: str) -> PublishResult: ...

    def reply(self, text: str, *, in_reply_to: str, thread_external_id: str) -> PublishResult: ...

    def send_dm(
        self, text: str, *, thread_external_id: str, recipient_id: str
    ) -> PublishResult: ...
