"""The spam filter: signals, reasons, bounds, fingerprints, learning, and repeats across batches."""

from __future__ import annotations

import itertools
import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.spam import (
    _URL,
    AgentVerdict,
    Sighting,
    SpamConfig,
    SpamInput,
    _may_link,
    fingerprint,
    fingerprint_of,
    fold,
    learn,
    normalize,
    normalize_folded,
    score,
)

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
CONFIG = SpamConfig(keywords=("crypto", "giveaway", "free followers", "Gewinnspiel"))
CAMPAIGN = "Claim your reward today, only for our loyal riders: https://rewards.example/c?id="


def item(text: str, author: str = "ann", **kw: object) -> SpamInput:
    return SpamInput(text=text, author=author, at=kw.pop("at", NOW), **kw)  # type: ignore[arg-type]


# -- properties ---------------------------------------------------------------------------------

sightings = st.lists(
    st.builds(
        Sighting,
        author=st.sampled_from(["a", "b", "c", "d", "e", "f"]),
        at=st.datetimes(datetime(2026, 11, 20), datetime(2026, 11, 26), timezones=st.just(UTC)),
    ),
    max_size=8,
)


@given(st.text(), st.text(max_size=10), sightings, st.booleans())
def test_never_raises_and_stays_within_bounds(
    text: str, author: str, seen: list[Sighting], known: bool
) -> None:
    verdict = score(item(text, author, seen=tuple(seen), known_spam_author=known), CONFIG)
    assert 0.0 <= verdict.score <= 1.0
    assert verdict.is_spam == (verdict.score >= CONFIG.threshold)
    assert all(isinstance(r, str) and r.endswith(".") for r in verdict.reasons)
    assert (verdict.score == 0) == (not verdict.reasons)
    assert len(fingerprint(text)) == 32


@given(st.text(), sightings, sightings, st.booleans(), st.lists(st.text(max_size=12), max_size=4))
def test_a_reason_more_never_lowers_the_score(
    text: str, seen: list[Sighting], more: list[Sighting], known: bool, words: list[str]
) -> None:
    base = score(item(text, seen=tuple(seen)), CONFIG)
    flagged = score(item(text, seen=tuple(seen), known_spam_author=known), CONFIG)
    repeated = score(item(text, seen=tuple(seen + more), known_spam_author=known), CONFIG)
    config = SpamConfig(keywords=(*CONFIG.keywords, *words))
    worded = score(item(text, seen=tuple(seen + more), known_spam_author=known), config)
    assert base.score <= flagged.score <= repeated.score <= worded.score
    assert set(base.reasons) <= set(flagged.reasons)


@given(st.text())
def test_the_fingerprint_ignores_unicode_forms_and_whitespace(text: str) -> None:
    fp = fingerprint(text)
    assert fingerprint(unicodedata.normalize("NFC", text)) == fp
    assert fingerprint(unicodedata.normalize("NFD", text)) == fp
    assert fingerprint("  " + "\n\t ".join(text.split()) + " ") == fp


ACCENTS = {"a": "áàâä", "e": "éèêë", "i": "íìîï", "o": "óòôö", "u": "úùûü", "c": "ç", "n": "ñ"}
words = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789!?,.", min_size=1, max_size=8),
    min_size=1,
    max_size=10,
)


@given(words, st.data())
def test_the_fingerprint_is_stable_under_case_whitespace_and_accents(
    tokens: list[str], data: st.DataObject
) -> None:
    text = " ".join(tokens)
    changed = []
    for token in tokens:
        out = ""
        for ch in token:
            if ch.lower() in ACCENTS and data.draw(st.booleans()):
                ch = data.draw(st.sampled_from(ACCENTS[ch.lower()]))
            out += ch.upper() if data.draw(st.booleans()) else ch.lower()
        changed.append(out)
    spaces = data.draw(
        st.lists(
            st.sampled_from([" ", "  ", "\n", "\t", "\u00a0"]),
            min_size=len(tokens),
            max_size=len(tokens),
        )
    )
    variant = "".join(s + t for s, t in zip(spaces, changed, strict=True))
    assert fingerprint(variant) == fingerprint(text)
    assert normalize(variant) == normalize(text)


# -- fingerprints -------------------------------------------------------------------------------


