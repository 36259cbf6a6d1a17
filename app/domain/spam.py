"""The spam filter: a score with the reasons a person reads, pure over small frozen inputs.

Each signal that fires adds its weight; the score is the sum, at most 1. At or above the
workspace's threshold the conversation is spam. The signals:

- **link only**: the text is nothing but links, mentions and punctuation (at least one link);
- **the same text from several authors**: the caller keeps, per :func:`fingerprint`, who wrote
  that text and when (across batches), and passes those sightings in; enough distinct authors
  within the window (24 hours) fire the signal. Short texts ("Thank you!") never do;
- **a known spam author**: the author was marked as spam before (see :func:`learn`);
- **spam words**: the workspace's keyword list, matched as whole words or phrases, case- and
  accent-insensitive;
- **many links**, and **a character repeated** many times in a row ("!!!!!!!!", "soooooo").

Because every weight is positive and the sum is capped, a signal more never lowers the score.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

# A link: with a scheme, with www., or a bare domain followed by a path (bit.ly/abc).
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']+|\b(?:[^\W_](?:[\w-]*[^\W_])?\.)+[a-z]{2,}/[^\s<>\"']*",
    re.IGNORECASE,
)
_HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/\s]*@)?([^/?#:\s]+)", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@\w+")
_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")
_REPEAT = re.compile(r"([^\s\d])\1+")


def fold(text: str) -> str:
    """The text as every signal here reads it (see :func:`_fold`).

    Pass it in :attr:`SpamInput.folded` when it was made already, as ingest does.
    """
    return _fold(text)


def _may_link(folded: str) -> bool:
    """Whether ``folded`` can hold a link at all.

    Each of :data:`_URL`'s forms has "www." or a "/" (a scheme's or a path's), so most messages
    skip the link search.
    """
    return "/" in folded or "www." in folded


def _fold(text: str) -> str:
    """Casefolded, without accents, compatibility forms unified (``ﬁancé`` → ``fiance``)."""
    if text.isascii():  # NFKD changes no ASCII text: most messages take this path (ingest)
        return text.lower()
    folded = unicodedata.normalize("NFKD", text).casefold()
    decomposed = unicodedata.normalize("NFKD", folded)
    marks = [c for c in set(decomposed) if unicodedata.combining(c)]
    if not marks:
        return decomposed
    return decomposed.translate(dict.fromkeys(map(ord, marks)))


def _host(url: str) -> str:
    m = _HOST.match(url)
    host = (m.group(1) if m else url).casefold().rstrip(".")
    return host.removeprefix("www.")


def normalize(text: str) -> str:
    """The text as the duplicate check compares it, readable (what :func:`fingerprint` hashes).

    Case, accents and whitespace do not count, runs of digits are one ``0``, mentions are
    dropped, punctuation is dropped, and a link is its host (``url:shop.example``), so the same
    campaign with other tracking codes, other numbers or other people mentioned compares equal.
    """
    return _normalized(_fold(text))


def normalize_folded(folded: str) -> str:
    """:func:`normalize` of text already folded (:func:`fold`)."""
    return _normalized(folded)


def _normalized(folded: str) -> str:
    """:func:`normalize` of text already folded (:func:`_fold`)."""
    if not _may_link(folded):
        return " ".join(_words(folded, digits=False))
    tokens: list[str] = []
    pos = 0
    for m in _URL.finditer(folded):
        tokens.extend(_words(folded[pos : m.start()], digits=False))
        tokens.append("url:" + _host(m.group()))
        pos = m.end()
    tokens.extend(_words(folded[pos:], digits=False))
    return " ".join(tokens)


def _words(text: str, *, digits: bool) -> list[str]:
    if "@" in text:
        text = _MENTION.sub(" ", text)
    if not digits:
        text = _DIGITS.sub("0", text)
    return _WORD.findall(text)


def fingerprint(text: str) -> str:
    """A short, stable key of the normalized text (32 hex digits) to look up earlier sightings."""
    return fingerprint_of(normalize(text))


def fingerprint_of(normalized: str) -> str:
    """:func:`fingerprint` of a text already normalized (:func:`normalize`)."""
    return hashlib.blake2b(normalized.encode("utf-8"), digest_size=16).hexdigest()


def _phrase(keyword: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(_fold(keyword)))


@dataclass(frozen=True)
class Sighting:
    """Someone wrote a text with this fingerprint at a time (the caller's history)."""

    author: str
    at: datetime


@dataclass(frozen=True)
class SpamInput:
    """One message to score.

    ``seen`` holds the earlier sightings of this text's fingerprint (any author, any time: only
    those within the window count, and this message's own author is counted once).
    """

    text: str
    author: str
    at: datetime
    seen: tuple[Sighting, ...] = ()
    known_spam_author: bool = False
    normalized: str | None = None  # normalize(text), when the caller has it already
    folded: str | None = None  # fold(text), when the caller has it already


@dataclass(frozen=True)
class SpamConfig:
    """The workspace's spam settings: threshold, keyword list and the signals' weights.

    Keywords are words or phrases ("free followers"); they are folded once, here.
    """

    threshold: float = 0.6
    keywords: tuple[str, ...] = ()
    duplicate_authors: int = 3  # distinct authors, this one included, that make a text suspect
    duplicate_window: timedelta = timedelta(hours=24)
    duplicate_min_chars: int = 20  # normalized length below which repeats are normal ("thanks")
    many_links: int = 3
    repeat_run: int = 6
    link_only_weight: float = 0.6
    duplicate_weight: float = 0.6
    known_author_weight: float = 0.8
    keyword_weight: float = 0.35  # per distinct keyword, up to ``keyword_cap`` of them
    keyword_cap: int = 2
    many_links_weight: float = 0.25
    repeat_weight: float = 0.1
    _phrases: frozenset[tuple[str, ...]] = field(init=False, repr=False, compare=False)
    _starts: dict[str, tuple[int, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0 < self.threshold <= 1:
            raise ValueError(f"The spam threshold is above 0 and at most 1, not {self.threshold}.")
        weights = (
            self.link_only_weight,
            self.duplicate_weight,
            self.known_author_weight,
            self.keyword_weight,
            self.many_links_weight,
            self.repeat_weight,
        )
        if any(not 0 <= w <= 1 for w in weights):
            raise ValueError("Every spam weight is between 0 and 1.")
        phrases = frozenset(p for p in map(_phrase, self.keywords) if p)
        object.__setattr__(self, "_phrases", phrases)
        starts: dict[str, set[int]] = {}
        for p in phrases:
            starts.setdefault(p[0], set()).add(len(p))
        object.__setattr__(self, "_starts", {w: tuple(sorted(n)) for w, n in starts.items()})

    def matched_keywords(self, text: str) -> tuple[str, ...]:
        """The keywords (folded, in order of first appearance) found in ``text`` as whole words."""
        return self._matched(_fold(text))

    def _matched(self, folded: str) -> tuple[str, ...]:
        """:meth:`matched_keywords` of text already folded (:func:`_fold`)."""
        if not self._phrases:
            return ()
        words = _words(_URL.sub(" ", folded) if _may_link(folded) else folded, digits=True)
        found: dict[tuple[str, ...], None] = {}
        starts = self._starts
        for i, word in enumerate(words):
            lengths = starts.get(word)
            if lengths is None:
                continue
            for n in lengths:
                gram = tuple(words[i : i + n])
                if len(gram) == n and gram in self._phrases:
                    found.setdefault(gram)
        return tuple(" ".join(g) for g in found)


@dataclass(frozen=True)
class SpamVerdict:
    """The score (0 … 1), the reasons behind it, and whether it reaches the threshold."""

    score: float
    reasons: tuple[str, ...]
    is_spam: bool


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _quoted(words: Iterable[str]) -> str:
    return ", ".join(f"“{w}”" for w in words)


def score(item: SpamInput, config: SpamConfig) -> SpamVerdict:
    """The spam verdict of one message; never raises on any text."""
    total = 0.0
    reasons: list[str] = []

    def add(weight: float, reason: str) -> None:
        nonlocal total
        total += weight
        reasons.append(reason)

    folded = item.folded if item.folded is not None else _fold(item.text)
    links = _URL.findall(folded) if _may_link(folded) else []
    if links:
        rest = _MENTION.sub(" ", _URL.sub(" ", folded))
        if not any(map(str.isalnum, rest)):
            only = "a link" if len(links) == 1 else f"{len(links)} links"
            add(config.link_only_weight, f"The text is nothing but {only}.")
    if item.known_spam_author:
        add(config.known_author_weight, "The author was marked as spam before.")
    keywords = config._matched(folded)
    if keywords:
        counted = min(len(keywords), config.keyword_cap)
        noun = "the spam word" if len(keywords) == 1 else "the spam words"
        add(config.keyword_weight * counted, f"It contains {noun} {_quoted(keywords)}.")
    if len(item.text) >= config.duplicate_min_chars and (
        len(item.normalized if item.normalized is not None else _normalized(folded))
        >= config.duplicate_min_chars
    ):
        window = config.duplicate_window
        authors = {s.author for s in item.seen if abs(s.at - item.at) <= window}
        authors.add(item.author)
        if len(authors) >= config.duplicate_authors:
            hours = window.total_seconds() / 3600
            span = "24 hours" if hours == 24 else _plural(int(hours), "hour")
            add(
                config.duplicate_weight,
                f"The same text from {len(authors)} authors within {span}.",
            )
    if len(links) >= config.many_links:
        add(config.many_links_weight, f"It has {len(links)} links.")
    longest = max((len(m.group()) for m in _REPEAT.finditer(item.text)), default=0)
    if longest >= config.repeat_run:
        add(config.repeat_weight, f"A character is repeated {longest} times in a row.")

    value = min(1.0, round(total, 9))
    return SpamVerdict(value, tuple(reasons), value >= config.threshold)


class AgentVerdict(StrEnum):
    """What an agent said about a conversation."""

    SPAM = "spam"
    NOT_SPAM = "not_spam"


def learn(
    author_flags: frozenset[str], author: str, verdict_by_agent: AgentVerdict | str
) -> frozenset[str]:
    """The known-spam authors after an agent's "Spam" (adds the author) or "Not spam" (removes).

    Raises:
        ValueError: a verdict other than ``spam`` or ``not_spam``.
    """
    verdict = AgentVerdict(verdict_by_agent)
    if verdict is AgentVerdict.SPAM:
        return author_flags | {author}
    return author_flags - {author}


MAX_KEYWORDS = 500
MAX_KEYWORD_CHARS = 100


class SpamSettingsError(ValueError):
    """A spam threshold or keyword list that cannot be used; the message says why."""


def clean_settings(threshold: float, keywords: Iterable[str]) -> tuple[float, tuple[str, ...]]:
    """The threshold checked and the keyword list tidied: trimmed, spaces collapsed, each once.

    Two keywords that fold to the same words ("Crypto" and "crypto ") are one; the first
    spelling is kept.

    Raises:
        SpamSettingsError: the threshold is not above 0 and at most 1, a keyword has no word,
            is too long, or there are too many.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise SpamSettingsError("The spam threshold is a number above 0 and at most 1.")
    if not 0 < threshold <= 1:
        raise SpamSettingsError(f"The spam threshold is above 0 and at most 1, not {threshold:g}.")
    kept: dict[tuple[str, ...], str] = {}
    for raw in keywords:
        keyword = " ".join(str(raw).split())
        if not keyword:
            continue
        if len(keyword) > MAX_KEYWORD_CHARS:
            raise SpamSettingsError(
                f"The spam word “{keyword[:30]}…” is longer than {MAX_KEYWORD_CHARS} characters."
            )
        phrase = _phrase(keyword)
        if not phrase:
            raise SpamSettingsError(
                f"The spam word “{keyword}” has no letter or digit: it would never match."
            )
        kept.setdefault(phrase, keyword)
    if len(kept) > MAX_KEYWORDS:
        raise SpamSettingsError(f"At most {MAX_KEYWORDS} spam words, not {len(kept)}.")
    return float(threshold), tuple(kept.values())
