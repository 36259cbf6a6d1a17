"""The strategy file: one human-readable YAML file that round-trips, comments and all.

The file names every field, lists items in funnel order (then position, then id) and policy
lines by kind (then value, then id), and carries a schema version, the workspace revision it
was exported from and the ids known deleted:

.. code-block:: yaml

    schema_version: 1
    base_revision: 12
    exported_at: '2025-03-01T09:30:00+00:00'
    mission: Mobility people love
    items:
      - id: 5b0c…
        type: social_goal
        title: Answer faster
        …
    policy:
      - id: 77aa…
        kind: banned_term
        value: guarantee
        …
    deleted:
      0f3e…: 11

Reading (:func:`read_strategy`, :func:`read_strategy_file`) uses ruamel.yaml's round-trip
loader, so comments a person adds are kept: :meth:`StrategyFile.render` writes an edited doc
back into the same tree, changing only the values that changed, and a doc that did not change
comes back byte for byte. Every refusal is one :class:`StrategyFileError` naming the line
and, where there is one, the item.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from app.domain.enums import Horizon, Network, PolicyKind, StrategyItemType
from app.domain.strategy_doc import (
    ALLOWED_PARENTS,
    ITEM_FIELDS,
    LINE_FIELDS,
    SCHEMA_VERSION,
    PolicyLineDoc,
    StrategyDoc,
    StrategyItemDoc,
    sort_key,
    sorted_items,
    sorted_lines,
    validate,
)

__all__ = [
    "MAX_BYTES",
    "StrategyFile",
    "StrategyFileError",
    "dump_strategy",
    "read_strategy",
    "read_strategy_file",
]

MAX_BYTES = 20 * 1024 * 1024  # a 5,000-item strategy is about 2 MB
MAX_ID = 36  # strategy_items.uuid is String(36)
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
_TEXT_FIELDS = frozenset({"title", "body", "kpi", "kpi_unit", "channel", "cadence"})
_OPTIONAL_TEXT = frozenset({"unit", "owner"})
_NUMBERS = frozenset({"kpi_target", "baseline"})
_SOCIAL = ("kpi", "kpi_target", "kpi_unit", "baseline", "deadline")
_TACTIC = ("channel", "cadence", "horizon")


class StrategyFileError(ValueError):
    """The file cannot be used; the message names the line (1-based) and the item."""

    def __init__(
        self,
        message: str,
        line: int | None = None,
        item_id: str | None = None,
        problems: tuple[str, ...] = (),
    ) -> None:
        where = f"line {line}: " if line is not None else ""
        what = f"item {item_id}: " if item_id is not None else ""
        super().__init__(f"{where}{what}{message}")
        self.line = line
        self.item_id = item_id
        self.problems = problems or (str(self),)


def _yaml() -> YAML:
    yaml = YAML()  # round trip: comments, key order, quotes, line numbers
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # long titles stay on one line
    return yaml


# -- reading ---------------------------------------------------------------------------------


def _line(node: Any, key: Any = None) -> int | None:
    """The 1-based line of ``node`` (or of its ``key``), where ruamel knows it."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if key is None:
            return int(lc.line) + 1
        if isinstance(node, CommentedSeq):
            return int(lc.item(key)[0]) + 1
        return int(lc.key(key)[0]) + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        return int(lc.line) + 1 if lc.line is not None else None


