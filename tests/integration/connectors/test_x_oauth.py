"""X OAuth 2.0 with PKCE: authorization URL, loopback callback, code exchange, refresh."""

from __future__ import annotations

import threading
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from app.connectors.base import AuthExpired
from app.connectors.x_oauth import TOKEN_URL, AuthorizationFailed, XAuthorization, refresh_tokens

TOKEN_BODY = {
    "token_type": "bearer",
    "expires_in": 7200,
    "access_token": "ACCESS-secret-1",
    "scope": "tweet.read tweet.write users.read dm.read dm.write offline.access",
    "refresh_token": "REFRESH-secret-1",
}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_authorization_url_uses_pkce_and_the_loopback_redirect() -> None:
    auth = XAuthorization("client-123", port=8765)
    url = urlsplit(auth.authorization_url())
    q = parse_qs(url.query)
    assert url.netloc == "twitter.com"
    assert q["code_challenge_method"] == ["S256"]
    assert q["redirect_uri"] == ["http://127.0.0.1:8765/callback"]
    assert "offline.access" in q["scope"][0].split()
    assert q["state"][0]


def test_the_loopback_server_returns_the_callback() -> None:
    port = _free_port()
    auth = XAuthorization("client-123", port=port)
    result: list[str] = []
    t = threading.Thread(
        target=lambda: result.append(auth.wait_for_callback(threading.Event(), 10))
    )
    t.start()
    for _ in range(50):
        try:
            body = urllib.request.urlopen(
                f"http://127.0.0.1:{port}/callback?state=s&code=c", timeout=2
            ).read()
            break
        except OSError:
            threading.Event().wait(0.05)
    t.join(5)
    assert b"return to Quiver" in body
    assert result == [f"http://127.0.0.1:{port}/callback?state=s&code=c"]


def test_no_answer_is_a_clear_failure() -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(AuthorizationFailed, match="did not answer"):
        XAuthorization("client-123", port=_free_port()).wait_for_callback(stop, 1)


@responses.activate
def test_the_code_is_exchanged_with_the_verifier() -> None:
    auth = XAuthorization("client-123", port=8765)
    state = parse_qs(urlsplit(auth.authorization_url()).query)["state"][0]
    responses.post(TOKEN_URL, json=TOKEN_BODY)
    tokens = auth.exchange(f"http://127.0.0.1:8765/callback?state={state}&code=THE-CODE")
    assert tokens.access_token == "ACCESS-secret-1"
    assert tokens.refresh_token == "REFRESH-secret-1"
    assert "dm.read" in tokens.scopes
    assert tokens.expires_at is not None
    form = parse_qs(responses.calls[0].request.body)
    assert form["code"] == ["THE-CODE"]
    assert len(form["code_verifier"][0]) == 128
    assert form["redirect_uri"] == ["http://127.0.0.1:8765/callback"]
    assert "ACCESS-secret-1" not in repr(tokens)


def test_a_forged_state_or_a_cancel_is_refused() -> None:
    auth = XAuthorization("client-123", port=8765)
    auth.authorization_url()
    with pytest.raises(AuthorizationFailed, match="state mismatch"):
        auth.exchange("http://127.0.0.1:8765/callback?state=forged&code=x")
    with pytest.raises(AuthorizationFailed):
        auth.exchange("http://127.0.0.1:8765/callback?error=access_denied&state=x")


@responses.activate
def test_refresh_gives_new_tokens_or_needs_reconnect() -> None:
    responses.post(
        TOKEN_URL, json={**TOKEN_BODY, "access_token": "ACCESS-2", "refresh_token": "REFRESH-2"}
    )
    tokens = refresh_tokens("client-123", "REFRESH-secret-1")
    assert (tokens.access_token, tokens.refresh_token) == ("ACCESS-2", "REFRESH-2")
    form: Any = parse_qs(responses.calls[0].request.body)
    assert form["grant_type"] == ["refresh_token"]
    assert form["refresh_token"] == ["REFRESH-secret-1"]
    responses.replace(
        responses.POST,
        TOKEN_URL,
        status=400,
        json={
            "error": "invalid_request",
            "error_description": "Value passed for the token was invalid.",
        },
    )
    with pytest.raises(AuthExpired):
        refresh_tokens("client-123", "REFRESH-2")
