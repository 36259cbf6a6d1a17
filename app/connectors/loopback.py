"""The one-shot loopback server that receives an OAuth redirect in a desktop app.

The browser is sent to ``http://127.0.0.1:<port><path>?…`` after the person allows (or refuses)
the app. The full URL carries the authorization code, so it is returned to the caller and never
logged.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = ["REDIRECT_HOST", "AuthorizationFailed", "wait_for_callback"]

REDIRECT_HOST = "127.0.0.1"
POLL_S = 0.2  # how often the stop event and the deadline are checked
CALLBACK_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>Quiver</title>"
    b"<p>You can close this tab and return to Quiver.</p>"
)


class AuthorizationFailed(Exception):  # noqa: N818 - reads as what happened
    """The person cancelled, the state did not match, or the network refused the code."""


def wait_for_callback(
    port: int,
    path: str,
    stop: threading.Event,
    timeout_s: float,
    *,
    network: str = "The network",
) -> str:
    """Serve the loopback redirect once and return the URL the browser was sent to.

    Other paths (a browser's ``/favicon.ico``) get a 404 and the wait goes on. The browser gets
    a short page telling the person to return to Quiver.

    Args:
        port: the port of the registered redirect URI, on ``127.0.0.1``.
        path: the redirect URI's path, e.g. ``/callback``.
        stop: set it (from another thread) to give up waiting.
        timeout_s: how long to wait for the browser, in seconds.
        network: the network's name, as the person knows it, for the error messages.

    Returns:
        The full callback URL, ``http://127.0.0.1:<port><path>?<query>``. It holds the
        authorization code: never log it.

    Raises:
        AuthorizationFailed: nothing arrived in time, ``stop`` was set, or the port is taken.
    """
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if urlsplit(self.path).path != path:
                self.send_error(404)
                return
            received.append(f"http://{REDIRECT_HOST}:{port}{self.path}")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(CALLBACK_PAGE)))
            self.end_headers()
            self.wfile.write(CALLBACK_PAGE)

        def log_message(self, *args: Any) -> None:  # the URL holds the code: never log it
            return

    try:
        server = HTTPServer((REDIRECT_HOST, port), Handler)
    except OSError as exc:
        raise AuthorizationFailed(
            f"Quiver cannot listen on {REDIRECT_HOST}:{port} for {network}'s answer ({exc}). "
            "Close the program using that port and try again."
        ) from exc
    server.timeout = POLL_S
    deadline = datetime.now(UTC) + timedelta(seconds=timeout_s)
    try:
        while not received and not stop.is_set() and datetime.now(UTC) < deadline:
            server.handle_request()
    finally:
        server.server_close()
    if not received:
        raise AuthorizationFailed(f"{network} did not answer: the authorization was not completed.")
    return received[0]
