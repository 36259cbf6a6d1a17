"""The strategy file without ruamel: our emitter writes ruamel's text, our reader reads it.

Both are checked against ruamel itself: the emitter's text is byte for byte ruamel's dump of
the same doc and reads back (through ruamel) to the same doc; the strict reader gives the same
doc, lines and errors as ruamel's round-trip loader for random docs and random hand edits of
their text, or declines and lets ruamel read.
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.domain.strategy_doc import StrategyDoc, validate
from app.domain.strategy_emit import emit
from app.domain.strategy_file import dump_strategy, read_strategy
from app.domain.strategy_merge import merge
from app.domain.strategy_scalars import STR, plain_tag
from app.domain.strategy_scan import scan
from app.domain.strategy_tree import dump_tree, new_tree, yaml
from benchmarks import strategy as bench
from tests.unit.domain.strategy_data import docs, edits, small_doc
from tests.unit.domain.strategy_text_data import PIECES, hand_edits, nasty_docs, outcome

MANY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def ruamel_dump(doc: StrategyDoc) -> str:
    return dump_tree(new_tree(doc))


# -- the emitter --------------------------------------------------------------------------------


def test_the_small_doc_is_written_byte_for_byte_as_ruamel_writes_it() -> None:
    text = emit(small_doc())
    assert text is not None
    assert text == ruamel_dump(small_doc())
    assert dump_strategy(small_doc()) == text


@MANY
@given(docs())
def test_a_valid_funnel_is_written_as_ruamel_writes_it(doc: StrategyDoc) -> None:
    assert emit(doc) == ruamel_dump(doc)


@MANY
@given(nasty_docs())
def test_nasty_text_is_written_as_ruamel_writes_it_and_reads_back(doc: StrategyDoc) -> None:
    text = emit(doc)
    if text is not None:  # declined: dump_strategy goes through ruamel
        assert text == ruamel_dump(doc)
    written = dump_strategy(doc)
    through_ruamel = outcome(written, fast=False)
    assert through_ruamel[:2] == ("read", doc)
    assert outcome(written, fast=True) == through_ruamel


def test_the_emitter_declines_what_ruamel_would_fold_or_shape_itself() -> None:
    long_body = replace(small_doc(), mission="word " * 1_000)
    assert emit(long_body) is None
    assert read_strategy(dump_strategy(long_body)).doc == long_body  # through ruamel
    odd_key = replace(small_doc(), deleted={"a\nb": 1})
    assert emit(odd_key) is None
    assert read_strategy(dump_strategy(odd_key)).doc == odd_key


@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=4).map("".join))
@example("0x1F")
@example("1_000")
@example("-.inf")
@example("2025-06-30 10:00:00")
def test_plain_scalars_resolve_as_ruamel_resolves_them(text: str) -> None:
    from ruamel.yaml.nodes import ScalarNode
    from ruamel.yaml.resolver import VersionedResolver

    expected = VersionedResolver(version=(1, 2)).resolve(ScalarNode, text, (True, False))
    assert plain_tag(text) == str(expected)
    assert (plain_tag(text) == STR) == (str(expected) == STR)


# -- the strict reader ------------------------------------------------------------------------


@MANY
@given(st.data())
def test_hand_edits_read_the_same_through_both_readers(data: st.DataObject) -> None:
    doc = data.draw(docs() | nasty_docs())
    text = data.draw(hand_edits(dump_strategy(doc)))
    for check in (False, True):
        assert outcome(text, fast=True, check_funnel=check) == outcome(
            text, fast=False, check_funnel=check
        )


def test_the_readers_agree_on_what_a_person_typically_writes() -> None:
    text = dump_strategy(small_doc())
    edited = (
        text.replace("schema_version: 1\n", "# plan 2025\n\nschema_version: 1  # do not touch\n")
        .replace("    title: Tactic tc1\n", "    title: 'Tactic: one'  # requoted\n")
        .replace("    cadence: daily\n", '    cadence: "twice \\u00e9"\n', 1)
        .replace("      - bg1\n", "      - bg1  # the only one\n")
        .replace(
            "    body: |-\n      Two lines\n", "    body: |\n      Two lines\n\n      # kept\n"
        )
        .replace("    parents:\n      - ai1\n      - dg1\n", "    parents: [ai1, dg1]\n")
    )
    assert scan(edited) is not None  # all of it the strict reader's own
    fast = outcome(edited, fast=True, check_funnel=True)
    assert fast == outcome(edited, fast=False, check_funnel=True)
    assert fast[0] == "read"
    assert fast[1].items["tc1"].title == "Tactic: one"
    assert fast[1].items["tc1"].cadence == "twice é"
    assert fast[1].items["bg1"].body == "Two lines\n\n# kept\nof why\n"
    assert scan(edited.replace("\n", "\r\n")) is not None  # a file saved on Windows


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        ("  - id: tc2\n", "  - id: tc1\n", "duplicate id, first used on line"),
        ("kpi_target: 30", "kpi_target: thirty", "kpi_target is a number"),
        ("title: Tactic tc1", "titel: x", "unknown field 'titel'"),
        ("horizon: long", "horizon: someday", "horizon 'someday'"),
        ("schema_version: 1", "schema_version: 2", "unknown schema version 2"),
        ("      - dg1\n", "      - nowhere\n", "dangling reference"),
        ("position: 1", "position: 1.5", "position is a whole number"),
    ],
)
def test_errors_come_out_the_same_from_the_strict_reader(old: str, new: str, error: str) -> None:
    text = dump_strategy(small_doc()).replace(old, new)
    assert scan(text) is not None  # reported by the strict reader, not passed on
    fast = outcome(text, fast=True, check_funnel=True)
    assert fast == outcome(text, fast=False, check_funnel=True)
    assert fast[0] == "refused"
    assert error in fast[1]


@pytest.mark.parametrize(
    "edit",
    [
        ("    cadence: daily\n", "    cadence: daily\n    cadence: x\n"),  # a duplicate key
        ("title: Tactic tc1", "title: &a Tactic tc1"),  # an anchor
        ("title: Tactic tc1", "title: Tactic\n      tc1"),  # a plain scalar on two lines
        ("position: 1", "position: 0x1"),  # hex
        ("title: Tactic tc1", "title:\tTactic tc1"),  # a tab
        ("  - id: tc2\n", "  -   id: tc2\n"),  # another indentation
    ],
)
def test_the_strict_reader_declines_what_it_is_not_sure_of(edit: tuple[str, str]) -> None:
    text = dump_strategy(small_doc()).replace(*edit)
    assert scan(text) is None
    assert outcome(text, fast=True) == outcome(text, fast=False)


# -- the benchmark's file, and what stays fast ----------------------------------------------------


@pytest.fixture(scope="module")
def big() -> tuple[StrategyDoc, str]:
    rng = random.Random(16)
    doc = bench.build(rng)
    return doc, bench.edit(dump_strategy(doc), rng)


def test_the_benchmarks_file_is_read_without_ruamel(big: tuple[StrategyDoc, str]) -> None:
    doc, text = big
    assert scan(text) is not None
    with patch("app.domain.strategy_file._load", side_effect=AssertionError("ruamel loaded")):
        f = read_strategy(text)
        assert f.render(f.doc) is text  # unchanged: no tree needed
    assert not f.tree_loaded
    assert len(f.doc.items) == len(doc.items)
    assert sum(i.cadence == "weekly" for i in f.doc.items.values()) == 100


def test_validate_and_merge_stay_fast_at_5000_items(big: tuple[StrategyDoc, str]) -> None:
    doc, text = big
    theirs = read_strategy(text).doc
    t0 = time.perf_counter()
    assert validate(doc) == []
    result = merge(doc, doc, theirs)
    assert len(result.changes) == 100
    assert time.perf_counter() - t0 < 1.0  # about 40 ms; a quadratic step would take seconds


# -- rendering ------------------------------------------------------------------------------------


def test_a_file_with_nothing_of_a_persons_is_rendered_without_ruamel() -> None:
    f = read_strategy(dump_strategy(small_doc()))
    new = replace(small_doc(), mission="Another mission")
    with patch("app.domain.strategy_file._load", side_effect=AssertionError("ruamel loaded")):
        out = f.render(new)
    assert out == dump_strategy(new)
    assert not f.tree_loaded
    assert read_strategy(out).doc == new


def test_a_file_with_a_comment_builds_the_tree_only_to_render_a_change() -> None:
    text = "# ours\n" + dump_strategy(small_doc())
    f = read_strategy(text)
    assert not f.tree_loaded
    assert f.render(f.doc) == text
    assert not f.tree_loaded
    new = replace(small_doc(), mission="Another mission")
    out = f.render(new)
    assert f.tree_loaded
    assert out.startswith("# ours\n")
    assert out == text.replace("mission: Mobility people love", "mission: Another mission")
    assert yaml().load(out) is not None


@given(docs().flatmap(lambda doc: st.tuples(st.just(doc), edits(doc, "ours"))), st.booleans())
@MANY
def test_a_rendered_edit_reads_back_as_the_doc(
    pair: tuple[StrategyDoc, StrategyDoc], commented: bool
) -> None:
    doc, new = pair
    text = dump_strategy(doc)
    if commented:  # a person's comment: the tree keeps it
        text = text.replace("items:\n", "# the funnel\nitems:\n", 1)
    f = read_strategy(text)
    out = f.render(new)
    assert f.tree_loaded == (commented and new != doc)
    assert read_strategy(out, check_funnel=False).doc == new
    assert ("# the funnel\n" in out) == commented
