"""Facebook Login for a Page (connectors.md §2.3): URL, loopback, token exchanges, /me/accounts."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import socket
import threading
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from hypothesis import given
from hypothesis import strategies as st
from responses import matchers

from app.connectors.base import (
    AuthExpired,
    ConnectorError,
    PermissionDenied,
    RateLimited,
    TransientError,
)
from app.connectors.facebook import GRAPH_API_VERSION
from app.connectors.facebook_login import (
    PAGE_SCOPES,
    FacebookLogin,
    PageChoice,
    parse_pages,
)
from app.connectors.loopback import wait_for_callback
from app.connectors.x_oauth import AuthorizationFailed

V = GRAPH_API_VERSION
G = f"https://graph.facebook.com/{V}"
TOKEN_URL = f"{G}/oauth/access_token"
ACCOUNTS = f"{G}/me/accounts"
APP_ID = "555000111"
SECRET = "APP-SECRET-xyz-987"
CODE = "FBCODE-secret-abc-123"
SHORT = "USER-SHORT-secret-456"
LONG = "USER-LONG-secret-789"
PAGE_TOKEN = "PAGE-TOKEN-secret-bikes"
REDIRECT = "http://127.0.0.1:8765/callback"
FIELDS = "id,name,access_token,tasks"
SECRETS = (SECRET, CODE, SHORT, LONG, PAGE_TOKEN)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _proof(token: str) -> str:
    return hmac.new(SECRET.encode(), token.encode(), hashlib.sha256).hexdigest()


def _browser_get(url: str) -> tuple[int, bytes]:
    """What the person's browser does: retried until the loopback server listens."""
    for _ in range(100):
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return int(answer.status), answer.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except OSError:
            threading.Event().wait(0.05)
    raise AssertionError(f"nothing listens at {url}")


def _login(port: int = 8765) -> FacebookLogin:
    return FacebookLogin(APP_ID, SECRET, port=port, session=requests.Session())


def _callback(login: FacebookLogin, **query: str) -> str:
    params = {"code": CODE, "state": login.state, **query}
    return f"{login.redirect_uri}?" + "&".join(f"{k}={v}" for k, v in params.items())


def _error(code: int, message: str, **extra: Any) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "AbCdEfGh123",
            **extra,
        }
    }


@pytest.fixture
def http() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def _token_calls(http: Any, redirect: str = REDIRECT) -> None:
    http.get(
        TOKEN_URL,
        match=[
            matchers.query_param_matcher(
                {
                    "client_id": APP_ID,
                    "redirect_uri": redirect,
                    "client_secret": SECRET,
                    "code": CODE,
                }
            )
        ],
        json={"access_token": SHORT, "token_type": "bearer", "expires_in": 5183},
    )
    http.get(
        TOKEN_URL,
        match=[
            matchers.query_param_matcher(
                {
                    "grant_type": "fb_exchange_token",
                    "client_id": APP_ID,
                    "client_secret": SECRET,
                    "fb_exchange_token": SHORT,
                }
            )
        ],
        json={"access_token": LONG, "token_type": "bearer", "expires_in": 5183944},
    )


# -- the Login dialog and the loopback redirect ---------------------------------------------------


def test_authorization_url_asks_for_the_page_permissions() -> None:
    login = _login()
    url = urlsplit(login.authorization_url())
    q = parse_qs(url.query)
    assert (url.scheme, url.netloc, url.path) == ("https", "www.facebook.com", f"/{V}/dialog/oauth")
    assert q["client_id"] == [APP_ID]
    assert q["redirect_uri"] == [REDIRECT]
    assert q["response_type"] == ["code"]
    assert q["state"] == [login.state]
    assert len(login.state) >= 32
    assert q["scope"][0].split(",") == list(PAGE_SCOPES)
    assert "pages_messaging" in PAGE_SCOPES
    assert "client_secret" not in q
    assert SECRET not in login.authorization_url()
    assert _login().state != login.state  # fresh per attempt
    assert SECRET not in repr(login)


