"""Language (restricted to the organization's languages) and English-only sentiment."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.text_signals import LanguageDetector, given_language, sentiment, signals


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
