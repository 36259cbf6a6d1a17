"""The strategy funnel's service on real databases (SQLite and PostgreSQL): rules, roles, audit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from app.domain.strategy_funnel import FunnelError, ItemFields
from app.models import AuditEntry, Conversation, StrategyDeletion, StrategyItem, Unit
from app.services.access import NotAllowed
from app.services.container import Services
from app.services.strategy import HasDependents
from tests.integration.demo_lookup import person_id, unit_id

NEXT_YEAR = date.today().replace(month=6, day=30) + timedelta(days=366)


def _items(s: Services, kind: str) -> dict[str, int]:
    helena = person_id(s, "helena.marsh")
    return {
        o.item.fields.title: o.item.id
        for o in s.strategy.outline(helena).items
        if o.item.type == kind
    }


def _social(owner: int, unit: int | None = None, **extra: object) -> ItemFields:
    fields = {
        "title": "Reply to every review",
        "unit_id": unit,
        "owner_id": owner,
        "kpi": "reviews answered",
        "kpi_target": 95.0,
        "kpi_unit": "%",
        "baseline": 40.0,
        "deadline": NEXT_YEAR,
    }
    fields.update(extra)
    return ItemFields(**fields)  # type: ignore[arg-type]


def _audit(s: Services, entity: str = "strategy_item") -> list[tuple[str, int | None]]:
    with s.db.engine.connect() as conn:
        return [
            (a, i)
            for a, i in conn.execute(
                select(AuditEntry.action, AuditEntry.entity_id)
                .where(AuditEntry.entity == entity)
                .order_by(AuditEntry.id)
            )
        ]


def _inputs(s: Services) -> tuple[int, int]:
    goals = _items(s, "business_goal")
    insights = _items(s, "audience_insight")
    return next(iter(goals.values())), next(iter(insights.values()))


def test_a_strategist_adds_a_social_goal_from_a_goal_and_an_insight(
    demo_services: Services,
) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    goal, insight = _inputs(s)
    new = s.strategy.create(helena, "social_goal", _social(helena), parents=[goal, insight])
    item = s.strategy.item(helena, new)
    assert item.fields.kpi_target == 95.0
    assert item.fields.kpi_unit == "%"
    assert item.fields.baseline == 40.0
    outline = s.strategy.outline(helena)
    entry = next(o for o in outline.items if o.item.id == new)
    assert set(entry.parents) == {goal, insight}
    parent = next(o for o in outline.items if o.item.id == goal)
    assert new in parent.children
    assert _audit(s)[-1] == ("strategy.item_added", new)


def test_the_outline_runs_in_the_funnels_order(demo_services: Services) -> None:
    s = demo_services
    outline = s.strategy.outline(person_id(s, "tom.becker"))  # everyone may read it
    order = ["business_goal", "department_goal", "audience_insight", "social_goal", "tactic"]
    kinds = [o.item.type.value for o in outline.items]
    assert kinds == sorted(kinds, key=order.index)
    assert outline.mission
    departments = [o.item.unit_name for o in outline.of_type("department_goal")]  # type: ignore[arg-type]
    assert departments[0] == "Customer Care"  # tree order: Care comes first below the root
    tactics = outline.of_type("tactic")  # type: ignore[arg-type]
    assert all(len(t.parents) == 1 for t in tactics)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kpi_target": None}, "a numeric target"),
        ({"kpi_unit": ""}, "the target's unit"),
        ({"baseline": None}, "a baseline"),
        ({"deadline": None}, "a deadline"),
        ({"owner_id": None}, "an owner"),
        ({"kpi": ""}, "a KPI"),
    ],
)
def test_a_social_goal_without_its_kpi_is_refused(
    demo_services: Services, change: dict[str, object], message: str
) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    goal, insight = _inputs(s)
    with pytest.raises(FunnelError, match=message):
        s.strategy.create(helena, "social_goal", _social(helena, **change), parents=[goal, insight])


def test_a_social_goal_without_an_insight_or_a_goal_is_refused(demo_services: Services) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    goal, insight = _inputs(s)
    with pytest.raises(FunnelError, match="at least one audience insight"):
        s.strategy.create(helena, "social_goal", _social(helena), parents=[goal])
    with pytest.raises(FunnelError, match="at least one business or department goal"):
        s.strategy.create(helena, "social_goal", _social(helena), parents=[insight])
    before = _audit(s)
    with pytest.raises(FunnelError, match="at least one audience insight"):
        s.strategy.unlink(helena, next(iter(_items(s, "social_goal").values())), _only_insight(s))
    assert _audit(s) == before


def _only_insight(s: Services) -> int:
    """The insight of the demo's social goal that has only one."""
    helena = person_id(s, "helena.marsh")
    outline = s.strategy.outline(helena)
    types = {o.item.id: o.item.type.value for o in outline.items}
    first = outline.of_type("social_goal")[0]  # type: ignore[arg-type]
    [insight] = [p for p in first.parents if types[p] == "audience_insight"]
    return insight


