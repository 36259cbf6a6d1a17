"""Start-up is imports: the first page must not pay for the network stacks or migrations."""

from __future__ import annotations

import subprocess
import sys


def test_the_gui_start_up_path_stays_lean() -> None:
    code = (
        "import sys, app.cli, app.bootstrap, app.ui.app, app.ui.main_window;"
        "print(','.join(sorted(m for m in ('tweepy', 'facebook', 'keyring', 'alembic', 'oauthlib',"
        " 'requests') if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
