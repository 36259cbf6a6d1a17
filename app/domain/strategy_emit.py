"""The strategy file's text, written directly: the layout ruamel.yaml gives the same doc.

:func:`emit` builds the file line by line (header comment, every field named, items in
funnel order, ``|`` blocks for text on several lines, quotes where YAML needs them, the same
indents), so exporting 5,000 items costs string building, not ruamel's dumper. The text is
byte for byte what :func:`app.domain.strategy_file.dump_strategy` wrote through ruamel (the
tests compare them); for the few docs whose text ruamel would fold or shape in ways not
copied here (a line of text over :data:`~app.domain.strategy_scalars.LONG` characters, a
deleted id on several lines or of 128 characters and more, a value of an unexpected type),
:func:`emit` returns None and the caller dumps through ruamel.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from app.domain.enums import StrategyItemType
from app.domain.strategy_doc import (
    ALLOWED_PARENTS,
    ITEM_FIELDS,
    LINE_FIELDS,
    PolicyLineDoc,
    StrategyDoc,
    StrategyItemDoc,
    sorted_items,
    sorted_lines,
)
from app.domain.strategy_scalars import (
    BREAKS,
    LONG,
    block_plain_ok,
    double_quoted,
    literal_ok,
    quote_style,
)

__all__ = ["HEADER", "TOP_FIELDS", "emit", "item_fields"]

HEADER = (
    "Quiver strategy file. Edit it in Quiver (quiver strategy edit FILE) or by hand;\n"
    "keep the ids: an import matches items by them. Comments are kept."
)
TOP_FIELDS = (
    "schema_version",
    "base_revision",
    "exported_at",
    "mission",
    "items",
    "policy",
    "deleted",
)
_HEADER_TEXT = "".join(f"# {line}\n" for line in HEADER.splitlines())
_SOCIAL = ("kpi", "kpi_target", "kpi_unit", "baseline", "deadline")
_TACTIC = ("channel", "cadence", "horizon")
_ALWAYS = ("id", "type", "title", "body", "unit", "owner", "position")


class _DeclineError(Exception):
    """The doc needs something this emitter does not write the way ruamel does."""


def item_fields(item: StrategyItemDoc) -> list[str]:
    """The fields an item is written with: its type's fields, and any other that is set."""
    wanted = set(_ALWAYS)
    if item.type == StrategyItemType.SOCIAL_GOAL:
        wanted.update(_SOCIAL)
    if item.type == StrategyItemType.TACTIC:
        wanted.update(_TACTIC)
    if ALLOWED_PARENTS.get(item.type):
        wanted.add("parents")
    empty = _EMPTY
    return [
        name
        for name in ITEM_FIELDS
        if name in wanted or getattr(item, name) != getattr(empty, name)
    ]


_EMPTY = StrategyItemDoc("", StrategyItemType.TACTIC, "")


# -- scalars --------------------------------------------------------------------------------


def _text(value: str) -> str:
    """A one-line string as ruamel writes it when it picks the style itself."""
    if len(value) > LONG:
        raise _DeclineError
    if block_plain_ok(value):
        return value
    if quote_style(value) == '"' or "\x85" in value or "\u2028" in value or "\u2029" in value:
        return double_quoted(value)  # the Unicode breaks: as the tree writes them
    return "'" + value.replace("'", "''") + "'"


def _literal(value: str, indent: str) -> str:
    """A ``|`` block for text on several lines, its lines at ``indent``."""
    hint = "2" if value[0] in " \n" else ""
    if value[-1] != "\n":
        chomp = "-"
    elif len(value) == 1 or value[-2] == "\n":
        chomp = "+"
    else:
        chomp = ""
    lines = value.split("\n")
    if value.endswith("\n"):
        lines.pop()
    body = "".join(f"{indent}{line}\n" if line else "\n" for line in lines)
    return f" |{hint}{chomp}\n{body}"


def _float(value: float) -> str:
    if value != value:
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    return repr(value).lower()


def _value(value: Any, indent: str) -> str:
    """What follows ``key:`` for a doc value, up to and including the line's end."""
    if value is None:
        return "\n"
    kind = type(value)
    if isinstance(value, StrEnum):
        return f" {_text(value.value)}\n"
    if kind is str:
        if literal_ok(value):
            if "\n" in value:
                return _literal(value, indent)
            return f" {_text(value)}\n"
        if len(value) > LONG:
            raise _DeclineError
        return f" {double_quoted(value)}\n"
    if kind is int:
        return f" {value}\n"
    if kind is float:
        return f" {_float(value)}\n"
    if kind is date:
        return f" {value.isoformat()}\n"
    if kind is tuple:
        if not value:
            return " []\n"
        pad = indent + "- "
        if not all(type(v) is str for v in value):
            raise _DeclineError
        return "\n" + "".join(f"{pad}{_text(v)}\n" for v in value)
    raise _DeclineError


# -- the document ---------------------------------------------------------------------------


def _record(out: list[str], record: Any, names: list[str] | tuple[str, ...]) -> None:
    """One entry of ``items`` or ``policy``: its first field on the dash's line."""
    first = True
    for name in names:
        out.append("  - " if first else "    ")
        first = False
        out.append(name)
        out.append(":")
        out.append(_value(getattr(record, name), "      "))


def _key(key: str) -> str:
    if type(key) is not str or len(key) >= 128 or any(b in key for b in BREAKS):
        raise _DeclineError  # ruamel writes a complex key ("? …")
    return _text(key)


def emit(doc: StrategyDoc) -> str | None:
    """The doc as a new strategy file, or None where ruamel must write it."""
    try:
        return _emit(doc)
    except _DeclineError:
        return None


def _emit(doc: StrategyDoc) -> str:
    out = [_HEADER_TEXT, "schema_version:", _value(doc.schema_version, "  ")]
    out += ["base_revision:", _value(doc.base_revision, "  ")]
    if doc.exported_at is not None:
        if not isinstance(doc.exported_at, datetime):
            raise _DeclineError
        out += ["exported_at:", _value(doc.exported_at.isoformat(), "  ")]
    out += ["mission:", _value(doc.mission, "  ")]
    items: list[StrategyItemDoc] = sorted_items(doc)
    out.append("items:\n" if items else "items: []\n")
    for item in items:
        _record(out, item, item_fields(item))
    lines: list[PolicyLineDoc] = sorted_lines(doc)
    out.append("policy:\n" if lines else "policy: []\n")
    for line in lines:
        _record(out, line, LINE_FIELDS)
    out.append("deleted:\n" if doc.deleted else "deleted: {}\n")
    for key in sorted(doc.deleted):
        value = doc.deleted[key]
        if value is not None and type(value) is not int:
            raise _DeclineError
        out += ["  ", _key(key), ":", _value(value, "    ")]
    return "".join(out)
