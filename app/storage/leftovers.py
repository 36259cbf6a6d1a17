"""Temporary workspace files a killed process left behind, found and removed.

A migration works on ``.NAME.migrating-PID`` and a copy into a new SQLite file on
``.NAME.copying-PID`` beside the workspace; both are removed when the work ends, however it
ends, except when the process itself is killed (SIGKILL, power loss). The next migration or copy
in that folder removes such files whose process is gone. A file whose process still runs is
another program's work in progress and is left alone.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

log = logging.getLogger("quiver.storage.leftovers")

KINDS = ("migrating", "copying")


def temporary_path(path: Path, kind: str) -> Path:
    """Where this process works on ``path`` for ``kind`` (``migrating`` or ``copying``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of temporary file: {kind!r}")
    return path.with_name(f".{path.name}.{kind}-{os.getpid()}")


def remove_leftovers(path: Path) -> list[Path]:
    """Remove the temporary files of ``path`` whose process no longer runs; returns them."""
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.({'|'.join(KINDS)})-(\d+)$")
    removed: list[Path] = []
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = pattern.match(entry.name)
        if m is None or _running(int(m.group(2))):
            continue
        for side in (
            entry,
            *(entry.with_name(entry.name + s) for s in ("-wal", "-shm", "-journal")),
        ):
            try:
                side.unlink(missing_ok=True)
            except OSError as exc:  # not ours to remove after all: say so, keep going
                log.warning("could not remove %s left by an interrupted run: %s", side, exc)
                break
        else:
            log.info("removed %s, left by an interrupted %s", entry, m.group(1))
            removed.append(entry)
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it runs
        return True
    except OSError:
        return False
    return True
