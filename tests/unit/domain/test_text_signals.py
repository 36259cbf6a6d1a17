"""Language (restricted to the organization's languages) and English-only sentiment."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.text_signals import (
    LanguageDetector,
    batch_signals,
    given_language,
    sentiment,
    signals,
    signals_many,
)


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector(["en", "de", "es", "fr", "it", "pt"])


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Mein Paket ist immer noch nicht angekommen, bitte helfen Sie mir", "de"),
        ("Mi pedido llegó roto y nadie me responde, quiero un reembolso", "es"),
        ("My order arrived broken and nobody answers, I want a refund", "en"),
        ("@acme Hallo, wo bleibt meine Bestellung? https://t.co/abc123", "de"),
    ],
)
def test_languages(detector: LanguageDetector, text: str, language: str) -> None:
    assert detector.detect(text) == language


@pytest.mark.parametrize("text", ["abc", "ok", "", "😡😡😡", "@acme https://t.co/x"])
def test_short_or_letterless_text_has_no_language(detector: LanguageDetector, text: str) -> None:
    assert detector.detect(text) is None


def test_only_the_given_languages_come_out() -> None:
    only = LanguageDetector(["de", "en"])
    assert only.detect("Mi pedido llegó roto, quiero un reembolso ahora mismo") in (
        None,
        "de",
        "en",
    )


def test_unknown_language_codes_are_refused() -> None:
    with pytest.raises(ValueError, match="does not know"):
        LanguageDetector(["en", "xx"]).detect("some text to detect")


def test_sentiment_is_english_only(detector: LanguageDetector) -> None:
    assert sentiment("C'est nul", "fr") is None
    assert sentiment("C'est nul", None) is None
    language, score = signals("C'est nul", detector)
    assert score is None
    assert language != "en"
    worst = sentiment("worst app ever :(", "en")
    assert worst is not None
    assert worst < -0.5
    assert signals("worst app ever :(", detector)[1] == worst


def test_nothing_loads_at_import() -> None:
    code = (
        "import sys, app.domain.text_signals;"
        "print(','.join(m for m in ('py3langid', 'numpy', 'vaderSentiment') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("de", "de"),
        ("EN", "en"),
        ("pt-BR", "pt"),
        ("zh_CN", "zh"),
        ("in", "id"),  # X's older tag for Indonesian
        ("iw", "he"),
        ("und", None),  # X could not tell
        ("qme", None),  # media only
        ("zxx", None),
        ("", None),
        (None, None),
        ("e1", None),
        ("ü", None),
    ],
)
def test_a_networks_own_language_tag_is_taken_when_it_names_a_language(
    tag: str | None, expected: str | None
) -> None:
    assert given_language(tag) == expected


@given(st.text(max_size=12))
def test_a_given_language_is_always_a_two_letter_code_or_none(tag: str) -> None:
    code = given_language(tag)
    assert code is None or (len(code) == 2 and code.isascii() and code.isalpha() and code.islower())


# -- batches give the answers one-by-one gives ---------------------------------------------------

SAMPLES = [
    "Mein Paket ist immer noch nicht angekommen, bitte helfen Sie mir",
    "Mi pedido llegó roto y nadie me responde, quiero un reembolso",
    "My order arrived broken and nobody answers, I want a refund",
    "Ma commande est arrivée cassée, je veux être remboursé",
    "A minha encomenda chegou partida, quero o reembolso",
    "La consegna è in ritardo di una settimana",
    "THANK YOU SO MUCH!!! 😍😍",
    "ok",
    "",
    "https://t.co/abc @acme #win",
    "こんにちは、注文が届きません",
]
words = st.sampled_from(
    [w for t in SAMPLES for w in t.split()] + ["🙂", "😡", "!!!", "not", "very", "good", "bad"]
)
texts = st.one_of(st.text(max_size=80), st.lists(words, max_size=25).map(" ".join))


@given(st.lists(texts, max_size=12))
def test_a_batch_detects_what_each_text_alone_detects(batch: list[str]) -> None:
    detector = LanguageDetector(["de", "en", "es", "fr", "it", "pt"])
    assert detector.detect_many(batch) == [detector.detect(t) for t in batch]


def test_a_batch_of_every_sample_and_its_languages(detector: LanguageDetector) -> None:
    assert detector.detect_many(SAMPLES) == [detector.detect(t) for t in SAMPLES]
    assert detector.detect_many(SAMPLES)[:6] == ["de", "es", "en", "fr", "pt", "it"]
    assert detector.detect_many([]) == []


@given(texts)
def test_the_sentiment_shortcut_gives_vaders_score(text: str) -> None:
    """Texts without a word VADER knows skip VADER: their score is VADER's all the same."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    expected = SentimentIntensityAnalyzer().polarity_scores(text)["compound"]
    assert sentiment(text, "en") == expected


def test_the_shortcut_still_reads_emoji_and_punctuated_words() -> None:
    assert (sentiment("😍", "en") or 0.0) > 0.4  # VADER reads it as "smiling face with heart-eyes"
    assert (sentiment("☹", "en") or 0.0) < 0
    assert (sentiment("...terrible!!!", "en") or 0.0) < 0
    assert sentiment("order 4711 shipped to Berlin", "en") == 0.0


@given(st.lists(st.tuples(texts, st.sampled_from([None, "en", "de", "und"])), max_size=8))
def test_signals_of_a_batch_are_the_signals_of_each(pairs: list[tuple[str, str | None]]) -> None:
    detector = LanguageDetector(["de", "en", "es", "fr", "it", "pt"])
    batch = [t for t, _g in pairs]
    tags = [given_language(g) for _t, g in pairs]
    expected = [signals(t, detector, given=g) for t, g in zip(batch, tags, strict=True)]
    assert signals_many(batch, detector, tags) == expected
    assert batch_signals(batch, detector.languages, (), tags) == expected


def test_a_language_list_the_model_does_not_know_falls_back_when_asked() -> None:
    fallback = LanguageDetector(["en", "xx"], fallback=["de", "en"])
    assert fallback.detect("Mein Paket ist immer noch nicht angekommen") == "de"
    assert fallback.languages == ("de", "en")
    with pytest.raises(ValueError, match="xx"):
        LanguageDetector(["en", "xx"]).detect_many(["some text to detect"])
    with pytest.raises(ValueError, match="one given language"):
        signals_many(["a", "b"], fallback, [None])
