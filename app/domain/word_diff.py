"""A word-level diff between two versions of a draft, as spans of plain text.

The texts are cut into tokens: runs of word characters, runs of white space, and runs of
anything else (punctuation, emoji). The tokens are compared with :mod:`difflib`; the result is
a sequence of :class:`Span` (same, removed, added) whose ``same`` and ``removed`` parts joined
give the old text and whose ``same`` and ``added`` parts give the new one. Neighbouring spans
of one kind are merged, and a replaced stretch reads as its removed words, then the added ones.

The common beginning and end are taken off before comparing: most edits touch a few words of
a long text, and what is left for :class:`difflib.SequenceMatcher` stays small.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]+")


class SpanKind(StrEnum):
    SAME = "same"
    REMOVED = "removed"
    ADDED = "added"


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of text that both versions share, or only the old, or only the new one."""

    kind: SpanKind
    text: str


def tokens(text: str) -> list[str]:
    """``text`` as words, white-space runs and punctuation runs; joined, they are ``text``."""
    return _TOKEN.findall(text)


def word_diff(old: str, new: str) -> tuple[Span, ...]:
    """The spans that turn ``old`` into ``new``, word by word.

    Args:
        old: The previous version's text.
        new: The current version's text.

    Returns:
        Spans in reading order; none for two empty texts, one ``same`` span for two equal ones.
    """
    a, b = tokens(old), tokens(new)
    head = 0
    while head < len(a) and head < len(b) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < len(a) - head and tail < len(b) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    spans: list[Span] = []

    def put(kind: SpanKind, parts: list[str]) -> None:
        text = "".join(parts)
        if not text:
            return
        if spans and spans[-1].kind is kind:
            spans[-1] = Span(kind, spans[-1].text + text)
        else:
            spans.append(Span(kind, text))

    put(SpanKind.SAME, a[:head])
    mid_a, mid_b = a[head : len(a) - tail], b[head : len(b) - tail]
    matcher = SequenceMatcher(None, mid_a, mid_b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            put(SpanKind.SAME, mid_a[i1:i2])
        else:
            put(SpanKind.REMOVED, mid_a[i1:i2])
            put(SpanKind.ADDED, mid_b[j1:j2])
    put(SpanKind.SAME, a[len(a) - tail :])
    return tuple(spans)


def old_text(spans: tuple[Span, ...]) -> str:
    """The previous version, read back from the spans."""
    return "".join(s.text for s in spans if s.kind is not SpanKind.ADDED)


def new_text(spans: tuple[Span, ...]) -> str:
    """The current version, read back from the spans."""
    return "".join(s.text for s in spans if s.kind is not SpanKind.REMOVED)
