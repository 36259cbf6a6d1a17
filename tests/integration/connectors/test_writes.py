"""The write path of both connectors: no failure may let a caller post twice or lose a post.

Writes map failures by what they prove (connectors.md §5 "Writes"): ``TransientError`` only when
the request provably never left (connect timeout, DNS failure, connection refused),
``MaybePublished`` whenever it may have reached the network or the network calls it a duplicate,
``PublishRejected`` when a person must act. Payloads are as in connectors.md §1.7, §1.8, §2.6, §2.7.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import responses
import urllib3
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from app.connectors.base import (
    AuthExpired,
    ConnectorError,
    MaybePublished,
    PermissionDenied,
    PublishRejected,
    RateLimited,
    TransientError,
    request_never_sent,
)
from tests.integration.connectors.test_facebook import FEED, PAGE, POST, G
from tests.integration.connectors.test_facebook import TOKEN as FB_TOKEN
from tests.integration.connectors.test_facebook import connector as fb_connector
from tests.integration.connectors.test_facebook import error as fb_token_error
from tests.integration.connectors.test_x import API, MENTIONS
from tests.integration.connectors.test_x import TOKEN as X_TOKEN
from tests.integration.connectors.test_x import connector as x_connector

TWEETS = f"{API}/tweets"
X_DM = f"{API}/dm_conversations/with/2244994945/messages"
COMMENT = "205000000000001_301000000000002"
FB_COMMENTS = f"{G}/{COMMENT}/comments"
FB_MESSAGES = f"{G}/{PAGE}/messages"

Write = Callable[[Any], Any]

X_WRITES: dict[str, tuple[str, Write]] = {
    "publish": (TWEETS, lambda c: c.publish("Thanks, on it")),
    "reply": (
        TWEETS,
        lambda c: c.reply(
            "Thanks, on it",
            in_reply_to="1850000000000000002",
            thread_external_id="1850000000000000001",
        ),
    ),
    "send_dm": (
        X_DM,
        lambda c: c.send_dm(
            "On it!", thread_external_id="783214-2244994945", recipient_id="2244994945"
        ),
    ),
}
X_TWEET_WRITES = ["publish", "reply"]

FB_WRITES: dict[str, tuple[str, Write]] = {
    "publish": (FEED, lambda c: c.publish("Autumn sale")),
    "reply": (
        FB_COMMENTS,
        lambda c: c.reply("Yes we do!", in_reply_to=COMMENT, thread_external_id=POST),
    ),
    "send_dm": (
        FB_MESSAGES,
        lambda c: c.send_dm(
            "On it!", thread_external_id="t_1029384756", recipient_id="6100000000000077"
        ),
    ),
}

# connectors.md §1.7 and §1.10, verbatim.
X_DUPLICATE = {
    "detail": "You are not allowed to create a Tweet with duplicate content.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}
X_CLIENT_FORBIDDEN = {
    "client_id": "29384756",
    "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project. You can create a project via the developer portal.",
    "title": "Client Forbidden",
    "required_enrollment": "Appropriate Level of API Access",
    "reason": "client-not-enrolled",
    "type": "https://api.twitter.com/2/problems/client-forbidden",
}
X_BAD_REQUEST = {
    "errors": [
        {
            "parameters": {"max_results": ["1"]},
            "message": "The `max_results` query parameter value [1] is not between 5 and 100",
        }
    ],
    "title": "Invalid Request",
    "detail": "One or more parameters to your request was invalid.",
    "type": "https://api.twitter.com/2/problems/invalid-request",
}
X_TOO_MANY = {
    "title": "Too Many Requests",
    "detail": "Too Many Requests",
    "type": "about:blank",
    "status": 429,
}


@pytest.fixture
def http() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def refused(url: str) -> requests.ConnectionError:
    """A refused connection, wrapped the way requests wraps it (nothing was sent)."""
    reason = NewConnectionError(
        None,  # type: ignore[arg-type]  # requests passes the HTTPConnection
        "Failed to establish a new connection: [Errno 111] Connection refused",
    )
    return requests.ConnectionError(MaxRetryError(None, url, reason))  # type: ignore[arg-type]


def dns_failure(url: str) -> requests.ConnectionError:
    """A DNS failure, wrapped the way requests wraps it (nothing was sent)."""
    host = url.split("/")[2]
    reason = NameResolutionError(
        host,
        None,  # type: ignore[arg-type]
        socket.gaierror(-3, "Temporary failure in name resolution"),
    )
    return requests.ConnectionError(MaxRetryError(None, url, reason))  # type: ignore[arg-type]


def aborted(url: str) -> requests.ConnectionError:
    """The connection dropped after the request went out (what urllib3 reports as aborted)."""
    return requests.ConnectionError(
        urllib3.exceptions.ProtocolError(
            "Connection aborted.", ConnectionResetError(104, "Connection reset by peer")
        )
    )


def bare_aborted(url: str) -> requests.ConnectionError:
    return requests.ConnectionError("Connection aborted.")


def read_timeout(url: str) -> requests.RequestException:
    return requests.ReadTimeout("read timed out")


def connect_timeout(url: str) -> requests.RequestException:
    return requests.ConnectTimeout("connect timed out")


TRANSPORT_FAILURES: list[tuple[Callable[[str], Exception], type[ConnectorError]]] = [
    (connect_timeout, TransientError),
    (refused, TransientError),
    (dns_failure, TransientError),
    (read_timeout, MaybePublished),
    (bare_aborted, MaybePublished),
    (aborted, MaybePublished),
]


def no_secret(exc: BaseException) -> None:
    for token in (X_TOKEN, FB_TOKEN):
        assert token not in str(exc)


def test_the_test_errors_look_like_requests_errors() -> None:
    """The wrapped urllib3 reasons are what ``request_never_sent`` reads, and nothing else."""
    assert request_never_sent(refused(TWEETS))
    assert request_never_sent(dns_failure(TWEETS))
    assert request_never_sent(connect_timeout(TWEETS))
    assert not request_never_sent(read_timeout(TWEETS))
    assert not request_never_sent(bare_aborted(TWEETS))
    assert not request_never_sent(aborted(TWEETS))
    assert not request_never_sent(ValueError("not a transport error"))


# -- X -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("write", X_TWEET_WRITES)
def test_x_duplicate_is_maybe_published(http: Any, write: str) -> None:
    url, call = X_WRITES[write]
    http.post(url, status=403, json=X_DUPLICATE)
    with pytest.raises(MaybePublished, match="reconcile before any retry") as info:
        call(x_connector(dm=True))
    assert "duplicate" in str(info.value)
    no_secret(info.value)


@pytest.mark.parametrize("write", list(X_WRITES))
def test_x_client_forbidden_on_a_write_is_rejected_not_a_permission_error(
    http: Any, write: str
) -> None:
    url, call = X_WRITES[write]
    http.post(url, status=403, json=X_CLIENT_FORBIDDEN)
    with pytest.raises(PublishRejected) as info:
        call(x_connector(dm=True))
    assert info.value.code == 403
    assert "developer App" in str(info.value)
    assert len(str(info.value)) < 400  # X's reason is cut at 300 characters
    no_secret(info.value)


@pytest.mark.parametrize("write", list(X_WRITES))
def test_x_bad_request_on_a_write_is_rejected(http: Any, write: str) -> None:
    url, call = X_WRITES[write]
    http.post(url, status=400, json=X_BAD_REQUEST)
    with pytest.raises(PublishRejected, match="max_results") as info:
        call(x_connector(dm=True))
    assert info.value.code == 400


@pytest.mark.parametrize("status", [500, 502, 503])
@pytest.mark.parametrize("write", list(X_WRITES))
def test_x_server_error_on_a_write_is_maybe_published(http: Any, write: str, status: int) -> None:
    url, call = X_WRITES[write]
    http.post(url, status=status, body="upstream error")
    with pytest.raises(MaybePublished, match=str(status)):
        call(x_connector(dm=True))


@pytest.mark.parametrize(("failure", "expected"), TRANSPORT_FAILURES)
@pytest.mark.parametrize("write", list(X_WRITES))
def test_x_transport_failures_on_a_write(
    http: Any, write: str, failure: Callable[[str], Exception], expected: type[ConnectorError]
) -> None:
    url, call = X_WRITES[write]
    http.post(url, body=failure(url))
    with pytest.raises(ConnectorError) as info:
        call(x_connector(dm=True))
    assert type(info.value) is expected
    if expected is MaybePublished:
        assert "reconcile before any retry" in str(info.value)
    else:
        assert "not sent" in str(info.value)


@pytest.mark.parametrize("write", list(X_WRITES))
def test_x_non_json_answer_to_a_write_is_maybe_published(http: Any, write: str) -> None:
    url, call = X_WRITES[write]
    http.post(url, status=201, body="{not json", content_type="application/json")
    with pytest.raises(MaybePublished, match="not JSON"):
        call(x_connector(dm=True))


@pytest.mark.parametrize("write", list(X_WRITES))
def test_x_accepted_write_without_an_id_is_maybe_published(http: Any, write: str) -> None:
    url, call = X_WRITES[write]
    http.post(url, status=201, json={"data": {}})
    with pytest.raises(MaybePublished):
        call(x_connector(dm=True))


@pytest.mark.parametrize("write", list(X_WRITES))
def test_x_rate_limit_on_a_write_waits_for_the_reset(http: Any, write: str) -> None:
    url, call = X_WRITES[write]
    http.post(
        url,
        status=429,
        json=X_TOO_MANY,
        headers={
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": "1791400000",
        },
    )
    with pytest.raises(RateLimited) as info:
        call(x_connector(dm=True))
    reset = datetime.fromtimestamp(1791400000, tz=UTC)
    assert 1 <= (info.value.until - reset).total_seconds() <= 6


def test_x_expired_token_on_a_write_needs_reconnect(http: Any) -> None:
    http.post(
        TWEETS,
        status=401,
        json={"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "x"},
    )
    with pytest.raises(AuthExpired) as info:
        x_connector().publish("Thanks, on it")
    no_secret(info.value)


def test_x_reason_never_carries_the_token(http: Any) -> None:
    body = {**X_BAD_REQUEST, "errors": [{"message": f"bad header Bearer {X_TOKEN} " + "x" * 400}]}
    http.post(TWEETS, status=400, json=body)
    with pytest.raises(PublishRejected) as info:
        x_connector().publish("Thanks, on it")
    no_secret(info.value)
    assert "[redacted]" in str(info.value)


def test_x_publish_returns_the_new_tweet(http: Any) -> None:
    http.post(
        TWEETS,
        status=201,
        json={
            "data": {
                "id": "1850000000000000003",
                "text": "Thanks, on it",
                "edit_history_tweet_ids": ["1850000000000000003"],
            }
        },
    )
    result = x_connector().publish("Thanks, on it")
    assert (result.external_id, result.thread_external_id) == (
        "1850000000000000003",
        "1850000000000000003",
    )
    assert json.loads(http.calls[0].request.body) == {"text": "Thanks, on it"}


def test_x_dm_success_still_works(http: Any) -> None:
    http.post(
        X_DM,
        status=201,
        json={
            "data": {
                "dm_conversation_id": "783214-2244994945",
                "dm_event_id": "1850000000000000102",
            }
        },
    )
    result = X_WRITES["send_dm"][1](x_connector(dm=True))
    assert (result.external_id, result.thread_external_id) == (
        "1850000000000000102",
        "783214-2244994945",
    )
    assert json.loads(http.calls[0].request.body) == {"text": "On it!"}


@pytest.mark.parametrize("status", [500, 503])
def test_x_reads_keep_server_errors_transient(http: Any, status: int) -> None:
    http.get(MENTIONS, status=status, body="upstream error")
    with pytest.raises(TransientError):
        x_connector().fetch(None)


def test_x_reads_keep_read_timeouts_transient(http: Any) -> None:
    http.get(MENTIONS, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(TransientError, match="in time"):
        x_connector().fetch(None)


def test_x_reads_keep_forbidden_a_permission_error(http: Any) -> None:
    http.get(MENTIONS, status=403, json=X_DUPLICATE)
    with pytest.raises(PermissionDenied):
        x_connector().fetch(None)


# -- Facebook ----------------------------------------------------------------------------------


def graph_error(
    code: int, message: str, subcode: int | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEfGh123",
        **extra,
    }
    if subcode:
        body["error_subcode"] = subcode
    return {"error": body}


WINDOW_MESSAGE = (
    "(#10) This message is sent outside of allowed window. Learn more about the new policy "
    "here: https://developers.facebook.com/docs/messenger-platform/policy-overview"
)


@pytest.mark.parametrize("write", list(FB_WRITES))
def test_fb_duplicate_is_maybe_published(http: Any, write: str) -> None:
    url, call = FB_WRITES[write]
    http.post(url, status=400, json=graph_error(506, "Duplicate status message", 1455006))
    with pytest.raises(MaybePublished, match="reconcile before any retry") as info:
        call(fb_connector(messenger=True))
    assert "506" in str(info.value)


@pytest.mark.parametrize("write", list(FB_WRITES))
def test_fb_policy_block_stops_publishing(http: Any, write: str) -> None:
    url, call = FB_WRITES[write]
    message = (
        "It looks like you were misusing this feature by going too fast. You've been "
        "temporarily blocked from using it."
    )
    http.post(url, status=400, json=graph_error(368, message, 1390008))
    with pytest.raises(PublishRejected) as info:
        call(fb_connector(messenger=True))
    assert info.value.code == 368
    text = str(info.value)
    assert "temporarily blocked" in text
    assert "publishing is stopped for this account" in text


@pytest.mark.parametrize(
    "body",
    [
        graph_error(10, WINDOW_MESSAGE, 2018278),
        graph_error(10, "(#10) Message failed to send", 2018278),
        graph_error(100, "(#100) This message is sent outside of allowed window."),
    ],
)
def test_fb_messenger_outside_the_window_is_rejected(http: Any, body: dict[str, Any]) -> None:
    url, call = FB_WRITES["send_dm"]
    http.post(url, status=400, json=body)
    with pytest.raises(PublishRejected, match="24-hour window") as info:
        call(fb_connector(messenger=True))
    assert info.value.code == body["error"]["code"]


def test_fb_person_unavailable_is_rejected(http: Any) -> None:
    url, call = FB_WRITES["send_dm"]
    http.post(
        url, status=400, json=graph_error(551, "This person isn't available right now.", 1545041)
    )
    with pytest.raises(PublishRejected, match="available right now") as info:
        call(fb_connector(messenger=True))
    assert info.value.code == 551


@pytest.mark.parametrize("write", list(FB_WRITES))
def test_fb_invalid_parameter_is_rejected(http: Any, write: str) -> None:
    url, call = FB_WRITES[write]
    http.post(url, status=400, json=graph_error(100, "(#100) Invalid parameter"))
    with pytest.raises(PublishRejected, match="Invalid parameter") as info:
        call(fb_connector(messenger=True))
    assert info.value.code == 100


@pytest.mark.parametrize(
    "body",
    [
        graph_error(1, "An unknown error occurred"),
        graph_error(
            2,
            "An unexpected error has occurred. Please retry your request later.",
            is_transient=True,
        ),
    ],
)
@pytest.mark.parametrize("write", list(FB_WRITES))
def test_fb_server_error_with_json_is_maybe_published(
    http: Any, write: str, body: dict[str, Any]
) -> None:
    url, call = FB_WRITES[write]
    http.post(url, status=500, json=body)
    with pytest.raises(MaybePublished, match="reconcile before any retry"):
        call(fb_connector(messenger=True))


@pytest.mark.parametrize("write", list(FB_WRITES))
def test_fb_5xx_without_an_error_or_json_is_maybe_published(http: Any, write: str) -> None:
    url, call = FB_WRITES[write]
    http.post(url, status=502, body="<html>Bad gateway</html>", content_type="text/html")
    with pytest.raises(MaybePublished):
        call(fb_connector(messenger=True))
    http.replace(responses.POST, url, status=500, json={"id": "104000000000001_1"})
    with pytest.raises(MaybePublished, match="500"):
        call(fb_connector(messenger=True))


@pytest.mark.parametrize("write", list(FB_WRITES))
def test_fb_throttle_on_a_write_is_rate_limited(http: Any, write: str) -> None:
    url, call = FB_WRITES[write]
    http.post(url, status=400, json=graph_error(4, "(#4) Application request limit reached"))
    with pytest.raises(RateLimited, match="not sent") as info:
        call(fb_connector(messenger=True))
    assert info.value.until > datetime(2026, 10, 8, 12, tzinfo=UTC)


@pytest.mark.parametrize("write", list(FB_WRITES))
def test_fb_expired_token_on_a_write_needs_reconnect(http: Any, write: str) -> None:
    url, call = FB_WRITES[write]
    http.post(url, status=400, json=fb_token_error(190, 463))
    with pytest.raises(AuthExpired) as info:
        call(fb_connector(messenger=True))
    no_secret(info.value)


@pytest.mark.parametrize(("failure", "expected"), TRANSPORT_FAILURES)
@pytest.mark.parametrize("write", list(FB_WRITES))
def test_fb_transport_failures_on_a_write(
    http: Any, write: str, failure: Callable[[str], Exception], expected: type[ConnectorError]
) -> None:
    url, call = FB_WRITES[write]
    http.post(url, body=failure(url))
    with pytest.raises(ConnectorError) as info:
        call(fb_connector(messenger=True))
    assert type(info.value) is expected
    if expected is MaybePublished:
        assert "reconcile before any retry" in str(info.value)
    else:
        assert "not sent" in str(info.value)


@pytest.mark.parametrize("write", list(FB_WRITES))
def test_fb_accepted_write_without_an_id_is_maybe_published(http: Any, write: str) -> None:
    url, call = FB_WRITES[write]
    http.post(url, json={"success": True})
    with pytest.raises(MaybePublished):
        call(fb_connector(messenger=True))


def test_fb_reason_never_carries_the_token(http: Any) -> None:
    message = f"(#100) bad link https://x.example/?access_token={FB_TOKEN}&a=1 {FB_TOKEN} " + (
        "y" * 400
    )
    http.post(FEED, status=400, json=graph_error(100, message))
    with pytest.raises(PublishRejected) as info:
        fb_connector().publish("Autumn sale")
    no_secret(info.value)
    assert "[redacted]" in str(info.value)
    assert len(str(info.value)) < 400


def test_fb_success_payloads_return_the_ids(http: Any) -> None:
    http.post(FEED, json={"id": "104000000000001_205000000000009"})
    http.post(FB_COMMENTS, json={"id": "205000000000001_301000000000010"})
    http.post(
        FB_MESSAGES,
        json={"recipient_id": "6100000000000077", "message_id": "m_AG5Hz2Uq7tuwNEhX"},
    )
    c = fb_connector(messenger=True)
    posted = FB_WRITES["publish"][1](c)
    assert (posted.external_id, posted.thread_external_id) == (
        "104000000000001_205000000000009",
        "104000000000001_205000000000009",
    )
    replied = FB_WRITES["reply"][1](c)
    assert (replied.external_id, replied.thread_external_id) == (
        "205000000000001_301000000000010",
        POST,
    )
    sent = FB_WRITES["send_dm"][1](c)
    assert (sent.external_id, sent.thread_external_id) == ("m_AG5Hz2Uq7tuwNEhX", "t_1029384756")


@pytest.mark.parametrize("write", list(FB_WRITES))
def test_fb_pause_refuses_writes_before_any_http(http: Any, write: str) -> None:
    url, call = FB_WRITES[write]
    buc = {PAGE: [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 7}]}
    http.post(
        url,
        status=400,
        json=graph_error(80001, "(#80001) There have been too many calls to this Page account."),
        headers={"X-Business-Use-Case-Usage": json.dumps(buc)},
    )
    c = fb_connector(messenger=True)
    with pytest.raises(RateLimited):
        call(c)
    with pytest.raises(RateLimited, match="paused until"):
        call(c)
    assert len(http.calls) == 1  # the second write never reached the network


@pytest.mark.parametrize("status", [500, 502])
def test_fb_reads_keep_server_errors_transient(http: Any, status: int) -> None:
    http.get(FEED, status=status, json=graph_error(1, "An unknown error occurred"))
    with pytest.raises(TransientError):
        fb_connector().fetch(None)


def test_fb_reads_keep_timeouts_transient(http: Any) -> None:
    http.get(FEED, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(TransientError, match="in time"):
        fb_connector().fetch(None)
