"""What the person's browser does in an OAuth flow, for tests: follow the redirect to Quiver."""

from __future__ import annotations

import socket
import threading
import urllib.request
from urllib.parse import parse_qs, urlsplit


def free_port() -> int:
    """A loopback port nobody listens on (for the redirect server of one test)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def follow_redirect(authorization_url: str, port: int, code: str) -> None:
    """Allow Quiver: call the loopback redirect with ``code`` and the URL's ``state``.

    Runs in a thread and retries until Quiver's one-shot server listens.
    """
    state = parse_qs(urlsplit(authorization_url).query)["state"][0]

    def go() -> None:
        for _ in range(100):
            try:
                urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/callback?state={state}&code={code}", timeout=2
                ).read()
                return
            except OSError:
                threading.Event().wait(0.05)

    threading.Thread(target=go, daemon=True).start()
