"""The demo text generator: deterministic, well-formed, varied, multilingual and fast."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.demo_text import LANGUAGES, MAX_TEXT, TOPICS, TextFactory

FACTORY = TextFactory()


def test_same_seed_same_text_and_another_seed_differs() -> None:
    def run(seed: int) -> list[str]:
        rng = random.Random(seed)
        out = []
        for topic in TOPICS:
            t = FACTORY.thread(rng, "en", topic)
            out += [m.text for m in t.messages]
            out.append(FACTORY.author(rng, "de").handle)
        return out

    assert run(1) == run(1)
    assert run(1) != run(2)


@given(
    seed=st.integers(),
    lang=st.sampled_from([*LANGUAGES, "xx"]),
    topic=st.sampled_from(TOPICS),
    long=st.booleans(),
)
def test_threads_are_well_formed(seed: int, lang: str, topic: str, long: bool) -> None:
    t = FACTORY.thread(random.Random(seed), lang, topic, long=long)
    assert t.messages[0].direction == "in"
    assert t.messages[0].offset_s == 0
    offsets = [m.offset_s for m in t.messages]
    assert offsets == sorted(set(offsets))
    assert all(0 < len(m.text) <= MAX_TEXT for m in t.messages)
    assert -1 <= t.sentiment <= 1
    if topic == "spam":
        assert len(t.messages) == 1
    assert t.lang in LANGUAGES


def test_unknown_topic_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown demo topic"):
        FACTORY.thread(random.Random(1), "en", "weather")


def test_languages_read_as_themselves() -> None:
    rng = random.Random(3)
    german = " ".join(FACTORY.thread(rng, "de", "complaint").messages[0].text for _ in range(30))
    spanish = " ".join(FACTORY.thread(rng, "es", "question").messages[0].text for _ in range(30))
    assert any(w in german for w in ("meine", "Die", "nicht", "Der", "Warte"))
    assert any(w in spanish for w in ("mi", "¿", "El", "pedido"))


def test_complaints_are_varied_and_generation_is_fast() -> None:
    rng = random.Random(9)
    firsts = {FACTORY.thread(rng, "en", "complaint").messages[0].text for _ in range(2_000)}
    assert len(firsts) > 1_500
    started = time.perf_counter()
    for _ in range(10_000):
        FACTORY.thread(rng, rng.choice(LANGUAGES), rng.choice(TOPICS))
    assert time.perf_counter() - started < 1.5


def test_authors_have_plausible_handles() -> None:
    rng = random.Random(5)
    for lang in LANGUAGES:
        a = FACTORY.author(rng, lang)
        assert 4 <= len(a.handle) <= 15
        assert a.handle.replace("_", "").isalnum()
        assert a.handle.isascii()
        assert a.display_name
        assert a.followers >= 0