def test_a_tactic_needs_exactly_one_social_goal_and_its_fields(demo_services: Services) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    goals = list(_items(s, "social_goal").values())
    fields = ItemFields(
        title="Live Q&A", channel="X", cadence="monthly", owner_id=helena, horizon="short"
    )
    with pytest.raises(FunnelError, match=r"exactly one social goal \(it has none"):
        s.strategy.create(helena, "tactic", fields)
    with pytest.raises(FunnelError, match=r"exactly one social goal \(not 2"):
        s.strategy.create(helena, "tactic", fields, parents=goals[:2])
    with pytest.raises(FunnelError, match="a channel"):
        s.strategy.create(
            helena,
            "tactic",
            ItemFields(title="x", cadence="weekly", owner_id=helena, horizon="long"),
            parents=goals[:1],
        )
    goal, _ = _inputs(s)
    with pytest.raises(FunnelError, match="cannot derive from the business goal"):
        s.strategy.create(helena, "tactic", fields, parents=[goal])
    new = s.strategy.create(helena, "tactic", fields, parents=goals[:1])
    assert s.strategy.item(helena, new).fields.horizon == "short"


def test_a_dangling_parent_is_refused(demo_services: Services) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    goal, insight = _inputs(s)
    with pytest.raises(FunnelError, match="no strategy item 999999"):
        s.strategy.create(helena, "social_goal", _social(helena), parents=[goal, insight, 999999])


def test_department_goals_cannot_go_round_in_a_circle(demo_services: Services) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    care = unit_id(s, "Customer Care")
    orders = unit_id(s, "Orders & Delivery")
    top = s.strategy.create(helena, "department_goal", ItemFields("Care: fast", unit_id=care))
    below = s.strategy.create(
        helena, "department_goal", ItemFields("Orders: fast", unit_id=orders), parents=[top]
    )
    with pytest.raises(FunnelError, match="circle"):
        s.strategy.link(helena, top, below)
    with pytest.raises(FunnelError, match="circle"):
        s.strategy.link(helena, top, top)
    assert s.strategy.item(helena, below).fields.owner_id == person_id(s, "priya.raman")  # head


