"""Deterministic, varied demo social-media text from a corpus of templates (resources/demo)."""

from __future__ import annotations

import json
import random
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TOPICS: tuple[str, ...] = (
    "complaint",
    "question",
    "praise",
    "sales_lead",
    "press",
    "legal",
    "spam",
    "partnership",
    "recall_safety",
)
LANGUAGES: tuple[str, ...] = ("en", "de", "es", "fr", "it", "pt", "ja")
MAX_TEXT = 2000
SIGNED = 0.75  # the share of first messages (not spam) signed with the writer's first name

SENTIMENT: dict[str, tuple[float, float]] = {
    "complaint": (-0.9, -0.3),
    "question": (-0.1, 0.3),
    "praise": (0.5, 0.95),
    "sales_lead": (0.1, 0.5),
    "press": (-0.2, 0.2),
    "legal": (-0.8, -0.2),
    "spam": (-0.05, 0.05),
    "partnership": (0.3, 0.7),
    "recall_safety": (-0.95, -0.5),
}
_SLOT = re.compile(r"\{(\w+)\}")
_DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "resources" / "demo" / "phrases.json"
_OPENERS = ("", "", "", "Hi, ", "Hey @acme ", "Hello! ", "Um, ", "OK so ", "@acme ")
_MARKUP = (
    "<b>hi</b> ",
    "<img src=x onerror=alert(1)> ",
    '<a href="https://evil.example">click</a> ',
)


@dataclass(frozen=True, slots=True)
class DemoMessage:
    direction: str  # "in" or "out"
    text: str
    offset_s: int  # seconds after the thread's first message


@dataclass(frozen=True, slots=True)
class DemoThread:
    topic: str
    lang: str
    sentiment: float
    messages: tuple[DemoMessage, ...]


@dataclass(frozen=True, slots=True)
class DemoAuthor:
    display_name: str
    handle: str
    followers: int


