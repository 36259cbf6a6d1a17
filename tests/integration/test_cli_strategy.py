"""``quiver strategy export|import``: exit 0 applied or nothing to do, 3 conflicts, 2 refused.

Against the demo workspace on both engines, the way a strategist runs it: export, edit the
YAML by hand, import. Every refusal and every conflict leaves the workspace as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from app.bootstrap import build_services
from app.cli import main
from app.domain.strategy_doc import StrategyDoc
from app.domain.strategy_file import read_strategy_file
from app.services.container import Services
from tests.integration.demo_lookup import person_id

HELENA = "helena.marsh@acme-mobility.example"


@pytest.fixture
def url(workspace_url: Callable[[str], str]) -> str:
    return workspace_url("demo")


@pytest.fixture
def services(url: str) -> Iterator[Services]:
    s = build_services(url)
    yield s
    s.close()


def _now(s: Services) -> StrategyDoc:
    return s.strategy_files.workspace_doc(person_id(s, "helena.marsh"))


def _export(url: str, path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["strategy", "export", str(path), "--workspace", url, "--operator", HELENA]) == 0
    assert "exported" in capsys.readouterr().out
    return path.read_text(encoding="utf-8")


def _import(url: str, path: Path, *extra: str) -> int:
    return main(["strategy", "import", str(path), "--workspace", url, *extra])


def test_export_then_import_unchanged_is_nothing_to_do(
    url: str, services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "strategy.yaml"
    text = _export(url, path, capsys)
    assert text.startswith("# Quiver strategy file.")
    before = _now(services)
    assert read_strategy_file(path).doc.items == before.items
    # An export never overwrites a file a person may have edited, unless told to.
    assert main(["strategy", "export", str(path), "--workspace", url]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert _import(url, path) == 0
    assert "nothing to import" in capsys.readouterr().out
    assert _now(services) == before


def test_a_hand_edit_imports_and_a_dry_run_changes_nothing(
    url: str, services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "strategy.yaml"
    text = _export(url, path, capsys)
    assert "    cadence: 24/7\n" in text
    path.write_text(
        text.replace("    cadence: 24/7\n", "    cadence: weekdays  # we sleep at weekends\n"),
        encoding="utf-8",
    )
    before = _now(services)
    assert _import(url, path, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "would change (dry run, nothing changed): 0 added, 1 changed, 0 deleted" in out
    assert ": cadence" in out
    assert _now(services) == before
    assert _import(url, path) == 0
    assert "imported: 0 added, 1 changed, 0 deleted" in capsys.readouterr().out
    assert "weekdays" in {i.cadence for i in _now(services).items.values()}


def test_conflicts_exit_3_each_listed_and_nothing_changes(
    url: str, services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "strategy.yaml"
    text = _export(url, path, capsys)
    path.write_text(text.replace("    cadence: 24/7\n", "    cadence: weekdays\n"), "utf-8")
    helena = person_id(services, "helena.marsh")
    [item] = [o.item for o in services.strategy.outline(helena).items if o.item.fields.cadence == "24/7"]  # fmt: skip
    services.strategy.edit(helena, item.id, replace(item.fields, cadence="round the clock"))
    before = _now(services)
    assert _import(url, path) == 3
    err = capsys.readouterr().err
    assert f"conflict: item {item.uuid} (tactic " in err
    assert ", field cadence" in err
    assert "  when exported:    24/7" in err
    assert "  in the workspace: round the clock" in err
    assert "  in the file:      weekdays" in err
    assert "1 conflict(s)" in err
    assert "Nothing was changed." in err
    assert _import(url, path, "--dry-run") == 3
    assert _now(services) == before


def test_a_part_the_operator_may_not_change_is_refused(
    url: str, services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "strategy.yaml"
    text = _export(url, path, capsys)
    path.write_text(text.replace("    cadence: 24/7\n", "    cadence: weekdays\n"), "utf-8")
    before = _now(services)
    jamal = "jamal.carter@acme-mobility.example"  # an agent of Marketing
    assert _import(url, path, "--operator", jamal) == 2
    err = capsys.readouterr().err
    assert "Only the head of Customer Care, a supervisor, a strategist or an administrator" in err
    assert _now(services) == before


MALFORMED: list[tuple[str, Callable[[str], str], str]] = [
    ("bad yaml", lambda t: t.replace("items:\n", "items: [\n", 1), "not valid YAML"),
    ("unknown schema", lambda t: t.replace("schema_version: 1", "schema_version: 7"), "line 3"),
    (
        "dangling reference",
        lambda t: t.replace("    parents:\n      - ", "    parents:\n      - nowhere-", 1),
        "dangling reference",
    ),
    ("duplicate id", lambda t: _duplicate_first_item(t), "duplicate id, first used on line"),
    (
        "tactic without its social goal",
        lambda t: _orphan_first_tactic(t),
        "a tactic serves exactly one social goal (it has none)",
    ),
]


def _duplicate_first_item(text: str) -> str:
    start = text.index("  - id: ")
    end = text.index("  - id: ", start + 1)
    return text[:end] + text[start:end] + text[end:]


def _orphan_first_tactic(text: str) -> str:
    at = text.index("    type: tactic\n")
    parents = text.index("    parents:\n", at)
    position = text.index("    position:", parents)
    return text[:parents] + "    parents: []\n" + text[position:]


@pytest.mark.parametrize(("what", "spoil", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_files_are_refused_with_the_line_or_item_named(
    url: str,
    services: Services,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    what: str,
    spoil: Callable[[str], str],
    message: str,
) -> None:
    path = tmp_path / "strategy.yaml"
    text = _export(url, path, capsys)
    path.write_text(spoil(text), encoding="utf-8")
    before = _now(services)
    assert _import(url, path) == 2, what
    err = capsys.readouterr().err
    assert message in err
    assert f"{path}: line " in err  # every refusal names its line
    assert "Nothing was changed." in err
    assert _now(services) == before


def test_a_50_mb_file_is_refused_before_it_is_read(
    url: str, services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as f:
        f.truncate(50 * 1024 * 1024)
    before = _now(services)
    assert _import(url, path) == 2
    assert "50 MB, over the 20 MB" in capsys.readouterr().err
    assert _now(services) == before