def test_who_may_edit_which_part(demo_services: Services) -> None:
    s = demo_services
    tom = person_id(s, "tom.becker")  # an agent
    marcus = person_id(s, "marcus.kelly")  # head of Customer Care
    emma = person_id(s, "emma.laurent")  # strategist of Marketing
    ingrid = person_id(s, "ingrid.solberg")  # administrator of the root
    care = unit_id(s, "Customer Care")
    marketing = unit_id(s, "Marketing")
    goal, insight = _inputs(s)

    with pytest.raises(NotAllowed, match="executive sponsor, a strategist or an administrator"):
        s.strategy.create(marcus, "business_goal", ItemFields("Double revenue"))
    with pytest.raises(NotAllowed, match="executive sponsor"):
        s.strategy.set_mission(emma, "Ours")  # a strategist of Marketing only
    s.strategy.create(ingrid, "business_goal", ItemFields("Double revenue"))
    s.strategy.set_mission(person_id(s, "helena.marsh"), "Move cities, quietly.")
    assert s.strategy.outline(tom).mission == "Move cities, quietly."

    with pytest.raises(NotAllowed, match="head of Marketing, a supervisor"):
        s.strategy.create(marcus, "department_goal", ItemFields("More likes", unit_id=marketing))
    mine = s.strategy.create(marcus, "department_goal", ItemFields("Calm", unit_id=care))
    with pytest.raises(NotAllowed, match="head of Customer Care"):
        s.strategy.edit(tom, mine, ItemFields("Calmer", unit_id=care))

    with pytest.raises(NotAllowed, match="strategist or an administrator of Customer Care"):
        s.strategy.create(marcus, "audience_insight", ItemFields("Night riders", unit_id=care))
    s.strategy.create(emma, "audience_insight", ItemFields("Students", unit_id=marketing))

    # a unit head edits their own unit's social goals, not another's nor the organization's
    s.strategy.create(marcus, "social_goal", _social(marcus, care), parents=[mine, insight])
    with pytest.raises(NotAllowed, match="head of Marketing"):
        s.strategy.create(
            marcus, "social_goal", _social(marcus, marketing), parents=[goal, insight]
        )
    with pytest.raises(NotAllowed, match="of the whole organization"):
        s.strategy.create(marcus, "social_goal", _social(marcus), parents=[goal, insight])
    with pytest.raises(NotAllowed, match="no such role"):
        s.strategy.export_revision(tom)
    with pytest.raises(NotAllowed, match="executive sponsor"):
        s.strategy.add_policy_line(marcus, "banned_term", "cheap")


def test_a_deactivated_person_may_not_edit(demo_services: Services) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    ingrid = person_id(s, "ingrid.solberg")
    s.people.deactivate(ingrid, helena)
    with pytest.raises(NotAllowed, match="deactivated"):
        s.strategy.create(helena, "business_goal", ItemFields("Anything"))


def test_deleting_a_social_goal_asks_and_takes_its_tactics(demo_services: Services) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    outline = s.strategy.outline(helena)
    goal = outline.of_type("social_goal")[0]  # type: ignore[arg-type]
    deps = s.strategy.dependents(helena, goal.item.id)
    assert {d.id for d in deps if d.deleted} == set(goal.children)
    with pytest.raises(HasDependents, match="would delete the tactic") as refused:
        s.strategy.delete(helena, goal.item.id)
    assert refused.value.dependents == deps
    assert s.strategy.item(helena, goal.item.id).id == goal.item.id  # nothing changed

    s.strategy.delete(helena, goal.item.id, with_dependents=True)
    with pytest.raises(KeyError):
        s.strategy.item(helena, goal.item.id)
    for tactic in goal.children:
        with pytest.raises(KeyError):
            s.strategy.item(helena, tactic)
    with s.db.engine.connect() as conn:
        gone = set(
            conn.scalars(select(StrategyDeletion.uuid).where(StrategyDeletion.after_revision == 1))
        )
    # the demo's own (the giveaway dropped after revision 1), then this one's
    assert goal.item.uuid in gone
    assert len(gone) == 1 + 1 + len(goal.children)
    assert _audit(s)[-1] == ("strategy.item_deleted", goal.item.id)
    assert goal.item.uuid in [d.uuid for d in s.strategy.deletions(helena)][1:]


