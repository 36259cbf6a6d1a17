"""`triage.action_ms`: a claim or a resolve, from the key to the list row repainted.

In the real main window (offscreen) on the benchmark workspace: open a conversation of a unit,
trigger the action the way its key does (the QAction), let the worker run it through the
triage service, and stop the clock once the row has been re-read and the list's viewport
painted again. The service call alone is measured too, as the baseline the UI adds to.

Run alone: ``python -m benchmarks.triage`` (merges its figures into ``results.json``).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

UNIT = "Orders & Delivery"
OPERATOR = "tom.becker@acme-mobility.example"  # an agent of that unit in the demo
ROUNDS = 30  # conversations; each is claimed, then resolved


def _free(services: Any, unit_id: int, n: int) -> list[int]:
    """The unit's ``n`` newest conversations made unassigned and open (the run's set-up)."""
    from app.models import Conversation

    with services.db.engine.begin() as conn:
        ids = list(
            conn.scalars(
                select(Conversation.id)
                .where(Conversation.unit_id == unit_id)
                .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
                .limit(n)
            )
        )
        conn.execute(
            update(Conversation)
            .where(Conversation.id.in_(ids))
            .values(assignee_id=None, claimed_at=None, status="open", resolved_at=None)
        )
    return [int(i) for i in ids]


def _trigger_and_wait(inbox: Any, action: Any, timeout_ms: int = 10_000) -> None:
    """Trigger ``action``; run the event loop (idle in C++, as the app's) until it is shown."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    inbox.conversation_refreshed.connect(loop.quit)
    timer.start(timeout_ms)
    action.trigger()
    loop.exec()
    inbox.conversation_refreshed.disconnect(loop.quit)
    if not timer.isActive():
        raise TimeoutError("the action's outcome never reached the list")
    timer.stop()


def action_ms(window: Any, services: Any) -> tuple[list[float], list[float], list[float]]:
    """Claim and resolve times through the UI (ms), and the service calls alone (ms)."""
    from benchmarks.gui import InboxDriver

    inbox = window.inbox
    actions = inbox.triage_actions
    assert actions is not None, "the inbox has no operator to act as"
    unit = next(u for u in services.inbox.units() if u.name == UNIT)
    ids = _free(services, unit.id, ROUNDS * 2)
    driver = InboxDriver(window)
    inbox.status_filter.setCurrentText("All statuses")
    driver.switch_unit_ms([UNIT], rounds=1)
    assert inbox.model.row_of(ids[0]) is not None, "the freed conversations are not listed"

    claims: list[float] = []
    resolves: list[float] = []
    for cid in ids[:ROUNDS]:
        place = inbox.model.row_of(cid)
        assert place is not None
        inbox.view.setCurrentIndex(inbox.model.index(place, 0))  # opens it
        assert inbox.open_row() is not None
        for name, times in (("assign", claims), ("resolve", resolves)):
            t0 = time.perf_counter()
            _trigger_and_wait(inbox, actions.actions[name])
            inbox.view.viewport().repaint()
            times.append((time.perf_counter() - t0) * 1000)
    me = services.directory.person_by_email(OPERATOR).id
    service: list[float] = []
    for cid in ids[ROUNDS:]:
        t0 = time.perf_counter()
        services.triage.claim(me, cid)
        services.triage.resolve(me, cid)
        service.append((time.perf_counter() - t0) * 1000 / 2)
    stored = services.inbox.rows(ids[:ROUNDS])
    assert all(r.status == "resolved" for r in stored.values()), "a resolve did not land"
    return claims, resolves, service


def run(rows: list[dict[str, Any]], path: Path) -> None:
    """Measure and record ``triage.action_ms`` (the median of claims and resolves) on ``path``."""
    from PySide6.QtWidgets import QApplication

    from app.bootstrap import build_services
    from app.config import LocalPrefs
    from app.ui.main_window import MainWindow
    from benchmarks.run import record

    services = build_services(str(path))
    app = QApplication.instance() or QApplication([])
    operator = services.directory.person_by_email(OPERATOR)
    assert operator is not None, f"no {OPERATOR} in the benchmark workspace"
    try:
        with tempfile.TemporaryDirectory() as home:
            window = MainWindow(services, operator, LocalPrefs(Path(home) / "prefs.json"))
            window.resize(1400, 860)
            window.show()
            app.processEvents()
            claims, resolves, service = action_ms(window, services)
            window.close()
            app.processEvents()
    finally:
        services.close()
    record(
        rows,
        "triage.action_ms",
        statistics.median(claims + resolves),
        "ms",
        statistics.median(service),
        f"claim median {statistics.median(claims):.1f} (worst {max(claims):.1f}), resolve "
        f"median {statistics.median(resolves):.1f} (worst {max(resolves):.1f}) ms, key to row "
        "repainted; baseline: the service call alone",
    )


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from benchmarks.run import _quiet_offscreen, write_results
    from benchmarks.workspace import bench_workspace

    path = bench_workspace()
    QApplication.instance() or QApplication([])
    qInstallMessageHandler(_quiet_offscreen)
    rows: list[dict[str, Any]] = []
    run(rows, path)
    write_results(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
