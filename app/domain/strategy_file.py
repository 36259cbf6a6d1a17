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

Writing (:func:`dump_strategy`) builds the text directly (:mod:`app.domain.strategy_emit`),
byte for byte what ruamel.yaml's dumper gives the same doc. Reading (:func:`read_strategy`,
:func:`read_strategy_file`) first tries a strict reader for the file's own shape
(:mod:`app.domain.strategy_scan`) and hands anything outside it to ruamel.yaml's round-trip
loader; both trees go through the same checks, so the doc and every error are the same
either way. Comments a person adds are kept: :meth:`StrategyFile.render` writes an edited doc
back into ruamel's tree of the file (built only then), changing only the values that changed,
and a doc that did not change comes back byte for byte. Every refusal is one
:class:`StrategyFileError` naming the line and, where there is one, the item.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from app.domain.enums import Horizon, Network, PolicyKind, StrategyItemType
from app.domain.strategy_doc import (
    ITEM_FIELDS,
    LINE_FIELDS,
    SCHEMA_VERSION,
    PolicyLineDoc,
    StrategyDoc,
    StrategyItemDoc,
    validate,
)
from app.domain.strategy_emit import HEADER as HEADER  # where it was defined before
from app.domain.strategy_emit import TOP_FIELDS, emit
from app.domain.strategy_scan import Node, Seq, scan
from app.domain.strategy_tree import dump_tree, new_tree, update_tree, yaml

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
_MAPS = (CommentedMap, Node)  # a mapping as ruamel read it, or as the fast reader did
_SEQS = (CommentedSeq, Seq)


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


# -- reading ---------------------------------------------------------------------------------


def _line(node: Any, key: Any = None) -> int | None:
    """The 1-based line of ``node`` (or of its ``key``), where the reader knows it."""
    if isinstance(node, Node):
        return node.line if key is None else node.lines.get(key, node.line)
    if isinstance(node, Seq):
        if key is None or not 0 <= key < len(node.lines):
            return node.line
        return int(node.lines[key])
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

    def __init__(self, node: Any, item_id: str | None, allowed: Iterable[str]) -> None:
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


def _id_of(node: Any, seq: Any, index: int, what: str) -> str:
    if not isinstance(node, _MAPS):
        raise StrategyFileError(f"each {what} is a mapping of fields", _line(seq, index))
    value = node.get("id")
    if not isinstance(value, str) or not value.strip():
        raise StrategyFileError(f"a {what} without an id", _line(seq, index))
    if len(value) > MAX_ID:
        raise StrategyFileError(f"the id is over {MAX_ID} characters", _line(node, "id"), value)
    return str(value)


def _read_item(node: Any, item_id: str) -> StrategyItemDoc:
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


def _read_line(node: Any, line_id: str) -> PolicyLineDoc:
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
    top: Any,
    key: str,
    what: str,
    read: Callable[[Any, str], Any],
    seen: dict[str, int | None],
) -> dict[str, Any]:
    seq = top.get(key)
    if seq is None:
        return {}
    if not isinstance(seq, _SEQS):
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


class StrategyFile:
    """A strategy file as read: the doc, the text, and ruamel's tree of it (comments, layout).

    The tree is built the first time it is needed (:attr:`tree`): a file read and never
    rendered with a changed doc never pays for ruamel.
    """

    def __init__(
        self,
        doc: StrategyDoc,
        tree: CommentedMap | None,
        text: str,
        lines: dict[str, int | None],
    ) -> None:
        self.doc = doc
        self._tree = tree  # None: not built yet
        self.text = text
        self.lines = lines  # id -> 1-based line, for messages

    def __repr__(self) -> str:
        return f"StrategyFile({len(self.doc.items)} items, {len(self.text)} characters)"

    @property
    def tree_loaded(self) -> bool:
        return self._tree is not None

    @property
    def tree(self) -> CommentedMap:
        """The round-trip tree ruamel makes of :attr:`text`, built on first use."""
        if self._tree is None:
            tree = _load(self.text)
            if not isinstance(tree, CommentedMap):  # pragma: no cover - the text was read
                raise StrategyFileError("not a strategy file: expected a mapping", 1)
            self._tree = tree
        return self._tree

    def render(self, doc: StrategyDoc) -> str:
        """The file's text with ``doc`` in it: the tree updated in place, comments kept.

        An unchanged doc gives the text back as it was read, byte for byte. A file with
        nothing of a person's in it (exactly the text :func:`dump_strategy` writes, no tree
        built yet) is simply written anew for ``doc``.
        """
        if doc == self.doc:
            return self.text
        if self._tree is None and emit(self.doc) == self.text:
            text = dump_strategy(doc)
        else:
            update_tree(self.tree, doc)
            text = dump_tree(self.tree)
        self.doc, self.text = doc, text
        return text


def _load(text: str) -> Any:
    """The round-trip tree ruamel makes of ``text``; its errors as :class:`StrategyFileError`."""
    try:
        return yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise StrategyFileError(f"not valid YAML: {exc.problem or exc.context}", line) from None
    except YAMLError as exc:
        raise StrategyFileError(f"not valid YAML: {exc}") from None


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
    tree: Any = scan(text)  # the file's own shape, read fast; None: anything else
    if tree is None:
        tree = _load(text)
    if not isinstance(tree, _MAPS):
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
        if not isinstance(deleted_node, _MAPS):
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
    return StrategyFile(doc, tree if isinstance(tree, CommentedMap) else None, text, seen)


def read_strategy_file(path: str | os.PathLike[str], **kwargs: bool) -> StrategyFile:
    """Read a strategy file from disk, refusing one over :data:`MAX_BYTES` before reading it."""
    size = os.stat(path).st_size
    if size > MAX_BYTES:
        raise StrategyFileError(
            f"the file is {size / (1024 * 1024):.0f} MB, over the "
            f"{MAX_BYTES // (1024 * 1024)} MB a strategy file may have"
        )
    return read_strategy(Path(path).read_bytes(), **kwargs)


def dump_strategy(doc: StrategyDoc) -> str:
    """The doc as a new strategy file: every field named, in the file's order."""
    text = emit(doc)
    return text if text is not None else dump_tree(new_tree(doc))
