"""Settings > Audit log: paged as it scrolls, filtered, plain-text detail, CSV off the GUI thread."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import func, insert, select

from app.models import AuditEntry
from app.services.audit import CSV_COLUMNS
from app.services.container import Services
from app.ui.operator import OperatorBinding
from app.ui.settings import audit_tab
from app.ui.settings.audit_tab import AuditTab

ADMIN = "ingrid.solberg@acme-mobility.example"
AGENT = "tom.becker@acme-mobility.example"
T0 = datetime(2030, 1, 1, tzinfo=UTC)
MARKUP = '<img src="http://evil.example/x.png"><b>bold</b>'


def _operator(services: Services, email: str) -> OperatorBinding:
    person = services.directory.person_by_email(email)
    assert person is not None
    return OperatorBinding(person)


def _tab(qtbot: Any, services: Services, email: str = ADMIN) -> AuditTab:
    operator = _operator(services, email)
    tab = AuditTab(services, operator)
    operator.setParent(tab)
    qtbot.addWidget(tab)
    tab.resize(1100, 640)
    tab.show()
    return tab


def _fill(services: Services, n: int) -> None:
    with services.db.engine.begin() as conn:
        conn.execute(
            insert(AuditEntry),
            [
                {
                    "at": T0 + timedelta(seconds=i),
                    "person_id": None,
                    "person_name": "importer",
                    "action": "test.entry",
                    "entity": "test",
                    "entity_id": i,
                    "before": {"text": MARKUP} if i == n - 1 else None,
                    "after": {"z": i, "a": "after"},
                }
                for i in range(n)
            ],
        )


def _total(services: Services) -> int:
    with services.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def test_pages_load_as_the_list_scrolls(
    qtbot: Any, qtmodeltester: Any, demo_services: Services
) -> None:
    s = demo_services
    _fill(s, 450)
    tab = _tab(qtbot, s)
    assert tab.model.rowCount() == 200
    qtmodeltester.check(tab.model)
    while tab.model.canFetchMore(tab.table.rootIndex()):
        tab.model.fetchMore(tab.table.rootIndex())
    assert tab.model.rowCount() == _total(s)
    ids = [tab.model.row_at(i).id for i in range(tab.model.rowCount())]
    assert len(set(ids)) == len(ids)
    assert tab.model.index(0, 2).data() == "test.entry"
    assert tab.model.index(0, 4).data() == '{"a": "after", "z": 449}'


def test_the_detail_is_plain_text_with_sorted_keys(qtbot: Any, demo_services: Services) -> None:
    s = demo_services
    _fill(s, 3)
    tab = _tab(qtbot, s)
    tab.table.selectRow(0)
    text = tab.detail.toPlainText()
    assert 'Before:\n{\n  "text": "<img src=' in text
    assert 'After:\n{\n  "a": "after",\n  "z": 2\n}' in text
    assert tab.detail.document().toPlainText() == text  # shown as typed, not rendered
    tab.grab().save("/tmp/audit_tab.png")


def test_filters_reach_the_query(qtbot: Any, demo_services: Services) -> None:
    s = demo_services
    admin = s.directory.person_by_email(ADMIN)
    assert admin is not None
    marketing = next(u.id for u in s.units.tree() if u.name == "Marketing")
    s.units.set_colour(admin.id, marketing, "#101010")
    _fill(s, 5)
    tab = _tab(qtbot, s)
    tab.kind.setCurrentIndex(tab.kind.findText("unit."))
    tab.apply_filter()
    assert [tab.model.row_at(i).action for i in range(tab.model.rowCount())] == ["unit.colour"]
    tab.kind.setCurrentIndex(0)
    tab.unit.setCurrentIndex(tab.unit.findData(marketing))
    rows = [tab.model.row_at(i) for i in range(tab.model.rowCount())]
    assert [r.action for r in rows if not r.action.startswith(("draft.", "strategy."))] == [
        "unit.colour"
    ]
    assert all(r.action.startswith(("draft.", "unit.", "strategy.")) for r in rows)  # the demo
    tab.unit.setCurrentIndex(0)
    tab.person.setCurrentIndex(tab.person.findData(admin.id))
    assert {tab.model.row_at(i).person_id for i in range(tab.model.rowCount())} == {admin.id}
    tab.person.setCurrentIndex(0)
    tab.since.setDate(tab.since.date().fromString("2029-12-31", "yyyy-MM-dd"))
    tab.use_since.setChecked(True)
    assert tab.model.rowCount() == 5  # the test entries are in 2030
    tab.kind.setEditText("nothing.")
    tab.apply_filter()
    assert tab.model.rowCount() == 0
    assert tab.status.text() == "No entry matches these filters."


def test_export_runs_off_the_gui_thread_and_writes_every_row(
    qtbot: Any, demo_services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = demo_services
    _fill(s, 1200)
    target = tmp_path / "audit.csv"
    monkeypatch.setattr(audit_tab, "ask_save_path", lambda parent: str(target))
    tab = _tab(qtbot, s)
    tab.export_button.click()
    assert tab.exporting
    qtbot.waitUntil(lambda: not tab.exporting, timeout=10_000)
    total = _total(s)
    assert tab.status.text() == f"Exported {total:,} entries to {target}."
    with open(target, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == total + 1


def test_an_agent_is_told_and_a_switch_is_followed(qtbot: Any, demo_services: Services) -> None:
    s = demo_services
    agent = _operator(s, AGENT)
    tab = AuditTab(s, agent)
    agent.setParent(tab)
    qtbot.addWidget(tab)
    tab.show()
    assert tab.access_note.isVisible()
    assert tab.access_note.text().startswith("Only a supervisor or an administrator of ")
    assert tab.access_note.textFormat() == Qt.TextFormat.PlainText
    assert not tab.export_button.isEnabled()
    assert tab.model.rowCount() == 0
    admin = s.directory.person_by_email(ADMIN)
    assert admin is not None
    agent.switch(admin)
    assert not tab.access_note.isVisible()
    assert tab.export_button.isEnabled()
    assert tab.model.rowCount() > 0