class TextFactory:
    """Builds threads, authors and posts from the corpus; all randomness comes from the caller."""

    def __init__(self, corpus_path: Path | None = None) -> None:
        data: dict[str, Any] = json.loads(
            (corpus_path or _DEFAULT_CORPUS).read_text(encoding="utf-8")
        )
        self._c = data
        self._slots: dict[str, list[str]] = data["slots"]

    # -- public -------------------------------------------------------------------------------

    def thread(
        self, rng: random.Random, lang: str, topic: str, *, long: bool = False
    ) -> DemoThread:
        """A conversation: the customer's first message, then replies and follow-ups.

        Raises:
            ValueError: ``topic`` is not one of :data:`TOPICS`.
        """
        if topic not in TOPICS:
            raise ValueError(f"unknown demo topic {topic!r}; expected one of {', '.join(TOPICS)}")
        lang = lang if lang in LANGUAGES else "en"
        first = self._first(rng, lang, topic)
        if long and topic != "spam":
            first = f"{first} {self._fill(rng, rng.choice(self._c['en']['long_extra']))}"
        if topic != "spam" and rng.random() < SIGNED:
            # People sign off; it also keeps templated texts from several authors apart, which
            # the spam filter would otherwise read as one campaign ("the same text from 3
            # authors within 24 hours": a third of a day's Sandbox stream without this).
            names = self._c["names"].get(lang) or self._c["names"]["en"]
            first = f"{first} - {rng.choice(names['first'])}"
        messages = [DemoMessage("in", self._finish(rng, first), 0)]
        if topic != "spam":
            turns = rng.randint(10, 40) if long else self._turns(rng)
            offset = 0
            for turn in range(1, turns):
                offset += rng.randint(120, 6 * 3600) if turn % 2 else rng.randint(60, 3 * 3600)
                if turn % 2:
                    text = self._reply(rng, lang, topic, followup=turn > 1)
                    messages.append(DemoMessage("out", text, offset))
                else:
                    text = self._followup(rng, lang)
                    messages.append(DemoMessage("in", self._finish(rng, text), offset))
        low, high = SENTIMENT[topic]
        # + 0.0: a rounded -0.0 becomes 0.0, the same on every engine (SQLite keeps no sign).
        sentiment = round(rng.uniform(low, high), 3) + 0.0
        return DemoThread(topic, lang, sentiment, tuple(messages))

    def author(self, rng: random.Random, lang: str) -> DemoAuthor:
        names = self._c["names"].get(lang) or self._c["names"]["en"]
        first, last = rng.choice(names["first"]), rng.choice(names["last"])
        display = f"{last} {first}" if names.get("order") == "last_first" else f"{first} {last}"
        base = re.sub(r"[^A-Za-z0-9_]", "", _ascii(first + rng.choice(("", "_", "")) + last))
        if len(base) < 4:
            base = f"user{base}"
        handle = (base[:11] + str(rng.randint(0, 999)))[:15]
        # Heavy tail: most people have a few hundred followers, a few are influencers.
        followers = int(min(2_000_000, rng.paretovariate(1.2) * 40))
        return DemoAuthor(display, handle, followers)

    def post(self, rng: random.Random, lang: str) -> str:
        pool = self._c.get(lang, {}).get("posts") or self._c["en"]["posts"]
        return self._fill(rng, rng.choice(pool))

    # -- building blocks ----------------------------------------------------------------------

    def _first(self, rng: random.Random, lang: str, topic: str) -> str:
        table = self._c[lang]
        if "any" in table:  # languages with a small corpus: any topic reads as a question
            pool = table["any"] if topic != "spam" else self._c["en"]["spam"]
        else:
            pool = table[topic]
        text = self._fill(rng, rng.choice(pool))
        if lang == "en" and topic != "spam" and not text.startswith("@"):
            text = rng.choice(_OPENERS) + text
            if topic in ("complaint", "recall_safety") and rng.random() < 0.1:
                text = text.upper()
        return text

    def _reply(self, rng: random.Random, lang: str, topic: str, *, followup: bool) -> str:
        replies = self._c.get(lang, {}).get("reply") or self._c["en"]["reply"]
        if lang in ("fr", "it", "pt", "ja"):
            replies = self._c["en"]["reply"]
        key = "followup" if followup else (topic if topic in replies else "default")
        pool = replies.get(key) or replies.get("default") or self._c["en"]["reply"]["followup"]
        return self._fill(rng, rng.choice(pool))

    def _followup(self, rng: random.Random, lang: str) -> str:
        table = self._c.get(lang, {})
        pool = table.get("followup_in") or self._c["en"]["followup_in"]
        return self._fill(rng, rng.choice(pool))

    @staticmethod
    def _turns(rng: random.Random) -> int:
        r = rng.random()
        if r < 0.25:
            return 1  # unanswered
        if r < 0.60:
            return 2
        if r < 0.85:
            return 3
        return rng.randint(4, 7)

    def _fill(self, rng: random.Random, template: str) -> str:
        def slot(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "n6":
                return str(rng.randint(100_000, 999_999))
            if name == "n4":
                return str(rng.randint(1000, 9999))
            values = self._slots.get(name)
            if not values:
                return match.group(0)
            return _SLOT.sub(slot, rng.choice(values))

        return _SLOT.sub(slot, template)

    def _finish(self, rng: random.Random, text: str) -> str:
        """Occasional typos, trailing emoji or hashtags, and (rarely) pasted markup."""
        if rng.random() < 0.002:
            text = rng.choice(_MARKUP) + text
        if rng.random() < 0.08 and len(text) > 12:
            i = rng.randrange(1, len(text) - 2)
            text = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        if rng.random() < 0.15:
            text += " " + rng.choice(self._slots["hashtag"])
        return text[:MAX_TEXT]


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    return decomposed.encode("ascii", "ignore").decode("ascii")
