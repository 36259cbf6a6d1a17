"""The strategy file window: open a file, edit a tactic, save, read back with a hand-written
comment kept; a malformed file refused in words; unsaved changes asked about before closing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from app.domain.strategy_file import dump_strategy, read_strategy_file
from app.services.strategy_file_editing import INCOMPLETE
from app.ui.strategy import file_window
from app.ui.strategy.editor import UNSAVED
from app.ui.strategy.file_window import StrategyFileWindow, run_file_editor
from app.ui.strategy.missing_panel import PROBLEMS
from app.ui.strategy.outline import MISSION_KEY
from tests.unit.domain.strategy_data import small_doc

LOAD_MS = 8000
COMMENT = "    cadence: daily  # twice on Mondays\n"


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    path = tmp_path / "plan.yaml"
    text = dump_strategy(small_doc()).replace("    cadence: daily\n", COMMENT, 1)
    path.write_text(text, encoding="utf-8")
    return path


def _window(qtbot: Any, path: Path | None = None) -> StrategyFileWindow:
    window = StrategyFileWindow()
    qtbot.addWidget(window)
    window.resize(1500, 860)
    window.show()
    if path is not None:
        with qtbot.waitSignal(window.opened, timeout=LOAD_MS):
            window.open_file(str(path))
        qtbot.waitUntil(lambda: _loaded(window, "tc1"), timeout=LOAD_MS)
    return window


def _loaded(window: StrategyFileWindow, key: str) -> bool:
    state = window.editor.state
    return state is not None and state.item(key) is not None


def test_an_edit_saved_with_ctrl_s_reads_back_with_the_comment_kept(qtbot: Any, plan: Path) -> None:
    window = _window(qtbot, plan)
    editor = window.editor
    assert window.windowTitle() == "plan.yaml — Quiver strategy editor"
    editor.select("tc1")
    assert editor.form.cadence.text() == "daily"
    editor.form.cadence.setText("hourly")
    with qtbot.waitSignal(editor.outcome_shown, timeout=LOAD_MS) as said:
        editor.form.save_button.click()
    assert said.args[0] == UNSAVED
    qtbot.waitUntil(lambda: window.dirty, timeout=LOAD_MS)
    assert window.windowTitle().startswith("• plan.yaml")
    assert COMMENT in plan.read_text(encoding="utf-8")  # nothing written before Save
    with qtbot.waitSignal(window.saved, timeout=LOAD_MS):
        qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert not window.dirty
    assert window.windowTitle() == "plan.yaml — Quiver strategy editor"
    text = plan.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if "twice on Mondays" in x)
    assert line.split("#")[0].strip() == "cadence: hourly"  # the comment kept on its line
    assert read_strategy_file(plan).doc.items["tc1"].cadence == "hourly"
    doc = window.document()
    assert doc.path == plan
    assert doc.doc.items["tc1"].cadence == "hourly"


def test_a_file_edit_the_funnel_refuses_is_said_in_its_words(qtbot: Any, plan: Path) -> None:
    window = _window(qtbot, plan)
    editor = window.editor
    editor.select("sg1")
    editor.form.baseline.setText("")
    with qtbot.waitSignal(editor.outcome_shown, timeout=LOAD_MS) as said:
        editor.form.save_button.click()
    assert said.args[0] == "A social goal needs a baseline."
    assert editor.form.outcome.objectName() == "threadNotice"
    assert not window.dirty


def test_a_file_has_no_units_list_and_holds_no_posts_and_says_so(qtbot: Any, plan: Path) -> None:
    window = _window(qtbot, plan)
    editor = window.editor
    editor.select("sg1")
    assert "holds the strategy only" in editor.served.note.text()
    assert not editor.served.drafts_view.isVisible()
    tree = editor.missing.tree
    units = tree.topLevelItem(0)
    assert units.text(0).startswith("Units without department goals")
    assert "no list of its units" in units.child(0).text(0)
    assert units.text(0).endswith("(—)")


def test_a_malformed_file_is_refused_with_its_line_and_item(qtbot: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nitems:\n  - id: a\n    colour: red\n", encoding="utf-8")
    window = _window(qtbot)
    with qtbot.waitSignal(window.open_failed, timeout=LOAD_MS) as failed:
        window.open_file(str(bad))
    message = failed.args[0]
    assert message.startswith("Quiver cannot open bad.yaml: line 4: item a: unknown field 'colour'")
    assert window.banner.isVisible()
    assert window.banner.text() == message
    assert window.banner.textFormat() == Qt.TextFormat.PlainText
    assert window.source.path is None  # nothing else was opened instead
    with qtbot.waitSignal(window.open_failed, timeout=LOAD_MS) as missing:
        window.open_file(str(tmp_path / "nowhere.yaml"))
    assert missing.args[0].startswith("There is no file ")


def test_a_hand_written_problem_opens_and_is_listed_first(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "hand.yaml"
    text = dump_strategy(small_doc()).replace("      - sg1\n", "      - sg9\n", 1)
    path.write_text(text.replace("    cadence: daily\n", "    cadence: ''\n", 1), encoding="utf-8")
    window = _window(qtbot, path)
    editor = window.editor
    top = editor.missing.tree.topLevelItem(0)
    assert top.text(0) == f"{PROBLEMS}  (1)"
    assert top.child(0).text(0) == "Tactic tc1: Dangling reference: the parent sg9 does not exist."
    assert editor.model.index_of("tc1").data().startswith("⚠ ")
    lacking = [e.title for name, e in editor.missing.entries() if name == INCOMPLETE]
    assert lacking == ["Tactic tc1: A tactic needs a cadence."]
    editor.missing._on_tree_item_clicked(top.child(0))
    assert editor.selected_key == "tc1"


def test_closing_with_unsaved_changes_asks_first(
    qtbot: Any, plan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = _window(qtbot, plan)
    editor = window.editor
    editor.select(MISSION_KEY)
    editor.mission_form.text.setPlainText("A new mission")
    with qtbot.waitSignal(editor.outcome_shown, timeout=LOAD_MS):
        editor.mission_form.save_button.click()
    qtbot.waitUntil(lambda: window.dirty, timeout=LOAD_MS)
    asked: list[str] = []

    def answer(reply: str) -> Any:
        def ask(_parent: Any, name: str) -> str:
            asked.append(name)
            return reply

        return ask

    monkeypatch.setattr(file_window, "ask_unsaved", answer("cancel"))
    window.close()
    assert window.isVisible()
    assert asked == ["plan.yaml"]
    monkeypatch.setattr(file_window, "ask_unsaved", answer("save"))
    with qtbot.waitSignal(window.saved, timeout=LOAD_MS):
        window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=LOAD_MS)
    assert read_strategy_file(plan).doc.mission == "A new mission"


def test_save_as_writes_a_new_file_and_the_window_follows_it(
    qtbot: Any, plan: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = _window(qtbot, plan)
    copy = tmp_path / "copy.yaml"
    monkeypatch.setattr(file_window, "choose_file_to_save", lambda _p, _s: str(copy))
    with qtbot.waitSignal(window.saved, timeout=LOAD_MS):
        window.save_as_action.trigger()
    assert window.windowTitle() == "copy.yaml — Quiver strategy editor"
    assert read_strategy_file(copy).doc == read_strategy_file(plan).doc


def test_run_file_editor_opens_the_file_and_returns_when_it_closes(qtbot: Any, plan: Path) -> None:
    def close_when_open() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, StrategyFileWindow)]
        if windows and windows[0].ever_opened:
            seen.append(windows[0].windowTitle())
            windows[0].close()
        else:
            QTimer.singleShot(50, close_when_open)

    seen: list[str] = []
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    QTimer.singleShot(50, close_when_open)
    try:
        assert run_file_editor(str(plan)) == 0
        assert "QMainWindow" in app.styleSheet()  # the app's own style sheet
    finally:
        app.setStyleSheet("")  # the other tests run unstyled
    assert seen == ["plan.yaml — Quiver strategy editor"]


def test_a_new_doc_in_an_untitled_window_asks_where_to_save(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = _window(qtbot)
    assert window.windowTitle() == "Untitled strategy — Quiver strategy editor"
    target = tmp_path / "new.yaml"
    monkeypatch.setattr(file_window, "choose_file_to_save", lambda _p, _s: str(target))
    editor = window.editor
    with qtbot.waitSignal(editor.loaded, timeout=LOAD_MS):
        editor.reload()
    editor.start_new("business_goal")
    editor.form.title.setText("Grow ridership")
    with qtbot.waitSignal(editor.outcome_shown, timeout=LOAD_MS):
        editor.form.save_button.click()
    with qtbot.waitSignal(window.saved, timeout=LOAD_MS):
        window.save_action.trigger()
    doc = read_strategy_file(target).doc
    assert [i.title for i in doc.items.values()] == ["Grow ridership"]
    assert replace(doc, items={}) == replace(window.document().doc, items={})
