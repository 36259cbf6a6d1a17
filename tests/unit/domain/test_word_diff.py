"""The word-level diff: both versions read back from its spans, words kept whole."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from app.domain.word_diff import Span, SpanKind, new_text, old_text, tokens, word_diff

SAME, REMOVED, ADDED = SpanKind.SAME, SpanKind.REMOVED, SpanKind.ADDED

WORDS = st.sampled_from(
    ["spring", "rides", "are", "back", "Grüße", "日本語", "😀", "!", ", ", " ", "\n", "  ", "#ad"]
)
TEXTS = st.one_of(st.lists(WORDS, max_size=30).map("".join), st.text(max_size=80))


@given(TEXTS, TEXTS)
def test_the_spans_give_back_both_versions(old: str, new: str) -> None:
    spans = word_diff(old, new)
    assert old_text(spans) == old
    assert new_text(spans) == new
    assert all(s.text for s in spans)  # no empty span
    assert all(a.kind is not b.kind for a, b in pairwise(spans))  # merged


@given(TEXTS)
def test_equal_texts_are_one_same_span(text: str) -> None:
    assert word_diff(text, text) == ((Span(SAME, text),) if text else ())


@given(TEXTS)
def test_the_tokens_join_to_the_text(text: str) -> None:
    assert "".join(tokens(text)) == text


@given(TEXTS, TEXTS)
def test_changes_never_cut_a_word(old: str, new: str) -> None:
    """Every changed span starts and ends on a token boundary of its own version."""
    spans = word_diff(old, new)
    for version, kinds in ((old, (SAME, REMOVED)), (new, (SAME, ADDED))):
        cuts, at = set(), 0
        for token in tokens(version):
            at += len(token)
            cuts.add(at)
        at = 0
        for s in spans:
            if s.kind in kinds:
                at += len(s.text)
                assert at in cuts, (version, spans)


def test_a_changed_word_is_removed_then_added() -> None:
    assert word_diff("Spring rides are back!", "Spring rides are here!") == (
        Span(SAME, "Spring rides are "),
        Span(REMOVED, "back"),
        Span(ADDED, "here"),
        Span(SAME, "!"),
    )


def test_words_added_and_removed_in_a_longer_text() -> None:
    spans = word_diff("So sorry, we are on it.", "So sorry: we are on it today.")
    assert spans == (
        Span(SAME, "So sorry"),
        Span(REMOVED, ","),
        Span(ADDED, ":"),
        Span(SAME, " we are on it"),
        Span(ADDED, " today"),
        Span(SAME, "."),
    )


def test_a_first_version_against_nothing_is_all_added() -> None:
    assert word_diff("", "New colours!") == (Span(ADDED, "New colours!"),)
    assert word_diff("Gone.", "") == (Span(REMOVED, "Gone."),)
    assert word_diff("", "") == ()


def test_a_long_text_with_one_edit_keeps_the_rest_in_two_spans() -> None:
    body = " ".join(f"word{i}" for i in range(5_000))
    spans = word_diff(body, body.replace("word2500", "changed"))
    assert [s.kind for s in spans] == [SAME, REMOVED, ADDED, SAME]
    assert (spans[1].text, spans[2].text) == ("word2500", "changed")