class _Fields:
    """Reads the fields of one mapping, refusing with the line and the item id."""

    def __init__(self, node: CommentedMap, item_id: str | None, allowed: Iterable[str]) -> None:
        self.node, self.item_id = node, item_id
        for key in node:
            if key not in allowed:
                self.fail(key, f"unknown field {key!r} (known: {', '.join(allowed)})")

    def fail(self, key: Any, message: str) -> None:
        raise StrategyFileError(message, _line(self.node, key), self.item_id)

    def raw(self, key: str) -> Any:
        return self.node.get(key)

    def text(self, key: str, *, optional: bool = False) -> Any:
        value = self.node.get(key)
        if value is None:
            return None if optional else ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.fail(key, f"{key} is text, not {_kind(value)}")
        return str(value)

    def number(self, key: str) -> float | None:
        value = self.node.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, f"{key} is a number, not {_kind(value)} ({value!r})")
        return int(value) if isinstance(value, int) else float(value)

    def whole(self, key: str) -> int | None:
        value = self.node.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"{key} is a whole number, not {_kind(value)} ({value!r})")
        return int(value)

    def day(self, key: str) -> date | None:
        value = self.node.get(key)
        if value is None:
            return None
        if isinstance(value, datetime):
            self.fail(key, f"{key} is a date (2025-06-30), not a time")
        if isinstance(value, date):
            return date(value.year, value.month, value.day)
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(key, f"{key} is a date (2025-06-30), not {value!r}")
        return None  # pragma: no cover - fail raises

    def choice(self, key: str, kinds: Any, *, optional: bool = False) -> Any:
        value = self.node.get(key)
        if value is None and optional:
            return None
        try:
            return kinds(str(value)) if isinstance(value, str) else kinds(object())
        except ValueError:
            names = ", ".join(k.value for k in kinds)
            self.fail(key, f"{key} {value!r} is not one of {names}")
        return None  # pragma: no cover - fail raises

    def ids(self, key: str) -> tuple[str, ...]:
        value = self.node.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, f"{key} is a list of item ids")
        return tuple(str(v) for v in value)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _id_of(node: Any, seq: CommentedSeq, index: int, what: str) -> str:
    if not isinstance(node, CommentedMap):
        raise StrategyFileError(f"each {what} is a mapping of fields", _line(seq, index))
    value = node.get("id")
    if not isinstance(value, str) or not value.strip():
        raise StrategyFileError(f"a {what} without an id", _line(seq, index))
    if len(value) > MAX_ID:
        raise StrategyFileError(f"the id is over {MAX_ID} characters", _line(node, "id"), value)
    return str(value)


def _read_item(node: CommentedMap, item_id: str) -> StrategyItemDoc:
    f = _Fields(node, item_id, ITEM_FIELDS)
    position = f.whole("position")
    return StrategyItemDoc(
        id=item_id,
        type=f.choice("type", StrategyItemType),
        title=f.text("title"),
        body=f.text("body"),
        unit=f.text("unit", optional=True),
        owner=f.text("owner", optional=True),
        kpi=f.text("kpi"),
        kpi_target=f.number("kpi_target"),
        kpi_unit=f.text("kpi_unit"),
        baseline=f.number("baseline"),
        deadline=f.day("deadline"),
        channel=f.text("channel"),
        cadence=f.text("cadence"),
        horizon=f.choice("horizon", Horizon, optional=True),
        parents=f.ids("parents"),
        position=position if position is not None else 0,
        created=f.day("created"),
    )


def _read_line(node: CommentedMap, line_id: str) -> PolicyLineDoc:
    f = _Fields(node, line_id, LINE_FIELDS)
    return PolicyLineDoc(
        id=line_id,
        kind=f.choice("kind", PolicyKind),
        value=f.text("value"),
        network=f.choice("network", Network, optional=True),
        unit=f.text("unit", optional=True),
        account=f.text("account", optional=True),
        note=f.text("note"),
    )


def _records(
    top: CommentedMap,
    key: str,
    what: str,
    read: Callable[[CommentedMap, str], Any],
    seen: dict[str, int | None],
) -> dict[str, Any]:
    seq = top.get(key)
    if seq is None:
        return {}
    if not isinstance(seq, CommentedSeq):
        raise StrategyFileError(f"{key} is a list of {what}s", _line(top, key))
    out: dict[str, Any] = {}
    for index, node in enumerate(seq):
        rid = _id_of(node, seq, index, what)
        line = _line(seq, index)
        if rid in seen:
            first = seen[rid]
            raise StrategyFileError(f"duplicate id, first used on line {first}", line, rid)
        seen[rid] = line
        out[rid] = read(node, rid)
    return out


@dataclass
class StrategyFile:
    """A strategy file as read: the doc, ruamel's tree (comments and layout), the text."""

    doc: StrategyDoc
    tree: CommentedMap
    text: str
    lines: dict[str, int | None]  # id -> 1-based line, for messages

    def render(self, doc: StrategyDoc) -> str:
        """The file's text with ``doc`` in it: the tree updated in place, comments kept.

        An unchanged doc gives the text back as it was read, byte for byte.
        """
        if doc == self.doc:
            return self.text
        _update(self.tree, doc)
        buf = io.StringIO()
        _yaml().dump(self.tree, buf)
        self.doc, self.text = doc, buf.getvalue()
        return self.text


