"""How long a draft is and how long it may be, per network and kind of draft: one table.

- **X** posts and replies count X's weighted characters (twitter-text v3, the default
  configuration of ``twitter-text-parser``): most code points weigh 2, Latin and a few
  punctuation ranges weigh 1, every link 23, every emoji (ZWJ sequences too) 2, after NFC
  normalization; at most 280. X direct messages allow 10,000 characters.
- **Facebook** posts allow 63,206 characters; comments and replies use the post's limit
  (connectors.md names no other); Messenger messages allow 2,000. They count code points
  (``len``), and a text whose UTF-16 length is over the limit gets a warning as well.
- **Sandbox** stands in for a remote network in demos and counts as X does, so the demo's live
  counters behave like a real network's.

:func:`x_weighted_length` gives ``parse_tweet(text).weightedLength`` (a hypothesis test holds it
to that) without the library's cost: its emoji expression (a 1,400-way alternation) takes 22 ms
over a 2,000-character draft here and its link expression 2.4 ms. Emoji are found by a
longest-prefix look-up in the library's emoji list, links by the library's own extractor run
only on the words that can hold one. The library is imported on first use (it takes 0.2 s).
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from app.domain.enums import DraftKind, Network

X_POST_LIMIT = 280
X_DM_LIMIT = 10_000
FACEBOOK_POST_LIMIT = 63_206
MESSENGER_LIMIT = 2_000


@dataclass(frozen=True, slots=True)
class LengthRule:
    """One cell of :data:`LIMITS`: the limit, how it is counted, and where it holds."""

    limit: int
    counting: Literal["x", "chars"]
    place: str  # "on X", "in a Messenger message": how a finding names it
    utf16_warning: bool = False


LIMITS: Mapping[tuple[Network, DraftKind], LengthRule] = MappingProxyType(
    {
        (Network.X, DraftKind.POST): LengthRule(X_POST_LIMIT, "x", "on X"),
        (Network.X, DraftKind.REPLY): LengthRule(X_POST_LIMIT, "x", "on X"),
        (Network.X, DraftKind.DM): LengthRule(X_DM_LIMIT, "chars", "in an X direct message"),
        (Network.FACEBOOK, DraftKind.POST): LengthRule(
            FACEBOOK_POST_LIMIT, "chars", "in a Facebook post", utf16_warning=True
        ),
        (Network.FACEBOOK, DraftKind.REPLY): LengthRule(
            FACEBOOK_POST_LIMIT, "chars", "in a Facebook comment", utf16_warning=True
        ),
        (Network.FACEBOOK, DraftKind.DM): LengthRule(
            MESSENGER_LIMIT, "chars", "in a Messenger message", utf16_warning=True
        ),
        (Network.SANDBOX, DraftKind.POST): LengthRule(X_POST_LIMIT, "x", "on Sandbox"),
        (Network.SANDBOX, DraftKind.REPLY): LengthRule(X_POST_LIMIT, "x", "on Sandbox"),
        (Network.SANDBOX, DraftKind.DM): LengthRule(
            X_DM_LIMIT, "chars", "in a Sandbox direct message"
        ),
    }
)


def rule_of(network: Network, kind: DraftKind) -> LengthRule:
    """The :data:`LIMITS` cell for a network and kind of draft."""
    return LIMITS[Network(network), DraftKind(kind)]


def limit_of(network: Network, kind: DraftKind) -> int:
    """The network's own limit for this kind of draft (a policy may be stricter)."""
    return rule_of(network, kind).limit


def length_of(text: str, network: Network, kind: DraftKind) -> int:
    """The length of ``text`` as the network counts it for this kind of draft."""
    if rule_of(network, kind).counting == "x":
        return x_weighted_length(text)
    return len(text)


def overflow_start(text: str, network: Network, kind: DraftKind, limit: int) -> int | None:
    """Where ``text`` goes over ``limit`` as the network counts it.

    Returns:
        The index of the first character that does not fit, or ``None`` when all of it fits.
    """
    return measure(text, network, kind, limit)[1]


def measure(text: str, network: Network, kind: DraftKind, limit: int) -> tuple[int, int | None]:
    """:func:`length_of` and :func:`overflow_start` in one walk over the text."""
    if rule_of(network, kind).counting == "x":
        return _x_measure(text, limit)
    n = len(text)
    return n, (limit if n > limit else None)


