"""Strategy files in and out of a workspace: export a revision, import through the merge.

On the demo workspace, both engines: an unchanged export imports as a no-op, a change on one
side applies, the same field changed on both sides is a conflict that changes nothing until a
person decides, deletions meet edits as conflicts, and every refusal leaves the workspace as it
was. The import is one audit entry.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from app.domain.enums import Horizon, PolicyKind, StrategyItemType
from app.domain.strategy_doc import PolicyLineDoc, StrategyDoc, StrategyItemDoc
from app.domain.strategy_file import read_strategy
from app.domain.strategy_merge import DELETED, Custom
from app.models import AuditEntry
from app.services.container import Services
from app.services.strategy_files import ImportConflicts, ImportRefused
from tests.integration.demo_lookup import person_id, unit_id

T = StrategyItemType


def _exported(s: Services, who: int) -> StrategyDoc:
    """Export, then read the file back as a person's editor would."""
    exported = s.strategy_files.export(who, "for the offsite")
    doc = read_strategy(exported.text).doc
    assert doc == exported.doc
    return doc


def _first(doc: StrategyDoc, kind: StrategyItemType) -> StrategyItemDoc:
    return sorted((i for i in doc.items.values() if i.type == kind), key=lambda i: i.id)[0]


def _with(doc: StrategyDoc, *items: StrategyItemDoc, **rest: Any) -> StrategyDoc:
    return replace(doc, items={**doc.items, **{i.id: i for i in items}}, **rest)


def _item_id(s: Services, who: int, uuid: str) -> int:
    return next(o.item.id for o in s.strategy.outline(who).items if o.item.uuid == uuid)


def _imports(s: Services) -> list[dict[str, Any]]:
    with s.db.engine.connect() as conn:
        rows = conn.scalars(
            select(AuditEntry.after)
            .where(AuditEntry.action == "strategy.imported")
            .order_by(AuditEntry.id)
        ).all()
    return [dict(r) for r in rows if r is not None]


def test_an_unchanged_export_imports_as_nothing_to_do(demo_services: Services) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    before = s.strategy_files.workspace_doc(helena)
    doc = _exported(s, helena)
    assert doc.base_revision == 2  # the demo's offsite export was revision 1
    assert dict(doc.items) == dict(before.items)
    assert dict(doc.policy) == dict(before.policy)
    plan = s.strategy_files.apply_import(helena, doc)
    assert plan.nothing_to_do
    assert s.strategy_files.workspace_doc(helena) == before
    assert _imports(s) == []  # nothing written, nothing audited


def test_a_change_in_the_file_applies_and_is_one_audit_entry(demo_services: Services) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    doc = _exported(s, helena)
    tactic = _first(doc, T.TACTIC)
    goal = _first(doc, T.SOCIAL_GOAL)
    new = StrategyItemDoc(
        "0b6f3c1e-0000-4000-8000-000000000001",
        T.TACTIC,
        "Weekly riding tips on Facebook",
        owner="emma.laurent@acme-mobility.example",
        channel="Facebook",
        cadence="weekly",
        horizon=Horizon.MEDIUM,
        parents=(goal.id,),
    )
    line = PolicyLineDoc("0b6f3c1e-0000-4000-8000-00000000000f", PolicyKind.BANNED_TERM, "cheapo")
    theirs = _with(
        doc,
        replace(tactic, cadence="twice a week"),
        new,
        mission="Cleaner, easier city trips",
    )
    theirs = replace(theirs, policy={**theirs.policy, line.id: line})
    plan = s.strategy_files.apply_import(helena, theirs)
    assert {(c.action, c.item_id) for c in plan.changes} == {
        ("changed", tactic.id),
        ("added", new.id),
        ("changed", None),
        ("added", line.id),
    }
    now = s.strategy_files.workspace_doc(helena)
    assert now.items[tactic.id].cadence == "twice a week"
    assert now.items[new.id].parents == (goal.id,)
    assert now.items[new.id].owner == "emma.laurent@acme-mobility.example"
    assert now.mission == "Cleaner, easier city trips"
    assert now.policy[line.id].value == "cheapo"
    # The compose pane enforces the policy line the file brought.
    jamal = person_id(s, "jamal.carter")
    context = s.drafts.compose_context(jamal, "post", unit_id(s, "Marketing"))
    assert any("cheapo" in m for m in context.check("So cheapo!").blocks)
    [entry] = _imports(s)
    assert entry["base_revision"] == doc.base_revision
    assert entry["counts"] == {"document_changed": 1, "items_added": 1, "items_changed": 1,
                               "policy_added": 1}  # fmt: skip
    # Importing the same file again changes nothing.
    assert s.strategy_files.apply_import(helena, theirs).nothing_to_do


