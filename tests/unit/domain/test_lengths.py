"""The one table of lengths per network and kind, X's weighted count, and where text overflows."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twitter_text import parse_tweet
from twitter_text.regexp.emoji import emoji_list

from app.domain.enums import DraftKind, Network
from app.domain.lengths import (
    LIMITS,
    length_of,
    limit_of,
    overflow_start,
    utf16_length,
    utf16_overflow_start,
    x_weighted_length,
)

EMOJI = ["".join(chr(int(cp, 16)) for cp in e.codepoint.split()) for e in emoji_list]
PIECES = st.sampled_from(
    [
        *"ab #*0123456789.:/@-_()?=\r\n",
        *("\ufe0f", "\u200d", "\u20e3", "🏽", "e\u0301", "日", "ß", "\u2019"),
        *("\x1c", "\u180e", "\u3000", "\u00a0", "\u2028", "\u202a"),  # spaces, or not, to X
        *("https://", "http://", ".com", ".jp", ".co", "xn--", "www.", "t.co/", "acme", "日本語"),
        *("https://acme.com/x", " acme.com ", "www.acme.com", "t.co/abc", "日本語.jp", " x.com"),
    ]
)
EMOJI_TEXT = st.lists(st.one_of(PIECES, st.sampled_from(EMOJI)), max_size=40).map("".join)


def test_every_network_and_kind_has_a_limit() -> None:
    assert {(n, k) for n in Network for k in DraftKind} == set(LIMITS)
    assert limit_of(Network.X, DraftKind.POST) == 280
    assert limit_of(Network.X, DraftKind.REPLY) == 280
    assert limit_of(Network.X, DraftKind.DM) == 10_000
    assert limit_of(Network.FACEBOOK, DraftKind.POST) == 63_206
    assert limit_of(Network.FACEBOOK, DraftKind.REPLY) == 63_206
    assert limit_of(Network.FACEBOOK, DraftKind.DM) == 2_000


@pytest.mark.parametrize(
    ("text", "weighted"),
    [
        ("a" * 280, 280),
        ("日" * 140, 280),
        ("😀" * 140, 280),
        ("👨\u200d👩\u200d👧", 2),
        ("see https://acme.com/a/very/long/path/that/is/long", 27),
        ("x.com", 23),
        ("", 0),
        ("e\u0301", 1),  # NFC first: one character
        ("a\r\nb", 3),
    ],
)
def test_x_weighted_length_examples(text: str, weighted: int) -> None:
    assert x_weighted_length(text) == weighted == parse_tweet(text).weightedLength
    assert length_of(text, Network.X, DraftKind.POST) == weighted


@given(EMOJI_TEXT)
def test_x_weighted_length_equals_the_library_on_emoji_heavy_text(text: str) -> None:
    assert x_weighted_length(text) == parse_tweet(text).weightedLength


def test_other_counts_are_code_points() -> None:
    text = "😀" * 10 + "日本"
    assert length_of(text, Network.FACEBOOK, DraftKind.POST) == 12
    assert length_of(text, Network.X, DraftKind.DM) == 12
    assert utf16_length(text) == 22


@pytest.mark.parametrize(
    ("text", "limit", "start"),
    [
        ("a" * 281, 280, 280),
        ("a" * 280, 280, None),
        ("日" * 141, 280, 140),
        ("ab" + "日" * 140, 280, 141),  # 2 + 139 * 2 = 280 fits, the 140th ideograph does not
        ("a" * 270 + " https://acme.com/x", 280, 271),  # the link (23) is what does not fit
        ("a\r\n" * 200, 280, 420),  # counted after \r\n became \n; the range is the original's
        ("e\u0301" * 300, 280, 560),  # NFC first: é is one character; two code points here
        ("a" * 20, 10, 10),
    ],
)
def test_where_x_overflows(text: str, limit: int, start: int | None) -> None:
    assert overflow_start(text, Network.X, DraftKind.POST, limit) == start


@given(EMOJI_TEXT, st.integers(1, 30))
def test_the_text_before_the_overflow_fits(text: str, limit: int) -> None:
    start = overflow_start(text, Network.X, DraftKind.POST, limit)
    if start is None:
        assert x_weighted_length(text) <= limit
    else:
        assert x_weighted_length(text) > limit
        assert 0 <= start < len(text)


def test_facebook_overflow_and_utf16() -> None:
    assert overflow_start("a" * 2_001, Network.FACEBOOK, DraftKind.DM, 2_000) == 2_000
    assert utf16_overflow_start("😀" * 1_001, 2_000) == 1_000
    assert utf16_overflow_start("😀" * 1_000, 2_000) is None
    assert utf16_length("a\ud800") == 2  # a lone surrogate counts, never raises
