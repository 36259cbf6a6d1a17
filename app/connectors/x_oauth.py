"""X OAuth 2.0 Authorization Code with PKCE for a desktop app: system browser, loopback redirect."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
import tweepy
from oauthlib.oauth2.rfc6749.errors import (
    AccessDeniedError,
    MismatchingStateError,
    OAuth2Error,
)

from app.connectors.base import AuthExpired, TransientError
from app.connectors.loopback import REDIRECT_HOST, AuthorizationFailed, wait_for_callback

__all__ = [
    "CALLBACK_PATH",
    "REDIRECT_HOST",
    "REDIRECT_PORT",
    "SCOPES",
    "TOKEN_URL",
    "AuthorizationFailed",  # defined in loopback.py, shared with Facebook Login
    "TokenSet",
    "XAuthorization",
    "refresh_tokens",
]

TOKEN_URL = "https://api.twitter.com/2/oauth2/token"
CALLBACK_PATH = "/callback"
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
        self.redirect_uri = f"http://{REDIRECT_HOST}:{port}{CALLBACK_PATH}"
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
        return wait_for_callback(self._port, CALLBACK_PATH, stop, timeout_s, network="X")

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
