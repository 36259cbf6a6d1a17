"""The editor's workspace source on both engines: reads in one state, edits through the service."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select, update

from app.domain.enums import StrategyItemType
from app.domain.strategy_file import dump_strategy
from app.models import AuditEntry, Conversation
from app.services.container import Services
from app.services.strategy_editing import (
    GAP_SECTIONS,
    EditFields,
    PolicyEdit,
    Refused,
    StrategySource,
    StrategyState,
    WorkspaceSource,
)
from app.services.strategy_file_editing import FileSource
from tests.integration.demo_lookup import person_id, social_goal
from tests.unit.domain.strategy_data import small_doc

T = StrategyItemType


def _source(s: Services, local: str) -> WorkspaceSource:
    source = WorkspaceSource(s, person_id(s, local))
    typed: StrategySource = source  # the editor takes it as any other source
    assert typed.has_served
    return source


def _first(state: StrategyState, kind: StrategyItemType) -> str:
    return next(i.key for i in state.items if i.type == kind)


def _last_action(s: Services) -> str | None:
    with s.db.engine.connect() as conn:
        return conn.scalar(
            select(AuditEntry.action)
            .where(AuditEntry.entity == "strategy_item")
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )


def test_the_state_holds_the_outline_the_names_and_what_is_missing(
    demo_services: Services,
) -> None:
    state = _source(demo_services, "tom.becker").load()  # everyone may read it
    kinds = [i.type for i in state.items]
    assert kinds == sorted(kinds, key=list(T).index)
    assert state.mission
    assert [s.key for s in state.missing] == list(GAP_SECTIONS)
    assert state.problems == ()
    units = {c.label for c in state.names.units}
    assert "Acme Mobility/Customer Care" in units
    assert not state.names.free_text
    assert any("Helena Marsh" in c.label for c in state.names.people)
    assert any(c.label.startswith("@acme ") for c in state.names.accounts)
    tactic = state.item(_first(state, T.TACTIC))
    assert tactic is not None
    assert tactic.created is not None
    assert tactic.horizon_end is not None
    assert tactic.horizon_end > tactic.created
    assert len(tactic.parents) == 1
    goal = state.item(tactic.parents[0])
    assert goal is not None
    assert tactic.key in goal.children


def test_an_edit_goes_through_the_service_and_its_audit_log(demo_services: Services) -> None:
    s = demo_services
    source = _source(s, "helena.marsh")
    state = source.load()
    tactic = state.item(_first(state, T.TACTIC))
    assert tactic is not None
    source.update(tactic.key, replace(tactic.fields, cadence="twice a day"), tactic.parents)
    stored = s.strategy.item(person_id(s, "helena.marsh"), int(tactic.key))
    assert stored.fields.cadence == "twice a day"
    assert _last_action(s) == "strategy.item_edited"


def test_someone_not_allowed_is_refused_in_words(demo_services: Services) -> None:
    s = demo_services
    source = _source(s, "tom.becker")
    state = source.load()
    tactic = state.item(_first(state, T.TACTIC))
    assert tactic is not None
    with pytest.raises(Refused, match=r"Only the head of .* can edit its tactics"):
        source.update(tactic.key, replace(tactic.fields, cadence="never"), tactic.parents)
    with pytest.raises(Refused, match="Only the executive sponsor"):
        source.add_policy_line(PolicyEdit("banned_term", "freebie"))
    assert s.strategy.item(person_id(s, "tom.becker"), int(tactic.key)).fields.cadence != "never"


def test_a_tactic_added_under_a_goal_then_deleted_with_it(demo_services: Services) -> None:
    s = demo_services
    source = _source(s, "helena.marsh")
    helena = str(person_id(s, "helena.marsh"))
    goal = str(social_goal(s))
    new = source.create(
        "tactic",
        EditFields("Live Q&A", owner=helena, channel="X", cadence="monthly", horizon="medium"),
        [goal],
    )
    state = source.load()
    item = state.item(new)
    assert item is not None
    assert item.parents == (goal,)
    dependents = source.dependents(goal)
    assert new in {d.key for d in dependents if d.deleted}
    source.delete(goal)
    after = source.load()
    assert after.item(goal) is None
    assert after.item(new) is None


def test_a_funnel_refusal_comes_back_in_the_services_words(demo_services: Services) -> None:
    source = _source(demo_services, "helena.marsh")
    with pytest.raises(Refused, match="A tactic serves exactly one social goal"):
        source.create(
            "tactic",
            EditFields("Orphan", owner="1", channel="X", cadence="daily", horizon="short"),
            [],
        )
    with pytest.raises(Refused, match="Choose the owner from the list"):
        source.create("business_goal", EditFields("Grow", owner="helena"), [])


def test_moving_a_tactic_changes_the_outlines_order(demo_services: Services) -> None:
    source = _source(demo_services, "helena.marsh")
    before = [i.key for i in source.load().items if i.type == T.TACTIC]
    source.move(before[-1], 0)
    after = [i.key for i in source.load().items if i.type == T.TACTIC]
    assert after == [before[-1], *before[:-1]]


def test_policy_lines_are_added_edited_and_deleted(demo_services: Services) -> None:
    s = demo_services
    source = _source(s, "helena.marsh")
    care = next(c.value for c in source.load().names.units if c.label.endswith("Customer Care"))
    key = source.add_policy_line(PolicyEdit("risky_term", "freebie", unit=care, note="ask legal"))
    row = next(p for p in source.load().policy if p.key == key)
    assert row.line.value == "freebie"
    assert row.unit_label.endswith("Customer Care")
    assert len(row.uuid) == 36
    source.edit_policy_line(key, replace(row.line, kind="banned_term"))
    assert next(p for p in source.load().policy if p.key == key).line.kind == "banned_term"
    source.delete_policy_line(key)
    assert key not in {p.key for p in source.load().policy}


def _tag(s: Services, goal: int, n: int) -> set[int]:
    """Tag ``n`` more conversations with the goal; every one it tags now."""
    with s.db.engine.begin() as conn:
        ids = list(conn.scalars(select(Conversation.id).order_by(Conversation.id).limit(n)))
        conn.execute(
            update(Conversation).where(Conversation.id.in_(ids)).values(social_goal_id=goal)
        )
        return set(conn.scalars(select(Conversation.id).where(Conversation.social_goal_id == goal)))


def test_what_served_a_goal_pages_on_without_repeats(demo_services: Services) -> None:
    s = demo_services
    source = _source(s, "tom.becker")
    goal = social_goal(s)
    tagged = _tag(s, goal, 60)
    counts = source.served(str(goal))
    assert counts.conversations == len(tagged) >= 60
    pages = [source.served_conversations(str(goal))]
    while len(pages[-1]) == 50:
        pages.append(source.served_conversations(str(goal), after=pages[-1][-1].key))
    rows = [c for page in pages for c in page]
    assert len(pages) >= 2
    assert len(rows) == len(tagged)
    assert {c.id for c in rows} == tagged
    keys = [c.key for c in rows]
    assert keys == sorted(keys, reverse=True)
    drafts = source.served_drafts(str(goal))
    assert len(drafts) == min(50, counts.posts + counts.replies) > 0
    with pytest.raises(Refused, match="not a social goal"):
        source.served(_first(source.load(), T.TACTIC))


def test_a_file_opened_from_the_workspace_completes_with_its_names(
    demo_services: Services, tmp_path: Path
) -> None:
    hints = _source(demo_services, "helena.marsh").file_hints()
    assert hints.free_text
    assert "Acme Mobility/Customer Care" in {c.value for c in hints.units}
    helena = next(c for c in hints.people if c.label.startswith("Helena Marsh"))
    assert helena.value == "helena.marsh@acme-mobility.example"
    assert "acme" in {c.value for c in hints.accounts}
    plan = tmp_path / "plan.yaml"
    plan.write_text(dump_strategy(small_doc()), encoding="utf-8")
    names = FileSource.open(plan, hints=hints).load().names
    units = [c.value for c in names.units]
    assert "Acme/Care" in units  # the file's own names stay among them
    assert "Acme Mobility/Customer Care" in units
    assert len(units) == len(set(units))