def utf16_length(text: str) -> int:
    """UTF-16 code units (what some of Facebook's counters count): emoji count 2."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf16_overflow_start(text: str, limit: int) -> int | None:
    """The index of the first character past ``limit`` UTF-16 code units, or ``None``."""
    if len(text) > limit:
        return limit
    units = 0
    for i, c in enumerate(text):
        units += 2 if ord(c) > 0xFFFF else 1
        if units > limit:
            return i
    return None


# -- X's weighted length ---------------------------------------------------------------------


def x_weighted_length(text: str) -> int:
    """``twitter_text.parse_tweet(text).weightedLength``, computed faster (see the module)."""
    return _x_counter().walk(text, None)[0]


def _x_measure(text: str, limit: int) -> tuple[int, int | None]:
    counter = _x_counter()
    length, cut, normalized = counter.walk(text, limit)
    if length <= limit or cut is None:
        return length, None
    if normalized == text:
        return length, cut
    # NFC and line-ending conversion moved characters: the shortest prefix whose normalized
    # form reaches past the cut ends with the character that does not fit.
    lo, hi = 1, len(text)
    while lo < hi:
        mid = (lo + hi) // 2
        if len(counter.normalize(text[:mid])) > cut:
            hi = mid
        else:
            lo = mid + 1
    return length, lo - 1


# Characters twitter-text treats as white space (its ``spaces_group``): no link contains one.
_X_SPACE = re.compile(r"[\t-\r \x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
# Every link twitter-text finds has a domain: a dot followed by a letter (its top-level domain).
_DOT_LETTER = re.compile(r"\.[^\W\d_]")


@dataclass(frozen=True, slots=True)
class _XCounter:
    normalize: Callable[[str], str]
    urls: Callable[[str], list[dict[str, Any]]]
    scale: int
    light: int  # weight of a code point in the configured ranges
    heavy: int  # weight of any other code point
    url_weight: int
    emoji_weight: int
    heavy_chars: re.Pattern[str]
    emoji_lengths: Mapping[str, tuple[int, ...]]  # first character -> lengths, longest first
    emoji: frozenset[str]  # every emoji sequence
    emoji_starts: frozenset[str]  # every first character of one
    ascii_starts: frozenset[str]  # those in ASCII (a keycap's digit, "#", "*")
    ascii_seconds: frozenset[str]  # what follows those in a sequence (U+FE0F, U+20E3)

    def _urls(self, text: str) -> list[tuple[int, int]]:
        """``(start, length)`` of each link, as ``extract_urls_with_indices`` finds them.

        The library's link expression is slow (2.4 ms over a 2,000-character draft here), and a
        link never holds white space, so it runs only on the words that hold a dot followed by a
        letter, each with the white space before it (the context the expression looks at).
        """
        dots = [m.start() for m in _DOT_LETTER.finditer(text)]
        if not dots:
            return []
        spaces = [m.start() for m in _X_SPACE.finditer(text)]
        found: list[tuple[int, int]] = []
        word_start = -1
        for dot in dots:
            k = bisect.bisect_right(spaces, dot)
            start = spaces[k - 1] if k else 0  # the white space before the word, if any
            if start == word_start:
                continue
            word_start = start
            end = spaces[k] if k < len(spaces) else len(text)
            for e in self.urls(text[start:end]):
                found.append((start + e["indices"][0], len(e["url"])))
        return found

    def _emojis(self, text: str) -> list[tuple[int, int]]:
        """``(start, length)`` of each emoji, as ``extract_emojis_with_indices`` finds them.

        The library's expression is a 1,400-way alternation with a class of emoji beyond
        U+FFFF that the regular expression engine scans one by one for every character; here
        the candidates are the text's characters that start an emoji, found with set and
        ``str.find`` operations, and each takes its longest sequence in the emoji list (what
        the alternation, sorted longest first, matches).
        """
        if not self.emoji_lengths:  # pragma: no cover - only if the library's layout changes
            from twitter_text.extract_emojis import extract_emojis_with_indices

            return [
                (e["indices"][0], e["indices"][1] - e["indices"][0])
                for e in extract_emojis_with_indices(text)
            ]
        chars = set(text)
        starts = chars & self.emoji_starts
        if starts & self.ascii_starts and chars.isdisjoint(self.ascii_seconds):
            starts -= self.ascii_starts  # a keycap's digit with no keycap mark anywhere
        if not starts:
            return []
        positions: list[int] = []
        for c in starts:
            i = text.find(c)
            while i != -1:
                positions.append(i)
                i = text.find(c, i + 1)
        positions.sort()
        found: list[tuple[int, int]] = []
        lengths, known = self.emoji_lengths, self.emoji
        free = 0
        for pos in positions:
            if pos < free:
                continue
            for n in lengths[text[pos]]:
                if text[pos : pos + n] in known:
                    found.append((pos, n))
                    free = pos + n
                    break
        return found

    def _plain(self, segment: str) -> int:
        if segment.isascii():
            return self.light * len(segment)
        heavy = len(self.heavy_chars.findall(segment))
        return self.light * (len(segment) - heavy) + self.heavy * heavy

    def _first_over(self, segment: str, room: int) -> int:
        """Index in ``segment`` of the character that takes the weight over ``room``."""
        light, heavy, pattern = self.light, self.heavy, self.heavy_chars
        total = 0
        for i, c in enumerate(segment):
            total += heavy if pattern.match(c) else light
            if total > room:
                return i
        return len(segment)  # pragma: no cover - callers pass a segment that goes over

    def walk(self, text: str, limit: int | None) -> tuple[int, int | None, str]:
        """Walk ``text`` as ``parse_tweet`` does.

        Returns:
            The weighted length, the index in the normalized text where the length first
            exceeds ``limit`` (``None`` if it never does), and the normalized text (NFC, every
            line ending a line feed).
        """
        normalized = self.normalize(text)
        entities: dict[int, tuple[int, int]] = {}
        for start, n in self._urls(normalized):
            entities[start] = (n, self.url_weight)
        if not normalized.isascii():  # every emoji has a code point above U+007F
            for start, n in self._emojis(normalized):
                entities.setdefault(start, (n, self.emoji_weight))
        cap = None if limit is None else (limit + 1) * self.scale  # int(total / scale) > limit
        total = 0
        cut: int | None = None
        pos = 0
        for start in sorted(entities):
            if start < pos:
                continue  # inside an earlier link or emoji, as the library skips it
            weight = self._plain(normalized[pos:start])
            if cap is not None and cut is None and total + weight >= cap:
                cut = pos + self._first_over(normalized[pos:start], cap - 1 - total)
            total += weight
            n, weight = entities[start]
            if cap is not None and cut is None and total + weight >= cap:
                cut = start
            total += weight
            pos = start + n
        weight = self._plain(normalized[pos:])
        if cap is not None and cut is None and total + weight >= cap:
            cut = pos + self._first_over(normalized[pos:], cap - 1 - total)
        total += weight
        return int(total / self.scale), cut, normalized


@functools.cache
def _x_counter() -> _XCounter:
    from twitter_text.config import config
    from twitter_text.extract_urls import extract_urls_with_indices
    from twitter_text.parse_tweet import convert_line_ending

    options = config["defaults"]
    ranges = options["ranges"]
    weights = {r["weight"] for r in ranges}
    if len(weights) != 1 or not options.get("emoji_parsing_enabled"):  # pragma: no cover
        raise RuntimeError("twitter-text-parser's configuration changed; check app.domain.lengths")
    light_class = "".join(f"{_escape(r['start'])}-{_escape(r['end'])}" for r in ranges)

    def normalize(text: str) -> str:
        return str(convert_line_ending(unicodedata.normalize("NFC", text)))

    lengths: dict[str, tuple[int, ...]] = {}
    known: frozenset[str] = frozenset()
    try:
        from twitter_text.regexp.emoji import emoji_list

        sequences = {"".join(chr(int(cp, 16)) for cp in e.codepoint.split()) for e in emoji_list}
    except (ImportError, AttributeError, ValueError):  # pragma: no cover - layout changed
        sequences = set()
    if sequences and all(not s.isascii() for s in sequences):
        by_first: dict[str, set[int]] = {}
        for s in sequences:
            by_first.setdefault(s[0], set()).add(len(s))
        lengths = {c: tuple(sorted(ns, reverse=True)) for c, ns in by_first.items()}
        known = frozenset(sequences)
    ascii_starts = frozenset(c for c in lengths if c.isascii())
    ascii_seconds = frozenset(s[1] for s in known if s[0] in ascii_starts)
    return _XCounter(
        normalize=normalize,
        urls=extract_urls_with_indices,
        scale=int(options["scale"]),
        light=int(next(iter(weights))),
        heavy=int(options["default_weight"]),
        url_weight=int(options["transformed_url_length"]) * int(options["scale"]),
        emoji_weight=int(options["default_weight"]),
        heavy_chars=re.compile(f"[^{light_class}]"),
        emoji_lengths=MappingProxyType(lengths),
        emoji=known,
        emoji_starts=frozenset(lengths),
        ascii_starts=ascii_starts,
        ascii_seconds=ascii_seconds,
    )


def _escape(code_point: int) -> str:
    return f"\\U{code_point:08x}"