def test_deleting_an_insight_a_goal_needs_takes_the_goal_and_its_tactics(
    demo_services: Services,
) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    insight = _only_insight(s)
    deps = s.strategy.dependents(helena, insight)
    kinds = {d.type.value for d in deps if d.deleted}
    assert kinds == {"social_goal", "tactic"}
    with pytest.raises(HasDependents):
        s.strategy.delete(helena, insight)
    lone = s.strategy.create(helena, "audience_insight", ItemFields("Nobody's"))
    assert s.strategy.dependents(helena, lone) == ()
    s.strategy.delete(helena, lone)  # nothing depends on it: no question


def test_delete_is_refused_when_a_dependent_is_not_the_operators(demo_services: Services) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    marcus = person_id(s, "marcus.kelly")  # head of Customer Care
    care_goal = _items(s, "department_goal")["First response under 2 hours on every channel"]
    # the demo's social goal derives from a business goal too: it only loses the link
    assert not any(d.deleted for d in s.strategy.dependents(marcus, care_goal))
    _, insight = _inputs(s)
    theirs = s.strategy.create(  # the organization's, deriving from Care's goal alone
        helena, "social_goal", _social(helena), parents=[care_goal, insight]
    )
    with pytest.raises(HasDependents):
        s.strategy.delete(marcus, care_goal)
    with pytest.raises(NotAllowed, match="of the whole organization"):
        s.strategy.delete(marcus, care_goal, with_dependents=True)
    assert s.strategy.item(helena, theirs).id == theirs
    assert s.strategy.item(helena, care_goal).id == care_goal


def test_editing_and_moving_leave_one_audit_entry_each(demo_services: Services) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    goals = _items(s, "business_goal")
    first, second = list(goals.values())[:2]
    item = s.strategy.item(helena, first)
    from dataclasses import replace

    s.strategy.edit(helena, first, replace(item.fields, title="Raise repeat purchases to 40 %"))
    s.strategy.edit(helena, first, replace(item.fields, title="Raise repeat purchases to 40 %"))
    s.strategy.move(helena, second, 0)
    assert _audit(s)[-2:] == [("strategy.item_edited", first), ("strategy.item_moved", second)]
    outline = s.strategy.outline(helena)
    assert [o.item.id for o in outline.of_type("business_goal")][:2] == [second, first]  # type: ignore[arg-type]
    with s.db.engine.connect() as conn:
        before, after = conn.execute(
            select(AuditEntry.before, AuditEntry.after).where(
                AuditEntry.action == "strategy.item_edited"
            )
        ).one()
    assert before == {"title": item.fields.title}
    assert after == {"title": "Raise repeat purchases to 40 %"}


def test_what_is_missing(demo_services: Services) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    missing = s.strategy.missing(helena)
    units = {g.title for g in missing.units_without_goals}
    assert units == {"Orders & Delivery", "Technical Support"}  # not the root, not Triage
    assert missing.social_goals_without_kpi == ()
    assert missing.social_goals_without_tactic == ()
    new_goal = s.strategy.create(helena, "business_goal", ItemFields("Enter Asia"))
    assert new_goal in {g.id for g in s.strategy.missing(helena).goals_without_social_goals}
    goal, insight = _inputs(s)
    bare = s.strategy.create(helena, "social_goal", _social(helena), parents=[goal, insight])
    assert bare in {g.id for g in s.strategy.missing(helena).social_goals_without_tactic}
    # a tactic made long ago is past its horizon (short: 3 months)
    tactics = _items(s, "tactic")
    t = tactics["Follow-the-sun care rota on X and Messenger"]
    with s.db.engine.begin() as conn:
        conn.execute(
            update(StrategyItem)
            .where(StrategyItem.id == t)
            .values(created_at=datetime.now(UTC) - timedelta(days=100))
        )
    assert [g.id for g in s.strategy.missing(helena).tactics_past_horizon] == [t]
    with s.db.engine.begin() as conn:  # a legacy social goal with half a KPI
        conn.execute(update(StrategyItem).where(StrategyItem.id == bare).values(baseline=None))
    assert [g.id for g in s.strategy.missing(helena).social_goals_without_kpi] == [bare]


