"""``quiver publish`` killed with SIGKILL at random points of the publish path, 50 times.

Each time it is restarted (with a few more approved drafts, so every run has sending to do) and
killed again at a random moment after it started its rounds: between a claim and its send,
between a send and its record, inside a transaction… At the end one ``--once`` run finishes
the work. The Sandbox network keeps what it received in its own file, as a real network would:
every approved draft reached each of its accounts exactly once, none twice, none lost.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from app.bootstrap import services_for
from app.domain.enums import DraftState
from app.models import Account, ApprovalRule, Draft, DraftTarget, DraftVersion, StrategyItem
from app.storage.workspace import open_database
from tests.integration.demo_lookup import person_id, unit_id

KILLS = 50


def _quiver(workspace: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "app", *args, "--workspace", workspace]


def _round_time(workspace: str) -> float:
    """Seconds from ``publish --once``'s first line to its exit (its rounds), with some margin."""
    proc = subprocess.Popen(
        _quiver(workspace, "publish", "--once"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ),
    )
    assert proc.stdout is not None
    with proc.stdout:
        proc.stdout.readline()
        started = time.monotonic()
        proc.stdout.read()
    proc.wait(60)
    return max(0.1, (time.monotonic() - started) * 0.8)


@pytest.mark.e2e
def test_a_publisher_killed_50_times_publishes_every_draft_exactly_once(
    workspace_url: Callable[[str], str], tmp_path: Path
) -> None:
    workspace = workspace_url("demo")
    services = services_for(open_database(workspace))
    rng = random.Random(20261201)
    try:
        s = services
        with s.db.engine.begin() as conn:  # every submitted draft is approved at once
            conn.execute(ApprovalRule.__table__.delete())
            goal = conn.scalar(select(StrategyItem.id).where(StrategyItem.type == "social_goal"))
            accounts = list(
                conn.scalars(
                    select(Account.id).where(Account.network == "sandbox").order_by(Account.id)
                )
            )
        jamal, marketing = person_id(s, "jamal.carter"), unit_id(s, "Marketing")
        made = 0

        def approve_more(n: int) -> None:
            nonlocal made
            for _ in range(n):
                targets = rng.sample(accounts, rng.choice((1, 2, 3, 4)))
                draft_id = s.drafts.create(
                    jamal,
                    "post",
                    marketing,
                    f"Crash-test post number {made}: rides, routes and rain gear.",
                    targets,
                    social_goal_id=goal,
                )
                assert s.drafts.submit(jamal, draft_id) is DraftState.APPROVED
                made += 1

        _round_time(workspace)  # the demo's approved drafts out first
        approve_more(3)
        window = _round_time(workspace)  # how long a start with 3 drafts takes to send them
        kills_in_rounds = 0
        caught = 0  # kills that left a target claimed: between its claim and its record
        for _ in range(KILLS):
            approve_more(3)
            proc = subprocess.Popen(
                _quiver(workspace, "publish"),
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env=dict(os.environ),
            )
            assert proc.stdout is not None
            first = proc.stdout.readline()  # "outbox: N to go out; reconciling first"
            if first.startswith("outbox:"):
                kills_in_rounds += 1
            time.sleep(rng.uniform(0.0, window))
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            proc.stdout.close()
            with s.db.engine.connect() as conn:
                caught += bool(
                    conn.scalar(
                        select(DraftTarget.id)
                        .where(
                            DraftTarget.state == "publishing", DraftTarget.claimed_by.is_not(None)
                        )
                        .limit(1)
                    )
                )
        assert kills_in_rounds >= KILLS * 0.9  # killed while publishing, not while starting
        print(f"{caught} of {KILLS} kills left a target claimed mid-send")
        assert caught >= 2  # some kills came between a claim and its record
        done = subprocess.run(
            _quiver(workspace, "publish", "--once"),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=dict(os.environ),
        )
        assert done.returncode == 0, done.stderr
        received = subprocess.run(
            _quiver(workspace, "sandbox", "received"),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            env=dict(os.environ),
        ).stdout.splitlines()
        writes = Counter((w["account"], w["text"]) for w in map(json.loads, received))
        with s.db.engine.connect() as conn:
            rows = conn.execute(
                select(Draft.id, Draft.state, Account.handle, DraftTarget.state, DraftVersion.text)
                .join(DraftTarget, DraftTarget.draft_id == Draft.id)
                .join(Account, Account.id == DraftTarget.account_id)
                .join(
                    DraftVersion,
                    (DraftVersion.draft_id == Draft.id)
                    & (DraftVersion.version == Draft.current_version),
                )
                .where(Account.network == "sandbox")
            ).all()
        sent = [r for r in rows if r[4].startswith("Crash-test post")]
        assert len({r[0] for r in sent}) == made
        assert all(r[1] == "published" and r[3] == "published" for r in sent)
        assert not [r for r in rows if r[1] in ("approved", "publishing")]  # none left over
        assert all(r[3] == "published" for r in rows if r[1] == "published")
        assert max(writes.values()) == 1  # nothing went out twice
        expected = Counter((r[2], r[4]) for r in rows if r[1] == "published")
        assert writes == expected  # and nothing was lost: each published target, once
    finally:
        services.close()
