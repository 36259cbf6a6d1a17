"""The connector interface every network implements, its result type and its errors.

Names here are a contract (``connectors.md`` §6): acceptance tests outside the package use them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from app.domain.items import InboundItem

__all__ = [
    "PUBLISH_KINDS",
    "AuthExpired",
    "Capabilities",
    "Connector",
    "ConnectorError",
    "FetchResult",
    "InboundItem",
    "MaybePublished",
    "PermissionDenied",
    "PublishRejected",
    "PublishResult",
    "RateLimited",
    "TransientError",
    "check_find_published_args",
    "normalize_text",
    "published_at_or_after",
    "request_never_sent",
    "safe_reason",
    "texts_match",
    "write_transport_error",
]

REASON_LIMIT = 300  # characters of a network's own reason kept in an error message
_TOKEN_PARAM = re.compile(r"(access_token=)[^&\s\"']+", re.IGNORECASE)
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
PUBLISH_KINDS = ("post", "reply", "dm")  # the writes ``Connector.find_published`` looks for


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
    """5xx, timeout or connection error: try again later with backoff.

    From a write (publish, reply, DM) it means the request provably never left this machine
    (connect timeout, DNS failure, connection refused), so retrying cannot post twice.
    """


class MaybePublished(ConnectorError):  # noqa: N818 - reads as "the write was maybe published"
    """A write may have been published, so it must not simply be retried.

    Raised when the request may have reached the network (read timeout after sending, 5xx, a
    connection dropped after the request went out, an unreadable answer) or when the network
    calls it a duplicate (X 403 duplicate content, Facebook 506).

    The caller's duty: keep the draft in ``publishing`` and reconcile it against the network
    (``connectors.md`` §5 "Writes") before any retry; never retry automatically.
    """


class PublishRejected(ConnectorError):  # noqa: N818 - reads as "the publish was rejected"
    """The network refused this write for a reason a person must handle.

    Nothing was published. Examples: Facebook 368 (temporarily blocked for policy violations:
    publishing stops for the account), Messenger outside the 24-hour window, 551 (person
    unavailable), 100 (invalid parameter), X 400 or a 403 other than a duplicate.

    The caller's duty: mark the draft failed and show the message to a person; never retry
    automatically. The message carries the network's reason (at most 300 characters, no token).

    Attributes:
        code: Facebook's error ``code`` or X's HTTP status, when known.
    """

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


def request_never_sent(exc: BaseException) -> bool:
    """Whether a transport error proves that the request never left this machine.

    True for a connect timeout and for a connection that could not be opened (DNS failure,
    connection refused: urllib3's ``NewConnectionError`` or ``NameResolutionError``, which
    requests wraps in ``MaxRetryError``). Anything else (read timeout, connection aborted or
    reset, SSL or proxy errors) may have happened after the request went out.
    """
    # Imported here: the GUI start-up path imports this module and must not load requests.
    import requests
    from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

    if isinstance(exc, requests.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError):
        return False
    pending: list[BaseException] = [exc]
    for _ in range(8):  # the chain requests builds is two levels deep
        if not pending:
            break
        current = pending.pop()
        # NewConnectionError (and NameResolutionError) subclass ConnectTimeoutError in urllib3 2.
        if isinstance(current, NewConnectionError | ConnectTimeoutError):
            return True
        if isinstance(current, MaxRetryError) and current.reason is not None:
            pending.append(current.reason)
        pending += [arg for arg in current.args if isinstance(arg, BaseException)]
    return False


UNSURE = "it may have been published: reconcile before any retry"


def write_transport_error(exc: BaseException, network: str, what: str) -> ConnectorError:
    """The error for a write whose request failed in transport (no answer from the network).

    ``TransientError`` when the request provably never left (safe to retry), otherwise
    ``MaybePublished``: a timeout or a broken connection after sending proves nothing.
    """
    import requests  # late: see request_never_sent

    if request_never_sent(exc):
        return TransientError(f"cannot reach {network} (offline?): the {what} was not sent")
    if isinstance(exc, requests.Timeout):
        return MaybePublished(
            f"{network} did not answer in time after the {what} was sent: {UNSURE}"
        )
    return MaybePublished(f"the connection to {network} broke while sending the {what}: {UNSURE}")


def safe_reason(text: str, secrets: tuple[str | None, ...] = ()) -> str:
    """A network's reason, safe to show and log: no token, at most ``REASON_LIMIT`` characters.

    Args:
        text: the reason as the network gave it.
        secrets: tokens to blank out wherever they appear.
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = _TOKEN_PARAM.sub(r"\1[redacted]", text)
    return text[:REASON_LIMIT]


