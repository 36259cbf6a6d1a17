"""How one scalar of a strategy file is written and read, for the emitter and the fast reader.

The rules :mod:`app.domain.strategy_emit` and :mod:`app.domain.strategy_scan` share.

The file is YAML 1.2 as ruamel.yaml reads it. Which tag a plain scalar resolves to comes from
ruamel's own table of implicit resolvers (so both readers agree on what ``yes``, ``1e3`` or
``0x1F`` is); the choice between plain, single-quoted and double-quoted text follows the
style ruamel's emitter picks, so our text is the text ruamel would write. Everything here is
string work: nothing parses or emits a whole document.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ruamel.yaml.resolver import implicit_resolvers

__all__ = [
    "BREAKS",
    "LONG",
    "block_plain_ok",
    "double_quoted",
    "literal_ok",
    "plain_tag",
    "unescape",
]

STR = "tag:yaml.org,2002:str"
LONG = 3_000  # a scalar line longer than this may be folded at ruamel's width: not ours to write
BREAKS = "\n\x85\u2028\u2029"  # what ruamel's scanner and emitter take for a line break
_SPACE = "\0 \t\r" + BREAKS  # what counts as white space around an indicator


def _resolvers() -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    """The YAML 1.2 implicit resolvers of ruamel, by the first character they apply to."""
    table: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for versions, tag, regexp, first in implicit_resolvers:
        if (1, 2) not in versions:
            continue
        pattern = re.compile(regexp.pattern, regexp.flags)
        for ch in first:
            table.setdefault(ch, []).append((tag, pattern))
    return table


_RESOLVERS = _resolvers()


def plain_tag(text: str) -> str:
    """The tag ruamel gives ``text`` written as a plain scalar ("…:str" for plain text)."""
    for tag, pattern in _RESOLVERS.get(text[:1], ()):
        if pattern.match(text):
            return str(tag)
    return STR


# -- choosing a style -----------------------------------------------------------------------

# Characters ruamel writes as they are (printable ASCII, a line feed, most of Unicode);
# anything else makes a scalar "special": double quotes only.
_SPECIAL = re.compile(
    r"[^\n\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_FIRST_INDICATOR = frozenset("#,[]{}&*!|>'\"%@`")
# Inside the text: ": " (or a colon at the end) and " #" make a plain scalar mean something else.
_INNER_INDICATOR = re.compile("[:](?:[\0 \t\r\n\x85\u2028\u2029]|$)|[\0 \t\r\n\x85\u2028\u2029]#")
_SPACE_AND_BREAK = re.compile("[ ][\n\x85\u2028\u2029]|[\n\x85\u2028\u2029][ ]")


def literal_ok(text: str) -> bool:
    """A ``|`` block shows the text as it is: only printable characters and new lines.

    (Tabs, CR, NEL, U+2028/9 and a BOM are not printable either.)
    """
    return text.isprintable() or text.replace("\n", "").isprintable()


@lru_cache(maxsize=4096)
def block_plain_ok(text: str) -> bool:
    """Whether ruamel writes ``text`` (a block mapping value or list entry) without quotes."""
    if not text or text[0] in " " + BREAKS or text[-1] in " " + BREAKS:
        return False
    first = text[0]
    if first in _FIRST_INDICATOR or text.startswith(("---", "...")):
        return False
    if first in "?:-" and (len(text) == 1 or text[1] in _SPACE):
        return False
    if _SPECIAL.search(text) or any(b in text for b in BREAKS):
        return False
    if _INNER_INDICATOR.search(text, 1):
        return False
    return plain_tag(text) == STR


def quote_style(text: str) -> str:
    """The quotes ruamel puts around text it cannot write plain: ``'`` or ``"``."""
    if "'" in text or "\n" in text:
        return '"'
    if _SPECIAL.search(text) or _SPACE_AND_BREAK.search(text):
        return '"'
    return "'"


# -- double quotes --------------------------------------------------------------------------

_NAMED = {
    "\0": "0",
    "\x07": "a",
    "\x08": "b",
    "\t": "t",
    "\n": "n",
    "\x0b": "v",
    "\x0c": "f",
    "\r": "r",
    "\x1b": "e",
    '"': '"',
    "\\": "\\",
    "\x85": "N",
    "\u2028": "L",
    "\u2029": "P",
}
# What a double-quoted scalar shows as it is; the rest is escaped.
_ESCAPED = re.compile(
    r"[^\x20\x21\x23-\x5b\x5d-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
    r"\U00010000-\U0010ffff]"
)


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    named = _NAMED.get(ch)
    if named is not None:
        return "\\" + named
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02X}"
    if code <= 0xFFFF:
        return f"\\u{code:04X}"
    return f"\\U{code:08X}"


def double_quoted(text: str) -> str:
    """``text`` in double quotes, escaped as ruamel escapes it (on one line)."""
    return '"' + _ESCAPED.sub(_escape, text) + '"'


_UNESCAPE = {
    "0": "\0",
    "a": "\x07",
    "b": "\x08",
    "t": "\t",
    "n": "\n",
    "v": "\x0b",
    "f": "\x0c",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_HEX = {"x": 2, "u": 4, "U": 8}
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def unescape(body: str) -> str | None:
    """The text of a one-line double-quoted scalar's inside, or None if it is doubtful."""
    out: list[str] = []
    i, n = 0, len(body)
    while i < n:
        j = body.find("\\", i)
        if j < 0:
            out.append(body[i:])
            break
        out.append(body[i:j])
        code = body[j + 1 : j + 2]
        if code in _UNESCAPE:
            out.append(_UNESCAPE[code])
            i = j + 2
            continue
        width = _HEX.get(code)
        digits = body[j + 2 : j + 2 + width] if width else ""
        if not width or len(digits) != width or not set(digits) <= _HEX_DIGITS:
            return None
        value = int(digits, 16)
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            return None
        out.append(chr(value))
        i = j + 2 + width
    return "".join(out)
