"""Helpers shared by the connectors.

Defensive field access, time parsing, streams a plan may lack, and the ids of writes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from app.connectors.base import UNSURE, MaybePublished, PermissionDenied

log = logging.getLogger("quiver.connectors")
T = TypeVar("T")


class Malformed(ValueError):  # noqa: N818 - reads as "the item is malformed"
    """An item lacks what it needs (an id, a time, a text of the right type)."""


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def opt_str(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def req_str(item: Mapping[str, Any], key: str) -> str:
    value = opt_str(item.get(key))
    if not value:
        raise Malformed(f"missing {key}")
    return value


def parse_time(value: Any) -> datetime:
    """An aware UTC datetime from X's ``…000Z`` or Graph's ``+0000`` times.

    Raises:
        Malformed: the value is missing or not a time.
    """
    if not isinstance(value, str) or not value:
        raise Malformed("missing time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise Malformed(f"bad time {value[:40]!r}") from exc
    if parsed.tzinfo is UTC:  # X's "…Z" times: already what Quiver stores
        return parsed
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def opt_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


# A read stream the token or plan lacks (X direct messages, Messenger) is tried again this
# long after the refusal: a plan upgrade or a granted permission is noticed without a reconnect.
STREAM_PAUSE = timedelta(hours=24)


def written_id(answer: Mapping[str, Any], key: str, network: str, what: str) -> str:
    """The new object's id in the answer to a successful write (``network``'s ``what``).

    Raises:
        MaybePublished: the network accepted the write but the answer lacks the id, so it
            cannot be tracked without reconciling.
    """
    try:
        return req_str(answer, key)
    except Malformed:
        raise MaybePublished(f"{network} accepted the {what} but sent no {key}: {UNSURE}") from None


def poll_optional_stream(
    label: str,
    pause_key: str,
    now: datetime,
    new_cursor: dict[str, Any],
    warnings: list[str],
    poll: Callable[[], T],
) -> T | None:
    """Poll a stream the token or plan may lack (X direct messages, Messenger).

    On a refusal the stream is skipped with a warning and paused in ``new_cursor`` (under
    ``pause_key``) for ``STREAM_PAUSE``; the other streams of the poll go on.
    """
    try:
        return poll()
    except PermissionDenied as exc:
        until = now + STREAM_PAUSE
        new_cursor[pause_key] = int(until.timestamp())
        warnings.append(f"{label} skipped until {until:%Y-%m-%d %H:%M} UTC: {exc}")
        log.warning("%s paused for a day: %s", label, exc)
        return None


def paused_until(value: Any, now: datetime) -> datetime | None:
    """When a paused stream may be tried again (``value`` is epoch seconds from a cursor)."""
    seconds = opt_int(value)
    if seconds is None:
        return None
    try:
        until = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return until if until > now else None