def test_what_served_a_social_goal(demo_services: Services) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    goals = _items(s, "social_goal")
    served = {g: s.strategy.goal_served(helena, g) for g in goals.values()}
    goal = max(served, key=lambda g: served[g].posts + served[g].replies)
    assert served[goal].posts + served[goal].replies > 0
    page = s.strategy.goal_drafts(helena, goal, limit=2)
    rest = s.strategy.goal_drafts(helena, goal, after=page[-1].key, limit=1000)
    ids = [d.id for d in page + rest]
    assert len(ids) == len(set(ids)) == served[goal].posts + served[goal].replies
    assert [d.key for d in page + rest] == sorted((d.key for d in page + rest), reverse=True)

    with s.db.engine.begin() as conn:
        conn.execute(update(Conversation).values(social_goal_id=None))  # the demo's tags aside
        tagged = list(conn.scalars(select(Conversation.id).order_by(Conversation.id).limit(5)))
        conn.execute(
            update(Conversation).where(Conversation.id.in_(tagged)).values(social_goal_id=goal)
        )
    assert s.strategy.goal_served(helena, goal).conversations == 5
    first = s.strategy.goal_conversations(helena, goal, limit=3)
    more = s.strategy.goal_conversations(helena, goal, after=first[-1].key)
    assert sorted(c.id for c in first + more) == tagged
    with pytest.raises(KeyError, match="not a social goal"):
        s.strategy.goal_served(helena, _inputs(s)[0])


def test_policy_lines_keep_their_uuid_and_are_audited(demo_services: Services) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    lines = s.strategy.policy_lines(helena)
    assert lines
    assert len({line.uuid for line in lines}) == len(lines)
    added = s.strategy.add_policy_line(helena, "banned_term", " cheapest ", note="no")
    assert added.value == "cheapest"
    s.strategy.edit_policy_line(helena, added.id, kind="risky_term", value="cheapest")
    after = next(line for line in s.strategy.policy_lines(helena) if line.id == added.id)
    assert (after.uuid, after.kind) == (added.uuid, "risky_term")
    with pytest.raises(FunnelError, match="whole number"):
        s.strategy.add_policy_line(helena, "length_limit", "lots", network="x")
    s.strategy.delete_policy_line(helena, added.id)
    assert [a for a, _ in _audit(s, "policy_line")] == [
        "policy.line_added",
        "policy.line_edited",
        "policy.line_deleted",
    ]
    assert s.strategy.deletions(helena)[-1].uuid == added.uuid


def test_an_export_keeps_a_revision_and_later_deletions_name_it(demo_services: Services) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    [demo] = s.strategy.revisions(helena)  # the demo's, for its offsite
    assert demo[0] == 1
    first = s.strategy.export_revision(helena, "after the offsite")
    assert first.number == 2
    kept = s.strategy.revision(helena, 2)
    assert kept is not None
    outline = s.strategy.outline(helena)
    assert set(kept.snapshot["items"]) == {o.item.uuid for o in outline.items}
    tactic = outline.of_type("tactic")[0]  # type: ignore[arg-type]
    snap = kept.snapshot["items"][tactic.item.uuid]
    assert len(snap["parents"]) == 1
    assert s.strategy.export_revision(helena).number == 3
    s.strategy.delete(helena, tactic.item.id)
    [gone] = s.strategy.deletions(helena, since_revision=3)
    assert (gone.uuid, gone.after_revision, gone.type) == (tactic.item.uuid, 3, "tactic")
    assert [r[0] for r in s.strategy.revisions(helena)] == [3, 2, 1]
    [giveaway] = s.strategy.deletions(helena, since_revision=1)[:1]
    assert giveaway.title == "Spring giveaway on X"


def test_the_demo_keeps_no_goals_text_on_units(demo_services: Services) -> None:
    with demo_services.db.engine.connect() as conn:
        assert conn.scalar(select(func.count()).where(Unit.goals != "")) == 0