def test_the_fingerprint_normalizes_numbers_links_and_mentions() -> None:
    a = "@acme WIN 1000 € now at https://www.Prizes.example/claim?ref=123 !!"
    b = "@bob   win 250 €  now at http://prizes.example/other  "
    assert fingerprint(a) == fingerprint(b)
    assert normalize(a) == "win 0 now at url:prizes.example"
    assert fingerprint(a) != fingerprint("win 1000 now at https://other.example/claim")
    assert fingerprint("Café crème") == fingerprint("CAFE CREME")
    assert fingerprint("Straße") == fingerprint("STRASSE")


# -- signals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "https://bit.ly/3xYz",
        "@acme @helpdesk → https://spam.example/x !!!",
        "www.cheap-stuff.example 🔥🔥",
        "bit.ly/abc, bit.ly/def",
    ],
)
def test_a_link_only_message_is_flagged_with_its_reason(text: str) -> None:
    verdict = score(item(text), CONFIG)
    assert verdict.is_spam
    assert any(r.startswith("The text is nothing but") for r in verdict.reasons)


def test_a_normal_complaint_is_not_spam() -> None:
    for text in (
        "My e-bike's battery died after 3 km again, I want a refund. Order 12345.",
        "@acme the app crashes when I scan the scooter QR code, see https://imgur.example/a.png",
        "Mein Roller ist kaputt, bitte helft mir!",
        "Thanks!",
        "",
    ):
        verdict = score(item(text), CONFIG)
        assert not verdict.is_spam, (text, verdict)
        assert verdict.score < CONFIG.threshold


def test_a_known_spam_author_and_keywords() -> None:
    verdict = score(item("Hello there", known_spam_author=True), CONFIG)
    assert verdict.is_spam
    assert verdict.reasons == ("The author was marked as spam before.",)
    one = score(item("Join the CRYPTO party"), CONFIG)
    assert one.reasons == ("It contains the spam word “crypto”.",)
    assert not one.is_spam
    two = score(item("Free   followers and a crýpto GIVEAWAY, gewinnspiel!"), CONFIG)
    assert two.is_spam
    assert two.reasons == (
        "It contains the spam words “free followers”, “crypto”, “giveaway”, “gewinnspiel”.",
    )
    # whole words only
    assert score(item("cryptography and giveaways are topics"), CONFIG).reasons == ()


def test_many_links_and_repeated_characters() -> None:
    text = "see a.example/1 and b.example/2 and c.example/3 soooooo good"
    verdict = score(item(text), CONFIG)
    assert "It has 3 links." in verdict.reasons
    assert "A character is repeated 6 times in a row." in verdict.reasons
    assert score(item("Order 1000000 arrived"), CONFIG).reasons == ()  # digits are not a run


def test_the_same_text_from_several_authors_across_batches() -> None:
    seen: list[Sighting] = []

    def arrive(author: str, at: datetime, n: int) -> SpamInput:
        # the caller looks up its history by fingerprint, scores, then records the sighting
        text = CAMPAIGN + str(n)
        assert fingerprint(text) == fingerprint(CAMPAIGN)
        out = SpamInput(text, author, at, seen=tuple(seen))
        seen.append(Sighting(author, at))
        return out

    # batch 1: two authors, one of them twice: not enough
    batch1 = [
        arrive("a", NOW, 1),
        arrive("b", NOW + timedelta(minutes=5), 2),
        arrive("a", NOW + timedelta(minutes=9), 3),
    ]
    assert [score(i, CONFIG).is_spam for i in batch1] == [False, False, False]
    # batch 2, hours later: a third author crosses the threshold, a fourth is counted too
    third = score(arrive("c", NOW + timedelta(hours=6), 4), CONFIG)
    assert third.is_spam
    assert third.reasons == ("The same text from 3 authors within 24 hours.",)
    fourth = score(arrive("d", NOW + timedelta(hours=7), 5), CONFIG)
    assert fourth.reasons == ("The same text from 4 authors within 24 hours.",)