def test_full_flow_through_the_loopback_server(http: Any) -> None:
    port = _free_port()
    login = _login(port)
    state = parse_qs(urlsplit(login.authorization_url()).query)["state"][0]
    result: list[str] = []
    waiter = threading.Thread(
        target=lambda: result.append(login.wait_for_callback(threading.Event(), 10))
    )
    waiter.start()
    assert _browser_get(f"http://127.0.0.1:{port}/favicon.ico")[0] == 404  # still waiting
    status, body = _browser_get(f"http://127.0.0.1:{port}/callback?code={CODE}&state={state}")
    waiter.join(5)
    assert (status, b"return to Quiver" in body) == (200, True)
    assert result == [f"http://127.0.0.1:{port}/callback?code={CODE}&state={state}"]

    _token_calls(http, f"http://127.0.0.1:{port}/callback")
    assert login.exchange(result[0]) == LONG
    assert len(http.calls) == 2


def test_no_answer_or_a_taken_port_is_a_clear_failure() -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(AuthorizationFailed, match="Facebook did not answer"):
        _login(_free_port()).wait_for_callback(stop, 1)
    with pytest.raises(AuthorizationFailed, match="did not answer"):
        wait_for_callback(_free_port(), "/callback", threading.Event(), 0.3)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        with pytest.raises(AuthorizationFailed, match=f"cannot listen on 127.0.0.1:{port}"):
            _login(port).wait_for_callback(threading.Event(), 1)


# -- the code exchange ------------------------------------------------------------------------------


def test_the_code_and_the_short_token_are_exchanged(http: Any) -> None:
    _token_calls(http)
    login = _login()
    assert login.exchange(_callback(login)) == LONG


def test_a_forged_state_is_refused_without_calling_facebook(http: Any) -> None:
    login = _login()
    with pytest.raises(AuthorizationFailed, match="state mismatch"):
        login.exchange(_callback(login, state="forged"))
    with pytest.raises(AuthorizationFailed, match="state mismatch"):
        login.exchange(f"{REDIRECT}?code={CODE}")  # no state at all
    with pytest.raises(AuthorizationFailed, match="state mismatch"):
        login.exchange(f"{REDIRECT}?code={CODE}&state=%C3%A9t%C3%A9")  # not ASCII
    assert len(http.calls) == 0


def test_a_cancel_or_an_error_in_the_browser_is_refused(http: Any) -> None:
    login = _login()
    denied = (
        f"{REDIRECT}?error=access_denied&error_code=200&error_description=Permissions+error"
        f"&error_reason=user_denied&state={login.state}#_=_"
    )
    with pytest.raises(AuthorizationFailed, match="cancelled"):
        login.exchange(denied)
    with pytest.raises(AuthorizationFailed, match="Something went wrong"):
        login.exchange(
            f"{REDIRECT}?error=server_error&error_description=Something+went+wrong"
            f"&state={login.state}"
        )
    with pytest.raises(AuthorizationFailed, match="no authorization code"):
        login.exchange(f"{REDIRECT}?state={login.state}")
    assert len(http.calls) == 0


def test_a_refused_code_hides_the_secrets(http: Any) -> None:
    http.get(
        TOKEN_URL,
        status=400,
        json=_error(
            100, f"Invalid verification code {CODE} for secret {SECRET}.", error_subcode=36007
        ),
    )
    login = _login()
    with pytest.raises(AuthorizationFailed, match="Invalid verification code") as caught:
        login.exchange(_callback(login))
    text = str(caught.value)
    assert CODE not in text
    assert SECRET not in text
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_a_token_answer_without_a_token_is_transient(http: Any) -> None:
    http.get(TOKEN_URL, json={"token_type": "bearer"})
    login = _login()
    with pytest.raises(TransientError, match="no access token"):
        login.exchange(_callback(login))


# -- the Pages ---------------------------------------------------------------------------------------