def read_strategy(text: str | bytes, *, check_funnel: bool = True) -> StrategyFile:
    """Parse a strategy file's text.

    Args:
        text: the file's content.
        check_funnel: also refuse a doc that breaks the funnel (:func:`validate`).

    Raises:
        StrategyFileError: too big, not YAML, an unknown schema version, a duplicate id, a
            wrong type, an unknown field, or (with ``check_funnel``) a funnel rule broken; the
            message names the line and the item.
    """
    if len(text) > MAX_BYTES:
        raise StrategyFileError(f"the file is over {MAX_BYTES // (1024 * 1024)} MB")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StrategyFileError(f"the file is not UTF-8 text (byte {exc.start})") from None
    try:
        tree = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise StrategyFileError(f"not valid YAML: {exc.problem or exc.context}", line) from None
    except YAMLError as exc:
        raise StrategyFileError(f"not valid YAML: {exc}") from None
    if not isinstance(tree, CommentedMap):
        raise StrategyFileError("not a strategy file: expected a mapping with schema_version", 1)
    top = _Fields(tree, None, TOP_FIELDS)
    version = tree.get("schema_version")
    if version is None:
        raise StrategyFileError("not a strategy file: no schema_version", 1)
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise StrategyFileError(
            f"unknown schema version {version!r} (this Quiver reads {SCHEMA_VERSION})",
            _line(tree, "schema_version"),
        )
    exported = tree.get("exported_at")
    if exported is not None and not isinstance(exported, datetime):
        try:
            exported = datetime.fromisoformat(str(exported))
        except ValueError:
            top.fail("exported_at", f"exported_at is a time, not {exported!r}")
    seen: dict[str, int | None] = {}
    items = _records(tree, "items", "item", _read_item, seen)
    policy = _records(tree, "policy", "policy line", _read_line, seen)
    deleted_node = tree.get("deleted")
    deleted: dict[str, int | None] = {}
    if deleted_node is not None:
        if not isinstance(deleted_node, CommentedMap):
            top.fail("deleted", "deleted maps ids to the revision they were deleted in")
        gone = _Fields(deleted_node, None, list(deleted_node))
        for key in deleted_node:
            deleted[str(key)] = gone.whole(key)
    doc = StrategyDoc(
        schema_version=SCHEMA_VERSION,
        base_revision=top.whole("base_revision"),
        exported_at=exported,
        mission=top.text("mission"),
        items=items,
        policy=policy,
        deleted=deleted,
    )
    if check_funnel:
        problems = validate(doc)
        if problems:
            first = problems[0]
            line = seen.get(first.item_id) if first.item_id else None
            if line is None and first.item_id in deleted:
                line = _line(deleted_node, first.item_id)
            extra = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise StrategyFileError(
                first.message + extra,
                line,
                first.item_id,
                tuple(
                    str(StrategyFileError(p.message, seen.get(p.item_id or ""), p.item_id))
                    for p in problems
                ),
            )
    return StrategyFile(doc, tree, text, seen)


def read_strategy_file(path: str | os.PathLike[str], **kwargs: bool) -> StrategyFile:
    """Read a strategy file from disk, refusing one over :data:`MAX_BYTES` before reading it."""
    size = os.stat(path).st_size
    if size > MAX_BYTES:
        raise StrategyFileError(
            f"the file is {size / (1024 * 1024):.0f} MB, over the "
            f"{MAX_BYTES // (1024 * 1024)} MB a strategy file may have"
        )
    return read_strategy(Path(path).read_bytes(), **kwargs)


# -- writing ---------------------------------------------------------------------------------


def _value(value: Any) -> Any:
    """How a doc value goes into the tree."""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, str):
        if _literal_ok(value):
            return LiteralScalarString(value) if "\n" in value else value
        # ruamel writes NEL and the Unicode line separators raw, where a reader sees a break.
        return DoubleQuotedScalarString(value)
    if isinstance(value, tuple):
        seq = CommentedSeq(value)
        return seq
    return value


_ODD = frozenset("\x85\u2028\u2029\ufeff\t\r")


def _literal_ok(text: str) -> bool:
    """A ``|`` block shows the text as it is: only printable characters and new lines."""
    return all(c == "\n" or (c.isprintable() and c not in _ODD) for c in text)


