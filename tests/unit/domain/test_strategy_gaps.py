"""What a strategy file lacks: the workspace's "what is missing" rules over a doc."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from app.domain.enums import Horizon
from app.domain.strategy_doc import StrategyDoc, StrategyItemDoc
from app.domain.strategy_gaps import doc_gaps, item_horizon_end
from tests.unit.domain.strategy_data import BG, small_doc, social_goal, tactic

TODAY = date(2025, 6, 1)


def test_a_whole_funnel_lacks_nothing() -> None:
    found = doc_gaps(small_doc(), TODAY)
    assert found.goals_without_social_goals == ()
    assert found.social_goals_without_kpi == ()
    assert found.social_goals_without_tactic == ()
    assert found.tactics_past_horizon == ()


def test_a_goal_nothing_derives_from_and_a_social_goal_without_tactics_are_listed() -> None:
    doc = small_doc()
    items = dict(doc.items)
    items["bg2"] = StrategyItemDoc("bg2", BG, "Open a shop in Oslo")
    items["sg2"] = social_goal("sg2", "bg1", "ai1", kpi_target=None)
    found = doc_gaps(replace(doc, items=items), TODAY)
    assert found.goals_without_social_goals == ("bg2",)
    assert found.social_goals_without_kpi == ("sg2",)
    assert found.social_goals_without_tactic == ("sg2",)


def test_a_tactic_past_its_horizon_counts_from_the_day_it_was_made() -> None:
    doc = small_doc()
    items = dict(doc.items)
    items["tc1"] = replace(items["tc1"], created=date(2025, 2, 28))  # short: 3 months
    items["tc2"] = replace(items["tc2"], created=date(2025, 2, 28), horizon=Horizon.LONG)
    found = doc_gaps(replace(doc, items=items), TODAY)
    assert found.tactics_past_horizon == ("tc1",)
    assert item_horizon_end(items["tc1"]) == date(2025, 5, 28)
    assert item_horizon_end(items["tc2"]) == date(2028, 2, 28)


def test_a_tactic_written_without_its_day_is_never_past_its_horizon() -> None:
    doc = StrategyDoc.of([*small_doc().items.values(), tactic("tc9", "sg1")])
    assert doc.items["tc9"].created is None
    assert item_horizon_end(doc.items["tc9"]) is None
    assert doc_gaps(doc, date(2099, 1, 1)).tactics_past_horizon == ()


def test_dangling_parents_and_unknown_types_are_left_to_validate() -> None:
    doc = small_doc()
    items = dict(doc.items)
    items["odd"] = StrategyItemDoc("odd", "vision", "A type no funnel has")  # type: ignore[arg-type]
    items["sg1"] = replace(items["sg1"], parents=("dg1", "ai1", "missing"))
    found = doc_gaps(replace(doc, items=items), TODAY)
    assert found.goals_without_social_goals == ()  # sg1 still derives from dg1
    assert "odd" not in found.social_goals_without_tactic
