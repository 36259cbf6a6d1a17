"""The inbox's filter bar, search box, account clicks, saved views and SLA column, offscreen."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.config import LocalPrefs
from app.domain.rows import ASSIGNEE_ME, SORT_DUE, ConversationRow
from app.services.container import Services
from app.ui.inbox.feed_model import COL_SLA, duration, sla_text
from app.ui.main_window import MainWindow
from tests.ui.feed import listed

SHOTS = Path("/tmp/shots-filters")


def _window(qtbot: Any, services: Services, tmp_path: Path, name: str = "Tom Becker") -> MainWindow:
    operator = next(p for p in services.directory.people() if p.name == name)
    window = MainWindow(services, operator, LocalPrefs(tmp_path / "prefs.json"))
    qtbot.addWidget(window)
    window.resize(1500, 900)
    with qtbot.waitSignal(window.first_page_painted, timeout=5000):
        window.show()
    return window


def _shot(window: Any, name: str, engine_name: str) -> None:
    if engine_name == "sqlite" and os.environ.get("QUIVER_SHOTS", "1") == "1":
        assert not window.inbox.model.loading  # the rows asked for, not the previous ones
        SHOTS.mkdir(exist_ok=True)
        QApplication.processEvents()
        window.grab().save(str(SHOTS / f"{name}.png"))


def _rows(qtbot: Any, window: MainWindow) -> list[ConversationRow]:
    """The rows listed, once the filter asked for last is."""
    model = window.inbox.model
    listed(qtbot, model)
    return [model.row_at(i) for i in range(model.rowCount())]


def _choose(combo: Any, label: str) -> None:
    index = combo.findText(label)
    assert index >= 0, f"{label!r} not offered"
    combo.setCurrentIndex(index)


def test_every_drop_down_reaches_the_list(
    qtbot: Any, demo_services: Services, tmp_path: Path, engine_name: str
) -> None:
    window = _window(qtbot, demo_services, tmp_path)
    bar = window.inbox.filter_bar
    _choose(bar.status, "All statuses")
    _choose(bar.kind, "DM")
    _choose(bar.sentiment, "Negative")
    _choose(bar.language, "English")
    f = window.inbox.model.filter
    assert (f.kinds, f.sentiments, f.languages, f.statuses) == (("dm",), ("negative",), ("en",), ())
    expected = [r.id for r in demo_services.inbox.page(f, me=window.operator.id)]
    assert expected
    assert [r.id for r in _rows(qtbot, window)] == expected
    assert all(
        r.kind == "dm" and r.sentiment is not None and r.sentiment < -0.05
        for r in _rows(qtbot, window)
    )
    _choose(bar.assignee, "Assigned to me")
    assert window.inbox.model.filter.assignee == ASSIGNEE_ME
    _choose(bar.sort, "First response due")
    assert window.inbox.model.filter.sort == SORT_DUE
    listed(qtbot, window.inbox.model)
    _shot(window, "filters-dm-negative", engine_name)


def test_slash_focuses_the_search_and_the_search_combines_with_filters(
    qtbot: Any, demo_services: Services, tmp_path: Path, engine_name: str
) -> None:
    window = _window(qtbot, demo_services, tmp_path)
    window.inbox.view.setFocus()
    qtbot.keyClick(window.inbox.view, Qt.Key.Key_Slash)
    search = window.inbox.filter_bar.search
    assert search.hasFocus()
    qtbot.keyClicks(search, "order")
    qtbot.keyClick(search, Qt.Key.Key_Return)
    f = window.inbox.model.filter
    assert f.text == "order"
    assert f.statuses == ("new", "open", "waiting")  # the status filter still applies
    rows = _rows(qtbot, window)
    assert rows
    assert [r.id for r in rows] == [r.id for r in demo_services.inbox.page(f)]
    assert all(r.status in f.statuses for r in rows)
    _shot(window, "search-order", engine_name)
    search.clear()  # the clear button: everything again at once
    assert window.inbox.model.filter.text == ""


def test_clicking_an_account_filters_by_it_in_every_query(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    window = _window(qtbot, demo_services, tmp_path)
    inbox = window.inbox
    item = inbox.accounts.item(1)
    rect = inbox.accounts.visualItemRect(item)
    qtbot.mouseClick(inbox.accounts.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    account_id = item.data(Qt.ItemDataRole.UserRole + 1)
    assert inbox.model.filter.account_ids == (account_id,)
    assert item.font().bold()
    assert all(r.account_id == account_id for r in _rows(qtbot, window))
    inbox.jump_to_oldest()  # the keys for the oldest keep the account too
    model = inbox.model
    assert all(
        model.row_at(i).account_id == account_id
        for i in range(model.rowCount() - 5, model.rowCount())
    )
    qtbot.mouseClick(inbox.accounts.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert inbox.model.filter.account_ids == ()


def test_saved_views_list_count_apply_save_rename_delete(
    qtbot: Any, demo_services: Services, tmp_path: Path, engine_name: str, monkeypatch: Any
) -> None:
    window = _window(qtbot, demo_services, tmp_path)
    panel = window.inbox.saved_views
    assert panel is not None
    if not panel.counts:
        with qtbot.waitSignal(panel.counts_loaded, timeout=10000):
            pass
    names = [panel.list.item(i).text() for i in range(panel.list.count())]
    assert names[0].startswith("My open conversations  ·  ")
    mine = panel.rows()[0]
    assert names[0].endswith(panel.counts[mine.id].text())

    # Choosing a view shows its filter in the bar and the list.
    item = panel.list.item(1)
    qtbot.mouseClick(
        panel.list.viewport(),
        Qt.MouseButton.LeftButton,
        pos=panel.list.visualItemRect(item).center(),
    )
    chosen = panel.rows()[1].filter
    assert chosen is not None
    assert window.inbox.model.filter == chosen
    assert window.inbox.filter_bar.status.currentText() == "New, Open"
    assert window.inbox.title.text() == "Orders & Delivery"
    listed(qtbot, window.inbox.model)
    _shot(window, "saved-view-chosen", engine_name)

    # Save the current filter under a name (hostile text stays text).
    name = "<b>Mine</b> \u202eevil"
    monkeypatch.setattr(panel, "ask_name", lambda *_a: name)
    panel.save_button.click()
    assert [r.name for r in panel.rows()][-1] == name
    assert panel.list.item(panel.list.count() - 1).text().startswith(name)
    _shot(window, "saved-view-hostile-name", engine_name)
    saved = panel.rows()[-1]
    assert saved.filter == window.inbox.model.filter
    monkeypatch.setattr(panel, "ask_name", lambda *_a: "My open conversations")
    panel.save_button.click()  # taken: refused in words, nothing changes
    assert "already have a view named" in panel.last_refusal
    assert panel.rename(saved.id, "Orders, new") is True
    panel.move_view(saved.id, -1)
    assert [r.name for r in panel.rows()][-2] == "Orders, new"
    panel.delete(saved.id)
    assert "Orders, new" not in [r.name for r in panel.rows()]


def test_someone_else_sees_their_own_views(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    window = _window(qtbot, demo_services, tmp_path, "Marcus Kelly")
    panel = window.inbox.saved_views
    assert panel is not None
    assert [r.name for r in panel.rows()] == ["Unassigned in Care", "Safety"]
    tom = next(p for p in demo_services.directory.people() if p.name == "Tom Becker")
    window.set_operator(tom)
    assert [r.name for r in panel.rows()] == ["My open conversations", "Orders waiting on us"]


NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _row(**kw: Any) -> ConversationRow:
    base = ConversationRow(1, 0, "x", "mention", "open", "normal", 1, 1, "", 1, None, "", None)
    ms = {k: int(v.timestamp() * 1000) if isinstance(v, datetime) else v for k, v in kw.items()}
    return replace(base, **ms)


def test_the_sla_column_says_time_left_or_over() -> None:
    inbound = NOW - timedelta(hours=1)
    assert (
        sla_text(_row(first_inbound_ms=inbound, sla_due_ms=NOW + timedelta(minutes=80)), NOW)
        == "due in 1 h 20 min"
    )
    assert (
        sla_text(_row(first_inbound_ms=inbound, sla_due_ms=NOW - timedelta(minutes=35)), NOW)
        == "overdue 35 min"
    )
    answered = _row(
        first_inbound_ms=inbound, sla_due_ms=NOW, first_response_ms=NOW - timedelta(minutes=5)
    )
    assert sla_text(answered, NOW) == ""  # met
    assert sla_text(_row(first_inbound_ms=inbound), NOW) == ""  # no due time yet (NULL)
    assert sla_text(_row(sla_due_ms=NOW), NOW) == ""  # our own post: nothing to answer
    resolved = _row(
        status="resolved", first_inbound_ms=inbound, sla_due_ms=NOW - timedelta(hours=3)
    )
    assert sla_text(resolved, NOW) == ""
    assert duration(0.5) == "0 min"
    assert duration(60) == "1 h"
    assert duration(1440 * 3 + 60 * 4 + 7) == "3 d 4 h"


def test_the_preview_column_gets_the_room(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    window = _window(qtbot, demo_services, tmp_path)
    header = window.inbox.view.horizontalHeader()
    widths = [header.sectionSize(c) for c in range(header.count())]
    assert max(widths) == widths[4]  # the conversation text
    assert widths[COL_SLA] >= window.inbox.view.fontMetrics().horizontalAdvance(
        "overdue 23 h 59 min"
    )
