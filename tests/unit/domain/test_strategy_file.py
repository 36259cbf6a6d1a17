"""The strategy file: round trips, comments kept, and every malformed file refused by line."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given

from app.domain.strategy_doc import StrategyDoc
from app.domain.strategy_file import (
    MAX_BYTES,
    StrategyFileError,
    dump_strategy,
    read_strategy,
    read_strategy_file,
)
from tests.unit.domain.strategy_data import docs, small_doc, tactic


@given(docs())
def test_export_then_read_gives_the_same_doc(doc: StrategyDoc) -> None:
    text = dump_strategy(doc)
    assert read_strategy(text).doc == doc
    assert dump_strategy(read_strategy(text).doc) == text  # deterministic


@given(docs())
def test_an_unchanged_file_round_trips_byte_for_byte(doc: StrategyDoc) -> None:
    text = dump_strategy(doc)
    f = read_strategy(text)
    assert f.render(f.doc) == text
    # Through the tree too, not only the shortcut for an unchanged doc.
    f.doc = replace(f.doc, mission=f.doc.mission + "x")
    assert f.render(read_strategy(text).doc) == text


def test_the_file_reads_as_a_person_would_write_it() -> None:
    text = dump_strategy(small_doc())
    assert text.startswith("# Quiver strategy file.")
    assert "schema_version: 1\nbase_revision: 4\n" in text
    assert "  - id: tc1\n    type: tactic\n    title: Tactic tc1\n" in text
    assert "    body: |-\n      Two lines\n      of why\n" in text
    assert "    kpi_target: 30\n" in text
    assert "    deadline: 2025-06-30\n" in text
    order = [line.split(": ")[1] for line in text.splitlines() if line.startswith("  - id: ")]
    assert order == ["bg1", "dg1", "ai1", "sg1", "tc1", "tc2", "pl1", "pl2"]


def test_comments_a_person_adds_are_kept_when_the_doc_is_written_back() -> None:
    text = dump_strategy(small_doc())
    text = text.replace("schema_version: 1\n", "# Our plan for 2025\nschema_version: 1\n")
    text = text.replace("    cadence: daily\n", "    cadence: daily  # twice on Mondays\n", 1)
    text = text.replace("  - id: tc2\n", "  # the long one\n  - id: tc2\n")
    f = read_strategy(text)
    doc = f.doc
    items = dict(doc.items)
    items["tc1"] = replace(items["tc1"], title="Reply desk")
    items["tc3"] = tactic("tc3", "sg1", position=5)
    del items["tc2"]
    out = f.render(replace(doc, items=items, mission="New mission"))
    assert "# Our plan for 2025\n" in out
    assert "    cadence: daily  # twice on Mondays\n" in out
    assert "    title: Reply desk\n" in out
    assert "mission: New mission\n" in out
    assert "tc2" not in out.split("deleted:")[0]
    again = read_strategy(out)
    assert again.doc == replace(doc, items=items, mission="New mission")


def test_a_field_cleared_in_the_doc_leaves_the_file() -> None:
    items = dict(small_doc().items)
    items["bg1"] = replace(items["bg1"], kpi="reach")  # not a business goal's field: set anyway
    before = replace(small_doc(), items=items)
    f = read_strategy("# ours\n" + dump_strategy(before))
    items["bg1"] = replace(items["bg1"], kpi="")
    out = f.render(replace(before, items=items))
    assert "kpi: reach" not in out
    assert out.startswith("# ours\n")
    assert read_strategy(out).doc == replace(before, items=items)


def refused(text: str | bytes) -> StrategyFileError:
    with pytest.raises(StrategyFileError) as caught:
        read_strategy(text)
    return caught.value


def test_bad_yaml_is_refused_with_its_line() -> None:
    error = refused("schema_version: 1\nitems:\n  - id: a\n    title: [unclosed\n  - id: b\n")
    assert error.line is not None
    assert error.line >= 4
    assert str(error).startswith(f"line {error.line}: not valid YAML")


def test_an_unknown_schema_version_is_refused() -> None:
    text = dump_strategy(small_doc()).replace("schema_version: 1", "schema_version: 2")
    error = refused(text)
    assert error.line == 3
    assert "unknown schema version 2" in str(error)
    assert "no schema_version" in str(refused("items: []\n"))


def test_a_dangling_reference_is_refused_naming_the_item_and_its_line() -> None:
    text = dump_strategy(small_doc()).replace("      - dg1\n", "      - nowhere\n")
    error = refused(text)
    assert error.item_id == "sg1"
    assert "dangling reference" in str(error)
    assert "nowhere" in str(error)
    assert text.splitlines()[error.line - 1] == "  - id: sg1"  # type: ignore[operator]


def test_a_duplicate_id_in_the_list_is_refused() -> None:
    text = dump_strategy(small_doc()).replace("  - id: tc2\n", "  - id: tc1\n")
    error = refused(text)
    assert error.item_id == "tc1"
    assert "duplicate id, first used on line" in str(error)
    assert text.splitlines()[error.line - 1] == "  - id: tc1"  # type: ignore[operator]
    assert error.line != text.splitlines().index("  - id: tc1") + 1  # the second one


def test_a_duplicate_key_is_refused_with_its_line() -> None:
    text = dump_strategy(small_doc()).replace(
        "    cadence: daily\n", "    cadence: daily\n    cadence: x\n", 1
    )
    error = refused(text)
    assert "not valid YAML" in str(error)
    assert text.splitlines()[error.line - 1] == "    cadence: x"  # type: ignore[operator]


def test_a_tactic_without_a_social_goal_is_refused() -> None:
    text = dump_strategy(small_doc())
    text = text.replace(
        "    horizon: long\n    parents:\n      - sg1\n", "    horizon: long\n    parents: []\n"
    )
    error = refused(text)
    assert error.item_id == "tc2"
    assert "a tactic serves exactly one social goal (it has none)" in str(error)


def test_wrong_types_are_refused_naming_the_field() -> None:
    text = dump_strategy(small_doc()).replace("kpi_target: 30", "kpi_target: thirty")
    error = refused(text)
    assert error.item_id == "sg1"
    assert "kpi_target is a number" in str(error)
    assert text.splitlines()[error.line - 1] == "    kpi_target: thirty"  # type: ignore[operator]
    assert "deadline is a date" in str(
        refused(
            text.replace("kpi_target: thirty", "deadline: soon").replace(
                "    deadline: 2025-06-30\n", "", 1
            )
        )
    )
    good = dump_strategy(small_doc())
    assert "unknown field 'titel'" in str(refused(good.replace("title: Tactic tc1", "titel: x")))
    assert "horizon 'someday'" in str(
        refused(dump_strategy(small_doc()).replace("horizon: long", "horizon: someday"))
    )


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as out:
        out.truncate(50 * 1024 * 1024)  # 50 MB, sparse: costs no disk
    t0 = time.perf_counter()
    with pytest.raises(StrategyFileError, match="50 MB, over the 20 MB"):
        read_strategy_file(big)
    assert time.perf_counter() - t0 < 0.1
    with pytest.raises(StrategyFileError, match="over 20 MB"):
        read_strategy("#" * (MAX_BYTES + 1))


def test_a_file_from_disk_reads_like_its_text(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(dump_strategy(small_doc()), encoding="utf-8")
    assert read_strategy_file(path).doc == small_doc()
    assert "not UTF-8" in str(refused(b"schema_version: 1\nmission: \xff\n"))
