"""The import dialog: what the merge will do, each conflict side by side, a person's decisions,
the funnel problems they leave, refusals, the keyboard, and hostile text read as typed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel

from app.domain.enums import Horizon
from app.domain.strategy_doc import StrategyDoc
from app.domain.strategy_merge import DELETED, MISSION, Custom, MergeResult, merge
from app.ui.strategy.merge_dialog import MergeDialog, summary
from app.ui.strategy.merge_widgets import Editable, Kind, parse, shown
from tests.unit.domain.strategy_data import small_doc, social_goal, tactic

MARKUP = '<b>bold</b><img src="https://evil.example/x.png"> <a href="https://evil.example">go</a>'
RTL = "\u202eevil.exe\u202c \u05e9\u05dc\u05d5\u05dd"
LONG = ("y" * 10_000)[:10_000]


def with_item(doc: StrategyDoc, rid: str, **kw: object) -> StrategyDoc:
    return replace(doc, items={**doc.items, rid: replace(doc.items[rid], **kw)})


def without(doc: StrategyDoc, rid: str) -> StrategyDoc:
    return replace(doc, items={k: v for k, v in doc.items.items() if k != rid})


def three_conflicts() -> MergeResult:
    """A field, a deletion and the mission in conflict, and three changes that apply."""
    base = small_doc()
    ours = with_item(base, "tc1", cadence="hourly")
    ours = with_item(ours, "tc2", cadence="monthly", title="Explainer threads")
    ours = replace(ours, mission="Mobility people love, on every street")
    theirs = with_item(base, "tc1", cadence="weekly")
    theirs = without(theirs, "tc2")
    theirs = replace(theirs, mission="Mobility people love\nand trust")
    theirs = with_item(theirs, "sg1", title="Answer commuters within 30 minutes", kpi_target=20)
    theirs = replace(theirs, items={**theirs.items, "tc3": tactic("tc3", "sg1", channel="fb")})
    pl1 = replace(theirs.policy["pl1"], note="Legal asked")
    theirs = replace(theirs, policy={**theirs.policy, "pl1": pl1})
    return merge(base, ours, theirs)


def dialog_for(qtbot: Any, plan: MergeResult, **kw: Any) -> MergeDialog:
    dialog = MergeDialog(plan, source_name="plan.yaml", workspace_name="Acme Mobility", **kw)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def select(dialog: MergeDialog, key: tuple[str | None, str]) -> None:
    dialog.conflict_list.setCurrentRow([c.key for c in dialog.conflicts].index(key))
    assert dialog.current() is not None
    assert dialog.current().key == key  # type: ignore[union-attr]


def entry(dialog: MergeDialog, key: tuple[str | None, str]) -> str:
    row = [c.key for c in dialog.conflicts].index(key)
    return dialog.conflict_list.item(row).text()


def write_own(qtbot: Any, dialog: MergeDialog, text: str) -> None:
    dialog.write_own.click()
    editor = dialog.editor
    assert editor is not None
    qtbot.waitExposed(editor)
    edit = editor.edit
    if hasattr(edit, "setPlainText"):
        edit.setPlainText(text)
    else:
        edit.setText(text)
    editor.use.click()


def test_the_top_says_what_will_happen_and_the_tabs_count(qtbot: Any) -> None:
    plan = three_conflicts()
    dialog = dialog_for(qtbot, plan)
    assert len(plan.conflicts) == 3
    assert len(plan.changes) == 3
    assert dialog.summary.text() == "3 changes from the file apply; 3 conflicts need your decision."
    assert dialog.status.text() == "0 of 3 decided."
    assert dialog.tabs.tabText(0) == "Conflicts (3)"
    assert dialog.tabs.tabText(1) == "Changes that apply (3)"
    assert dialog.windowTitle() == "Import plan.yaml into Acme Mobility"
    # The mission first, then the items in funnel order.
    assert [c.key for c in dialog.conflicts] == [
        (None, MISSION),
        ("tc1", "cadence"),
        ("tc2", DELETED),
    ]
    assert (
        entry(dialog, ("tc1", "cadence")) == "○ Cadence: undecided\nTactic “\u2068Tactic tc1\u2069”"
    )
    assert not dialog.apply_button.isEnabled()
    assert not dialog.problems.isVisible()


def test_the_changes_that_apply_without_a_conflict_are_listed_with_their_fields(
    qtbot: Any,
) -> None:
    dialog = dialog_for(qtbot, three_conflicts())
    tree = dialog.changes
    tops = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    assert [t.text(0) for t in tops] == [
        "Changed: social goal “\u2068Answer commuters within 30 minutes\u2069”",
        "Added: tactic “\u2068Tactic tc3\u2069”",
        "Changed: policy line banned_term “\u2068guarantee\u2069”",
    ]
    changed = [[tops[0].child(i).text(c) for c in range(3)] for i in range(tops[0].childCount())]
    assert changed == [
        ["Title", "Social goal sg1", "Answer commuters within 30 minutes"],
        ["KPI target", "30", "20"],
    ]
    added = {
        tops[1].child(i).text(0): tops[1].child(i).text(2) for i in range(tops[1].childCount())
    }
    assert added["Channel"] == "fb"
    assert added["Horizon"] == "short"  # an enum by its value
    assert added["Parents"] == "social goal “\u2068Answer commuters within 30 minutes\u2069”"
    assert [tops[2].child(0).text(c) for c in range(3)] == ["Note", "—", "Legal asked"]


def test_a_field_conflict_shows_the_three_values_side_by_side(qtbot: Any) -> None:
    dialog = dialog_for(qtbot, three_conflicts())
    select(dialog, ("tc1", "cadence"))
    panel = dialog.compare
    assert panel.title.text() == "Tactic “\u2068Tactic tc1\u2069” · Cadence"
    assert [panel.texts(c) for c in range(3)] == [["daily"], ["hourly"], ["weekly"]]
    headings = [
        w.text() for w in panel.findChildren(QLabel) if w.objectName() == "mergeColumnHeading"
    ]
    assert headings == ["When exported", "In the workspace now", "In the file"]
    subs = [w.text() for w in panel.findChildren(QLabel) if w.objectName() == "dialogHint"]
    assert subs == ["revision 4, exported 2025-03-01", "Acme Mobility", "plan.yaml"]
    assert dialog.write_own.isEnabled()  # a text field
    select(dialog, (None, MISSION))
    assert [panel.texts(c) for c in range(3)] == [
        ["Mobility people love"],
        ["Mobility people love, on every street"],
        ["Mobility people love\nand trust"],
    ]


def test_a_deletion_conflict_shows_the_records_and_deleted(qtbot: Any) -> None:
    dialog = dialog_for(qtbot, three_conflicts())
    select(dialog, ("tc2", DELETED))
    panel = dialog.compare
    assert panel.what.text().startswith("The file deletes it; the workspace changed it")
    base, ours, theirs = (panel.texts(c) for c in range(3))
    assert theirs == ["deleted"]
    names = [w.text() for w in panel.findChildren(QLabel) if w.objectName() == "mergeFieldName"]
    assert names == [
        "Type", "Title", "Owner", "Channel", "Cadence", "Horizon", "Parents", "Position"
    ]  # fmt: skip
    assert dict(zip(names, base, strict=True))["Cadence"] == "daily"
    assert dict(zip(names, ours, strict=True))["Cadence"] == "monthly"
    assert dict(zip(names, ours, strict=True))["Horizon"] == "long"
    marked = [w.property("changed") for w in panel.columns[1]]
    assert [n for n, m in zip(names, marked, strict=True) if m] == ["Title", "Cadence"]
    assert not dialog.write_own.isEnabled()  # a deletion is kept or taken, not written
    assert "taking the file's deletes it" in dialog.effect.text()


def test_decisions_give_the_resolutions_and_the_resolved_doc(qtbot: Any) -> None:
    plan = three_conflicts()
    dialog = dialog_for(qtbot, plan)
    select(dialog, ("tc1", "cadence"))
    with qtbot.waitSignal(dialog.decided, timeout=1000) as signal:
        dialog.take_theirs.click()
    assert signal.args == [("tc1", "cadence")]
    assert entry(dialog, ("tc1", "cadence")).startswith("✓ Cadence: the file's\n")
    assert dialog.current().key == ("tc2", DELETED)  # type: ignore[union-attr]  # the next open
    assert not dialog.apply_button.isEnabled()
    dialog.keep_ours.click()
    assert dialog.status.text() == "2 of 3 decided."
    assert not dialog.apply_button.isEnabled()
    dialog.accept()  # Enter or a stray call: refused while a conflict is open
    assert dialog.isVisible()
    select(dialog, (None, MISSION))
    write_own(qtbot, dialog, "Mobility people love and trust\n")
    assert dialog.resolutions() == {
        ("tc1", "cadence"): "theirs",
        ("tc2", DELETED): "ours",
        (None, MISSION): Custom("Mobility people love and trust"),
    }
    assert dialog.decision.text() == "Your decision: your own: Mobility people love and trust"
    done = dialog.resolved()
    assert done.conflicts == ()
    assert done.problems == ()
    assert done.doc.mission == "Mobility people love and trust"
    assert done.doc.items["tc1"].cadence == "weekly"
    assert done.doc.items["tc2"].cadence == "monthly"
    assert done.doc.items["sg1"].kpi_target == 20  # the change without a conflict, too
    assert dialog.status.text() == "Everything is decided: Apply imports the file."
    assert dialog.apply_button.isEnabled()
    dialog.apply_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_taking_the_file_s_deletion_of_a_goal_a_social_goal_needs_keeps_apply_off(
    qtbot: Any,
) -> None:
    base = small_doc()
    ours = with_item(base, "dg1", title="Care answers within the hour")
    theirs = without(base, "dg1")  # sg1 still derives from it
    plan = merge(base, ours, theirs)
    assert [c.key for c in plan.conflicts] == [("dg1", DELETED)]
    dialog = dialog_for(qtbot, plan)
    assert (
        dialog.summary.text()
        == "No change applies without a decision; 1 conflict needs your decision."
    )
    dialog.take_theirs.click()
    assert dialog.resolutions() == {("dg1", DELETED): "theirs"}
    assert "dg1" not in dialog.resolved().doc.items
    assert dialog.problems.isVisible()
    shown_problems = [dialog.problems.item(i).text() for i in range(dialog.problems.count())]
    assert shown_problems == [
        "Social goal “\u2068Social goal sg1\u2069”: dangling reference: the parent dg1 does not exist"
    ]
    assert dialog.status.text().startswith("As decided, the result would break the funnel")
    assert dialog.status.property("problem") is True
    assert not dialog.apply_button.isEnabled()
    # A change of mind: keep the workspace's goal, and the funnel holds again.
    dialog.keep_ours.click()
    assert dialog.resolutions() == {("dg1", DELETED): "ours"}
    assert not dialog.problems.isVisible()
    assert dialog.resolved().doc.items["dg1"].title == "Care answers within the hour"
    assert dialog.apply_button.isEnabled()


def test_numbers_must_parse_and_dates_are_year_month_day(qtbot: Any) -> None:
    base = small_doc()
    ours = with_item(base, "sg1", kpi_target=25, deadline=date(2025, 7, 31))
    theirs = with_item(base, "sg1", kpi_target=40, deadline=date(2025, 9, 30))
    dialog = dialog_for(qtbot, merge(base, ours, theirs))
    select(dialog, ("sg1", "kpi_target"))
    assert [dialog.compare.texts(c) for c in range(3)] == [["30"], ["25"], ["40"]]
    write_own(qtbot, dialog, "thirty")
    editor = dialog.editor
    assert editor is not None
    assert editor.isVisible()  # refused: the editor stays open and says why
    assert (
        editor.windowTitle()
        == "Write my own: Social goal “\u2068Social goal sg1\u2069” · KPI target"
    )
    assert editor.error.text() == "Write a number, like 30 or 720.5."
    assert ("sg1", "kpi_target") not in dialog.resolutions()
    editor.edit.setText("32.5")  # type: ignore[union-attr]  # a line edit for a number
    editor.use.click()
    assert dialog.resolutions()[("sg1", "kpi_target")] == Custom(32.5)
    select(dialog, ("sg1", "deadline"))
    assert [dialog.compare.texts(c) for c in range(3)] == [
        ["2025-06-30"], ["2025-07-31"], ["2025-09-30"]
    ]  # fmt: skip
    write_own(qtbot, dialog, "31/08/2025")
    assert dialog.editor is not None
    assert dialog.editor.error.text() == "Write a date as YYYY-MM-DD, like 2025-06-30."
    dialog.editor.edit.setText("2025-08-31")  # type: ignore[union-attr]  # a line edit
    dialog.editor.use.click()
    assert dialog.resolved().doc.items["sg1"].deadline == date(2025, 8, 31)
    assert dialog.resolved().doc.items["sg1"].kpi_target == 32.5
    assert dialog.apply_button.isEnabled()


def test_a_refused_plan_lists_its_problems_and_cannot_be_applied(qtbot: Any) -> None:
    base = small_doc()
    ours = replace(base, items={**base.items, "tc9": tactic("tc9", "sg1")})
    theirs = without(without(without(base, "tc1"), "tc2"), "sg1")
    plan = merge(base, ours, theirs)
    assert plan.refused
    assert plan.conflicts == ()
    dialog = dialog_for(qtbot, plan)
    assert dialog.summary.text() == "The import is refused: the result would break the funnel."
    assert dialog.refused
    lines = [dialog.problems.item(i).text() for i in range(dialog.problems.count())]
    assert lines == [
        "Tactic “\u2068Tactic tc9\u2069”: dangling reference: the parent sg1 does not exist"
    ]
    assert not dialog.apply_button.isEnabled()
    dialog.accept()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.tabs.currentWidget() is dialog.changes  # nothing to decide: what it would do


def test_the_caller_s_refusals_are_listed_and_nothing_can_be_decided(qtbot: Any) -> None:
    plan = three_conflicts()
    refusals = ["line 12: deadline is a date (2025-06-30), not 'soon'", "You may not edit goals."]
    dialog = dialog_for(qtbot, plan, refusals=refusals)
    assert dialog.summary.text() == "The file cannot be imported:"
    assert [dialog.problems.item(i).text() for i in range(dialog.problems.count())] == refusals
    assert not dialog.keep_ours.isEnabled()
    assert not dialog.take_theirs.isEnabled()
    dialog.decide("theirs")
    assert dialog.resolutions() == {}
    assert not dialog.apply_button.isEnabled()


def test_nothing_to_import_when_both_sides_agree(qtbot: Any) -> None:
    base = small_doc()
    both = with_item(base, "tc1", cadence="weekly")
    dialog = dialog_for(qtbot, merge(base, both, both))
    assert dialog.summary.text() == "Nothing to import: the file and the workspace agree."
    assert not dialog.tabs.isVisible()
    assert not dialog.status.isVisible()
    assert not dialog.apply_button.isEnabled()


def test_the_keyboard_moves_through_conflicts_and_chooses(qtbot: Any) -> None:
    dialog = dialog_for(qtbot, three_conflicts())
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=3000)
    target = dialog.conflict_list
    target.setFocus()

    def row() -> int:
        return target.currentRow()

    assert row() == 0
    qtbot.keyClick(target, Qt.Key.Key_J)
    assert row() == 1
    qtbot.keyClick(target, Qt.Key.Key_Down)
    assert row() == 2
    qtbot.keyClick(target, Qt.Key.Key_Down)  # the last stays the last
    assert row() == 2
    qtbot.keyClick(target, Qt.Key.Key_K)
    qtbot.keyClick(target, Qt.Key.Key_Up)
    assert row() == 0
    qtbot.keyClick(target, Qt.Key.Key_2)  # the mission: the file's; the next one opens
    assert dialog.resolutions() == {(None, MISSION): "theirs"}
    assert row() == 1
    qtbot.keyClick(dialog.take_theirs, Qt.Key.Key_1)  # from a button too
    assert dialog.resolutions()[("tc1", "cadence")] == "ours"
    assert row() == 2
    qtbot.keyClick(target, Qt.Key.Key_2)
    assert dialog.resolutions()[("tc2", DELETED)] == "theirs"
    assert "tc2" not in dialog.resolved().doc.items
    assert dialog.apply_button.isEnabled()


def _hostile_plan() -> MergeResult:
    title = f"{MARKUP} {RTL}"
    base = with_item(small_doc(), "tc1", title=title)
    ours = with_item(base, "tc1", body=f"{MARKUP}\n{RTL}")
    ours = replace(ours, mission=LONG)
    theirs = with_item(base, "tc1", body=LONG)
    theirs = replace(theirs, mission=MARKUP)
    theirs = with_item(theirs, "sg1", kpi=MARKUP)
    return merge(base, ours, theirs)


def test_hostile_text_reads_as_typed(qtbot: Any) -> None:
    dialog = dialog_for(qtbot, _hostile_plan())
    dialog.resize(1080, 680)
    select(dialog, ("tc1", "body"))
    panel = dialog.compare
    assert panel.texts(1) == [f"{MARKUP}\n{RTL}"]
    assert panel.texts(2) == [LONG]
    assert panel.title.text() == f"Tactic “\u2068{MARKUP} {RTL}\u2069” · Body"
    labels = dialog.findChildren(QLabel)
    assert labels
    assert all(label.textFormat() == Qt.TextFormat.PlainText for label in labels)
    # 10,000 characters without a space wrap inside the column instead of widening it.
    long_label = panel.columns[2][0]
    lines = 50 * long_label.fontMetrics().height()
    qtbot.waitUntil(
        lambda: 0 < long_label.width() < dialog.width() // 3 and long_label.height() > lines,
        timeout=3000,
    )
    assert MARKUP in entry(dialog, ("tc1", "body"))
    select(dialog, (None, MISSION))
    assert panel.texts(1) == [LONG]
    assert panel.texts(2) == [MARKUP]
    top = dialog.changes.topLevelItem(0)
    assert top.text(0).startswith("Changed: social goal")
    kpi = top.child(0)
    assert (kpi.text(0), kpi.text(2)) == ("KPI", MARKUP)  # item views never read markup


def test_values_read_as_a_person_writes_them() -> None:
    assert shown(None) == "—"
    assert shown("") == "—"
    assert shown(date(2025, 6, 30)) == "2025-06-30"
    assert shown(Horizon.SHORT) == "short"
    assert shown(30.0) == "30"
    assert shown(720.5) == "720.5"
    assert shown(("nowhere",)) == "nowhere"  # an id no version knows stays an id
    plan = three_conflicts()
    assert shown(("dg1", "ai1"), plan) == (
        "department goal “\u2068Care answers fast\u2069”\n"
        "audience insight “\u2068Commuters complain at 8\u2069”"
    )


@pytest.mark.parametrize(
    ("spec", "text", "value"),
    [
        (Editable(Kind.NUMBER, optional=True), " 45 ", 45),
        (Editable(Kind.NUMBER, optional=True), "-0.5", -0.5),
        (Editable(Kind.NUMBER, optional=True), "", None),
        (Editable(Kind.WHOLE, optional=False), "3", 3),
        (Editable(Kind.DAY, optional=True), "2025-06-30", date(2025, 6, 30)),
        (Editable(Kind.TEXT, optional=True), "  ", None),
        (Editable(Kind.TEXT, optional=False), " Reply desk ", "Reply desk"),
        (Editable(Kind.LONG_TEXT, optional=False), "two\nlines\n", "two\nlines"),
    ],
)
def test_what_a_person_types_is_read(spec: Editable, text: str, value: object) -> None:
    got = parse(spec, text)
    assert got == value
    assert type(got) is type(value)


@pytest.mark.parametrize(
    ("spec", "text", "message"),
    [
        (Editable(Kind.NUMBER, optional=True), "nan", "Write a number"),
        (Editable(Kind.NUMBER, optional=True), "1e999", "Write a number"),
        (Editable(Kind.WHOLE, optional=False), "2.5", "Write a whole number"),
        (Editable(Kind.WHOLE, optional=False), "", "may not be empty"),
        (Editable(Kind.DAY, optional=True), "20250630", "YYYY-MM-DD"),
        (Editable(Kind.DAY, optional=True), "2025-02-30", "YYYY-MM-DD"),
    ],
)
def test_what_does_not_parse_is_refused_in_words(spec: Editable, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse(spec, text)


def test_the_summary_counts_in_words() -> None:
    plan = three_conflicts()
    one = replace(plan, changes=plan.changes[:1], conflicts=())
    assert summary(one) == "1 change from the file applies; nothing conflicts."
    assert summary(plan, ["refused"]) == "The file cannot be imported:"


def test_a_field_decision_that_breaks_the_funnel_shows_the_problem(qtbot: Any) -> None:
    start = small_doc()
    base = replace(start, items={**start.items, "sg2": social_goal("sg2", "bg1", "ai1")})
    ours = with_item(base, "sg2", owner="bo@acme.example")
    theirs = with_item(base, "sg2", owner=None)  # the file took the owner away
    dialog = dialog_for(qtbot, merge(base, ours, theirs))
    select(dialog, ("sg2", "owner"))
    assert [dialog.compare.texts(c) for c in range(3)] == [
        ["ana@acme.example"], ["bo@acme.example"], ["—"]
    ]  # fmt: skip
    dialog.take_theirs.click()
    [problem] = [dialog.problems.item(i).text() for i in range(dialog.problems.count())]
    assert problem.startswith("Social goal “\u2068Social goal sg2\u2069”: a social goal needs")
    assert "owner" in problem
    assert not dialog.apply_button.isEnabled()
    dialog.keep_ours.click()
    assert dialog.resolved().doc.items["sg2"].owner == "bo@acme.example"
    assert dialog.problems.count() == 0
    assert dialog.apply_button.isEnabled()
