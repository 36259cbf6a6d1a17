"""Nasty strategy docs and hand edits of a strategy file's text, for the two readers to agree on.

``nasty_docs()`` fills every field with text YAML is touchy about (quotes, colons, ``#``, edge
spaces, ``yes``/``null``/``1e3``/``0x1F``, tabs, CR, U+2028, control characters, emoji) and
numbers of every shape; it does not keep the funnel (read them with ``check_funnel=False``).
``hand_edits(text)`` changes a file's text the way a person in an editor might, and in ways
that break it.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, timedelta, timezone
from typing import Any
from unittest.mock import patch

from hypothesis import strategies as st

from app.domain.enums import Horizon, Network, PolicyKind, StrategyItemType
from app.domain.strategy_doc import PolicyLineDoc, StrategyDoc, StrategyItemDoc
from app.domain.strategy_file import StrategyFileError, read_strategy

PIECES = (
    "'", '"', ":", ": ", " #", "# ", "#", " ", "  ", "\t", "\r", "\n", "\n\n", "\r\n",
    "\u2028", "\u2029", "\x85", "\ufeff", "\x00", "\x1b", "\x7f", "\\", "\\n",
    "yes", "no", "null", "Null", "~", "true", "False", "1e3", "0x1F", "0o17", "017",
    "1_000", "-5", "+1", ".5", ".inf", "3.14", "2025-06-30", "2025-06-30T10:00:00", "<<",
    "=", "-", "- ", "?", "? ", "|", "|-", ">", "---", "...", "[", "]", "{", "}", ",", "&a",
    "*a", "!x", "!!str", "%", "@", "`", "é", "日本", "😀", "\xa0", "a", "b c", "x" * 40,
)  # fmt: skip
NASTY = st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=6).map("".join) | (
    st.text(max_size=20)
)
NUMBER = (
    st.none()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False)
    | st.sampled_from([0.0, -0.0, 1e16, 1e-7, 123456789.125, 30.0, -720.5])
)
IDS = NASTY.filter(lambda s: bool(s.strip()) and len(s) <= 36)
ZONES = st.sampled_from([None, UTC, timezone(timedelta(hours=-5, minutes=-30))])


@st.composite
def nasty_docs(draw: st.DrawFn) -> StrategyDoc:
    ids = draw(st.lists(IDS, min_size=0, max_size=6, unique=True))
    n_items = draw(st.integers(0, len(ids)))
    items = []
    for iid in ids[:n_items]:
        items.append(
            StrategyItemDoc(
                iid,
                draw(st.sampled_from(list(StrategyItemType))),
                draw(NASTY),
                body=draw(NASTY),
                unit=draw(st.none() | NASTY),
                owner=draw(st.none() | NASTY),
                kpi=draw(NASTY),
                kpi_target=draw(NUMBER),
                kpi_unit=draw(NASTY),
                baseline=draw(NUMBER),
                deadline=draw(st.none() | st.dates()),
                channel=draw(NASTY),
                cadence=draw(NASTY),
                horizon=draw(st.none() | st.sampled_from(list(Horizon))),
                parents=tuple(draw(st.lists(st.sampled_from(ids) | NASTY, max_size=3))),
                position=draw(st.integers(-(10**12), 10**12)),
                created=draw(st.none() | st.dates()),
            )
        )
    lines = [
        PolicyLineDoc(
            lid,
            draw(st.sampled_from(list(PolicyKind))),
            draw(NASTY),
            network=draw(st.none() | st.sampled_from(list(Network))),
            unit=draw(st.none() | NASTY),
            account=draw(st.none() | NASTY),
            note=draw(NASTY),
        )
        for lid in ids[n_items:]
    ]
    exported = draw(st.none() | st.datetimes(timezones=ZONES))
    return StrategyDoc.of(
        items,
        lines,
        base_revision=draw(st.none() | st.integers(-5, 10**9)),
        exported_at=exported,
        mission=draw(NASTY),
        deleted=draw(st.dictionaries(NASTY, st.none() | st.integers(-3, 10**6), max_size=3)),
    )


# -- what a person does to the text -----------------------------------------------------------

SCALARS = st.sampled_from(
    (
        "x", "x  # a comment", "'quoted'", "'it''s'", '"dq \\" \\\\ \\t \\u00e9 \\x41"', '"\\/"',
        '"\\q"', "''", '""', "~", "null", "yes", "no", "true", "1e3", "0x1F", "0o17", "017",
        "1_000", "-5", "+7", "3.", ".5", "-.inf", "2025-06-30", "2025-02-30", "2025-6-30",
        "2025-06-30T10:00:00", "2025-06-30 10:00:00+02:00", "<<", "=", "&a x", "*a", "!!str 5",
        "[a, b]", "[]", "[a,]", "{}", "{a: 1}", "- x", "a: b", "a:", "a #b", "a#b", "'open",
        '"open', "|", "|-", "|+", "|2", "|-2", "| # c", ">", "---", "...", "? x", "%x", "@x",
        "`x", "'a' b", "'a' # c", "\"a\"#c", "a\tb", "é 😀",
    )
)  # fmt: skip
COMMENTS = st.sampled_from(("# note", "  # indented note", "    #", "#: colon", "      # deep"))


@st.composite
def hand_edits(draw: st.DrawFn, text: str) -> str:
    """``text`` after a few edits a person might make (some of them break the file)."""
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        op = draw(
            st.sampled_from(
                (
                    "comment", "trailing", "blank", "value", "value", "value", "requote",
                    "indent", "dedent", "duplicate", "delete", "flow", "block", "key",
                    "spaces", "tab", "crlf", "no_final_newline", "schema",
                )
            )
        )  # fmt: skip
        line = lines[i] if lines else ""
        head, sep, value = line.partition(": ")
        if op == "comment":
            lines.insert(i, draw(COMMENTS))
        elif op == "trailing" and line:
            lines[i] = line + draw(st.sampled_from(("  # why", " #", " # a: b", "#x")))
        elif op == "blank":
            lines.insert(i, draw(st.sampled_from(("", "  ", "        "))))
        elif op == "value" and sep:
            lines[i] = f"{head}: {draw(SCALARS)}"
        elif op == "value" and line.endswith(":"):
            lines[i] = f"{line} {draw(SCALARS)}"
        elif op == "requote" and sep and value:
            quote = draw(st.sampled_from(("'", '"')))
            lines[i] = f"{head}: {quote}{value}{quote}"
        elif op == "indent":
            lines[i] = " " + line
        elif op == "dedent" and line.startswith(" "):
            lines[i] = line[1:]
        elif op == "duplicate":
            lines.insert(i, line)
        elif op == "delete" and lines:
            del lines[i]
        elif op == "flow" and line.strip() == "parents:":
            entries = []
            while i + 1 < len(lines) and lines[i + 1].lstrip().startswith("- "):
                entries.append(lines.pop(i + 1).strip()[2:])
            lines[i] = f"{line} [{', '.join(entries)}]"
        elif op == "block" and sep:
            lines[i : i + 1] = [
                f"{head}: {draw(st.sampled_from(('|', '|-', '|+', '|2-', '|-1')))}",
                *draw(st.lists(st.sampled_from(("      a", "", "       b", "      # c", "  ")))),
            ]
        elif op == "key" and sep:
            name = draw(st.sampled_from(("titel", "title", "id", "parents", "true", "1", "a b")))
            lines[i] = f"{' ' * (len(head) - len(head.lstrip()))}{name}: {value}"
        elif op == "spaces" and sep:
            lines[i] = f"{head}:{' ' * draw(st.integers(0, 3))}{value}"
        elif op == "tab" and line:
            lines[i] = line.replace(" ", "\t", 1)
        elif op == "crlf":
            return "\r\n".join(lines)
        elif op == "no_final_newline":
            return "\n".join(lines).rstrip("\n")
        elif op == "schema" and line.startswith("schema_version"):
            version = draw(st.sampled_from(("2", "1.0", "'1'", "true")))
            lines[i] = f"schema_version: {version}"
    return "\n".join(lines)


def outcome(text: str, *, fast: bool, check_funnel: bool = False) -> tuple[Any, ...]:
    """What reading ``text`` gives: the doc and its lines, or the error word for word.

    ``fast=False`` reads through ruamel alone (the strict reader switched off).
    """
    off = patch("app.domain.strategy_file.scan", return_value=None)
    with nullcontext() if fast else off:
        try:
            f = read_strategy(text, check_funnel=check_funnel)
        except StrategyFileError as exc:
            return ("refused", str(exc), exc.line, exc.item_id, exc.problems)
        except Exception as exc:
            return ("raised", type(exc).__name__, str(exc))
    return ("read", f.doc, f.lines)
