"""Warnings about when and where a draft goes out, worked out from what went out around it.

Three warnings, none of which stops a draft (the person decides):

- **The same text to the same account within 24 hours** (:data:`DUPLICATE_WINDOW`) of the time
  this draft goes out: networks refuse or bury duplicates. Texts are compared with white space
  collapsed and case folded. Direct messages are not compared (one person each).
- **A second post to one account within the hour** (:data:`POST_GAP`): two posts that close
  together compete with each other. Posts only.
- **Messenger's 24-hour reply window** (:data:`MESSENGER_WINDOW`): Facebook lets a Page answer a
  Messenger conversation only within 24 hours of the customer's last message; after that a
  message is refused unless it carries a message tag.

The other drafts arrive as :class:`OtherPost` (what storage read around the time); the service
passes the time this draft goes out (its schedule time, or now).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.domain.enums import DraftKind

DUPLICATE_WINDOW = timedelta(hours=24)
POST_GAP = timedelta(hours=1)
MESSENGER_WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class OtherPost:
    """Another draft going (or gone) out on one of this draft's accounts."""

    draft_id: int
    account_id: int
    kind: DraftKind
    text: str
    at: datetime  # when it went out, or when it goes out
    published: bool


def same_text(a: str, b: str) -> bool:
    """Whether two texts read the same (white space collapsed, case folded); blank never does."""
    left = " ".join(a.split()).casefold()
    return bool(left) and left == " ".join(b.split()).casefold()


def _when(at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def posting_warnings(
    *,
    kind: DraftKind,
    text: str,
    at: datetime,
    accounts: Mapping[int, str],
    others: Iterable[OtherPost],
    messenger: bool = False,
    last_inbound_at: datetime | None = None,
) -> tuple[str, ...]:
    """The warnings for a draft of ``kind`` saying ``text``, going out at ``at``.

    Args:
        kind: Post, reply or direct message.
        text: What it says.
        at: When it goes out (its schedule time, or now).
        accounts: Its accounts, id to how they read ("@acme").
        others: Other drafts on those accounts around ``at`` (this one excluded).
        messenger: It answers a Facebook Messenger conversation.
        last_inbound_at: When the customer last wrote in that conversation.

    Returns:
        One sentence per warning, each saying what to do; duplicates per account first.
    """
    kind = DraftKind(kind)
    out: list[str] = []
    duplicates: dict[int, OtherPost] = {}
    close: dict[int, OtherPost] = {}
    for other in others:
        if other.account_id not in accounts:
            continue
        gap = abs(other.at - at)
        if (
            kind is not DraftKind.DM
            and other.kind is not DraftKind.DM
            and gap <= DUPLICATE_WINDOW
            and same_text(text, other.text)
        ):
            duplicates.setdefault(other.account_id, other)
        if kind is DraftKind.POST and other.kind is DraftKind.POST and gap < POST_GAP:
            close.setdefault(other.account_id, other)
    for account_id, other in duplicates.items():
        went = "went out" if other.published else "goes out"
        out.append(
            f"The same text {went} on {accounts[account_id]} at {_when(other.at)} (draft "
            f"{other.draft_id}): within 24 hours the network may refuse or hide a duplicate. "
            "Change the wording or the time."
        )
    for account_id, other in close.items():
        if account_id in duplicates and duplicates[account_id] == other:
            continue
        went = "went out" if other.published else "goes out"
        out.append(
            f"Another post {went} on {accounts[account_id]} at {_when(other.at)} (draft "
            f"{other.draft_id}), less than an hour apart: the two compete for attention. "
            "Pick a time at least an hour away."
        )
    if messenger:
        if last_inbound_at is None:
            out.append(
                "The customer has not written in this Messenger conversation, so Facebook "
                "does not let the Page message them: answer where they wrote to you."
            )
        elif at - last_inbound_at > MESSENGER_WINDOW:
            closed = last_inbound_at + MESSENGER_WINDOW
            out.append(
                f"Messenger's 24-hour reply window closed at {_when(closed)} (the customer "
                f"last wrote at {_when(last_inbound_at)}): Facebook refuses a message sent "
                "now. Answer on another channel, or wait until they write again."
            )
    return tuple(out)
