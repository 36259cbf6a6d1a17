"""The Strategy screen on the demo workspace: the outline, a social goal's form and what served
it, an edit saved, a refusal in words, what is missing, the timeline, the policy tab feeding the
compose pane, adding and deleting with a confirmation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QLabel
from sqlalchemy import select, update

from app.config import LocalPrefs
from app.domain.enums import StrategyItemType
from app.domain.strategy_file import dump_strategy
from app.models import Conversation, StrategyItem
from app.services.container import Services
from app.ui.compose.compose_pane import ComposePane
from app.ui.main_window import MainWindow
from app.ui.operator import OperatorBinding
from app.ui.strategy.editor import StrategyEditor
from app.ui.strategy.missing_panel import MissingPanel
from app.ui.strategy.outline import MISSION_KEY
from app.ui.strategy.strategy_page import StrategyPage
from tests.integration.demo_lookup import person_id, social_goal
from tests.ui.strategy_pages import strategy_page
from tests.unit.domain.strategy_data import small_doc

T = StrategyItemType
LOAD_MS = 8000


def _page(qtbot: Any, s: Services, local: str) -> StrategyPage:
    return strategy_page(qtbot, s, local)


def _keys(editor: StrategyEditor, kind: StrategyItemType) -> list[str]:
    assert editor.state is not None
    return [i.key for i in editor.state.items if i.type == kind]


def _save(qtbot: Any, editor: StrategyEditor) -> str:
    """Click Save and wait for its outcome on screen (went through or refused)."""
    with qtbot.waitSignal(editor.outcome_shown, timeout=LOAD_MS) as blocker:
        qtbot.mouseClick(editor.form.save_button, Qt.MouseButton.LeftButton)
    return str(blocker.args[0])


def _click_entry(panel: MissingPanel, section: str) -> Any:
    tree = panel.tree
    for n in range(tree.topLevelItemCount()):
        top = tree.topLevelItem(n)
        if top.text(0).startswith(section):
            child = top.child(0)
            panel._on_tree_item_clicked(child)
            return child.data(0, Qt.ItemDataRole.UserRole + 3)
    raise AssertionError(f"no section {section}")


def test_the_outline_runs_mission_then_each_level(
    qtbot: Any, qtmodeltester: Any, demo_services: Services
) -> None:
    page = _page(qtbot, demo_services, "tom.becker")
    model = page.editor.model
    outline = demo_services.strategy.outline(person_id(demo_services, "tom.becker"))
    assert model.rowCount() == 6
    assert str(model.index(0, 0).data()).startswith("Mission: ")
    for row, kind in enumerate(T, start=1):
        section = model.index(row, 0)
        assert model.rowCount(section) == len(outline.of_type(kind))
        assert f"({len(outline.of_type(kind))})" in str(section.data())
    tactic = outline.of_type(T.TACTIC)[0].item
    assert model.index(0, 0, model.index(5, 0)).data() == tactic.fields.title
    qtmodeltester.check(model)
    labels = page.findChildren(QLabel)
    assert labels
    assert all(label.textFormat() == Qt.TextFormat.PlainText for label in labels)


def test_a_social_goal_shows_its_kpi_and_what_served_it(
    qtbot: Any, demo_services: Services
) -> None:
    s = demo_services
    goal = social_goal(s)
    with s.db.engine.begin() as conn:  # enough tagged conversations for a second page
        ids = list(conn.scalars(select(Conversation.id).order_by(Conversation.id).limit(60)))
        conn.execute(
            update(Conversation).where(Conversation.id.in_(ids)).values(social_goal_id=goal)
        )
        tagged = set(
            conn.scalars(select(Conversation.id).where(Conversation.social_goal_id == goal))
        )
    page = _page(qtbot, s, "helena.marsh")
    editor = page.editor
    with (
        qtbot.waitSignal(editor.served.counts_shown, timeout=LOAD_MS) as counts,
        qtbot.waitSignal(editor.served.conversations.page_loaded, timeout=LOAD_MS),
    ):
        editor.select(str(goal))
    served = counts.args[0]
    assert served.conversations == len(tagged) >= 60
    assert editor.form.heading.text() == "Social goal"
    assert editor.form.kpi.isVisible()
    assert not editor.form.cadence.isVisible()
    assert editor.form.target.text() != ""
    assert f"{len(tagged)} conversations tagged" in editor.served.counts.text()
    model = editor.served.conversations
    assert model.rowCount() == 50  # one page, the next read as the list is scrolled
    while model.canFetchMore(QModelIndex()):
        with qtbot.waitSignal(model.page_loaded, timeout=LOAD_MS):
            model.fetchMore(QModelIndex())
    rows = model.rows()
    assert len(rows) == len(tagged)
    assert {r.id for r in rows} == tagged
    qtbot.waitUntil(lambda: editor.served.drafts.rowCount() > 0, timeout=LOAD_MS)
    assert editor.served.drafts.rowCount() == min(50, served.posts + served.replies)


def test_a_tactics_cadence_edited_and_saved_is_stored(qtbot: Any, demo_services: Services) -> None:
    s = demo_services
    page = _page(qtbot, s, "helena.marsh")
    editor = page.editor
    key = _keys(editor, T.TACTIC)[0]
    editor.select(key)
    assert editor.form.cadence.isVisible()
    editor.form.cadence.setText("every morning")
    assert _save(qtbot, editor) == "Saved."
    assert editor.form.outcome.text() == "Saved."
    assert editor.selected_key == key
    assert editor.form.cadence.text() == "every morning"  # read back after the save
    stored = s.strategy.item(person_id(s, "helena.marsh"), int(key))
    assert stored.fields.cadence == "every morning"


def test_someone_not_allowed_is_refused_in_words_beside_save(
    qtbot: Any, demo_services: Services
) -> None:
    s = demo_services
    page = _page(qtbot, s, "tom.becker")
    editor = page.editor
    key = _keys(editor, T.TACTIC)[0]
    editor.select(key)
    editor.form.cadence.setText("never")
    said = _save(qtbot, editor)
    assert said.startswith("Only the head of ")
    assert said.endswith("can edit its tactics.")
    assert editor.form.outcome.isVisible()
    assert editor.form.outcome.text() == said
    assert editor.form.outcome.objectName() == "threadNotice"
    assert editor.form.cadence.text() == "never"  # what was typed stays, to correct or copy
    assert s.strategy.item(person_id(s, "tom.becker"), int(key)).fields.cadence != "never"


def test_a_figure_that_is_no_number_is_refused_before_anything_is_asked(
    qtbot: Any, demo_services: Services
) -> None:
    page = _page(qtbot, demo_services, "helena.marsh")
    editor = page.editor
    editor.select(str(social_goal(demo_services)))
    editor.form.target.setText("lots")
    editor.form.request_save()
    assert editor.form.outcome.text() == "The target is a number (like 95 or 2.5), not 'lots'."
    assert editor.busy == 0


def test_what_is_missing_lists_the_gaps_and_a_click_goes_there(
    qtbot: Any, demo_services: Services
) -> None:
    s = demo_services
    missing = s.strategy.missing(person_id(s, "helena.marsh"))
    page = _page(qtbot, s, "helena.marsh")
    editor = page.editor
    listed = editor.missing.entries()
    goals = [e.key for name, e in listed if name == "Goals no social goal derives from"]
    assert goals == [str(g.id) for g in missing.goals_without_social_goals]
    assert goals
    entry = _click_entry(editor.missing, "Goals no social goal derives from")
    assert editor.selected_key == entry.key
    assert editor.form.title.text() == entry.title
    units = [e for name, e in listed if name == "Units without department goals"]
    assert [e.title for e in units] == [u.title for u in missing.units_without_goals]
    if units:  # a unit without goals starts a department goal for it
        unit = _click_entry(editor.missing, "Units without department goals")
        assert editor.form.heading.text() == "New department goal"
        assert editor.form.unit.value() == unit.key


def test_the_timeline_flags_a_tactic_past_its_horizon_and_a_click_selects_it(
    qtbot: Any, demo_services: Services
) -> None:
    s = demo_services
    with s.db.engine.begin() as conn:
        tactic, made = conn.execute(
            select(StrategyItem.id, StrategyItem.created_at)
            .where(StrategyItem.type == "tactic", StrategyItem.horizon == "short")
            .order_by(StrategyItem.id)
            .limit(1)
        ).one()
        conn.execute(
            update(StrategyItem)
            .where(StrategyItem.id == tactic)
            .values(created_at=made - timedelta(days=200))
        )
    page = _page(qtbot, s, "helena.marsh")
    editor = page.editor
    editor.tabs.setCurrentIndex(1)
    timeline = editor.timeline
    assert len(timeline.bars) == len(_keys(editor, T.TACTIC))
    past = [b.key for b in timeline.bars if b.past]
    assert past == [str(tactic)]
    assert ("Tactics past their horizon", str(tactic)) in [
        (name, e.key) for name, e in editor.missing.entries()
    ]
    timeline.repaint()
    rect = next(r for r, bar in timeline._rects if bar.key == str(tactic))
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert editor.tabs.currentIndex() == 0
    assert editor.selected_key == str(tactic)
    assert "past its horizon" in editor.form.facts.text()
    assert timeline.bar_at(0, 0) is None  # the lanes' names, not a bar


def test_a_policy_line_added_here_is_in_the_compose_panes_policy(
    qtbot: Any, demo_services: Services
) -> None:
    s = demo_services
    page = _page(qtbot, s, "helena.marsh")
    editor = page.editor
    editor.tabs.setCurrentIndex(2)
    tab = editor.policy
    tab.kind.setCurrentIndex(tab.kind.findData("banned_term"))
    tab.value.setText("zzfreebie")
    tab.note.setText("Nothing is free.")
    with qtbot.waitSignal(editor.outcome_shown, timeout=LOAD_MS) as blocker:
        qtbot.mouseClick(tab.add_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0] == "The line is added to the policy."
    row = tab.row_of("zzfreebie")
    assert row is not None
    assert tab.key == row.key  # the new line is selected, its id shown
    assert row.uuid in tab.form_title.text()
    tom = s.directory.person_by_email("tom.becker@acme-mobility.example")
    assert tom is not None
    binding = OperatorBinding(tom)
    pane = ComposePane(s, binding, "post")
    pane._binding = binding
    qtbot.addWidget(pane)
    pane.show()
    qtbot.waitUntil(lambda: pane.context is not None, timeout=LOAD_MS)
    assert pane.context is not None
    assert "zzfreebie" in {line.value for line in pane.context.policy.lines}
    assert pane.context.check("Grab a zzfreebie today").blocked


def test_a_policy_line_refused_says_why(qtbot: Any, demo_services: Services) -> None:
    page = _page(qtbot, demo_services, "helena.marsh")
    tab = page.editor.policy
    tab.kind.setCurrentIndex(tab.kind.findData("length_limit"))
    tab.value.setText("lots")
    with qtbot.waitSignal(page.editor.outcome_shown, timeout=LOAD_MS) as blocker:
        qtbot.mouseClick(tab.add_button, Qt.MouseButton.LeftButton)
    assert "whole number" in blocker.args[0]
    assert tab.outcome.objectName() == "threadNotice"
    assert tab.row_of("lots") is None


def test_a_tactic_added_under_a_goal_then_deleted_after_asking(
    qtbot: Any, demo_services: Services
) -> None:
    s = demo_services
    page = _page(qtbot, s, "helena.marsh")
    editor = page.editor
    goal = str(social_goal(s))
    editor.select(goal)
    assert editor.add_actions[T.TACTIC].isEnabled()
    editor.add_actions[T.TACTIC].trigger()
    form = editor.form
    assert form.heading.text() == "New tactic"
    assert form.checked_parents() == (goal,)
    form.title.setText("Live Q&A every month")
    form.owner.setCurrentIndex(form.owner.findText("Helena Marsh", Qt.MatchFlag.MatchStartsWith))
    form.channel.setText("X")
    form.cadence.setText("monthly")
    assert _save(qtbot, editor) == "Added the tactic."
    new = editor.selected_key
    assert new is not None
    assert new in _keys(editor, T.TACTIC)
    assert editor.form.title.text() == "Live Q&A every month"
    editor.delete_selected()
    qtbot.waitUntil(
        lambda: editor.confirm is not None and editor.confirm.isVisible(), timeout=LOAD_MS
    )
    assert editor.confirm is not None
    assert "Live Q&A every month" in editor.confirm.question.text()
    assert editor.confirm.detail.text() == "Nothing else depends on it."
    with qtbot.waitSignal(editor.outcome_shown, timeout=LOAD_MS):
        editor.confirm.accept()
    assert new not in _keys(editor, T.TACTIC)
    assert editor.selected_key == goal  # back to the goal it served


def test_deleting_a_goal_lists_what_would_go_with_it_and_cancel_keeps_it(
    qtbot: Any, demo_services: Services
) -> None:
    page = _page(qtbot, demo_services, "helena.marsh")
    editor = page.editor
    goal = str(social_goal(demo_services))
    editor.select(goal)
    editor.delete_selected()
    qtbot.waitUntil(
        lambda: editor.confirm is not None and editor.confirm.isVisible(), timeout=LOAD_MS
    )
    assert editor.confirm is not None
    assert editor.confirm.detail.text().startswith("Deleted with it, as they cannot exist")
    assert editor.confirm.go_button.text() == "Delete them all"
    editor.confirm.reject()
    assert goal in _keys(editor, T.SOCIAL_GOAL)
    assert editor.busy == 0


def test_moving_a_tactic_up_reorders_the_outline(qtbot: Any, demo_services: Services) -> None:
    page = _page(qtbot, demo_services, "helena.marsh")
    editor = page.editor
    before = _keys(editor, T.TACTIC)
    editor.select(before[1])
    with qtbot.waitSignal(editor.outcome_shown, timeout=LOAD_MS):
        qtbot.mouseClick(editor.up_button, Qt.MouseButton.LeftButton)
    assert _keys(editor, T.TACTIC) == [before[1], before[0], *before[2:]]
    assert editor.selected_key == before[1]


def test_the_mission_has_its_own_form(qtbot: Any, demo_services: Services) -> None:
    s = demo_services
    page = _page(qtbot, s, "helena.marsh")
    editor = page.editor
    editor.select(MISSION_KEY)
    assert editor.forms.currentWidget() is editor.mission_form
    editor.mission_form.text.setPlainText("Cleaner cities, one ride at a time.")
    with qtbot.waitSignal(editor.outcome_shown, timeout=LOAD_MS):
        editor.mission_form.save_button.click()
    outline = s.strategy.outline(person_id(s, "helena.marsh"))
    assert outline.mission == "Cleaner cities, one ride at a time."
    assert str(editor.model.index(0, 0).data()) == "Mission: Cleaner cities, one ride at a time."


def test_an_operator_switch_reads_the_strategy_again_as_them(
    qtbot: Any, demo_services: Services
) -> None:
    s = demo_services
    page = _page(qtbot, s, "helena.marsh")
    tom = s.directory.person_by_email("tom.becker@acme-mobility.example")
    assert tom is not None
    with qtbot.waitSignal(page.editor.loaded, timeout=LOAD_MS):
        page._binding.switch(tom)
    assert page.source.operator_id == tom.id
    assert "Tom Becker" in page.who.text()


def test_the_main_window_opens_a_strategy_file_in_its_own_window(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    s = demo_services
    person = s.directory.person_by_email("helena.marsh@acme-mobility.example")
    assert person is not None
    window = MainWindow(s, person, LocalPrefs(tmp_path / "prefs.json"))
    qtbot.addWidget(window)
    window.show()
    window.show_screen("Strategy")
    assert window.stack.currentWidget() is window.strategy_slot
    assert window.strategy.isVisible()  # built when first shown
    assert "Strategy" not in window.placeholders
    plan = tmp_path / "plan.yaml"
    plan.write_text(dump_strategy(small_doc()), encoding="utf-8")
    opened = window.open_strategy_file(str(plan))
    assert opened is not None
    qtbot.addWidget(opened)
    qtbot.waitUntil(
        lambda: opened.editor.state is not None and opened.editor.state.item("bg1") is not None,
        timeout=LOAD_MS,
    )
    assert window.strategy_windows == [opened]
    assert opened.windowTitle() == "plan.yaml — Quiver strategy editor"
    state = opened.editor.state
    assert state is not None
    units = {c.value for c in state.names.units}
    assert "Acme Mobility/Customer Care" in units  # the workspace's names complete typing
    assert "Acme/Care" in units  # and the file's own
    opened.close()
    window.close()
