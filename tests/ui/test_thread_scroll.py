"""An opened thread shows its newest message and its activity, never an empty stretch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.config import LocalPrefs
from app.services.container import Services
from app.ui.main_window import MainWindow
from tests.ui.feed import listed


def test_a_long_thread_opens_on_its_newest_message_and_activity(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    s = demo_services
    admin = s.directory.person_by_email("ingrid.solberg@acme-mobility.example")
    assert admin is not None
    window = MainWindow(s, admin, LocalPrefs(tmp_path / "prefs.json"))
    qtbot.addWidget(window)
    window.resize(1400, 800)
    window.show()
    qtbot.waitExposed(window)
    inbox = window.inbox
    model = inbox.model
    listed(qtbot, model)
    place = max(range(min(model.rowCount(), 100)), key=lambda i: model.row_at(i).message_count)
    longest = model.row_at(place).id
    s.triage.add_note(admin.id, longest, "Checked with the warehouse.")
    inbox.view.setCurrentIndex(model.index(place, 0))
    pane = inbox.thread_pane
    qtbot.waitUntil(lambda: bool(pane.bubbles) and bool(pane.entries))
    area = pane.messages_area
    bar = area.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    qtbot.wait(50)  # the deferred scroll after the layout settles
    assert len(pane.bubbles) > 5  # long enough to scroll
    newest, note = pane.bubbles[-1], pane.entries[-1]
    assert not newest.visibleRegion().isEmpty()
    assert not note.visibleRegion().isEmpty()
    assert note.heading.text().endswith("Ingrid Solberg wrote a note")
    # The view ends where the thread ends (plus the layout's margin), not in blank space.
    content_end = note.mapTo(area.widget(), note.rect().bottomLeft()).y()
    assert content_end - bar.value() > area.viewport().height() - 60
