"""Random edits on both sides, through the real workspace: the import does what the merge says.

Hypothesis picks tactics of the demo's strategy and, for each, what happens to it between the
export and the import: the strategist edits its cadence in the file, someone edits it in the
workspace (through the strategy service), both (to the same or to different values), or one
side deletes it. The import is then applied with every conflict decided for the file. Every
change made on one side only survives, every field changed differently on both sides and every
deletion against an edit was reported as a conflict (and nothing else was), and a second import
of the same file is a no-op. SQLite (a copy of the demo per example); the service tests cover
both engines.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.bootstrap import build_services
from app.domain.strategy_doc import StrategyDoc
from app.domain.strategy_file import read_strategy
from app.domain.strategy_merge import DELETED

FATES = ("file", "workspace", "both_same", "both_differ", "file_deletes", "workspace_deletes",
         "file_deletes_workspace_edits", "untouched")  # fmt: skip


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(fates=st.lists(st.sampled_from(FATES), min_size=1, max_size=6))
def test_random_edits_on_both_sides_import_as_the_merge_says(
    demo_template: Path, tmp_path: Path, fates: list[str]
) -> None:
    path = tmp_path / f"ws-{len(list(tmp_path.iterdir()))}.sqlite"
    shutil.copyfile(demo_template, path)
    s = build_services(str(path))
    try:
        helena = s.directory.person_by_email("helena.marsh@acme-mobility.example")
        assert helena is not None
        me = helena.id
        doc = read_strategy(s.strategy_files.export(me).text).doc
        outline = {o.item.uuid: o.item for o in s.strategy.outline(me).items}
        tactics = sorted(i for i in doc.items if doc.items[i].type == "tactic")[: len(fates)]
        theirs: dict[str, object] = dict(doc.items)
        expected: dict[str, str | None] = {}  # uuid -> cadence after (None: deleted)
        conflicts: set[tuple[str, str]] = set()
        for uuid, fate in zip(tactics, fates, strict=False):
            item = doc.items[uuid]
            stored = outline[uuid]
            if fate in ("file", "both_same", "both_differ"):
                theirs[uuid] = replace(item, cadence="file " + fate)
            if fate in ("file_deletes", "file_deletes_workspace_edits"):
                del theirs[uuid]
            if fate in ("workspace", "both_differ", "file_deletes_workspace_edits"):
                s.strategy.edit(me, stored.id, replace(stored.fields, cadence="ws " + fate))
            if fate == "both_same":
                s.strategy.edit(me, stored.id, replace(stored.fields, cadence="file " + fate))
            if fate == "workspace_deletes":
                s.strategy.delete(me, stored.id)
            expected[uuid] = {
                "file": "file file",
                "workspace": "ws workspace",
                "both_same": "file both_same",
                "both_differ": "file both_differ",  # decided for the file
                "file_deletes": None,
                "workspace_deletes": None,
                "file_deletes_workspace_edits": None,  # decided for the file
                "untouched": item.cadence,
            }[fate]
            if fate == "both_differ":
                conflicts.add((uuid, "cadence"))
            if fate == "file_deletes_workspace_edits":
                conflicts.add((uuid, DELETED))
        file_doc = replace(doc, items=theirs)
        plan = s.strategy_files.plan_import(me, file_doc)
        assert {c.key for c in plan.conflicts} == conflicts
        assert not plan.refusals
        decided = {c.key: "theirs" for c in plan.conflicts}
        s.strategy_files.apply_import(me, file_doc, decided)
        now: StrategyDoc = s.strategy_files.workspace_doc(me)
        for uuid, cadence in expected.items():
            got = now.items[uuid].cadence if uuid in now.items else None
            assert got == cadence, (uuid, cadence, got)
        # Everything the import did not touch is as the workspace had it.
        untouched = set(doc.items) - set(tactics)
        assert {i: now.items[i] for i in untouched if i in now.items} == {
            i: doc.items[i] for i in untouched if i in now.items
        }
        assert s.strategy_files.plan_import(me, file_doc).nothing_to_do
    finally:
        s.close()
