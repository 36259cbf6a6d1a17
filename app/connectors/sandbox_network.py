"""The Sandbox network's own state: every post, reply and message it received.

The Sandbox stands in for a remote network, so what it received lives in its own file beside
the workspace, neither in the workspace nor in memory: a Quiver that crashed while publishing
asks it what it received, as it would ask X or Facebook (``find_published``), and a second
Quiver publishing to the same accounts sees the same writes. What it *streams* needs no file:
the stream is a function of the account's seed and the cursor Quiver keeps.

The file is a small SQLite database (Python's own ``sqlite3``, no ORM: this is the network's
side, not Quiver's storage): each write is committed durably (``synchronous=FULL``) before the
network answers, so an answer Quiver never received may exist, but never the other way round.
Several processes may write at once; each write gets the next id of the file.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.connectors.base import PublishResult

KINDS = ("post", "reply", "dm")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS received (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,          -- the account's handle
    kind TEXT NOT NULL CHECK (kind IN ('post', 'reply', 'dm')),
    text TEXT NOT NULL,
    external_id TEXT NOT NULL UNIQUE,
    thread_external_id TEXT NOT NULL,
    in_reply_to TEXT,
    permalink TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_received_account ON received (account, id);
"""


class SandboxNetworkError(Exception):
    """The Sandbox network's file cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class SandboxWrite:
    """One write the Sandbox network accepted, as ``find_published`` looks it up."""

    result: PublishResult
    text: str
    kind: str  # post | reply | dm
    in_reply_to: str | None  # the item replied to (reply only)
    thread_external_id: str | None  # the thread given to reply / send_dm
    at: datetime  # aware UTC, from the connector's clock
    account: str = ""  # the account's handle

    def as_json(self) -> str:
        """One line for ``quiver sandbox received``: account, kind, text, id, time."""
        return json.dumps(
            {
                "account": self.account,
                "kind": self.kind,
                "text": self.text,
                "id": self.result.external_id,
                "thread": self.result.thread_external_id,
                "in_reply_to": self.in_reply_to,
                "at": self.at.isoformat(),
            },
            ensure_ascii=False,
        )


class SandboxNetwork:
    """What the Sandbox network received, kept in ``path`` (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._ready = False

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise SandboxNetworkError(f"The Sandbox network's file {self.path}: {exc}") from exc
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            if not self._ready:
                conn.executescript(_SCHEMA)
                self._ready = True
            yield conn
        except sqlite3.Error as exc:
            raise SandboxNetworkError(f"The Sandbox network's file {self.path}: {exc}") from exc
        finally:
            conn.close()

    def receive(
        self,
        account: str,
        kind: str,
        text: str,
        at: datetime,
        *,
        thread: str | None = None,
        in_reply_to: str | None = None,
    ) -> SandboxWrite:
        """Accept a write: stored durably, then answered (its id, thread and permalink)."""
        if kind not in KINDS:
            raise ValueError(f"the Sandbox network takes posts, replies and messages, not {kind}")
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        with self._lock, self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                (top,) = conn.execute("SELECT coalesce(max(id), 0) FROM received").fetchone()
                result = answer(account, f"sbx-out-{account}-{int(top) + 1}", thread)
                conn.execute(
                    "INSERT INTO received (account, kind, text, external_id, thread_external_id,"
                    " in_reply_to, permalink, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        account,
                        kind,
                        text,
                        result.external_id,
                        result.thread_external_id,
                        in_reply_to,
                        result.permalink,
                        int(at.timestamp() * 1000),
                    ),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return SandboxWrite(result, text, kind, in_reply_to, thread, at, account)

    def received(self, account: str | None = None) -> list[SandboxWrite]:
        """Every write received (by ``account``, if given), oldest first."""
        if not self.path.exists():
            return []
        with self._lock, self._connect() as conn:
            sql = (
                "SELECT account, kind, text, external_id, thread_external_id, in_reply_to,"
                " permalink, at_ms FROM received"
            )
            args: tuple[Any, ...] = ()
            if account is not None:
                sql += " WHERE account = ?"
                args = (account,)
            rows = conn.execute(sql + " ORDER BY id", args).fetchall()
        return [_write(row) for row in rows]


def answer(account: str, external_id: str, thread: str | None) -> PublishResult:
    """What the Sandbox network answers to a write it accepted under ``external_id``."""
    return PublishResult(
        external_id=external_id,
        thread_external_id=thread or external_id,
        permalink=f"sandbox://{account}/{external_id}",
    )


def _write(row: tuple[Any, ...]) -> SandboxWrite:
    account, kind, text, external, thread, in_reply_to, permalink, at_ms = row
    given_thread = None if kind == "post" else thread
    return SandboxWrite(
        result=PublishResult(external_id=external, thread_external_id=thread, permalink=permalink),
        text=text,
        kind=kind,
        in_reply_to=in_reply_to,
        thread_external_id=given_thread,
        at=datetime.fromtimestamp(at_ms / 1000, tz=UTC),
        account=account,
    )


def network_file_beside(workspace_file: Path) -> Path:
    """Where the Sandbox network of a workspace file keeps what it received."""
    return workspace_file.with_name(workspace_file.name + ".sandbox")
