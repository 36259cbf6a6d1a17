"""A strict, fast reader for the strategy file's own shape; anything else is left to ruamel.

:func:`scan` reads the YAML subset :mod:`app.domain.strategy_emit` writes, plus what a person
typically adds by hand: full-line and trailing comments, blank lines, plain, single- and
double-quoted scalars on one line, ``|`` blocks (with ``-``/``+`` and an indentation digit),
``[]``/``{}`` and flow lists of ids, block lists. Its result is a tree of :class:`Node` and
:class:`Seq` holding the values ruamel's round-trip loader would give (str, int, float, bool,
None, date, lists and mappings) and the 1-based line of every key and list entry, which the
file's reader (:mod:`app.domain.strategy_file`) checks exactly as it checks ruamel's tree.

Whenever a line is outside that subset, or anything is doubtful (a tab, a CR on its own, a
Unicode line separator, an anchor or tag, a duplicate key, a scalar on several lines, an
integer written in hex, a time of day, an indentation other than the file's own), it returns
None and the caller reads the text with ruamel instead: both give the same doc and the same
errors, only at a different speed.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from app.domain.strategy_scalars import STR, plain_tag, unescape

__all__ = ["Node", "Seq", "scan"]


class Node(dict[str, Any]):
    """A mapping as read, with the 1-based line it starts on and the line of each key."""

    __slots__ = ("line", "lines")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: dict[str, int] = {}


class Seq(list[Any]):
    """A list as read, with the 1-based line it starts on and the line of each entry."""

    __slots__ = ("line", "lines")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: list[int] = []


class _DoubtError(Exception):
    """The text is outside what this reader is sure of: ruamel reads it."""


# Characters this reader takes as they are; a tab, a lone CR, NEL, U+2028/9, a BOM or a
# control character sends the text to ruamel.
_DOUBTFUL = re.compile(
    r"[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_KEY = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_.\-]*):(?= |$)")
_FLOW_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
_BLOCK = re.compile(r"\|(?:([1-9])?([-+])?|([-+])([1-9]))(?: +#.*)? *")
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)(?:\.[0-9]*(?:[eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NOT_PLAIN = frozenset("#,[]{}&*!|>'\"%@`")
_TAGS = "tag:yaml.org,2002:"
_KEYS_OK: dict[str, bool] = {}


def scan(text: str) -> Node | None:
    """The file's tree, or None when the text is outside the subset this reader knows."""
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None
        text = text.replace("\r\n", "\n")
    if _DOUBTFUL.search(text):
        return None
    try:
        return _Scanner(text).document()
    except _DoubtError:
        return None


_CACHE: dict[str, Any] = {}  # plain scalar -> value: a file repeats most of its values


def _plain(s: str) -> Any:
    """The value of a plain scalar (comment and trailing spaces already cut off)."""
    value = _CACHE.get(s, _CACHE)
    if value is not _CACHE:
        return value
    value = _resolve(s)
    if len(_CACHE) > 50_000:
        _CACHE.clear()
    _CACHE[s] = value
    return value


def _resolve(s: str) -> Any:
    if ": " in s or s.endswith(":") or s.startswith(("---", "...")):
        raise _DoubtError  # a mapping on the line, or a document marker
    tag = plain_tag(s)
    if tag == STR:
        return s
    kind = tag[len(_TAGS) :]
    if kind == "null":
        return None
    if kind == "bool":
        return s.lower() == "true"
    if kind == "int" and _INT.fullmatch(s) and len(s) < 4_000:
        return int(s)
    if kind == "float" and _FLOAT.fullmatch(s):
        return float(s)
    if kind == "timestamp" and _DATE.fullmatch(s):
        try:
            return date.fromisoformat(s)
        except ValueError:
            raise _DoubtError from None
    raise _DoubtError  # hex, octal, underscores, .inf, a time of day, a merge key …


def _key_ok(key: str) -> bool:
    ok = _KEYS_OK.get(key)
    if ok is None:
        ok = _KEYS_OK[key] = plain_tag(key) == STR and not key.startswith(("---", "..."))
    return ok


def _tail_ok(tail: str) -> bool:
    """What may follow a scalar on its line: nothing, or spaces and a comment."""
    if not tail:
        return True
    rest = tail.lstrip(" ")
    return tail[0] == " " and (not rest or rest[0] == "#")