def test_pages_follow_paging_with_the_appsecret_proof(http: Any) -> None:
    proof = _proof(LONG)
    nxt = (
        f"{G}/me/accounts?access_token={LONG}&fields={FIELDS}&limit=25&after=QVFIUkZAQ"
        f"&appsecret_proof={proof}"
    )
    http.get(
        ACCOUNTS,
        match=[
            matchers.query_param_matcher(
                {"access_token": LONG, "fields": FIELDS, "appsecret_proof": proof}
            )
        ],
        json={
            "data": [
                {"id": "104000000000902", "name": "Acme Careers", "access_token": "PAGE-jobs",
                 "tasks": ["ANALYZE"]},
                {"id": "104000000000903", "name": "No Token Page", "tasks": ["MODERATE"]},
            ],
            "paging": {"cursors": {"before": "QVFIUmx1", "after": "QVFIUkZAQ"}, "next": nxt},
        },
    )  # fmt: skip
    http.get(
        ACCOUNTS,
        match=[
            matchers.query_param_matcher(
                {
                    "access_token": LONG,
                    "fields": FIELDS,
                    "limit": "25",
                    "after": "QVFIUkZAQ",
                    "appsecret_proof": proof,
                }
            )
        ],
        json={
            "data": [
                {"id": "104000000000901", "name": "Acme Bikes", "access_token": PAGE_TOKEN,
                 "tasks": ["MODERATE", "MESSAGING", "CREATE_CONTENT"]},
            ],
            "paging": {"cursors": {"before": "QVFIUkZAQ", "after": "QVFIUkZAQ"}},
        },
    )  # fmt: skip
    pages = _login().pages(LONG)
    assert [(p.id, p.name) for p in pages] == [
        ("104000000000901", "Acme Bikes"),
        ("104000000000902", "Acme Careers"),
    ]
    bikes = pages[0]
    assert bikes.access_token == PAGE_TOKEN
    assert bikes.tasks == ("MODERATE", "MESSAGING", "CREATE_CONTENT")
    assert (bikes.can_post, bikes.can_reply, bikes.can_message) == (True, True, True)
    assert (pages[1].can_post, pages[1].can_reply) == (False, False)
    for call in http.calls:  # the token and its proof once each, never twice
        query = parse_qs(urlsplit(call.request.url).query)
        assert query["access_token"] == [LONG]
        assert query["appsecret_proof"] == [proof]


def test_paging_stops_after_ten_requests(http: Any) -> None:
    body = {
        "data": [{"id": "1", "name": "Loop", "access_token": "PAGE-loop"}],
        "paging": {"next": f"{G}/me/accounts?access_token={LONG}&after=again"},
    }
    http.get(ACCOUNTS, json=body)
    assert [p.id for p in _login().pages(LONG)] == ["1"]
    assert len(http.calls) == 10


def test_paging_never_leaves_the_graph_host(http: Any) -> None:
    http.get(
        ACCOUNTS,
        json={
            "data": [],
            "paging": {"next": f"https://evil.example/{V}/me/accounts?after=x"},
        },
    )
    assert _login().pages(LONG) == []
    assert len(http.calls) == 1


def test_page_choice_repr_hides_the_token() -> None:
    page = PageChoice("104000000000901", "Acme Bikes", PAGE_TOKEN, ("MODERATE",))
    assert PAGE_TOKEN not in repr(page)
    assert PAGE_TOKEN not in str(page)
    assert PAGE_TOKEN not in repr([page])
    assert "Acme Bikes" in repr(page)


def test_parse_pages_skips_incomplete_entries_and_sorts_by_name() -> None:
    pages = parse_pages(
        {
            "data": [
                {"id": "3", "name": "beta", "access_token": "t3", "tasks": ["MODERATE", 7]},
                {"id": "1", "access_token": "t1"},
                {"name": "no id", "access_token": "t4"},
                {"id": "5", "name": "no token"},
                {"id": "6", "name": "empty token", "access_token": ""},
                {"id": "x/../me", "name": "bad id", "access_token": "t7"},
                "not an object",
            ]
        }
    )
    assert [(p.id, p.name, p.tasks) for p in pages] == [
        ("1", "1", ()),
        ("3", "beta", ("MODERATE",)),
    ]
    assert parse_pages(None) == []
    assert parse_pages({"data": "nope"}) == []


# -- errors ------------------------------------------------------------------------------------------


def test_an_expired_user_token_needs_a_new_login(http: Any) -> None:
    http.get(
        ACCOUNTS,
        status=400,
        json=_error(
            190,
            "Error validating access token: Session has expired on Tuesday, 06-Oct-26 "
            "10:00:00 PDT.",
            error_subcode=463,
        ),
    )
    with pytest.raises(AuthExpired, match="Session has expired"):
        _login().pages(LONG)


def test_a_missing_permission_is_named(http: Any) -> None:
    http.get(
        ACCOUNTS,
        status=403,
        json=_error(200, "(#200) Requires pages_show_list permission to manage the object"),
    )
    with pytest.raises(PermissionDenied, match="pages_show_list"):
        _login().pages(LONG)
    http.replace(
        responses.GET,
        ACCOUNTS,
        status=400,
        json=_error(10, "Application does not have permission for this action"),
    )
    with pytest.raises(PermissionDenied, match=r"\(10\): pages_show_list"):
        _login().pages(LONG)


