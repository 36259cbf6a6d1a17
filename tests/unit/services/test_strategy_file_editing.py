"""A strategy file as the editor's source: edits under the funnel's rules, saves that keep comments."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from app.domain.enums import StrategyItemType
from app.domain.strategy_doc import validate
from app.domain.strategy_file import StrategyFileError, dump_strategy, read_strategy_file
from app.domain.strategy_funnel import FunnelError, ItemFields, check_fields
from app.services.strategy_editing import (
    EditFields,
    PolicyEdit,
    Refused,
    StrategySource,
)
from app.services.strategy_file_editing import NO_UNITS_IN_A_FILE, FileSource
from tests.unit.domain.strategy_data import small_doc

TODAY = date(2025, 6, 1)
SOCIAL = EditFields(
    title="Answer every review",
    owner="ana@acme.example",
    kpi="reviews answered",
    kpi_target=95.0,
    kpi_unit="%",
    baseline=40.0,
    deadline=date(2026, 6, 30),
)
TACTIC = EditFields(
    title="Review desk", owner="ana@acme.example", channel="X", cadence="daily", horizon="short"
)


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    path = tmp_path / "plan.yaml"
    text = dump_strategy(small_doc())
    text = text.replace("schema_version: 1\n", "# Our plan for the offsite\nschema_version: 1\n")
    text = text.replace("    cadence: daily\n", "    cadence: daily  # twice on Mondays\n", 1)
    path.write_text(text, encoding="utf-8")
    return path


def _open(path: Path) -> FileSource:
    source = FileSource.open(path, today=TODAY)
    typed: StrategySource = source  # the editor takes it as any other source
    assert typed.has_served is False
    return source


def _fields(source: FileSource, key: str) -> EditFields:
    item = source.load().item(key)
    assert item is not None
    return item.fields


def test_a_file_loads_in_the_funnels_order_with_its_names(plan: Path) -> None:
    state = _open(plan).load()
    assert [i.key for i in state.items] == ["bg1", "dg1", "ai1", "sg1", "tc1", "tc2"]
    assert state.mission == "Mobility people love"
    assert state.problems == ()
    assert state.names.free_text
    assert [c.value for c in state.names.units] == ["Acme/Care"]
    assert [c.value for c in state.names.people] == ["ana@acme.example"]
    sg1 = state.item("sg1")
    assert sg1 is not None
    assert sg1.children == ("tc1", "tc2")
    assert [p.line.value for p in state.policy] == ["guarantee", "250"]
    units = next(s for s in state.missing if s.key == "units")
    assert units.entries == ()
    assert units.note == NO_UNITS_IN_A_FILE


def test_an_edit_saved_reads_back_and_keeps_the_comments_a_person_wrote(plan: Path) -> None:
    source = _open(plan)
    source.update("tc1", replace(_fields(source, "tc1"), cadence="hourly"), ["sg1"])
    assert source.dirty
    assert source.save() == plan
    assert not source.dirty
    text = plan.read_text(encoding="utf-8")
    assert "# Our plan for the offsite\n" in text
    assert "    cadence: hourly" in text
    assert read_strategy_file(plan).doc.items["tc1"].cadence == "hourly"
    assert [p.name for p in plan.parent.iterdir()] == ["plan.yaml"]  # no temporary file left


def test_saving_as_writes_the_new_file_and_leaves_the_old_one(plan: Path, tmp_path: Path) -> None:
    source = _open(plan)
    before = plan.read_bytes()
    source.set_mission("Mobility for everyone")
    other = tmp_path / "copy.yaml"
    assert source.save(other) == other
    assert plan.read_bytes() == before
    assert read_strategy_file(other).doc.mission == "Mobility for everyone"
    assert source.path == other


def test_a_refusal_is_in_the_workspaces_own_words(plan: Path) -> None:
    source = _open(plan)
    broken = replace(SOCIAL, kpi_target=None, baseline=None)
    with pytest.raises(FunnelError) as workspace:
        check_fields(StrategyItemType.SOCIAL_GOAL, ItemFields("x", kpi="k", kpi_unit="%"))
    with pytest.raises(Refused) as caught:
        source.create("social_goal", broken, ["dg1", "ai1"])
    assert str(caught.value) == "A social goal needs a numeric target and a baseline."
    assert "a numeric target" in str(workspace.value)  # the same rule, the same words
    assert not source.dirty


def test_a_tactic_never_exists_without_its_social_goal(plan: Path) -> None:
    source = _open(plan)
    with pytest.raises(Refused, match="A tactic serves exactly one social goal"):
        source.create("tactic", TACTIC, [])
    with pytest.raises(Refused, match="cannot derive from the business goal"):
        source.create("tactic", TACTIC, ["bg1"])
    with pytest.raises(Refused, match="There is no strategy item nope"):
        source.create("tactic", TACTIC, ["nope"])
    assert len(source.doc.items) == 6


def test_a_new_tactic_counts_its_horizon_from_today(plan: Path) -> None:
    source = _open(plan)
    key = source.create("tactic", replace(TACTIC, horizon="short"), ["sg1"])
    item = source.load().item(key)
    assert item is not None
    assert item.created == TODAY
    assert item.horizon_end == date(2025, 9, 1)
    assert item.position == 2  # after tc1 and tc2
    assert validate(source.doc) == []


def test_an_owner_in_a_file_is_an_email(plan: Path) -> None:
    source = _open(plan)
    with pytest.raises(Refused, match="by their e-mail"):
        source.create("tactic", replace(TACTIC, owner="Ana", horizon="long"), ["sg1"])


def test_links_that_would_go_round_in_a_circle_are_refused(plan: Path) -> None:
    source = _open(plan)
    dg2 = source.create(
        "department_goal", EditFields("Sales follow up", unit="Acme/Sales"), ["dg1"]
    )
    with pytest.raises(Refused, match="go round in a circle"):
        source.update("dg1", _fields(source, "dg1"), ["bg1", dg2])
    assert source.doc.items["dg1"].parents == ("bg1",)


def test_deleting_a_social_goal_takes_its_tactics_and_records_them(plan: Path) -> None:
    source = _open(plan)
    dependents = source.dependents("sg1")
    assert [(d.key, d.deleted) for d in dependents] == [("tc1", True), ("tc2", True)]
    source.delete("sg1")
    assert set(source.doc.items) == {"bg1", "dg1", "ai1"}
    assert dict(source.doc.deleted) == {"gone1": 2, "sg1": None, "tc1": None, "tc2": None}
    assert validate(source.doc) == []


def test_deleting_a_goal_only_unlinks_what_can_live_without_it(plan: Path) -> None:
    source = _open(plan)
    assert [(d.key, d.deleted) for d in source.dependents("bg1")] == [("dg1", False)]
    source.delete("bg1")
    assert source.doc.items["dg1"].parents == ()


def test_an_item_made_and_deleted_here_leaves_nothing_behind(plan: Path) -> None:
    source = _open(plan)
    key = source.create("tactic", replace(TACTIC, horizon="medium"), ["sg1"])
    source.delete(key)
    assert key not in source.doc.deleted
    assert source.doc == FileSource.open(plan).doc


def test_moving_an_item_reorders_its_section(plan: Path) -> None:
    source = _open(plan)
    source.move("tc2", 0)
    tactics = [i.key for i in source.load().items if i.type == "tactic"]
    assert tactics == ["tc2", "tc1"]


def test_policy_lines_are_checked_added_and_deleted_by_their_ids(plan: Path) -> None:
    source = _open(plan)
    with pytest.raises(Refused, match="names the network"):
        source.add_policy_line(PolicyEdit("length_limit", "200"))
    with pytest.raises(Refused, match="whole number"):
        source.add_policy_line(PolicyEdit("length_limit", "lots", network="x"))
    key = source.add_policy_line(PolicyEdit("risky_term", " refund ", account="@acmecare"))
    line = source.doc.policy[key]
    assert (line.value, line.account) == ("refund", "acmecare")
    source.edit_policy_line("pl1", PolicyEdit("banned_term", "guaranteed", note="legal"))
    assert source.doc.policy["pl1"].value == "guaranteed"
    source.delete_policy_line("pl2")
    assert "pl2" not in source.doc.policy
    assert source.doc.deleted["pl2"] is None


def test_a_hand_written_gap_opens_and_is_listed_with_what_it_lacks(tmp_path: Path) -> None:
    path = tmp_path / "hand.yaml"
    text = dump_strategy(small_doc()).replace("    cadence: daily\n", "    cadence: ''\n", 1)
    path.write_text(text, encoding="utf-8")
    state = FileSource.open(path, today=TODAY).load()
    assert state.problems == ()  # an import takes it as it is
    parts = next(s for s in state.missing if s.key == "parts")
    assert [(e.key, e.title) for e in parts.entries] == [
        ("tc1", "Tactic tc1: A tactic needs a cadence.")
    ]
    assert parts.note


def test_a_dangling_parent_written_by_hand_opens_as_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "hand.yaml"
    text = dump_strategy(small_doc()).replace("      - sg1\n", "      - sg9\n", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StrategyFileError, match="dangling reference"):
        read_strategy_file(path)  # what an import would say
    state = FileSource.open(path, today=TODAY).load()
    assert [(p.key, p.message) for p in state.problems] == [
        ("tc1", "Dangling reference: the parent sg9 does not exist.")
    ]


def test_a_malformed_file_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("schema_version: 1\nitems:\n  - id: a\n    colour: red\n", encoding="utf-8")
    with pytest.raises(StrategyFileError) as caught:
        FileSource.open(path)
    assert caught.value.line == 4
    assert str(caught.value).startswith("line 4: item a: unknown field 'colour'")


def test_a_save_that_fails_leaves_the_file_as_it_was(
    plan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _open(plan)
    before = plan.read_bytes()
    source.set_mission("Something new")

    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(Refused, match="No space left on device"):
        source.save()
    assert plan.read_bytes() == before
    assert [p.name for p in plan.parent.iterdir()] == ["plan.yaml"]
    assert source.dirty
