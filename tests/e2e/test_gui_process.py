"""End to end: Quiver as a real process, and the real main window through a whole workflow."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from sqlalchemy.engine import make_url

from app.config import LocalPrefs
from app.services.container import Services
from app.ui.main_window import MainWindow
from tests.ui.feed import listed

TOM = "tom.becker@acme-mobility.example"


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        QUIVER_HOME=str(home), QT_QPA_PLATFORM="offscreen", QUIVER_EXIT_AFTER_FIRST_PAINT="1"
    )
    return env


@pytest.mark.e2e
def test_python_m_app_paints_the_inbox_and_exits(
    workspace_url: Callable[[str], str], tmp_path: Path
) -> None:
    workspace = workspace_url("demo")
    started = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "app", "--workspace", workspace, "--operator", TOM],
        env=_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    [line] = [x for x in proc.stdout.splitlines() if x.startswith("QUIVER_FIRST_PAINT")]
    painted_at = float(line.split()[1])
    assert started < painted_at < time.time()
    assert "Traceback" not in proc.stderr
    # The operator is remembered for this workspace.
    prefs = LocalPrefs(tmp_path / "home" / "config" / "prefs.json")
    password = make_url(workspace).password if "://" in workspace else None
    if password:  # a server's password is never written to the preferences
        assert password not in (tmp_path / "home" / "config" / "prefs.json").read_text()
        assert prefs.last_workspace == make_url(workspace)._replace(password=None).render_as_string(
            hide_password=False
        )
    else:
        assert prefs.last_workspace == workspace


@pytest.mark.e2e
def test_a_bad_workspace_exits_with_a_message(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.sqlite"
    bogus.write_text("not a database")
    proc = subprocess.run(
        [sys.executable, "-m", "app", "demo", "--workspace", str(bogus), "--conversations", "5"],
        env=_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "already exists" in proc.stderr
    assert bogus.read_text() == "not a database"
    proc = subprocess.run(
        [sys.executable, "-m", "app", "migrate", "--workspace", str(bogus)],
        env=_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "not a SQLite database" in proc.stderr
    assert bogus.read_text() == "not a database"


def test_a_community_manager_works_through_the_inbox(
    qtbot: Any, demo_services: Services, tmp_path: Path
) -> None:
    """Choose a unit, narrow the status, open a conversation, read it, look elsewhere, refresh."""
    operator = demo_services.directory.person_by_email(TOM)
    assert operator is not None
    window = MainWindow(demo_services, operator, LocalPrefs(tmp_path / "prefs.json"))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.first_page_painted, timeout=5000):
        window.show()
    inbox = window.inbox
    qtbot.waitUntil(lambda: bool(inbox.counts), timeout=5000)

    # 1. The Orders & Delivery team's queue, everything in it.
    orders = next(u for u in demo_services.inbox.units() if u.name == "Orders & Delivery")
    tree = inbox.unit_tree
    rect = tree.visualRect(tree.tree_model.index_of(orders.id))
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert inbox.title.text() == "Orders & Delivery"
    inbox.status_filter.setCurrentText("All statuses")
    total = inbox.counts[orders.id].total
    listed(qtbot, inbox.model)
    inbox.model.fetch_to_end()
    assert inbox.model.rowCount() == total

    # 2. Only what is still new.
    inbox.status_filter.setCurrentText("New")
    listed(qtbot, inbox.model)
    rows = [inbox.model.row_at(i) for i in range(inbox.model.rowCount())]
    assert rows
    assert all(r.status == "new" and r.unit_id == orders.id for r in rows)

    # 3. Back to everything; open the first one with the keyboard (typed before the rows are
    # in: done on them once they are) and read it.
    inbox.status_filter.setCurrentText("All statuses")
    inbox.view.setFocus()
    qtbot.keyClick(inbox.view, Qt.Key.Key_J)
    listed(qtbot, inbox.model)
    assert inbox.model.rowCount() > 2
    first = inbox.model.row_at(0)
    thread = demo_services.inbox.thread(first.id)
    assert thread is not None
    assert inbox.thread_pane.texts() == [m.text for m in thread.messages]
    qtbot.keyClick(inbox.view, Qt.Key.Key_J)
    assert inbox.view.currentIndex().row() == 1
    qtbot.keyClick(inbox.view, Qt.Key.Key_K)
    assert inbox.view.currentIndex().row() == 0
    qtbot.keyClick(inbox.view, Qt.Key.Key_J)

    # 4. Somewhere else and back: the inbox kept its place.
    window.show_screen("Approvals")
    assert window.stack.currentWidget() is window.approvals
    window.show_screen("Inbox")
    assert inbox.view.currentIndex().row() == 1
    assert inbox.title.text() == "Orders & Delivery"

    # 5. Refresh: counts come again from the worker; the list is the same query.
    inbox.counts = {}
    inbox.refresh()
    qtbot.waitUntil(lambda: bool(inbox.counts), timeout=5000)
    listed(qtbot, inbox.model)
    assert inbox.view.currentIndex().row() == 1  # the conversation open stays open
    assert inbox.counts[orders.id].total == total
    assert inbox.model.rowCount() == min(total, 200)
    assert inbox.model.canFetchMore(QModelIndex()) == (total > 200)


@pytest.mark.e2e
def test_quiver_poll_once_stores_sandbox_conversations(
    workspace_url: Callable[[str], str], tmp_path: Path
) -> None:
    workspace = workspace_url("demo")
    proc = subprocess.run(
        [sys.executable, "-m", "app", "poll", "--once", "--workspace", workspace],
        env=_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [x for x in proc.stdout.splitlines() if x.startswith("account ")]
    assert len(lines) == 4  # the four connected Sandbox accounts; paused ones are left alone
    assert all("connected, 3 new messages" in x for x in lines)


@pytest.mark.e2e
def test_quiver_poll_runs_until_interrupted_and_stops_at_once(
    workspace_url: Callable[[str], str], tmp_path: Path
) -> None:
    import signal

    workspace = workspace_url("demo")
    with subprocess.Popen(
        [sys.executable, "-u", "-m", "app", "poll", "--workspace", workspace],
        env=_env(tmp_path / "home"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        seen: set[str] = set()
        deadline = time.monotonic() + 60
        while len(seen) < 4 and time.monotonic() < deadline:
            seen.update(re.findall(r"account (\d+):", proc.stdout.readline()))
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        try:
            _out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        stopped_after = time.monotonic() - started
    assert len(seen) == 4, err  # every connected Sandbox account, each in its own worker
    assert proc.returncode == 0, err
    assert stopped_after < 3
