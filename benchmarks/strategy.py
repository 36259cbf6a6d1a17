"""``strategy.merge_ms``: export, edit, read back and three-way merge a 5,000-item strategy.

The strategy: 50 business goals, 200 department goals, 250 audience insights, 1,500 social
goals and 3,000 tactics, with 200 policy lines. One run exports it (:func:`dump_strategy`),
edits the file's text (100 tactics' cadence, a comment), reads it back (:func:`read_strategy`,
funnel checked) and merges it into a workspace that changed 100 other items meanwhile. The
baseline is ruamel.yaml's own round-trip load of the same file, measured in the same run (the
file is the strategy file's own shape, so the read never goes through ruamel).

Run alone: ``.venv/bin/python -m benchmarks.strategy``.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import replace
from datetime import date
from typing import Any

from ruamel.yaml import YAML

from app.domain.enums import Horizon, PolicyKind, StrategyItemType
from app.domain.strategy_doc import PolicyLineDoc, StrategyDoc, StrategyItemDoc
from app.domain.strategy_file import dump_strategy, read_strategy
from app.domain.strategy_merge import merge

TARGET_MS = 1_000.0
RUNS = 3
T = StrategyItemType


def build(rng: random.Random) -> StrategyDoc:
    items: list[StrategyItemDoc] = []

    def add(kind: StrategyItemType, n: int, **kw: Any) -> list[str]:
        ids = []
        for i in range(n):
            iid = f"{kind.value[:2]}-{i:05d}-{rng.getrandbits(64):016x}"
            extra = {k: v(i) if callable(v) else v for k, v in kw.items()}
            items.append(
                StrategyItemDoc(iid, kind, f"{kind.value} {i}: grow", position=i % 7, **extra)
            )
            ids.append(iid)
        return ids

    bgs = add(T.BUSINESS_GOAL, 50, body="Why it matters\nand for whom")
    dgs = add(T.DEPARTMENT_GOAL, 200, unit="Acme Mobility/Care", parents=lambda i: (bgs[i % 50],))
    ais = add(T.AUDIENCE_INSIGHT, 250, body="Commuters, 25-40: they talk on X at 8 am")
    sgs = add(
        T.SOCIAL_GOAL,
        1_500,
        owner="ana@acme.example",
        kpi="median first reply",
        kpi_target=30,
        kpi_unit="minutes",
        baseline=720.5,
        deadline=date(2025, 6, 30),
        parents=lambda i: (dgs[i % 200], ais[i % 250]),
    )
    add(
        T.TACTIC,
        3_000,
        owner="ana@acme.example",
        channel="x",
        cadence="daily",
        horizon=lambda i: list(Horizon)[i % 3],
        parents=lambda i: (sgs[i % 1_500],),
    )
    lines = [
        PolicyLineDoc(f"pl-{i:05d}", PolicyKind.BANNED_TERM, f"term {i}", note="legal asked")
        for i in range(200)
    ]
    return StrategyDoc.of(items, lines, base_revision=41, mission="Mobility people love")


def edit(text: str, rng: random.Random) -> str:
    """The person's edits in the file: 100 tactics' cadence, each with a comment."""
    lines = text.splitlines(keepends=True)
    cadences = [i for i, line in enumerate(lines) if line == "    cadence: daily\n"]
    for i in rng.sample(cadences, 100):
        lines[i] = "    cadence: weekly  # slower in summer\n"
    return "".join(lines)


def one_run(base: StrategyDoc, rng: random.Random) -> dict[str, float]:
    t0 = time.perf_counter()
    text = dump_strategy(base)
    t1 = time.perf_counter()
    edited = edit(text, rng)
    t2 = time.perf_counter()
    theirs = read_strategy(edited).doc
    t3 = time.perf_counter()
    # Meanwhile the workspace changed 100 other items.
    items = dict(base.items)
    for iid in rng.sample(sorted(items), 100):
        items[iid] = replace(items[iid], title=items[iid].title + " (reworded)")
    ours = replace(base, items=items)
    t4 = time.perf_counter()
    result = merge(base, ours, theirs)
    t5 = time.perf_counter()
    assert not result.problems, result.problems[:3]
    t6 = time.perf_counter()
    YAML().load(edited)  # the baseline: ruamel's own round-trip load, nothing else
    t7 = time.perf_counter()
    return {
        "total_ms": (t1 - t0 + t3 - t2 + t5 - t4) * 1000,
        "export_ms": (t1 - t0) * 1000,
        "read_ms": (t3 - t2) * 1000,
        "merge_ms": (t5 - t4) * 1000,
        "ruamel_load_ms": (t7 - t6) * 1000,
        "conflicts": len(result.conflicts),
        "changes": len(result.changes),
        "bytes": len(edited.encode()),
    }


def measure(runs: int = RUNS) -> dict[str, float]:
    rng = random.Random(16)
    base = build(rng)
    results = [one_run(base, rng) for _ in range(runs)]
    out = {k: statistics.median(r[k] for r in results) for k in results[0]}
    out["items"] = len(base.items)
    return out


def strategy_merge(rows: list[dict[str, Any]]) -> float:
    """Measure and record ``strategy.merge_ms``; returns the median."""
    from benchmarks.run import record

    s = measure()
    note = (
        f"target < {TARGET_MS:g} ms; {s['items']:,.0f} items, {s['bytes'] / 1e6:.1f} MB file, "
        f"median of {RUNS}: export {s['export_ms']:.0f} ms, read {s['read_ms']:.0f} ms, "
        f"merge {s['merge_ms']:.0f} ms ({s['changes']:.0f} changes, "
        f"{s['conflicts']:.0f} conflicts); baseline: ruamel round-trip load of the same file"
    )
    record(rows, "strategy.merge_ms", s["total_ms"], "ms", s["ruamel_load_ms"], note)
    return s["total_ms"]


def main() -> int:
    from benchmarks.run import write_results

    rows: list[dict[str, Any]] = []
    total = strategy_merge(rows)
    write_results(rows)
    return 0 if total < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
