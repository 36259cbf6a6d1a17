"""Warnings about duplicates, posts close together and Messenger's reply window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.compose_warnings import OtherPost, posting_warnings, same_text
from app.domain.enums import DraftKind

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ACCOUNTS = {1: "@acme", 2: "@acme_de"}


def _other(at: datetime, text: str = "Spring rides!", account: int = 1, kind: str = "post"):
    return OtherPost(7, account, DraftKind(kind), text, at, published=at < NOW)


def test_the_same_text_within_a_day_warns_per_account() -> None:
    got = posting_warnings(
        kind=DraftKind.POST,
        text="spring   RIDES!",
        at=NOW,
        accounts=ACCOUNTS,
        others=[_other(NOW - timedelta(hours=23))],
    )
    assert len(got) == 1
    assert got[0].startswith("The same text went out on @acme at 2026-11-30 13:00 UTC (draft 7)")


def test_the_same_text_a_day_and_more_apart_or_elsewhere_does_not_warn() -> None:
    others = [_other(NOW - timedelta(hours=25)), _other(NOW, account=3)]
    assert (
        posting_warnings(
            kind=DraftKind.POST, text="Spring rides!", at=NOW, accounts=ACCOUNTS, others=others
        )
        == ()
    )


def test_a_second_post_within_the_hour_warns_not_a_reply() -> None:
    soon = [_other(NOW + timedelta(minutes=40), text="Other news", account=2)]
    got = posting_warnings(
        kind=DraftKind.POST, text="Spring rides!", at=NOW, accounts=ACCOUNTS, others=soon
    )
    assert got == (
        "Another post goes out on @acme_de at 2026-12-01 12:40 UTC (draft 7), less than an "
        "hour apart: the two compete for attention. Pick a time at least an hour away.",
    )
    reply = posting_warnings(
        kind=DraftKind.REPLY, text="Spring rides!", at=NOW, accounts=ACCOUNTS, others=soon
    )
    assert reply == ()
    apart = [_other(NOW + timedelta(minutes=61), text="Other news")]
    assert (
        posting_warnings(kind=DraftKind.POST, text="x", at=NOW, accounts=ACCOUNTS, others=apart)
        == ()
    )


def test_a_duplicate_close_by_warns_once() -> None:
    got = posting_warnings(
        kind=DraftKind.POST,
        text="Spring rides!",
        at=NOW,
        accounts=ACCOUNTS,
        others=[_other(NOW - timedelta(minutes=5))],
    )
    assert len(got) == 1
    assert "same text" in got[0]


def test_messenger_window() -> None:
    def warn(last: datetime | None) -> tuple[str, ...]:
        return posting_warnings(
            kind=DraftKind.DM,
            text="Hi",
            at=NOW,
            accounts=ACCOUNTS,
            others=[],
            messenger=True,
            last_inbound_at=last,
        )

    assert warn(NOW - timedelta(hours=23)) == ()
    closed = warn(NOW - timedelta(hours=30))
    assert len(closed) == 1
    assert closed[0].startswith("Messenger's 24-hour reply window closed at 2026-12-01 06:00 UTC")
    assert "customer has not written" in warn(None)[0]


def test_blank_texts_are_never_the_same() -> None:
    assert not same_text("  ", "  ")
    assert same_text("A  b", "a b")
