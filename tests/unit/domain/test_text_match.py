"""Folding with a way back to the original text, and whole-word matching of many terms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.text_match import TermIndex, fold_mapped, normalize_text

# Characters whose folding changes the length or drops them: ligatures, sharp s, combining
# marks, compatibility forms, the dotted capital I, a diaeresis that folds to a space.
TRICKY = "ßẞﬁﬂﬀİŉǰΐᾳ\u0301\u0308\u0345\u00a8\u00a0\u2003\u3000\uff46\uff55\uff4c\uff4c①™…½"
ALPHABET = st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from(TRICKY + "ab é\n\t  .,-_#😀👍🏽日本語"),
)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Straße", "strasse"),
        ("ﬁnal", "final"),
        ("Garantíe", "garantie"),
        ("Garanti\u0301e", "garantie"),
        ("İstanbul", "istanbul"),
        ("  Money \n\t back  ", " money back "),
        ("\uff26\uff35\uff2c\uff2c width", "full width"),  # fullwidth letters
        ("日本語", "日本語"),
    ],
)
def test_folding(text: str, folded: str) -> None:
    assert fold_mapped(text).text == folded
    assert normalize_text(text) == folded.strip()


@given(st.text(ALPHABET, max_size=60))
def test_folded_text_is_what_normalize_text_gives(text: str) -> None:
    assert fold_mapped(text).text.strip() == normalize_text(text)


@given(st.text(ALPHABET, max_size=60), st.data())
def test_every_folded_range_maps_back_to_text_that_folds_to_it(
    text: str, data: st.DataObject
) -> None:
    folded = fold_mapped(text)
    n = len(folded.text)
    if n == 0:
        return
    start = data.draw(st.integers(0, n - 1))
    end = data.draw(st.integers(start + 1, n))
    s, e = folded.original_range(start, end)
    assert 0 <= s < e <= len(text)
    # The original range folds to the folded range, or to more when the range split what one
    # original character gave (one "s" of "ß"): never to less.
    assert folded.text[start:end].strip() in normalize_text(text[s:e])


def test_ranges_map_back_through_length_changes() -> None:
    text = "ﬁ Straße, garanti\u0301e 😀 日本 x"
    folded = fold_mapped(text)
    for word, original in [
        ("fi", "ﬁ"),
        ("strasse", "Straße"),
        ("garantie", "garanti\u0301e"),
        ("😀", "😀"),
        ("日本", "日本"),
        ("x", "x"),
    ]:
        start = folded.text.index(word)
        s, e = folded.original_range(start, start + len(word))
        assert text[s:e] == original


def test_half_of_an_expansion_widens_to_the_character() -> None:
    folded = fold_mapped("aß")  # "ass"
    assert folded.original_range(1, 2) == (1, 2)
    assert folded.original_range(0, 2) == (0, 2)


def test_ascii_text_keeps_its_positions() -> None:
    folded = fold_mapped("Hello World")
    assert folded.origin is None
    assert folded.original_range(6, 11) == (6, 11)
    collapsed = fold_mapped("a   b\n\nc")
    assert collapsed.text == "a b c"
    assert collapsed.original_range(2, 5) == (4, 8)


def test_term_index_finds_whole_words_only() -> None:
    index = TermIndex({"free": 0, "money back": 1, "#fail": 2, "日本": 3})
    norm = normalize_text("FREE money  back, freedom #fail! #failure 日本語")
    assert sorted(index.hits(norm)) == [(0, 4, 0), (5, 15, 1), (25, 30, 2), (41, 43, 3)]
    assert index.ids_in(norm) == {0, 1, 2, 3}
    assert index.ids_in("freedom") == set()


def test_an_empty_term_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        TermIndex({"": 0})