def test_throttling_is_a_rate_limit_for_a_minute(http: Any) -> None:
    http.get(ACCOUNTS, status=400, json=_error(4, "(#4) Application request limit reached"))
    with pytest.raises(RateLimited) as caught:
        _login().pages(LONG)
    assert caught.value.until.tzinfo is not None


@pytest.mark.parametrize(
    "reply",
    [
        {"status": 500, "json": _error(2, "An unexpected error has occurred.")},
        {"status": 500, "json": _error(100, "Something odd")},
        {"status": 500, "json": {"data": []}},
        {"status": 502, "body": "<html>Bad gateway</html>", "content_type": "text/html"},
        {"status": 200, "body": "not json", "content_type": "application/json"},
        {"status": 200, "body": "plain", "content_type": "text/plain"},
        {"status": 200, "json": _error(1, "An unknown error occurred")},
        {"body": requests.Timeout(f"read timed out for ?access_token={LONG}")},
        {"body": requests.ConnectionError(f"refused for ?access_token={LONG}")},
    ],
)
def test_server_errors_and_unreadable_answers_are_transient(http: Any, reply: Any) -> None:
    http.get(ACCOUNTS, **reply)
    with pytest.raises(TransientError) as caught:
        _login().pages(LONG)
    assert LONG not in str(caught.value)
    # no chained exception carries the request URL (with the token) into a traceback
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_other_graph_errors_refuse_the_login_with_a_short_message(http: Any) -> None:
    http.get(ACCOUNTS, status=400, json=_error(100, "Unsupported get request. " + "x" * 1000))
    with pytest.raises(AuthorizationFailed, match="Unsupported get request") as caught:
        _login().pages(LONG)
    assert len(str(caught.value)) < 400


def test_secrets_never_reach_the_logs(http: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _token_calls(http)
    http.get(
        ACCOUNTS,
        json={
            "data": [
                {"id": "104000000000901", "name": "Acme Bikes", "access_token": PAGE_TOKEN},
                {"id": "104000000000903", "name": "No Token Page"},
            ],
            "paging": {"next": f"{G}/me/accounts?access_token={LONG}&after=QVFI"},
        },
    )
    http.get(ACCOUNTS, status=400, json=_error(190, f"Invalid OAuth access token {LONG}."))
    login = _login()
    token = login.exchange(_callback(login))
    with pytest.raises(AuthExpired) as caught:
        login.pages(token)
    texts = [caplog.text, str(caught.value), repr(caught.value), repr(login)]
    assert "Facebook Login" in caplog.text
    for secret in SECRETS:
        for text in texts:
            assert secret not in text


# -- property tests ------------------------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
ENTRY = st.dictionaries(st.sampled_from(["id", "name", "access_token", "tasks"]), JSON) | JSON
GRAPHISH = st.fixed_dictionaries(
    {"data": st.lists(ENTRY, max_size=5) | JSON},
    optional={
        "paging": st.fixed_dictionaries(
            {},
            optional={
                "next": st.sampled_from(
                    [f"{G}/me/accounts?access_token=T&after=x", "https://evil.example/", ""]
                )
                | JSON
            },
        )
        | JSON,
        "error": st.fixed_dictionaries(
            {}, optional={"code": st.integers(-1, 100_000) | JSON, "message": JSON}
        )
        | JSON,
    },
)
BODIES = GRAPHISH | JSON


@given(BODIES)
def test_parse_pages_never_raises(payload: Any) -> None:
    for page in parse_pages(payload):
        assert page.id.isdigit()
        assert page.access_token
        assert page.access_token not in repr(page)


@given(BODIES, st.sampled_from([200, 400, 403, 500]))
def test_pages_raise_only_connector_errors(payload: Any, status: int) -> None:
    body = json.dumps(payload)

    def reply(_request: Any) -> tuple[int, dict[str, str], str]:
        return status, {}, body

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(
            responses.GET,
            re.compile(r"https://graph\.facebook\.com/.*"),
            callback=reply,
            content_type="application/json",
        )
        outcome: Any
        try:
            outcome = _login().pages(LONG)
        except (ConnectorError, AuthorizationFailed) as exc:
            outcome = exc
        assert len(mock.calls) <= 10
    if isinstance(outcome, list):
        assert all(isinstance(p, PageChoice) for p in outcome)
    else:
        assert LONG not in str(outcome)
        assert SECRET not in str(outcome)
