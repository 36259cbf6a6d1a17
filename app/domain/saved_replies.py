"""Saved replies' placeholders filled in: ``{author_name}`` and ``{my_first_name}``, pure.

A saved reply is plain text in which ``{name}`` stands for a value known when it is used. Only
the names of :data:`PLACEHOLDERS` are filled in, in one pass over the template: a value is
inserted as it is (braces in a person's name are not read as placeholders again), and runs of
white space in it become one space (a display name with a line break stays on its line).
Anything else in braces (``{order_id}``, ``{ author_name }``) is left exactly as written and
reported in :attr:`Expansion.unknown` (a lone brace, or ``{}``, is just punctuation), so a
person sees it and fills it in; a known placeholder without a value here (no author for a
post) is left as written and reported in :attr:`Expansion.missing`. :func:`expand` never raises.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

#: Every placeholder a saved reply may hold, with what it stands for (for the manager's help).
PLACEHOLDERS: Mapping[str, str] = {
    "author_name": "the name of the person you answer",
    "my_first_name": "your first name",
}

MAX_TITLE = 100
MAX_BODY = 5_000

_FIELD = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True, slots=True)
class Expansion:
    """A template filled in, with the placeholders it could not fill."""

    text: str
    unknown: tuple[str, ...] = ()  # names in braces that are no placeholder, as written
    missing: tuple[str, ...] = ()  # placeholders with no value here

    @property
    def complete(self) -> bool:
        return not self.unknown and not self.missing


def expand(template: str, values: Mapping[str, str]) -> Expansion:
    """``template`` with every known placeholder that has a value filled in.

    Args:
        template: The saved reply's text.
        values: Placeholder name to value (``{"author_name": "Ana Souza"}``); an empty value
            counts as none.

    Returns:
        The text, and the placeholders left as written (unknown ones, and known ones without
        a value), each once, in the order they occur.
    """
    unknown: dict[str, None] = {}
    missing: dict[str, None] = {}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if not name:  # "{}" is punctuation, not a placeholder
            return match.group(0)
        if name not in PLACEHOLDERS:
            unknown[name] = None
            return match.group(0)
        value = " ".join(values.get(name, "").split())
        if not value:
            missing[name] = None
            return match.group(0)
        return value

    text = _FIELD.sub(fill, template)
    return Expansion(text, tuple(unknown), tuple(missing))


def unknown_placeholders(template: str) -> tuple[str, ...]:
    """The names in braces in ``template`` that are not placeholders, each once, in order."""
    found = (m for m in _FIELD.findall(template) if m and m not in PLACEHOLDERS)
    return tuple(dict.fromkeys(found))


def first_name(full_name: str) -> str:
    """The first word of a person's name ("Tom Becker" -> "Tom"); "" for a blank name."""
    words = full_name.split()
    return words[0] if words else ""
