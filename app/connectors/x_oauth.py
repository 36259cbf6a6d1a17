"""X OAuth 2.0 Authorization Code with PKCE for a desktop app: system browser, loopback redirect."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import requests
import tweepy
from oauthlib.oauth2.rfc6749.errors import (
    AccessDeniedError,
    MismatchingStateError,
    OAuth2Error,
)

from app.connectors.base import AuthExpired, TransientError

TOKEN_URL = "https://api.twitter.com/2/oauth2/token"
REDIRECT_HOST = "127.0.0.1"
REDIRECT_PORT = 8765  # app.services.accounts.REDIRECT_PORT: the same registered port
SCOPES = ["tweet.read", "tweet.write", "users.read", "dm.read", "dm.write", "offline.access"]


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    scopes: tuple[str, ...]

    def __repr__(self) -> str:  # never print a token, not even in a traceback
        return f"TokenSet(scopes={self.scopes!r}, expires_at={self.expires_at!r})"


class AuthorizationFailed(Exception):  # noqa: N818 - reads as what happened
    """The person cancelled, the state did not match, or X refused the code."""


def _token_set(token: dict[str, Any]) -> TokenSet:
    expires_at = token.get("expires_at")
    scope = token.get("scope") or []
    if isinstance(scope, str):
        scope = scope.split()
    return TokenSet(
        access_token=str(token["access_token"]),
        refresh_token=token.get("refresh_token"),
        expires_at=datetime.fromtimestamp(float(expires_at), tz=UTC) if expires_at else None,
        scopes=tuple(str(s) for s in scope),
    )


class XAuthorization:
    """One authorization attempt; keep the same object between the URL and the exchange.

    It holds the PKCE code verifier and the ``state``.
    """

    def __init__(
        self, client_id: str, *, client_secret: str | None = None, port: int = REDIRECT_PORT
    ) -> None:
        self.redirect_uri = f"http://{REDIRECT_HOST}:{port}/callback"
        self._port = port
        self._handler = tweepy.OAuth2UserHandler(
            client_id=client_id,
            redirect_uri=self.redirect_uri,
            scope=SCOPES,
            client_secret=client_secret,
        )

    def authorization_url(self) -> str:
        return str(self._handler.get_authorization_url())

    def wait_for_callback(self, stop: threading.Event, timeout_s: float = 300) -> str:
        """Serve the loopback redirect once and return the URL the browser was sent to.

        Raises:
            AuthorizationFailed: nothing arrived in time, or the port is taken.
        """
        received: list[str] = []
        port = self._port

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if not self.path.startswith("/callback"):
                    self.send_error(404)
                    return
                received.append(f"http://{REDIRECT_HOST}:{port}{self.path}")
                body = (
                    b"<!doctype html><meta charset=utf-8><title>Quiver</title>"
                    b"<p>You can close this tab and return to Quiver.</p>"
                )
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:  # the URL holds the code: never log it
                return

        try:
            server = HTTPServer((REDIRECT_HOST, self._port), Handler)
        except OSError as exc:
            raise AuthorizationFailed(
                f"Quiver cannot listen on {REDIRECT_HOST}:{self._port} for X's answer ({exc}). "
                "Close the program using that port and try again."
            ) from exc
        server.timeout = 0.2
        deadline = datetime.now(UTC) + timedelta(seconds=timeout_s)
        try:
            while not received and not stop.is_set() and datetime.now(UTC) < deadline:
                server.handle_request()
        finally:
            server.server_close()
        if not received:
            raise AuthorizationFailed("X did not answer: the authorization was not completed.")
        return received[0]

    @property
    def port(self) -> int:
        return self._port

    def exchange(self, callback_url: str) -> TokenSet:
        """Trade the callback's code for tokens.

        Raises:
            AuthorizationFailed: cancelled, forged (state mismatch) or refused.
            TransientError: X could not be reached.
        """
        # oauthlib refuses http:// responses; the loopback callback is local (connectors.md).
        secure = callback_url.replace("http://", "https://", 1)
        try:
            token = self._handler.fetch_token(secure)
        except AccessDeniedError as exc:
            raise AuthorizationFailed("The authorization was cancelled in the browser.") from exc
        except MismatchingStateError as exc:
            raise AuthorizationFailed(
                "The answer did not belong to this authorization (state mismatch)."
            ) from exc
        except Warning as exc:  # oauthlib: "Scope has changed"
            raise AuthorizationFailed(
                "X granted fewer permissions than Quiver needs; connect again and allow all."
            ) from exc
        except OAuth2Error as exc:
            raise AuthorizationFailed(f"X refused the authorization: {exc.error}.") from exc
        except requests.RequestException as exc:
            raise TransientError("cannot reach X to finish the authorization") from exc
        return _token_set(token)


def refresh_tokens(
    client_id: str,
    refresh_token: str,
    *,
    scopes: tuple[str, ...] | None = None,
    client_secret: str | None = None,
) -> TokenSet:
    """Exchange a refresh token for new tokens (the old refresh token is spent).

    Raises:
        AuthExpired: X refused the refresh token.
        TransientError: X could not be reached.
    """
    handler = tweepy.OAuth2UserHandler(
        client_id=client_id,
        redirect_uri=f"http://{REDIRECT_HOST}:{REDIRECT_PORT}/callback",
        scope=list(scopes) if scopes else SCOPES,  # what was granted, not more
        client_secret=client_secret,
    )
    try:
        kwargs: dict[str, Any] = {"refresh_token": refresh_token, "client_id": client_id}
        if handler.auth is not None:
            kwargs["auth"] = handler.auth
        token = handler.refresh_token(TOKEN_URL, **kwargs)
    except OAuth2Error as exc:
        raise AuthExpired(f"X refused the refresh token ({exc.error})") from None
    except Warning:
        raise AuthExpired("X reduced the granted permissions: reconnect the account") from None
    except requests.RequestException:
        raise TransientError("cannot reach X to refresh the token") from None
    return _token_set(token)
