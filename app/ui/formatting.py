"""How times, counts and labels read in the interface."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.domain.enums import AccountState, ConversationStatus, MessageKind, Network
from app.domain.rows import AccountRow

# Keyed by the enums (a stored string finds its label too: they are StrEnums).
NETWORK_LABELS: dict[str, str] = {n: n.label for n in Network}
STATUS_LABELS: dict[str, str] = {s: s.label for s in ConversationStatus}
KIND_LABELS: dict[str, str] = {k: k.label for k in MessageKind}
STATE_LABELS: dict[str, str] = {s: s.label for s in AccountState}


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


def account_detail(account: AccountRow) -> str:
    """An account's state detail, a rate limit's end in this computer's local time."""
    if account.state == AccountState.RATE_LIMITED and account.rate_limited_until is not None:
        until = account.rate_limited_until.astimezone()
        return f"rate limited until {until:%H:%M}"
    return account.state_detail
