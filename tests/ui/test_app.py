"""The GUI entry point: workspace errors, the first-start demo, and the remembered operator."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from app.bootstrap import build_services
from app.config import GuiOptions, LocalPrefs, default_paths
from app.domain.rows import PersonRow
from app.ui import app as gui

TOM = "tom.becker@acme-mobility.example"


@pytest.fixture
def errors(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(
        gui, "show_error", lambda title, text, parent=None: shown.append((title, text))
    )
    return shown


@pytest.fixture
def quit_after_paint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(gui.FIRST_PAINT_ENV, "1")


def _options(**kw: Any) -> GuiOptions:
    base: dict[str, Any] = {
        "workspace": None,
        "demo": False,
        "operator": None,
        "create": False,
        "process_start": time.time(),
        "demo_conversations": 120,
        "demo_seed": 5,
    }
    base.update(kw)
    return GuiOptions(**base)


def test_a_missing_workspace_is_explained(
    qapp: Any, errors: list[tuple[str, str]], tmp_path: Path
) -> None:
    code = gui.run_gui(_options(workspace=str(tmp_path / "nope.sqlite")), build_services)
    assert code == 2
    [(title, text)] = errors
    assert title == "Quiver cannot open this workspace"
    assert "There is no workspace at" in text
    assert not (tmp_path / "nope.sqlite").exists()


def test_an_unknown_operator_is_refused(
    qapp: Any, errors: list[tuple[str, str]], demo_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "ws.sqlite"
    shutil.copyfile(demo_template, path)
    code = gui.run_gui(_options(workspace=str(path), operator="nobody@example.org"), build_services)
    assert code == 2
    assert "nobody@example.org" in errors[0][1]


def test_first_start_generates_the_demo_and_remembers_the_operator(
    qapp: Any,
    errors: list[tuple[str, str]],
    quit_after_paint: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    asked: list[int] = []

    def choose(people: list[PersonRow], workspace: str) -> PersonRow:
        asked.append(len(people))
        return next(p for p in people if p.email == TOM)

    monkeypatch.setattr(gui, "choose_operator", choose)
    paths = default_paths()
    assert not paths.demo_workspace.exists()
    assert gui.run_gui(_options(), build_services) == 0
    assert errors == []
    assert paths.demo_workspace.exists()
    assert asked  # nobody was remembered: Quiver asked once
    assert "QUIVER_FIRST_PAINT" in capsys.readouterr().out

    prefs = LocalPrefs(paths.prefs_file)
    assert prefs.last_workspace == str(paths.demo_workspace)
    asked.clear()
    assert gui.run_gui(_options(), build_services) == 0
    assert asked == []  # remembered for this workspace: not asked again


def test_operator_dialog_filters_people(qtbot: Any, demo_services: Any) -> None:
    from app.ui.operator_dialog import OperatorDialog

    dialog = OperatorDialog(demo_services.directory.people(), "demo")
    qtbot.addWidget(dialog)
    dialog.search.setText("legal")
    visible = [
        dialog.list.item(i)
        for i in range(dialog.list.count())
        if not dialog.list.item(i).isHidden()
    ]
    assert visible
    assert all("Legal" in item.text() for item in visible)
    dialog.list.setCurrentItem(visible[0])
    chosen = dialog.chosen()
    assert chosen is not None
    assert "Legal" in " ".join(unit for _, unit in chosen.roles)
