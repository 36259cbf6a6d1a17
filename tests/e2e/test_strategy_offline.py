"""A strategist's offsite, end to end: a strategy file edited with no workspace, imported back.

Helena exports the strategy, and on the train opens the file in the strategy editor on its own
(no workspace, no network), changes a tactic's cadence and title, saves. Meanwhile Omar, in the
workspace, changes the same tactic's cadence and another tactic's channel. Back at the office
Helena opens the file from the main window and imports it: the import dialog shows the one
conflict (the cadence) side by side; she takes the file's with 2 and applies. The Strategy
screen then shows her cadence and title, and Omar's channel, on both engines; the audit log
has the import.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from sqlalchemy import select

from app.config import LocalPrefs
from app.domain.enums import StrategyItemType
from app.domain.strategy_file import read_strategy_file
from app.models import AuditEntry
from app.services.container import Services
from app.ui.main_window import MainWindow
from app.ui.strategy.editor import StrategyEditor
from app.ui.strategy.file_window import StrategyFileWindow
from tests.integration.demo_lookup import person_id

LOAD_MS = 10_000
T = StrategyItemType


def _save(qtbot: Any, editor: StrategyEditor) -> str:
    with qtbot.waitSignal(editor.outcome_shown, timeout=LOAD_MS) as said:
        qtbot.mouseClick(editor.form.save_button, Qt.MouseButton.LeftButton)
    return str(said.args[0])


def _loaded(editor: StrategyEditor, key: str) -> bool:
    return editor.state is not None and editor.state.item(key) is not None


def test_a_file_edited_offline_is_imported_with_its_conflict_decided(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    s = demo_services
    helena, omar = person_id(s, "helena.marsh"), person_id(s, "omar.haddad")
    path = tmp_path / "acme-strategy.yaml"
    s.strategy_files.export_file(helena, path, "for the offsite")
    outline = s.strategy.outline(helena)
    first, second = [o.item for o in outline.of_type(T.TACTIC)][:2]

    # On the train: the file alone, in the editor window (no workspace behind it).
    offline = StrategyFileWindow()
    qtbot.addWidget(offline)
    offline.resize(1500, 860)
    offline.show()
    with qtbot.waitSignal(offline.opened, timeout=LOAD_MS):
        offline.open_file(str(path))
    qtbot.waitUntil(lambda: _loaded(offline.editor, first.uuid), timeout=LOAD_MS)
    assert offline.import_action is None  # nothing to import into here
    offline.editor.select(first.uuid)
    assert offline.editor.form.cadence.text() == first.fields.cadence
    offline.editor.form.cadence.setText("twice a week, mornings")
    offline.editor.form.title.setText("Follow-the-sun rota, mornings first")
    _save(qtbot, offline.editor)
    qtbot.waitUntil(lambda: offline.dirty, timeout=LOAD_MS)
    with qtbot.waitSignal(offline.saved, timeout=LOAD_MS):
        qtbot.keyClick(offline, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    offline.close()
    saved = read_strategy_file(path).doc.items[first.uuid]
    assert saved.cadence == "twice a week, mornings"

    # Meanwhile, in the workspace.
    s.strategy.edit(omar, first.id, replace(first.fields, cadence="round the clock"))
    s.strategy.edit(omar, second.id, replace(second.fields, channel="Instagram"))

    # At the office: the main window, the file opened from it, imported.
    person = s.directory.person_by_email("helena.marsh@acme-mobility.example")
    assert person is not None
    window = MainWindow(s, person, LocalPrefs(tmp_path / "prefs.json"))
    qtbot.addWidget(window)
    window.resize(1600, 900)
    window.show()
    opened = window.open_strategy_file(str(path))
    assert opened is not None
    qtbot.addWidget(opened)
    qtbot.waitUntil(lambda: _loaded(opened.editor, first.uuid), timeout=LOAD_MS)
    assert opened.import_action is not None
    transfer = window.strategy.transfer
    opened.import_action.trigger()
    qtbot.waitUntil(
        lambda: transfer.dialog is not None and transfer.dialog.isVisible(), timeout=LOAD_MS
    )
    dialog = transfer.dialog
    assert dialog is not None
    assert dialog.summary.text() == (
        "1 change from the file applies; 1 conflict needs your decision."
    )
    [conflict] = dialog.conflicts
    assert (conflict.item_id, conflict.field) == (first.uuid, "cadence")
    assert dialog.compare.texts(0) == [first.fields.cadence]
    assert dialog.compare.texts(1) == ["round the clock"]
    assert dialog.compare.texts(2) == ["twice a week, mornings"]
    assert not dialog.apply_button.isEnabled()
    qtbot.keyClick(dialog.conflict_list, Qt.Key.Key_2)  # take the file's
    assert dialog.apply_button.isEnabled()
    with qtbot.waitSignal(transfer.imported, timeout=LOAD_MS):
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)

    # The result, on the Strategy screen.
    assert window.current_screen() == "Strategy"
    editor = window.strategy.editor
    key = str(first.id)
    qtbot.waitUntil(
        lambda: (
            editor.state is not None
            and editor.state.item(key) is not None
            and editor.state.item(key).fields.cadence == "twice a week, mornings"
        ),  # type: ignore[union-attr]
        timeout=LOAD_MS,
    )
    editor.select(key)
    assert editor.form.cadence.text() == "twice a week, mornings"
    assert editor.form.title.text() == "Follow-the-sun rota, mornings first"
    editor.select(str(second.id))
    assert editor.form.channel.text() == "Instagram"  # Omar's change stands
    assert "Imported acme-strategy.yaml: 1 changed." in window.strategy.notice.text()
    with s.db.engine.connect() as conn:
        entry = conn.scalar(
            select(AuditEntry.after).where(AuditEntry.action == "strategy.imported")
        )
    assert entry is not None
    assert entry["decided"] == [{"id": first.uuid, "field": "cadence", "took": "theirs"}]
