"""The strategy file through ruamel.yaml: its round-trip tree, updated in place and dumped.

This is the slow, general path behind :mod:`app.domain.strategy_file`: ruamel's tree keeps a
person's comments and layout, so :meth:`~app.domain.strategy_file.StrategyFile.render` writes
an edited doc into it, changing only the values that changed. :func:`new_tree` and
:func:`dump_tree` also give the reference text :mod:`app.domain.strategy_emit` writes without
ruamel (and the text for the few docs it leaves to ruamel).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from app.domain.enums import PolicyKind
from app.domain.strategy_doc import (
    ITEM_FIELDS,
    LINE_FIELDS,
    StrategyDoc,
    sort_key,
    sorted_items,
    sorted_lines,
)
from app.domain.strategy_emit import HEADER, TOP_FIELDS, item_fields
from app.domain.strategy_scalars import literal_ok

__all__ = ["dump_tree", "new_tree", "update_tree", "yaml"]


def yaml() -> YAML:
    """A round-trip ruamel.yaml, set up for the strategy file."""
    y = YAML()  # round trip: comments, key order, quotes, line numbers
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096  # long titles stay on one line
    return y


def _value(value: Any) -> Any:
    """How a doc value goes into the tree."""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, str):
        if literal_ok(value):
            return LiteralScalarString(value) if "\n" in value else value
        # ruamel writes NEL and the Unicode line separators raw, where a reader sees a break.
        return DoubleQuotedScalarString(value)
    if isinstance(value, tuple):
        return CommentedSeq(_raw(v) for v in value)
    return value


def _raw(text: Any) -> Any:
    """A list entry or key, left to ruamel's choice of style but for the Unicode breaks.

    ruamel would write NEL, U+2028 and U+2029 raw inside single quotes, where a reader sees a
    line break; double quotes escape them.
    """
    if isinstance(text, str) and any(c in text for c in "\x85\u2028\u2029"):
        return DoubleQuotedScalarString(text)
    return text


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
            fields = list(names(record))
            _fill(node, record, fields, order)
            for name in [k for k in node if k in order and k not in fields]:
                if not _same(node[name], getattr(record, name)):
                    del node[name]  # cleared: the doc no longer writes it
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


def update_tree(tree: CommentedMap, doc: StrategyDoc) -> None:
    """Write ``doc`` into ruamel's tree of a file, changing only what changed."""
    _set(tree, "schema_version", doc.schema_version, TOP_FIELDS)
    _set(tree, "base_revision", doc.base_revision, TOP_FIELDS)
    exported = doc.exported_at.isoformat() if doc.exported_at is not None else None
    if not _same(tree.get("exported_at"), doc.exported_at):
        _set(tree, "exported_at", exported, TOP_FIELDS)
    _set(tree, "mission", doc.mission, TOP_FIELDS)
    _update_records(tree, "items", sorted_items(doc), item_fields, ITEM_FIELDS, sort_key)
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
            gone.insert(pos, _raw(key), doc.deleted[key])


def new_tree(doc: StrategyDoc) -> CommentedMap:
    """A tree for ``doc`` alone, as a new file has it (the header comment first)."""
    tree = CommentedMap()
    tree.yaml_set_start_comment(HEADER)
    update_tree(tree, replace(doc))
    return tree


def dump_tree(tree: CommentedMap) -> str:
    buf = io.StringIO()
    yaml().dump(tree, buf)
    return buf.getvalue()