def _same(old: Any, new: Any) -> bool:
    if isinstance(new, tuple):
        return isinstance(old, list) and sorted(set(map(str, old))) == list(new)
    if new is None or old is None:
        return old is None and new is None
    if isinstance(new, str):
        return isinstance(old, str) and str(old) == str(new)
    if isinstance(new, float | int) and not isinstance(new, bool):
        return isinstance(old, int | float) and not isinstance(old, bool) and old == new
    if isinstance(new, datetime):
        return isinstance(old, datetime | str) and str(old) == new.isoformat()
    return bool(old == new)


def _set(node: CommentedMap, key: str, value: Any, order: tuple[str, ...]) -> None:
    if key in node:
        if not _same(node[key], value):
            node[key] = _value(value)
        return
    rank = order.index(key)
    pos = sum(1 for k in node if k in order and order.index(k) < rank)
    node.insert(pos, key, _value(value))


def _item_fields(item: StrategyItemDoc) -> list[str]:
    """The fields an item is written with: its type's fields, and any other that is set."""
    wanted = {"id", "type", "title", "body", "unit", "owner", "position"}
    if item.type == StrategyItemType.SOCIAL_GOAL:
        wanted.update(_SOCIAL)
    if item.type == StrategyItemType.TACTIC:
        wanted.update(_TACTIC)
    if ALLOWED_PARENTS.get(item.type):
        wanted.add("parents")
    empty = StrategyItemDoc(item.id, item.type, "")
    return [
        name
        for name in ITEM_FIELDS
        if name in wanted or getattr(item, name) != getattr(empty, name)
    ]


def _fill(node: CommentedMap, record: Any, names: Iterable[str], order: tuple[str, ...]) -> None:
    for name in names:
        _set(node, name, getattr(record, name), order)


def _update_records(
    top: CommentedMap,
    key: str,
    wanted: list[Any],
    names: Callable[[Any], Iterable[str]],
    order: tuple[str, ...],
    rank: Callable[[Any], Any],
) -> None:
    seq = top.get(key)
    if not isinstance(seq, CommentedSeq):
        seq = CommentedSeq()
        _set(top, key, (), TOP_FIELDS)
        top[key] = seq
    by_id = {r.id: r for r in wanted}
    for index in range(len(seq) - 1, -1, -1):
        if str(seq[index].get("id")) not in by_id:
            del seq[index]
    present: dict[str, CommentedMap] = {str(node["id"]): node for node in seq}
    for record in wanted:
        node = present.get(record.id)
        if node is not None:
            _fill(node, record, names(record), order)
            continue
        node = CommentedMap()
        _fill(node, record, names(record), order)
        mine = rank(record)
        pos = len(seq)
        for index, other in enumerate(seq):  # before the first that sorts after it
            if rank(by_id[str(other["id"])]) > mine:
                pos = index
                break
        seq.insert(pos, node)


def _update(tree: CommentedMap, doc: StrategyDoc) -> None:
    _set(tree, "schema_version", doc.schema_version, TOP_FIELDS)
    _set(tree, "base_revision", doc.base_revision, TOP_FIELDS)
    exported = doc.exported_at.isoformat() if doc.exported_at is not None else None
    if not _same(tree.get("exported_at"), doc.exported_at):
        _set(tree, "exported_at", exported, TOP_FIELDS)
    _set(tree, "mission", doc.mission, TOP_FIELDS)
    _update_records(tree, "items", sorted_items(doc), _item_fields, ITEM_FIELDS, sort_key)
    _update_records(
        tree,
        "policy",
        sorted_lines(doc),
        lambda _line: LINE_FIELDS,
        LINE_FIELDS,
        lambda line: (list(PolicyKind).index(line.kind), line.value, line.id),
    )
    gone = tree.get("deleted")
    if not isinstance(gone, CommentedMap):
        gone = CommentedMap()
        _set(tree, "deleted", None, TOP_FIELDS)
        tree["deleted"] = gone
    for key in [k for k in gone if k not in doc.deleted]:
        del gone[key]
    order = tuple(sorted(doc.deleted))
    for key in order:
        if key in gone:
            if not _same(gone[key], doc.deleted[key]):
                gone[key] = doc.deleted[key]
        else:
            pos = sum(1 for k in gone if str(k) < key)
            gone.insert(pos, key, doc.deleted[key])


def dump_strategy(doc: StrategyDoc) -> str:
    """The doc as a new strategy file: every field named, in the file's order."""
    tree = CommentedMap()
    tree.yaml_set_start_comment(HEADER)
    _update(tree, replace(doc))
    buf = io.StringIO()
    _yaml().dump(tree, buf)
    return buf.getvalue()
