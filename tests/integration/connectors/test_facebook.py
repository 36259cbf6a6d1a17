"""FacebookConnector over HTTP intercepted by `responses`, payloads as in connectors.md §2."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import facebook
import pytest
import requests
import responses
from hypothesis import given
from hypothesis import strategies as st
from responses import matchers

from app.connectors.base import AuthExpired, PermissionDenied, RateLimited, TransientError
from app.connectors.facebook import (
    GRAPH_API_VERSION,
    FacebookConnector,
    normalize_comment,
    normalize_messenger,
    normalize_post,
    strip_token,
    usage_percent,
)
from app.connectors.normalize import Malformed

V = GRAPH_API_VERSION
G = f"https://graph.facebook.com/{V}"
PAGE = "104000000000001"
POST = "104000000000001_205000000000001"
FEED = f"{G}/{PAGE}/feed"
CONVERSATIONS = f"{G}/{PAGE}/conversations"
TOKEN = "PAGE-TOKEN-secret-xyz"
NOW = datetime(2026, 10, 8, 12, tzinfo=UTC)


def connector(messenger: bool = False) -> FacebookConnector:
    graph = facebook.GraphAPI(access_token=TOKEN, timeout=30, session=requests.Session())
    return FacebookConnector(graph, PAGE, messenger_enabled=messenger, now=lambda: NOW)


POST_JSON = {
    "id": POST,
    "message": "Our autumn range is here!",
    "created_time": "2026-10-07T09:00:00+0000",
    "updated_time": "2026-10-07T22:41:02+0000",
    "permalink_url": "https://www.facebook.com/104000000000001/posts/205000000000001",
    "from": {"name": "Acme", "id": PAGE},
}
COMMENT = {
    "id": "205000000000001_301000000000002",
    "message": "Do you ship to Canada?",
    "created_time": "2026-10-07T22:41:02+0000",
    "from": {"name": "Jane Doe", "id": "6100000000000042"},
    "permalink_url": "https://www.facebook.com/104000000000001/posts/205000000000001?comment_id=301000000000002",
    "parent": {"id": "205000000000001_301000000000001"},
}


@pytest.fixture
def http() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def test_feed_with_paging_and_comments(http: Any) -> None:
    http.get(
        FEED,
        match=[
            matchers.query_param_matcher({"access_token": TOKEN, "limit": "25"}, strict_match=False)
        ],
        json={
            "data": [POST_JSON],
            "paging": {
                "cursors": {"before": "QVFIUmx1WTBp", "after": "QVFIUkZAQbXFU"},
                "next": f"{G}/{PAGE}/feed?access_token={TOKEN}&limit=25&after=QVFIUkZAQbXFU",
            },
        },
    )
    http.get(
        FEED,
        match=[
            matchers.query_param_matcher(
                {"after": "QVFIUkZAQbXFU", "access_token": TOKEN}, strict_match=False
            )
        ],
        json={"data": [], "paging": {"cursors": {"before": "a", "after": "b"}}},
    )
    http.get(
        f"{G}/{POST}/comments",
        match=[
            matchers.query_param_matcher(
                {"filter": "stream", "order": "reverse_chronological"}, strict_match=False
            )
        ],
        json={
            "data": [
                COMMENT,
                {**COMMENT, "id": "205000000000001_301000000000003", "from": None, "parent": None},
            ],
            "paging": {"cursors": {"before": "MQZDZD", "after": "MQZDZD"}},
        },
        headers={
            "X-App-Usage": json.dumps({"call_count": 28, "total_time": 25, "total_cputime": 25})
        },
    )
    c = connector()
    result = c.fetch(None)
    post, reply, comment = result.items
    assert (post.kind, post.direction, post.thread_external_id) == ("post", "out", POST)
    assert (reply.kind, reply.in_reply_to, reply.direction) == (
        "reply",
        "205000000000001_301000000000001",
        "in",
    )
    assert reply.created_at == datetime(2026, 10, 7, 22, 41, 2, tzinfo=UTC)
    assert (comment.kind, comment.author_external_id, comment.in_reply_to) == (
        "comment",
        None,
        POST,
    )
    assert (
        result.cursor["feed_since"] == int(datetime(2026, 10, 7, 9, tzinfo=UTC).timestamp()) - 300
    )
    assert result.cursor["comment_watermarks"] == {POST: int(reply.created_at.timestamp())}
    assert usage_percent(c.usage) == 28
    # The token went out as a query parameter, never into what we keep.
    assert all(TOKEN not in json.dumps(dict(i.raw)) for i in result.items)


def test_second_poll_reads_only_new_comments(http: Any) -> None:
    seen = int(datetime(2026, 10, 7, 22, 41, 2, tzinfo=UTC).timestamp())
    http.get(FEED, json={"data": []})
    http.get(
        f"{G}/{POST}/comments",
        json={
            "data": [
                {**COMMENT, "id": "c-new", "created_time": "2026-10-08T08:00:00+0000"},
                COMMENT,
            ]
        },
    )
    result = connector().fetch({"feed_since": 1, "comment_watermarks": {POST: seen}})
    assert [i.external_id for i in result.items] == ["c-new"]


def test_messenger_stops_at_the_watermark(http: Any) -> None:
    http.get(FEED, json={"data": []})
    http.get(
        CONVERSATIONS,
        match=[matchers.query_param_matcher({"platform": "messenger"}, strict_match=False)],
        json={
            "data": [
                {
                    "id": "t_1029384756",
                    "updated_time": "2026-10-07T22:52:11+0000",
                    "participants": {
                        "data": [
                            {"name": "Jane Doe", "id": "6100000000000077"},
                            {"name": "Acme", "id": PAGE},
                        ]
                    },
                    "messages": {
                        "data": [
                            {
                                "id": "m_AbCdEf123",
                                "message": "Hi, my parcel is late",
                                "created_time": "2026-10-07T22:52:11+0000",
                                "from": {
                                    "name": "Jane Doe",
                                    "email": "6100000000000077@facebook.com",
                                    "id": "6100000000000077",
                                },
                                "to": {"data": [{"name": "Acme", "id": PAGE}]},
                            }
                        ]
                    },
                },
                {
                    "id": "t_old",
                    "updated_time": "2026-10-01T00:00:00+0000",
                    "messages": {"data": []},
                },
            ],
            "paging": {
                "cursors": {"before": "QVFIUc", "after": "QVFIUd"},
                "next": f"{G}/{PAGE}/conversations?access_token={TOKEN}&platform=messenger&limit=25&after=QVFIUd",
            },
        },
    )
    result = connector(messenger=True).fetch(
        {"feed_since": 1, "messenger_since": int(datetime(2026, 10, 5, tzinfo=UTC).timestamp())}
    )
    [dm] = result.items
    assert (dm.kind, dm.thread_external_id, dm.direction, dm.thread_type) == (
        "dm",
        "t_1029384756",
        "in",
        "fb_messenger",
    )
    assert result.cursor["messenger_since"] == int(
        datetime(2026, 10, 7, 22, 52, 11, tzinfo=UTC).timestamp()
    )
    assert len(http.calls) == 2  # the older conversation ended the poll: no second page


def error(code: int, subcode: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message": "Error validating access token: Session has expired on Tuesday, 06-Oct-26 10:00:00 PDT.",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEfGh123",
    }
    if subcode:
        body["error_subcode"] = subcode
    return {"error": body}


@pytest.mark.parametrize(
    ("code", "status", "exc"),
    [
        (190, 400, AuthExpired),
        (102, 400, AuthExpired),
        (4, 400, RateLimited),
        (17, 403, RateLimited),
        (32, 400, RateLimited),
        (80001, 400, RateLimited),
        (10, 403, PermissionDenied),
        (200, 403, PermissionDenied),
        (1, 500, TransientError),
        (2, 503, TransientError),
    ],
)
def test_error_codes_map_to_connector_errors(
    http: Any, code: int, status: int, exc: type[Exception]
) -> None:
    http.get(FEED, status=status, json=error(code, 463 if code == 190 else None))
    with pytest.raises(exc) as info:
        connector().fetch(None)
    assert TOKEN not in str(info.value)


def test_throttle_waits_for_the_business_use_case_estimate(http: Any) -> None:
    http.get(
        FEED,
        status=400,
        json=error(80001),
        headers={
            "X-Business-Use-Case-Usage": json.dumps(
                {
                    PAGE: [
                        {
                            "type": "pages",
                            "call_count": 100,
                            "total_cputime": 1,
                            "total_time": 2,
                            "estimated_time_to_regain_access": 7,
                        }
                    ]
                }
            )
        },
    )
    with pytest.raises(RateLimited) as info:
        connector().fetch(None)
    assert (info.value.until - NOW).total_seconds() == 7 * 60


def test_a_5xx_without_a_json_body_is_transient(http: Any) -> None:
    http.get(FEED, status=502, body="<html>Bad gateway</html>", content_type="text/html")
    with pytest.raises(TransientError):
        connector().fetch(None)


def test_a_5xx_with_a_json_body_is_transient(http: Any) -> None:
    http.get(FEED, status=500, json={"data": []})
    with pytest.raises(TransientError, match="500"):
        connector().fetch(None)


def test_timeouts_are_transient(http: Any) -> None:
    http.get(FEED, body=requests.ConnectTimeout("connect timed out"))
    with pytest.raises(TransientError, match="in time"):
        connector().fetch(None)


def test_messenger_reply_sends_json_string_fields(http: Any) -> None:
    http.post(
        f"{G}/{PAGE}/messages",
        json={"recipient_id": "6100000000000077", "message_id": "m_AG5Hz2Uq7tuwNEhX"},
    )
    result = connector(messenger=True).send_dm(
        "On it!", thread_external_id="t_1029384756", recipient_id="6100000000000077"
    )
    assert result.external_id == "m_AG5Hz2Uq7tuwNEhX"
    form = parse_qs(http.calls[0].request.body)
    assert json.loads(form["recipient"][0]) == {"id": "6100000000000077"}
    assert form["messaging_type"] == ["RESPONSE"]
    assert json.loads(form["message"][0]) == {"text": "On it!"}


def test_comment_reply_and_post(http: Any) -> None:
    http.post(
        f"{G}/205000000000001_301000000000002/comments",
        json={"id": "205000000000001_301000000000010"},
    )
    http.post(FEED, json={"id": "104000000000001_205000000000009"})
    c = connector()
    assert (
        c.reply(
            "Yes we do!", in_reply_to="205000000000001_301000000000002", thread_external_id=POST
        ).external_id
        == "205000000000001_301000000000010"
    )
    assert c.publish("Autumn sale").external_id == "104000000000001_205000000000009"


def test_strip_token() -> None:
    url = f"{G}/{PAGE}/feed?access_token={TOKEN}&limit=25&after=X"
    assert strip_token(url) == f"{G}/{PAGE}/feed?limit=25&after=X"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=15,
)
graphish = st.dictionaries(
    st.sampled_from(["id", "message", "created_time", "from", "parent", "permalink_url"]),
    json_values | st.sampled_from(["2026-10-07T09:00:00+0000", PAGE]),
)


@given(item=graphish | json_values)
def test_normalizers_only_ever_raise_malformed(item: Any) -> None:
    for call in (
        lambda: normalize_post(item, PAGE),
        lambda: normalize_comment(item, POST, PAGE),
        lambda: normalize_messenger(item, "t_1", PAGE),
    ):
        try:
            call()
        except Malformed:
            continue
