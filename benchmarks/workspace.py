"""The benchmark workspace: a generated demo with at least 1,000,000 messages, kept between runs."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
TARGET_MESSAGES = 1_000_000
# About 2.4 messages per conversation in the demo: a little more than 1M messages.
CONVERSATIONS = int(os.environ.get("QUIVER_BENCH_CONVERSATIONS", "430000"))
SEED = 4242


def bench_workspace() -> Path:
    """The path of the 1M-message workspace, generating it (in a child process) if needed."""
    DATA.mkdir(exist_ok=True)
    path = DATA / f"bench-{CONVERSATIONS}.sqlite"
    if path.exists() and _message_count(path) >= TARGET_MESSAGES * 0.98:
        return path
    print(f"generating the benchmark workspace ({CONVERSATIONS:,} conversations)…", flush=True)
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "demo",
            "--conversations",
            str(CONVERSATIONS),
            "--seed",
            str(SEED),
            "--workspace",
            str(path),
            "--force",
        ],
        check=True,
    )
    n = _message_count(path)
    print(f"  {n:,} messages in {time.monotonic() - started:.0f} s", flush=True)
    return path


def _message_count(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        conn.close()
