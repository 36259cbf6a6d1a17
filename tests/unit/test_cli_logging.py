"""Verbose logging never opens the loggers that would print tokens or secrets."""

from __future__ import annotations

import logging
from pathlib import Path

from app.cli import main
from app.storage.workspace import open_database


def test_verbose_keeps_http_and_oauth_loggers_quiet(tmp_path: Path) -> None:
    workspace = tmp_path / "w.sqlite"
    open_database(str(workspace), create=True).close()
    assert main(["--verbose", "migrate", "--workspace", str(workspace)]) == 0
    for name in ("tweepy", "urllib3", "requests_oauthlib", "oauthlib"):
        # Their own level, set explicitly: whatever the root logger is set to, never DEBUG.
        assert logging.getLogger(name).level == logging.INFO, name
