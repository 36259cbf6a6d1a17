"""Applying the rules again from the inbox: the preview, the move, and a refusal in words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.config import LocalPrefs
from app.services.container import Services
from app.services.rules import RuleDraft
from app.ui.inbox.reroute_dialog import RerouteDialog
from app.ui.main_window import MainWindow
from tests.ui.feed import listed

DOMAIN = "acme-mobility.example"


def _person(s: Services, local: str) -> Any:
    person = s.directory.person_by_email(f"{local}@{DOMAIN}")
    assert person is not None
    return person


def _window(qtbot: Any, s: Services, local: str, tmp_path: Path) -> MainWindow:
    window = MainWindow(s, _person(s, local), LocalPrefs(tmp_path / "prefs.json"))
    qtbot.addWidget(window)
    window.show()
    return window


def _unit(s: Services, name: str) -> int:
    return next(u.id for u in s.inbox.units() if u.name == name)


def test_a_supervisor_previews_then_applies_and_the_list_follows(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    s = demo_services
    admin, care = _person(s, "ingrid.solberg"), _unit(s, "Customer Care")
    legal = _unit(s, "Legal & Compliance")
    # A new first rule: every direct message goes to Legal.
    s.rules.add(
        admin.id,
        RuleDraft("DMs to Legal", {"kinds": ["dm"]}, {"route_to_unit": legal}, stop=True),
        position=0,
    )
    window = _window(qtbot, s, "omar.haddad", tmp_path)  # supervisor of the whole company
    inbox = window.inbox
    inbox.unit_tree.select_unit(care)
    window.reroute_action.trigger()
    dialog = inbox.reroute_dialog
    assert isinstance(dialog, RerouteDialog)
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=10_000)
    preview = dialog.preview
    assert preview is not None
    assert preview.rows, "Customer Care holds open direct messages"
    assert {r.to_unit for r in preview.rows} == {"Legal & Compliance"}
    assert all(
        r.reason.startswith("Legal & Compliance, by rule 'DMs to Legal'") for r in preview.rows
    )
    assert all(
        s.inbox.rows([r.conversation_id])[r.conversation_id].kind == "dm" for r in preview.rows
    )
    assert dialog.summary.text().startswith(f"{len(preview.rows):,} of ")
    assert dialog.table.rowCount() == len(preview.rows)
    assert dialog.table.item(0, 2).text() == "Legal & Compliance"
    moving = [r.conversation_id for r in preview.rows]
    assert {s.inbox.rows(moving)[c].unit_id for c in moving} != {legal}  # nothing moved yet

    with qtbot.waitSignal(dialog.applied, timeout=10_000):
        dialog.apply_button.click()
    assert dialog.summary.text().startswith(f"{len(moving):,} conversation")
    assert "moved to where the rules send them" in dialog.summary.text()
    assert {s.inbox.rows(moving)[c].unit_id for c in moving} == {legal}
    events = [e.event.kind for e in s.triage.history(moving[0])]
    assert events[-1] == "routed"
    listed(qtbot, inbox.model)  # the list is read again
    shown = {inbox.model.row_at(i).id for i in range(inbox.model.rowCount())}
    assert not shown & set(moving)  # the Care list no longer shows them


def test_an_agent_is_told_what_is_missing(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    s = demo_services
    window = _window(qtbot, s, "tom.becker", tmp_path)
    inbox = window.inbox
    inbox.unit_tree.select_unit(_unit(s, "Orders & Delivery"))
    window.reroute_action.trigger()
    dialog = inbox.reroute_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.summary.text() not in ("", "Looking…"), timeout=10_000)
    assert "supervisor" in dialog.summary.text()
    assert "Tom Becker" in dialog.summary.text() or "Orders" in dialog.summary.text()
    assert not dialog.apply_button.isEnabled()
    assert dialog.table.rowCount() == 0