def test_older_sightings_do_not_count() -> None:
    old = (Sighting("a", NOW - timedelta(hours=30)), Sighting("b", NOW - timedelta(hours=25)))
    assert not score(SpamInput(CAMPAIGN, "c", NOW, seen=old), CONFIG).is_spam
    recent: tuple[Sighting, ...] = (*old, Sighting("d", NOW - timedelta(hours=23)))
    assert not score(SpamInput(CAMPAIGN, "c", NOW, seen=recent), CONFIG).is_spam  # 2 authors
    recent = (*recent, Sighting("e", NOW - timedelta(hours=1)))
    verdict = score(SpamInput(CAMPAIGN, "c", NOW, seen=recent), CONFIG)
    assert verdict.is_spam
    assert verdict.reasons == ("The same text from 3 authors within 24 hours.",)


def test_short_texts_repeat_without_being_spam() -> None:
    seen = tuple(Sighting(a, NOW) for a in "abcdefgh")
    assert score(SpamInput("Thank you so much!", "z", NOW, seen=seen), CONFIG).reasons == ()


def test_the_threshold_is_the_workspace_s() -> None:
    strict = SpamConfig(threshold=0.3, keywords=("crypto",))
    assert score(item("crypto"), strict).is_spam
    assert not score(item("crypto"), SpamConfig(threshold=0.9, keywords=("crypto",))).is_spam
    with pytest.raises(ValueError, match="threshold"):
        SpamConfig(threshold=0)
    with pytest.raises(ValueError, match="weight"):
        SpamConfig(keyword_weight=-0.1)


# -- learning -----------------------------------------------------------------------------------


def test_agents_teach_the_author_list() -> None:
    flags: frozenset[str] = frozenset({"old"})
    flags = learn(flags, "spammer", "spam")
    assert flags == {"old", "spammer"}
    assert learn(flags, "spammer", AgentVerdict.SPAM) == flags
    flags = learn(flags, "old", AgentVerdict.NOT_SPAM)
    assert flags == {"spammer"}
    assert learn(flags, "nobody", "not_spam") == flags
    with pytest.raises(ValueError):  # noqa: PT011
        learn(flags, "x", "maybe")


@given(st.frozensets(st.text(max_size=4)), st.text(max_size=4), st.sampled_from(list(AgentVerdict)))
def test_learning_only_touches_that_author(
    flags: frozenset[str], author: str, verdict: AgentVerdict
) -> None:
    after = learn(flags, author, verdict)
    assert (author in after) == (verdict is AgentVerdict.SPAM)
    assert after - {author} == flags - {author}


@given(st.text(max_size=120))
def test_a_normalized_text_handed_in_gives_the_same_verdict_and_fingerprint(text: str) -> None:
    at = datetime(2026, 11, 2, 9, tzinfo=UTC)
    config = SpamConfig(keywords=("free followers",), duplicate_min_chars=5)
    seen = (Sighting("a", at), Sighting("b", at))
    plain = score(SpamInput(text, "c", at, seen=seen), config)
    given_norm = score(SpamInput(text, "c", at, seen=seen, normalized=normalize(text)), config)
    assert given_norm == plain
    assert fingerprint_of(normalize(text)) == fingerprint(text)
    folded = fold(text)
    given_both = score(
        SpamInput(text, "c", at, seen=seen, normalized=normalize_folded(folded), folded=folded),
        config,
    )
    assert given_both == plain


link_parts = st.sampled_from(
    ["http://", "https://", "www.", "bit.ly/", "shop.example/x", ".com/", "/", ".", "a", " ", "é"]
)


@given(st.lists(st.one_of(link_parts, st.text(max_size=6)), max_size=12).map("".join))
def test_text_without_a_slash_or_www_holds_no_link(text: str) -> None:
    """The shortcut every signal takes: no "/" and no "www." means the link search finds none."""
    folded = fold(text)
    if not _may_link(folded):
        assert _URL.findall(folded) == []


@given(
    st.lists(
        st.sampled_from(["free", "followers", "crypto", "giveaway", "gratis", "x"]), max_size=9
    )
)
def test_keywords_are_found_wherever_their_words_stand(words: list[str]) -> None:
    text = " ".join(words)
    found = set(CONFIG.matched_keywords(text))
    expected = {w for w in ("crypto", "giveaway") if w in words}
    if any(a == "free" and b == "followers" for a, b in itertools.pairwise(words)):
        expected.add("free followers")
    assert found == expected
