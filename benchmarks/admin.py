"""``admin.people_import_s``: preview + import of 500 people with 1,000 role rows (target: < 2 s).

On a fresh SQLite workspace holding the demo company's units and people (no conversations), the
operator being its administrator: ``PeopleService.preview_import`` then ``import_people`` on the
same CSV, the median of three fresh copies. The baseline writes the same rows (people, roles, one
audit row per person) with raw ``sqlite3`` ``executemany`` in one transaction, nothing checked.

Run alone: ``.venv/bin/python -m benchmarks.admin``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

PEOPLE = 500
ROLES_EACH = 2
RUNS = 3
TARGET_S = 2.0
ROLES = ("agent", "supervisor", "strategist", "admin")


def people_csv(unit_labels: list[str]) -> str:
    """500 people, two roles each in two different units (1,000 role rows)."""
    lines = ["name,email,unit,role"]
    for i in range(PEOPLE):
        name, email = f"Person {i:04d} Example", f"person{i:04d}@import.example"
        for k in range(ROLES_EACH):
            unit = unit_labels[(i + k * 3) % len(unit_labels)]
            lines.append(f"{name},{email},{unit},{ROLES[(i + k) % len(ROLES)]}")
    return "\n".join(lines) + "\n"


def _template(folder: Path) -> Path:
    from app.services.demo import generate_demo_workspace

    path = folder / "template.sqlite"
    generate_demo_workspace(str(path), conversations=0, seed=1)
    return path


def _copy(template: Path, folder: Path, name: str) -> Path:
    target = folder / name
    shutil.copyfile(template, target)
    return target


def ours_once(path: Path) -> tuple[float, int, int]:
    """Seconds for preview + import through the services; people and roles added."""
    from app.bootstrap import build_services

    services = build_services(str(path))
    try:
        admin = services.people.import_operator(None)
        text = people_csv([u.label for u in services.people.units()])
        t0 = time.perf_counter()
        preview = services.people.preview_import(text, admin)
        assert preview.ok, [str(p) for p in preview.problems[:5]]
        result = services.people.import_people(admin, text)
        seconds = time.perf_counter() - t0
    finally:
        services.close()
    return seconds, result.people_added, result.roles_added


def raw_once(path: Path) -> float:
    """The same rows through raw sqlite3 executemany, in one transaction."""
    conn = sqlite3.connect(path)
    try:
        units = [row[0] for row in conn.execute("SELECT id FROM units ORDER BY id")]
        now = "2026-11-23 12:00:00.000000"
        t0 = time.perf_counter()
        with conn:
            conn.executemany(
                "INSERT INTO people (name, email, title, active, failed_sign_ins, created_at) "
                "VALUES (?, ?, '', 1, 0, ?)",
                [
                    (f"Person {i:04d} Example", f"person{i:04d}@import.example", now)
                    for i in range(PEOPLE)
                ],
            )
            ids = dict(
                conn.execute("SELECT email, id FROM people WHERE email LIKE '%@import.example'")
            )
            conn.executemany(
                "INSERT INTO role_assignments (person_id, unit_id, role) VALUES (?, ?, ?)",
                [
                    (
                        ids[f"person{i:04d}@import.example"],
                        units[(i + k * 3) % len(units)],
                        ROLES[(i + k) % len(ROLES)],
                    )
                    for i in range(PEOPLE)
                    for k in range(ROLES_EACH)
                ],
            )
            conn.executemany(
                "INSERT INTO audit_log (at, person_id, person_name, action, entity, entity_id, "
                "after) VALUES (?, NULL, '', 'person.added', 'person', ?, '{}')",
                [(now, pid) for pid in ids.values()],
            )
        return time.perf_counter() - t0
    finally:
        conn.close()


def people_import(rows: list[dict[str, Any]]) -> float:
    """Measure and record ``admin.people_import_s``; returns the median seconds."""
    from benchmarks.run import record

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ.setdefault("QUIVER_HOME", str(folder / "home"))
        template = _template(folder)
        ours: list[float] = []
        for run in range(RUNS):
            seconds, added, roles = ours_once(_copy(template, folder, f"ours-{run}.sqlite"))
            assert (added, roles) == (PEOPLE, PEOPLE * ROLES_EACH), (added, roles)
            ours.append(seconds)
        raw = [raw_once(_copy(template, folder, f"raw-{run}.sqlite")) for run in range(RUNS)]
    value = statistics.median(ours)
    record(
        rows,
        "admin.people_import_s",
        value,
        "s",
        statistics.median(raw),
        f"preview + import of {PEOPLE} people, {PEOPLE * ROLES_EACH} roles (target < "
        f"{TARGET_S:.0f} s; runs " + ", ".join(f"{s:.3f}" for s in ours) + ")",
    )
    return value


def main() -> int:
    """Measure, print and write the figure into results.json (merged with the other figures)."""
    from benchmarks.run import write_results

    rows: list[dict[str, Any]] = []
    value = people_import(rows)
    write_results(rows)
    return 0 if value < TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