def test_the_same_field_changed_on_both_sides_is_a_conflict(demo_services: Services) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    doc = _exported(s, helena)
    tactic = _first(doc, T.TACTIC)
    other = sorted(i for i in doc.items if doc.items[i].type == T.TACTIC)[1]
    item = s.strategy.item(helena, _item_id(s, helena, tactic.id))
    s.strategy.edit(helena, item.id, replace(item.fields, cadence="every other day"))
    theirs = _with(
        doc,
        replace(tactic, cadence="twice a week"),
        replace(doc.items[other], channel="Instagram"),
    )
    before = s.strategy_files.workspace_doc(helena)
    with pytest.raises(ImportConflicts) as found:
        s.strategy_files.apply_import(helena, theirs)
    [conflict] = found.value.plan.conflicts
    assert (conflict.item_id, conflict.field) == (tactic.id, "cadence")
    assert (conflict.base, conflict.ours, conflict.theirs) == (
        tactic.cadence,
        "every other day",
        "twice a week",
    )
    assert s.strategy_files.workspace_doc(helena) == before  # nothing changed
    s.strategy_files.apply_import(helena, theirs, {conflict.key: Custom("weekly")})
    now = s.strategy_files.workspace_doc(helena)
    assert now.items[tactic.id].cadence == "weekly"
    assert now.items[other].channel == "Instagram"  # the other side's change applied too


def test_a_deletion_meets_an_edit_as_a_conflict(demo_services: Services) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    doc = _exported(s, helena)
    tactic = _first(doc, T.TACTIC)
    item = s.strategy.item(helena, _item_id(s, helena, tactic.id))
    s.strategy.edit(helena, item.id, replace(item.fields, title="Renamed here"))
    theirs = replace(doc, items={k: v for k, v in doc.items.items() if k != tactic.id})
    plan = s.strategy_files.plan_import(helena, theirs)
    [conflict] = plan.conflicts
    assert (conflict.item_id, conflict.field) == (tactic.id, DELETED)
    assert conflict.theirs is None
    assert conflict.ours is not None
    assert conflict.ours.title == "Renamed here"
    s.strategy_files.apply_import(helena, theirs, {conflict.key: "theirs"})
    assert tactic.id not in s.strategy_files.workspace_doc(helena).items
    assert s.strategy.deletions(helena)[-1].uuid == tactic.id


def test_a_deletion_in_the_file_applies_and_is_recorded(demo_services: Services) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    doc = _exported(s, helena)
    tactic = _first(doc, T.TACTIC)
    theirs = replace(doc, items={k: v for k, v in doc.items.items() if k != tactic.id})
    plan = s.strategy_files.apply_import(helena, theirs)
    assert [(c.action, c.item_id) for c in plan.changes] == [("deleted", tactic.id)]
    gone = s.strategy.deletions(helena)[-1]
    assert (gone.uuid, gone.after_revision) == (tactic.id, doc.base_revision)
    now = s.strategy_files.workspace_doc(helena)
    assert now.deleted[tactic.id] == doc.base_revision
    # The old export, untouched, does not bring it back: the deletion since stands.
    assert s.strategy_files.plan_import(helena, doc).nothing_to_do
    # A file from before any revision that has it is a conflict, not a silent resurrection.
    plan = s.strategy_files.plan_import(helena, replace(doc, base_revision=None))
    assert (tactic.id, DELETED) in [(c.item_id, c.field) for c in plan.conflicts]


def _refused(s: Services, who: int, theirs: StrategyDoc) -> tuple[str, ...]:
    before = s.strategy_files.workspace_doc(who)
    with pytest.raises(ImportRefused) as refused:
        s.strategy_files.apply_import(who, theirs)
    assert s.strategy_files.workspace_doc(who) == before
    assert _imports(s) == []
    return refused.value.plan.refusals


def test_what_the_workspace_lacks_or_the_service_refuses_is_refused(
    demo_services: Services,
) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    doc = _exported(s, helena)
    goal = _first(doc, T.DEPARTMENT_GOAL)
    tactic = _first(doc, T.TACTIC)
    [why] = _refused(s, helena, _with(doc, replace(goal, unit="Acme Mobility/Nowhere")))
    assert why == f"item {goal.id}: there is no unit 'Acme Mobility/Nowhere' in this workspace"
    [why] = _refused(s, helena, _with(doc, replace(tactic, owner="who@nowhere.example")))
    assert "nobody with the e-mail 'who@nowhere.example'" in why
    assert tactic.id in why
    [why] = _refused(s, helena, _with(doc, replace(tactic, cadence="")))
    assert why == f"item {tactic.id}: a tactic needs a cadence"
    # The funnel: a tactic serving an insight.
    insight = _first(doc, T.AUDIENCE_INSIGHT)
    refusals = _refused(s, helena, _with(doc, replace(tactic, parents=(insight.id,))))
    assert any(tactic.id in r and "derives from" in r for r in refusals)
    # A file from another workspace's revision.
    [why] = _refused(s, helena, replace(doc, base_revision=99))
    assert "revision 99" in why


def test_a_part_the_operator_may_not_change_is_refused(demo_services: Services) -> None:
    s = demo_services
    emma = person_id(s, "emma.laurent")  # strategist of Marketing only
    doc = _exported(s, emma)
    tactic = _first(doc, T.TACTIC)
    refusals = _refused(
        s, emma, _with(doc, replace(tactic, cadence="hourly"), mission="Something else")
    )
    assert any("can edit the mission" in r for r in refusals)


def test_a_dry_run_plan_changes_nothing(demo_services: Services) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    doc = _exported(s, helena)
    tactic = _first(doc, T.TACTIC)
    before = s.strategy_files.workspace_doc(helena)
    plan = s.strategy_files.plan_import(helena, _with(doc, replace(tactic, cadence="daily!")))
    assert [c.fields for c in plan.changes] == [("cadence",)]
    assert s.strategy_files.workspace_doc(helena) == before
