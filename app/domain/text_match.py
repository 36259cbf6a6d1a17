"""Many terms found in one pass, as whole words, case- and accent-insensitive (routing, policy).

Text and terms are folded the same way: NFKD-decomposed, casefolded, combining marks removed
(``Garantíe`` reads ``garantie``, ``ﬁ`` reads ``fi``, ``ß`` reads ``ss``), and runs of white space
become one space. A term's edge that is a letter, digit or ``_`` must meet a non-word character
or the end of the text; an edge that is punctuation (``#fail``, ``:(``) needs no boundary, and
neither do scripts written without spaces (Chinese, Japanese, Thai).

:func:`normalize_text` folds for comparison only. :func:`fold_mapped` folds and remembers where
each folded character came from, so a match in the folded text maps back to a range of the
original text even where folding changed its length (``ß`` → ``ss``, a dropped accent).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import ahocorasick


def normalize_text(text: str) -> str:
    """Casefolded, accents stripped (NFKD minus combining marks), white space collapsed."""
    if text.isascii():
        return " ".join(text.lower().split())
    folded = unicodedata.normalize("NFKD", text).casefold()
    marks = [c for c in set(folded) if unicodedata.combining(c)]
    if marks:
        folded = folded.translate(dict.fromkeys(map(ord, marks)))
    return " ".join(folded.split())


def _no_space_script(c: str) -> bool:
    o = ord(c)
    return (
        0x0E00 <= o <= 0x0EFF  # Thai, Lao
        or 0x3040 <= o <= 0x30FF  # kana
        or 0x3400 <= o <= 0x9FFF  # CJK ideographs
        or 0xF900 <= o <= 0xFAFF
        or 0xFF66 <= o <= 0xFF9F  # half-width kana
        or 0x20000 <= o <= 0x3FFFF
    )


def is_word_char(c: str) -> bool:
    """Whether ``c`` continues a word (so a term may not end or start beside it)."""
    if c.isascii():
        return c.isalnum() or c == "_"
    if _no_space_script(c):
        return False
    return c.isalnum() or unicodedata.category(c)[0] == "M"


def edge_needs_boundary(c: str) -> bool:
    """Whether a term starting or ending with ``c`` must meet a word boundary there."""
    return is_word_char(c)


# -- folding with a way back -----------------------------------------------------------------

_SPACES = re.compile(r"\s+")
_ODD_SPACE = re.compile(r"[^\S ]|  ")  # white space other than one plain space


@dataclass(frozen=True, slots=True)
class FoldedText:
    """A text as :func:`normalize_text` folds it, and where each folded character came from.

    ``text`` is :func:`normalize_text`'s result except that white space at either end is kept
    (one space), so positions stay simple. ``origin[i]`` is the index in the original text of
    the character that gave ``text[i]``; ``None`` means the same index (nothing moved).
    """

    text: str
    original_length: int
    origin: tuple[int, ...] | None = None

    def original_range(self, start: int, end: int) -> tuple[int, int]:
        """The range ``[start, end)`` of the original text that gave ``text[start:end]``.

        A range that covers part of what one original character gave (one ``s`` of ``ß``)
        widens to that whole character; combining marks after the last character (dropped by
        folding) belong to it.
        """
        origin = self.origin
        if origin is None:
            return start, end
        first, last = origin[start], origin[end - 1]
        n = len(origin)
        k = end
        while k < n and origin[k] == last:
            k += 1
        return first, (origin[k] if k < n else self.original_length)


def _fold_char(c: str) -> str:
    if c.isascii():
        return c.lower()
    folded = unicodedata.normalize("NFKD", c).casefold()
    return "".join(x for x in folded if not unicodedata.combining(x))


_ASCII_FOLD = {i: chr(i).lower() for i in range(128)}


class _FoldTable(dict[int, str]):
    """``str.translate``'s table: each character's fold, worked out the first time it is seen.

    Remembers the characters whose fold is not exactly one character (``ß``, ``ﬁ``, accents).
    """

    def __init__(self) -> None:
        super().__init__(_ASCII_FOLD)
        self.irregular: dict[str, str] = {}

    def __missing__(self, code: int) -> str:
        c = chr(code)
        folded = self[code] = _fold_char(c)
        if len(folded) != 1:
            self.irregular[c] = folded
        return folded


def fold_mapped(text: str) -> FoldedText:
    """Fold ``text`` like :func:`normalize_text`, keeping the way back to the original.

    Per character: decomposing, casefolding and dropping combining marks character by
    character gives what :func:`normalize_text` gives for the whole text (canonical reordering
    only moves combining marks, and those are dropped; casefolding has no context).
    """
    if text.isascii():
        return _collapse_spaces(text.lower(), None, len(text))
    table = _FoldTable()
    folded = text.translate(table)
    if not table.irregular:
        return _collapse_spaces(folded, None, len(text))
    # Where a character gave more or fewer than one: runs between them keep their positions.
    at: list[int] = []
    for c in table.irregular:
        i = text.find(c)
        while i != -1:
            at.append(i)
            i = text.find(c, i + 1)
    at.sort()
    origin: list[int] = []
    pos = 0
    for i in at:
        origin.extend(range(pos, i))
        origin.extend([i] * len(table.irregular[text[i]]))
        pos = i + 1
    origin.extend(range(pos, len(text)))
    return _collapse_spaces(folded, tuple(origin), len(text))


def _collapse_spaces(folded: str, origin: tuple[int, ...] | None, n: int) -> FoldedText:
    if not _ODD_SPACE.search(folded):
        return FoldedText(folded, n, origin)
    pieces: list[str] = []
    kept: list[int] = []
    source = range(len(folded)) if origin is None else origin
    pos = 0
    for m in _SPACES.finditer(folded):
        start, end = m.span()
        pieces.append(folded[pos:start])
        pieces.append(" ")
        kept.extend(source[pos : start + 1])
        pos = end
    pieces.append(folded[pos:])
    kept.extend(source[pos:])
    return FoldedText("".join(pieces), n, tuple(kept))


# -- the automaton ---------------------------------------------------------------------------


class TermIndex:
    """Normalized terms (:func:`normalize_text`) with their ids, in one Aho-Corasick automaton.

    Built once; :meth:`ids_in` and :meth:`hits` search a folded text in one pass and keep only
    whole-word occurrences.
    """

    def __init__(self, terms: Mapping[str, int]) -> None:
        automaton = ahocorasick.Automaton()
        for term, tid in terms.items():
            if not term:
                raise ValueError("a term cannot be empty")
            automaton.add_word(
                term, (tid, len(term), edge_needs_boundary(term[0]), edge_needs_boundary(term[-1]))
            )
        automaton.make_automaton()
        self._automaton = automaton
        self._empty = not terms

    def ids_in(self, norm: str) -> set[int]:
        """Ids of the terms that occur in the folded text ``norm`` as whole words."""
        found: set[int] = set()
        if self._empty:
            return found
        last = len(norm) - 1
        for end, (tid, length, need_start, need_end) in self._automaton.iter(norm):
            start = end - length + 1
            if need_start and start > 0 and is_word_char(norm[start - 1]):
                continue
            if need_end and end < last and is_word_char(norm[end + 1]):
                continue
            found.add(tid)
        return found

    def hits(self, norm: str) -> list[tuple[int, int, int]]:
        """Every whole-word occurrence in ``norm`` as ``(start, end, id)``, end exclusive."""
        out: list[tuple[int, int, int]] = []
        if self._empty:
            return out
        last = len(norm) - 1
        for end, (tid, length, need_start, need_end) in self._automaton.iter(norm):
            start = end - length + 1
            if need_start and start > 0 and is_word_char(norm[start - 1]):
                continue
            if need_end and end < last and is_word_char(norm[end + 1]):
                continue
            out.append((start, end + 1, tid))
        return out
