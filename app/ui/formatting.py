"""How times, counts and labels read in the interface."""

from __future__ import annotations

from datetime import datetime, timedelta

NETWORK_LABELS = {"x": "X", "facebook": "Facebook", "sandbox": "Sandbox"}
STATUS_LABELS = {
    "new": "New",
    "open": "Open",
    "waiting": "Waiting",
    "resolved": "Resolved",
    "spam": "Spam",
}
KIND_LABELS = {
    "mention": "Mention",
    "reply": "Reply",
    "comment": "Comment",
    "dm": "DM",
    "post": "Post",
}
STATE_LABELS = {
    "connected": "connected",
    "needs_reconnect": "needs reconnect",
    "rate_limited": "rate limited",
    "paused": "paused",
    "offline": "offline",
}


def local_time(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000).astimezone()


def short_time(epoch_ms: int, now: datetime | None = None) -> str:
    """Today "14:32", this week "Mon 14:32", this year "12 Oct", else "12 Oct 2025"."""
    when = local_time(epoch_ms)
    now = now or datetime.now().astimezone()
    if when.date() == now.date():
        return when.strftime("%H:%M")
    if now - when < timedelta(days=6) and when <= now:
        return when.strftime("%a %H:%M")
    if when.year == now.year:
        return f"{when.day} {when.strftime('%b')}"
    return f"{when.day} {when.strftime('%b %Y')}"


def long_time(epoch_ms: int) -> str:
    when = local_time(epoch_ms)
    return f"{when.strftime('%a')} {when.day} {when.strftime('%b %Y, %H:%M')}"


def count(n: int) -> str:
    return f"{n:,}"