def _blank(line: str) -> bool:
    """A line with nothing in it: empty, spaces, or a comment."""
    rest = line.lstrip(" ")
    return not rest or rest[0] == "#"


class _Scanner:
    def __init__(self, text: str) -> None:
        lines = text.split("\n")
        self.eof_break = lines[-1] == ""  # does the last line end with a line break?
        if self.eof_break:
            lines.pop()
        self.lines = lines
        self.n = len(lines)
        self._in_record: dict[str, Any] = {"parents": self._list}

    def _next(self, j: int) -> int:
        """The index of the first line from ``j`` on with something in it."""
        lines, n = self.lines, self.n
        while j < n and _blank(lines[j]):
            j += 1
        return j

    # -- structure ---------------------------------------------------------------------------

    def document(self) -> Node:
        lines, n = self.lines, self.n
        top = Node(0)
        nested = {"items": self._records, "policy": self._records, "deleted": self._map}
        j = self._next(0)
        while j < n:
            line = lines[j]
            if line[0] == " ":
                raise _DoubtError
            j = self._field(top, line, 0, j, 0, nested)
            j = self._next(j)
        if not top:
            raise _DoubtError
        return top

    def _field(
        self, node: Node, line: str, start: int, j: int, indent: int, nested: dict[str, Any]
    ) -> int:
        """Read ``key: value`` from ``line[start:]`` (line ``j``) into ``node``; the next line."""
        m = _KEY.match(line, start)
        if m is None:
            raise _DoubtError
        key = m.group(1)
        if key in node or not _key_ok(key):
            raise _DoubtError
        if not node:
            node.line = j + 1
        node.lines[key] = j + 1
        node[key], j = self._value(line[m.end() :], j, indent, nested.get(key))
        return j

    def _records(self, j: int, indent: int) -> tuple[Seq, int]:
        """``items``/``policy``: entries at ``  - key: value``, their fields at four spaces."""
        lines, n, nested = self.lines, self.n, self._in_record
        seq = Seq(j + 1)
        node: Node | None = None
        while j < n:
            line = lines[j]
            if line.startswith("    "):  # a field of the entry, or a comment
                c = line[4:5]
                if c == "#" or (c in ("", " ") and _blank(line)):
                    j += 1
                elif c == " " or node is None:
                    raise _DoubtError
                else:
                    j = self._field(node, line, 4, j, 4, nested)
            elif line.startswith("  - "):  # the next entry
                if line[4:5] in ("", " "):
                    raise _DoubtError
                node = Node(j + 1)
                seq.append(node)
                seq.lines.append(j + 1)
                j = self._field(node, line, 4, j, 4, nested)
            elif not line or line[0] != " ":
                if line and line[0] != "#":
                    break  # the next top-level key
                j += 1
            elif _blank(line):
                j += 1
            else:
                raise _DoubtError
        return seq, j

    def _map(self, j: int, indent: int) -> tuple[Node, int]:
        """``deleted``: ``  id: revision`` lines."""
        lines, n = self.lines, self.n
        node = Node(j + 1)
        while j < n:
            line = lines[j]
            if line[0] != " ":
                break
            if not line.startswith("  ") or line[2] == " ":
                raise _DoubtError
            j = self._next(self._field(node, line, 2, j, 2, {}))
        return node, j

    def _list(self, j: int, indent: int) -> tuple[Seq, int]:
        """A block list of scalars, its dashes two spaces in from its key."""
        lines, n = self.lines, self.n
        pad = " " * (indent + 2) + "- "
        seq = Seq(j + 1)
        while j < n:
            line = lines[j]
            if not line.startswith(pad):
                break
            rest = line[len(pad) :]
            if not rest or rest[0] == " ":
                raise _DoubtError
            value, tail = self._scalar(rest)
            if not _tail_ok(tail):
                raise _DoubtError
            seq.append(value)
            seq.lines.append(j + 1)
            j = self._next(j + 1)
        return seq, j

    # -- values ------------------------------------------------------------------------------

    def _value(self, rest: str, j: int, indent: int, nested: Any) -> tuple[Any, int]:
        """The value after ``key:`` on line ``j`` (``rest`` is the line after the colon)."""
        s = rest.lstrip(" ")
        if not s or s[0] == "#":  # nothing on the line: a nested block, or null
            k = self._next(j + 1)
            if k < self.n and len(self.lines[k]) - len(self.lines[k].lstrip(" ")) > indent:
                if nested is None:
                    raise _DoubtError
                return nested(k, indent)  # type: ignore[no-any-return]
            return None, j + 1
        first = s[0]
        value: Any
        if first == "|":
            return self._block(s, j, indent)
        if first == "[":
            end = s.find("]")
            if end < 0:
                raise _DoubtError
            inner = s[1:end]
            seq = Seq(j + 1)
            if inner.strip(" "):
                for entry in inner.split(","):
                    entry = entry.strip(" ")
                    if not _FLOW_ID.fullmatch(entry):
                        raise _DoubtError
                    seq.append(_plain(entry))
                    seq.lines.append(j + 1)
            value, tail = seq, s[end + 1 :]
        elif first == "{":
            if not s.startswith("{}"):
                raise _DoubtError
            value, tail = Node(j + 1), s[2:]
        else:
            value, tail = self._scalar(s)
        if not _tail_ok(tail):
            raise _DoubtError
        return value, j + 1

    def _scalar(self, s: str) -> tuple[Any, str]:
        """A one-line plain or quoted scalar at the start of ``s``; the rest of the line."""
        first = s[0]
        if first == "'":
            end = 1
            while True:
                end = s.find("'", end)
                if end < 0:
                    raise _DoubtError  # on several lines
                if s[end + 1 : end + 2] != "'":
                    break
                end += 2
            return s[1:end].replace("''", "'"), s[end + 1 :]
        if first == '"':
            end = 1
            while True:
                end = s.find('"', end)
                if end < 0:
                    raise _DoubtError
                backslashes = len(s[:end]) - len(s[:end].rstrip("\\"))
                if backslashes % 2 == 0:
                    break
                end += 1
            body = unescape(s[1:end])
            if body is None:
                raise _DoubtError
            return body, s[end + 1 :]
        if first in _NOT_PLAIN or (first in "-?:" and (len(s) == 1 or s[1] == " ")):
            raise _DoubtError
        cut = s.find(" #")
        text = (s if cut < 0 else s[:cut]).rstrip(" ")
        return _plain(text), ""

    def _block(self, header: str, j: int, indent: int) -> tuple[str, int]:
        """A ``|`` block scalar whose header is on line ``j``; the line after it."""
        m = _BLOCK.fullmatch(header)
        if m is None:
            raise _DoubtError
        digit = m.group(1) or m.group(4)
        chomp = m.group(2) or m.group(3) or ""
        lines, n = self.lines, self.n
        k = j + 1
        if digit:
            width = indent + int(digit)
        else:  # the first line of text sets the indentation
            first = self._first_text(k)
            if first >= n:
                raise _DoubtError
            width = len(lines[first]) - len(lines[first].lstrip(" "))
            if width <= indent:  # an empty block: that line is the next key
                if chomp == "+":
                    raise _DoubtError
                return "", k
            if any(lines[k:first]):
                raise _DoubtError  # spaces before the first line of text: ruamel is particular
        pad = " " * width
        body: list[str] = []
        last = -1  # index in body of the last line with text
        end = k  # the first line after the block
        while end < n:
            line = lines[end]
            if line.startswith(pad):
                if len(line) > width:
                    last = len(body)
                body.append(line[width:])
            elif not line.strip(" "):
                body.append("")
            else:
                break
            end += 1
        # Every line has its line break but a last line of the file written without one.
        trailing = len(body) - last - 1
        if trailing and end == n and not self.eof_break:
            trailing -= 1
        if last < 0:
            return ("\n" * trailing if chomp == "+" else ""), end
        text = "\n".join(body[: last + 1])
        if chomp != "-" and (k + last < n - 1 or self.eof_break):
            text += "\n"
        if chomp == "+":
            text += "\n" * trailing
        return text, end

    def _first_text(self, k: int) -> int:
        """The first line from ``k`` on with a character other than a space."""
        lines, n = self.lines, self.n
        while k < n and not lines[k].strip(" "):
            k += 1
        return k
