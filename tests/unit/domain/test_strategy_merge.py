"""The three-way merge: examples, then properties over random edits on both sides."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.strategy_doc import StrategyDoc
from app.domain.strategy_merge import DELETED, MISSION, Custom, Section, merge, resolve
from tests.unit.domain.strategy_data import SG, TC, docs, edits, small_doc, tactic


def with_item(doc: StrategyDoc, rid: str, **kw: object) -> StrategyDoc:
    return replace(doc, items={**doc.items, rid: replace(doc.items[rid], **kw)})


def without(doc: StrategyDoc, rid: str) -> StrategyDoc:
    return replace(doc, items={k: v for k, v in doc.items.items() if k != rid})


def test_one_side_changes_apply_and_are_listed() -> None:
    base = small_doc()
    ours = with_item(base, "tc1", cadence="hourly")
    theirs = with_item(base, "tc1", title="Reply desk")
    result = merge(base, ours, theirs)
    assert result.conflicts == ()
    assert result.problems == ()
    assert result.doc.items["tc1"].cadence == "hourly"
    assert result.doc.items["tc1"].title == "Reply desk"
    [change] = result.changes
    assert (change.item_id, change.action, change.fields) == ("tc1", "changed", ("title",))


def test_same_change_on_both_sides_is_no_conflict() -> None:
    base = small_doc()
    both = with_item(base, "tc1", cadence="weekly")
    result = merge(base, both, both)
    assert result.conflicts == ()
    assert result.nothing_to_do


def test_different_changes_to_one_field_conflict_and_keep_ours_until_resolved() -> None:
    base = small_doc()
    ours = with_item(base, "tc1", cadence="hourly")
    theirs = with_item(base, "tc1", cadence="weekly")
    result = merge(base, ours, theirs)
    [conflict] = result.conflicts
    assert (conflict.item_id, conflict.field) == ("tc1", "cadence")
    assert (conflict.base, conflict.ours, conflict.theirs) == ("daily", "hourly", "weekly")
    assert result.doc.items["tc1"].cadence == "hourly"
    assert resolve(result, {("tc1", "cadence"): "theirs"}).doc.items["tc1"].cadence == "weekly"
    done = resolve(result, {("tc1", "cadence"): Custom("ours")})
    assert done.doc.items["tc1"].cadence == "ours"
    assert done.conflicts == ()
    assert [c.fields for c in done.changes] == [("cadence",)]
    with pytest.raises(KeyError, match="no such conflict"):
        resolve(result, {("tc1", "title"): "ours"})


@pytest.mark.parametrize("deleting", ["ours", "theirs"])
def test_deleted_on_one_side_and_edited_on_the_other_is_a_conflict(deleting: str) -> None:
    base = small_doc()
    edited = with_item(base, "tc2", cadence="monthly")
    ours, theirs = (
        (without(base, "tc2"), edited) if deleting == "ours" else (edited, without(base, "tc2"))
    )
    result = merge(base, ours, theirs)
    [conflict] = result.conflicts
    assert (conflict.item_id, conflict.field) == ("tc2", DELETED)
    assert conflict.base == base.items["tc2"]
    assert (conflict.ours is None) == (deleting == "ours")
    kept = resolve(result, {("tc2", DELETED): "ours" if deleting == "theirs" else "theirs"})
    assert kept.doc.items["tc2"].cadence == "monthly"
    gone = resolve(result, {("tc2", DELETED): None})
    assert "tc2" not in gone.doc.items
    assert "tc2" in gone.doc.deleted


def test_a_deletion_on_one_side_applies_and_is_recorded() -> None:
    base = small_doc()
    result = merge(base, base, without(base, "tc2"))
    assert result.conflicts == ()
    assert "tc2" not in result.doc.items
    assert result.doc.deleted["tc2"] is None
    assert [(c.item_id, c.action) for c in result.changes] == [("tc2", "deleted")]
    # Deleted in the workspace, untouched in the file: it stays deleted.
    assert "tc2" not in merge(base, without(base, "tc2"), base).doc.items


def test_a_record_the_workspace_deleted_does_not_come_back_silently() -> None:
    base = small_doc()
    ours = replace(without(base, "tc2"), deleted={**base.deleted, "tc2": 5})
    theirs_base = without(base, "tc2")  # exported before tc2 existed, got it from elsewhere
    result = merge(theirs_base, ours, base)
    assert [(c.item_id, c.field) for c in result.conflicts] == [("tc2", DELETED)]
    assert "tc2" not in result.doc.items


def test_new_items_on_both_sides_are_added() -> None:
    base = small_doc()
    ours = replace(base, items={**base.items, "o1": tactic("o1", "sg1")})
    theirs = replace(base, items={**base.items, "t1": tactic("t1", "sg1")})
    result = merge(base, ours, theirs)
    assert {"o1", "t1"} <= set(result.doc.items)
    assert [(c.item_id, c.action) for c in result.changes] == [("t1", "added")]


def test_links_of_a_social_goal_merge_as_a_set() -> None:
    base = small_doc()
    extra = replace(base, items={**base.items})
    ours = with_item(extra, "sg1", parents=("dg1", "ai1", "bg1"))
    theirs = with_item(extra, "sg1", parents=("dg1", "ai1"), title="Faster")
    theirs = with_item(theirs, "sg1", parents=("bg1", "ai1"))  # dropped dg1, added bg1
    result = merge(base, ours, theirs)
    assert result.conflicts == ()
    assert result.doc.items["sg1"].parents == ("ai1", "bg1")


def test_a_tactic_moved_to_different_goals_on_both_sides_conflicts() -> None:
    base = small_doc()
    second = replace(base, items={**base.items, "sg2": replace(base.items["sg1"], id="sg2")})
    ours = with_item(second, "tc1", parents=("sg2",))
    theirs = with_item(second, "tc1", parents=())
    result = merge(second, ours, theirs)
    assert [(c.item_id, c.field) for c in result.conflicts] == [("tc1", "parents")]


def test_the_mission_and_policy_lines_merge_too() -> None:
    base = small_doc()
    ours = replace(base, mission="Ours")
    theirs = replace(
        base,
        mission="Theirs",
        policy={**base.policy, "pl1": replace(base.policy["pl1"], note="why")},
    )
    result = merge(base, ours, theirs)
    [conflict] = result.conflicts
    assert (conflict.item_id, conflict.field, conflict.section) == (None, MISSION, Section.DOCUMENT)
    assert result.doc.policy["pl1"].note == "why"
    assert resolve(result, {(None, MISSION): "theirs"}).doc.mission == "Theirs"


def test_a_merge_that_breaks_the_funnel_is_refused_with_the_problems() -> None:
    base = small_doc()
    ours = replace(base, items={**base.items, "tc9": tactic("tc9", "sg1")})  # new tactic here
    theirs = without(without(without(base, "tc1"), "tc2"), "sg1")  # the goal deleted there
    result = merge(base, ours, theirs)
    assert result.conflicts == ()
    assert result.refused
    assert [(p.item_id, "dangling" in p.message) for p in result.problems] == [("tc9", True)]


# -- properties ------------------------------------------------------------------------------


@st.composite
def three(draw: st.DrawFn) -> tuple[StrategyDoc, StrategyDoc, StrategyDoc]:
    base = draw(docs())
    return base, draw(edits(base, "ours")), draw(edits(base, "theirs"))


def _fields(record: object) -> list[str]:
    return [f.name for f in fields(record)]  # type: ignore[arg-type]


def _expected_conflicts(b: StrategyDoc, o: StrategyDoc, t: StrategyDoc) -> set[tuple[object, str]]:
    out: set[tuple[object, str]] = set()
    if b.mission != o.mission and b.mission != t.mission and o.mission != t.mission:
        out.add((None, MISSION))
    for section in ("items", "policy"):
        bs, os_, ts = getattr(b, section), getattr(o, section), getattr(t, section)
        for rid, base in bs.items():
            mine, theirs = os_.get(rid), ts.get(rid)
            if mine is None and theirs is None:
                continue
            if mine is None or theirs is None:
                if (mine or theirs) != base:
                    out.add((rid, DELETED))
                continue
            for name in _fields(base):
                bv, ov, tv = (getattr(x, name) for x in (base, mine, theirs))
                if bv != ov and bv != tv and ov != tv:
                    if name == "parents" and base.type != TC:
                        continue  # a set: both sides' links are kept
                    out.add((rid, name))
    return out


@given(three())
def test_every_real_conflict_is_reported_and_no_other(docs3: tuple[StrategyDoc, ...]) -> None:
    base, ours, theirs = docs3
    result = merge(base, ours, theirs)
    assert {c.key for c in result.conflicts} == _expected_conflicts(base, ours, theirs)


@given(three())
def test_every_change_without_a_conflict_survives(docs3: tuple[StrategyDoc, ...]) -> None:
    base, ours, theirs = docs3
    result = merge(base, ours, theirs)
    conflicted = {c.key for c in result.conflicts}
    merged = result.doc
    for rid in ours.items.keys() | theirs.items.keys() | base.items.keys():
        if (rid, DELETED) in conflicted:
            continue
        b, o, t, m = (d.items.get(rid) for d in (base, ours, theirs, merged))
        if o is None or t is None:
            # Deleted on a side (untouched on the other), or new on one side.
            assert m == (None if b is not None else (o or t))
            continue
        for name in _fields(o):
            if (rid, name) in conflicted:
                assert getattr(m, name) == getattr(o, name)  # left at ours
                continue
            bv = getattr(b, name) if b is not None else None
            ov, tv, mv = getattr(o, name), getattr(t, name), getattr(m, name)
            if name == "parents" and o.type == SG:
                assert set(mv) == (set(ov) & set(tv)) | (set(ov) - set(bv)) | (set(tv) - set(bv))
            elif ov == bv:
                assert mv == tv
            else:
                assert mv == ov
    for rid, line in theirs.policy.items():
        if rid in base.policy and line != base.policy[rid] and (rid, "note") not in conflicted:
            assert merged.policy[rid].note == line.note
    # What the merge lists as changes is exactly how the merged doc differs from ours.
    changed = {c.item_id for c in result.changes if c.section is Section.ITEMS}
    assert changed == {
        r
        for r in ours.items.keys() | merged.items.keys()
        if ours.items.get(r) != merged.items.get(r)
    }


@given(docs())
def test_importing_an_unchanged_export_is_a_no_op(base: StrategyDoc) -> None:
    result = merge(base, base, base)
    assert result.nothing_to_do
    assert result.doc == base


@given(three())
def test_a_file_with_no_edits_changes_nothing_and_edits_of_one_side_only_apply(
    docs3: tuple[StrategyDoc, ...],
) -> None:
    base, ours, theirs = docs3
    untouched = merge(base, ours, base)
    assert untouched.changes == ()
    assert untouched.conflicts == ()
    only_theirs = merge(base, base, theirs)
    assert only_theirs.conflicts == ()
    assert dict(only_theirs.doc.items) == dict(theirs.items)
    assert dict(only_theirs.doc.policy) == dict(theirs.policy)
    assert only_theirs.doc.mission == theirs.mission


@given(three(), st.sampled_from(["ours", "theirs"]))
def test_resolving_every_conflict_leaves_none(docs3: tuple[StrategyDoc, ...], side: str) -> None:
    base, ours, theirs = docs3
    result = merge(base, ours, theirs)
    done = resolve(result, {c.key: side for c in result.conflicts})
    assert done.conflicts == ()
    for c in result.conflicts:
        if c.section is Section.ITEMS:
            expected = getattr(c, side)
            got = done.doc.items.get(c.item_id)  # type: ignore[arg-type]
            if c.field == DELETED:
                assert got == expected
            else:
                assert got is not None
                assert getattr(got, c.field) == expected
