"""The Strategy screen's export and import: a file written as a revision, a malformed file and
a refused one said in words, nothing to do said so, a plan gone stale asked again."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from app.domain.enums import StrategyItemType
from app.domain.strategy_file import read_strategy_file
from app.services.container import Services
from app.ui.strategy.strategy_page import StrategyPage
from tests.integration.demo_lookup import person_id
from tests.ui.strategy_pages import strategy_page

LOAD_MS = 8000
T = StrategyItemType


def _page(qtbot: Any, s: Services, local: str) -> StrategyPage:
    return strategy_page(qtbot, s, local)


def _said(qtbot: Any, page: StrategyPage, act: Any, *, trouble: bool = False) -> str:
    with qtbot.waitSignal(page.transfer.message, timeout=LOAD_MS) as said:
        act()
    assert page.notice.isVisible()
    assert page.notice.text() == said.args[0]
    assert said.args[1] is trouble
    assert page.notice.property("trouble") is trouble  # styled as news or as trouble
    return str(said.args[0])


def test_export_writes_a_revision_and_an_unchanged_import_has_nothing_to_do(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    s = demo_services
    page = _page(qtbot, s, "helena.marsh")
    path = tmp_path / "strategy.yaml"
    words = _said(qtbot, page, lambda: page.transfer.export_to(str(path)))
    assert words.startswith("Exported revision 2 to strategy.yaml")
    doc = read_strategy_file(path).doc
    assert doc.base_revision == 2
    assert len(doc.items) == len(s.strategy.outline(person_id(s, "helena.marsh")).items)
    words = _said(qtbot, page, lambda: page.transfer.import_file(str(path)))
    assert words == "Nothing to import: the file and the workspace agree."
    dialog = page.transfer.dialog
    assert dialog is not None
    assert not dialog.apply_button.isEnabled()
    dialog.reject()


def test_a_malformed_or_refused_file_is_said_in_words(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    s = demo_services
    page = _page(qtbot, s, "jamal.carter")  # an agent: may export nothing
    path = tmp_path / "strategy.yaml"
    words = _said(qtbot, page, lambda: page.transfer.export_to(str(path)), trouble=True)
    assert "Jamal Carter holds no such role" in words
    assert not path.exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 9\n", encoding="utf-8")
    words = _said(qtbot, page, lambda: page.transfer.import_file(str(bad)), trouble=True)
    assert (
        words
        == "bad.yaml cannot be imported: line 1: unknown schema version 9 (this Quiver reads 1)"
    )
    # A good file with a change Jamal may not make: the dialog lists why, Apply stays off.
    helena = person_id(s, "helena.marsh")
    s.strategy_files.export_file(helena, path)
    doc = read_strategy_file(path).doc
    tactic = next(i for i in doc.items.values() if i.type == T.TACTIC)
    page.transfer.start_import(replace(doc, items={**doc.items, tactic.id: replace(tactic, cadence="x")}), "mine.yaml")  # fmt: skip
    qtbot.waitUntil(lambda: page.transfer.dialog is not None, timeout=LOAD_MS)
    dialog = page.transfer.dialog
    assert dialog is not None
    assert dialog.refused
    assert not dialog.apply_button.isEnabled()
    shown = [dialog.problems.item(i).text() for i in range(dialog.problems.count())]
    assert any("Only the head of Customer Care" in line for line in shown)
    dialog.reject()


def test_a_plan_gone_stale_before_apply_is_shown_again(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    s = demo_services
    helena = person_id(s, "helena.marsh")
    page = _page(qtbot, s, "helena.marsh")
    path = tmp_path / "strategy.yaml"
    s.strategy_files.export_file(helena, path)
    doc = read_strategy_file(path).doc
    item = next(o.item for o in s.strategy.outline(helena).items if o.item.type == T.TACTIC)
    theirs = replace(
        doc, items={**doc.items, item.uuid: replace(doc.items[item.uuid], cadence="file")}
    )
    page.transfer.start_import(theirs, "mine.yaml")
    qtbot.waitUntil(lambda: page.transfer.dialog is not None, timeout=LOAD_MS)
    first = page.transfer.dialog
    assert first is not None
    assert first.can_apply()  # no conflict yet
    # Someone edits the same field between the plan and Apply.
    s.strategy.edit(helena, item.id, replace(item.fields, cadence="someone else's"))
    with qtbot.waitSignal(page.transfer.message, timeout=LOAD_MS) as said:
        first.accept()
    assert said.args[0] == "The workspace's strategy changed while you decided: look again."
    qtbot.waitUntil(
        lambda: page.transfer.dialog is not None and page.transfer.dialog is not first,
        timeout=LOAD_MS,
    )
    again = page.transfer.dialog
    assert again is not None
    assert [(c.item_id, c.field) for c in again.conflicts] == [(item.uuid, "cadence")]
    assert s.strategy.item(helena, item.id).fields.cadence == "someone else's"  # untouched
    again.reject()
