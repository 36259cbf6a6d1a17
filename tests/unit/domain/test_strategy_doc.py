"""The funnel's rules over a strategy doc, and what depends on an item."""

from __future__ import annotations

from dataclasses import replace

from app.domain.strategy_doc import StrategyDoc, StrategyItemDoc, dependents, incomplete, validate
from tests.unit.domain.strategy_data import small_doc, social_goal, tactic


def with_item(doc: StrategyDoc, item: StrategyItemDoc) -> StrategyDoc:
    return replace(doc, items={**doc.items, item.id: item})


def messages(doc: StrategyDoc) -> list[tuple[str | None, str]]:
    return [(p.item_id, p.message) for p in validate(doc)]


def test_a_valid_funnel_has_no_problems() -> None:
    assert validate(small_doc()) == []


def test_a_tactic_needs_exactly_one_social_goal_and_a_horizon() -> None:
    doc = with_item(small_doc(), tactic("t9", "sg1", parents=(), horizon=None))
    assert messages(doc) == [("t9", "a tactic serves exactly one social goal (it has none)")]
    assert [(p.item_id, p.message) for p in incomplete(doc)] == [
        ("t9", "a tactic needs a horizon (short, medium or long)")
    ]
    two = with_item(small_doc(), tactic("t9", "sg1", parents=("sg1", "dg1")))
    assert ("t9", "a tactic serves exactly one social goal (not 2)") in messages(two)
    assert any("the parent dg1 is a department_goal" in m for _, m in messages(two))


def test_a_social_goal_needs_its_inputs_a_kpi_and_an_owner() -> None:
    bare = social_goal(
        "s9", kpi="", kpi_target=None, kpi_unit="", baseline=None, deadline=None, owner=None
    )
    doc = with_item(small_doc(), bare)
    assert [m for i, m in messages(doc) if i == "s9"] == [
        "a social goal derives from at least one business or department goal"
        " and at least one audience insight"
    ]
    assert [(p.item_id, p.message) for p in incomplete(doc)] == [
        (
            "s9",
            "a social goal needs a KPI, a numeric target, the target's unit, a baseline,"
            " a deadline, an owner",
        )
    ]
    assert incomplete(small_doc()) == []


def test_dangling_references_wrong_types_cycles_and_duplicate_ids() -> None:
    doc = with_item(small_doc(), social_goal("s9", "bg1", "nowhere"))
    assert ("s9", "dangling reference: the parent nowhere does not exist") in messages(doc)
    loop = small_doc()
    loop = with_item(loop, replace(loop.items["dg1"], parents=("dg2",)))
    loop = with_item(loop, StrategyItemDoc("dg2", "department_goal", "x", parents=("dg1",)))
    assert any(m == "its parent links form a cycle" for _, m in messages(loop))
    clash = replace(small_doc(), deleted={"tc1": 3})
    assert ("tc1", "duplicate id: listed as deleted and still present") in messages(clash)


def test_dependents_are_everything_downstream_in_funnel_order() -> None:
    doc = small_doc()
    assert [i.id for i in dependents(doc, "bg1")] == ["dg1", "sg1", "tc1", "tc2"]
    assert [i.id for i in dependents(doc, "ai1")] == ["sg1", "tc1", "tc2"]
    assert dependents(doc, "tc1") == []
    assert {i.type for i in dependents(doc, "dg1")} == {"social_goal", "tactic"}