def normalize_text(text: str) -> str:
    """``text`` as reconciling compares it: Unicode NFC, surrounding whitespace stripped."""
    return unicodedata.normalize("NFC", text).strip()


def texts_match(written: str, seen: str, *, urls_rewritten: bool = False) -> bool:
    """Whether ``seen`` (read back from a network) is the text ``written`` by a write.

    Both are compared after :func:`normalize_text`. With ``urls_rewritten`` (X, which replaces
    links with ``https://t.co/…``), every ``http(s)://`` URL in either text counts as one and
    the same placeholder: the texts match when they agree everywhere outside their URLs and have
    as many URLs at the same places. The comparison is of the text between the URLs, so text
    that merely looks like a placeholder can never stand in for a URL.

    Args:
        written: the text that was sent.
        seen: the text the network shows.
        urls_rewritten: the network may have rewritten the URLs in ``written``.
    """
    a, b = normalize_text(written), normalize_text(seen)
    if a == b:
        return True
    return urls_rewritten and _URL.split(a) == _URL.split(b)


def published_at_or_after(moment: datetime, since: datetime) -> bool:
    """Whether a write the network timestamps ``moment`` happened at or after ``since``.

    Networks give whole seconds (X's ``.000Z``, Graph's ``+0000``), so ``since`` counts from the
    start of its second; a naive ``since`` or ``moment`` is taken as UTC.
    """
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment >= since.replace(microsecond=0)


def check_find_published_args(
    kind: str, in_reply_to: str | None, thread_external_id: str | None
) -> None:
    """Refuse ``find_published`` arguments that cannot describe a write.

    Raises:
        ValueError: ``kind`` is not post, reply or dm; a reply without ``in_reply_to``; a dm
            without ``thread_external_id``.
    """
    if kind not in PUBLISH_KINDS:
        raise ValueError(f"kind must be one of {', '.join(PUBLISH_KINDS)}, not {kind!r}")
    if kind == "reply" and not in_reply_to:
        raise ValueError("a reply is found by its in_reply_to target: give in_reply_to")
    if kind == "dm" and not thread_external_id:
        raise ValueError("a direct message is found in its conversation: give thread_external_id")


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

    def publish(self, text: str) -> PublishResult:
        """Publish ``text`` as a new post.

        Writes (this, ``reply`` and ``send_dm``) never retry by themselves.

        Raises:
            RateLimited: nothing was sent; safe to retry after ``until``.
            AuthExpired: the token is refused; nothing was sent.
            TransientError: the request provably never left (DNS, refused, connect timeout).
            MaybePublished: it may have been published: reconcile before any retry.
            PublishRejected: refused for a reason a person must handle.
            PermissionDenied: the token lacks the permission to write.
        """
        ...

    def reply(self, text: str, *, in_reply_to: str, thread_external_id: str) -> PublishResult:
        """Reply to ``in_reply_to`` in ``thread_external_id``; errors as for ``publish``."""
        ...

    def send_dm(self, text: str, *, thread_external_id: str, recipient_id: str) -> PublishResult:
        """Send a private message to ``recipient_id``; errors as for ``publish``."""
        ...

    def find_published(
        self,
        text: str,
        *,
        since: datetime,
        in_reply_to: str | None = None,
        thread_external_id: str | None = None,
        kind: str = "post",
    ) -> PublishResult | None:
        """Whether a write went out: the answer to a ``MaybePublished`` before any retry.

        Looks on the network for ``text`` written by this account at or after ``since`` (the
        draft's creation time): for ``kind="post"`` a post, for ``"reply"`` a reply to
        ``in_reply_to``, for ``"dm"`` a private message in the conversation
        ``thread_external_id``. Texts compare with :func:`texts_match`. Only reads: it never
        writes and never retries by itself.

        Args:
            text: the text of the write.
            since: when the draft was created (aware; naive is taken as UTC).
            in_reply_to: the item replied to; required for ``"reply"``.
            thread_external_id: the conversation; required for ``"dm"``.
            kind: ``"post"``, ``"reply"`` or ``"dm"``.

        Returns:
            The write as ``publish``, ``reply`` or ``send_dm`` would have returned it, or
            ``None`` when the network does not show it.

        Raises:
            ValueError: the arguments cannot describe a write (see
                :func:`check_find_published_args`); nothing is asked.
            RateLimited: the network cannot be asked before ``until``.
            AuthExpired: the token is refused.
            PermissionDenied: the token or plan cannot read where the write would be.
            TransientError: 5xx, timeout, connection error or an unreadable answer: ask again
                later; never taken as "not published".
        """
        ...
