"""XConnector over HTTP intercepted by `responses`, with payloads as in connectors.md §1."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
import responses
import tweepy
from hypothesis import given
from hypothesis import strategies as st
from responses import matchers

from app.connectors.base import AuthExpired, PermissionDenied, RateLimited, TransientError
from app.connectors.normalize import Malformed
from app.connectors.x import XConnector, normalize_dm, normalize_tweet

API = "https://api.twitter.com/2"
ME = "783214"
MENTIONS = f"{API}/users/{ME}/mentions"
DMS = f"{API}/dm_events"
TOKEN = "SECRET-user-token-abc123"


def tweet(tid: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": tid,
        "text": text,
        "edit_history_tweet_ids": [tid],
        "author_id": "2244994945",
        "conversation_id": "1850000000000000001",
        "created_at": "2026-10-07T22:43:10.000Z",
        **extra,
    }


USERS = {
    "users": [
        {
            "id": "2244994945",
            "name": "Jane Doe",
            "username": "janedoe",
            "public_metrics": {"followers_count": 120},
        }
    ]
}


def page(data: list[dict[str, Any]], newest: str | None = None, next_token: str | None = None):
    meta: dict[str, Any] = {"result_count": len(data)}
    if data:
        meta["newest_id"] = newest or data[0]["id"]
        meta["oldest_id"] = data[-1]["id"]
    if next_token:
        meta["next_token"] = next_token
    body: dict[str, Any] = {"meta": meta}
    if data:
        body["data"] = data
        body["includes"] = USERS
    return body


@pytest.fixture
def http() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def connector(dm: bool = False) -> XConnector:
    client = tweepy.Client(TOKEN, return_type=dict, wait_on_rate_limit=False)
    return XConnector(client, ME, dm_enabled=dm)


def test_first_poll_reads_one_page_and_keeps_newest_id(http: Any) -> None:
    http.get(
        MENTIONS,
        json=page(
            [
                tweet(
                    "1850000000000000002",
                    "@acme my order #123 never arrived",
                    in_reply_to_user_id=ME,
                    referenced_tweets=[{"type": "replied_to", "id": "1850000000000000001"}],
                ),
                tweet("1850000000000000000", "@acme love the bike"),
            ],
            next_token="more",
        ),
    )
    result = connector().fetch(None)
    assert result.cursor == {"mentions_since_id": "1850000000000000002"}
    first, second = result.items
    assert (first.kind, first.direction, first.in_reply_to) == (
        "reply",
        "in",
        "1850000000000000001",
    )
    assert first.created_at == datetime(2026, 10, 7, 22, 43, 10, tzinfo=UTC)
    assert first.permalink == "https://x.com/janedoe/status/1850000000000000002"
    assert (first.author_handle, first.author_name, first.author_followers) == (
        "janedoe",
        "Jane Doe",
        120,
    )
    assert second.kind == "mention"
    assert first.thread_external_id == "1850000000000000001"
    sent = http.calls[0].request
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "since_id" not in sent.url


def test_later_polls_follow_next_token_with_the_same_since_id(http: Any) -> None:
    http.get(
        MENTIONS,
        match=[
            matchers.query_param_matcher(
                {"since_id": "100", "max_results": "100"}, strict_match=False
            )
        ],
        json=page([tweet("300", "@acme a"), tweet("250", "@acme b")], next_token="p2"),
    )
    http.get(
        MENTIONS,
        match=[
            matchers.query_param_matcher(
                {"since_id": "100", "pagination_token": "p2"}, strict_match=False
            )
        ],
        json=page([tweet("200", "@acme c")], newest="200"),
    )
    result = connector().fetch({"mentions_since_id": "100"})
    assert [i.external_id for i in result.items] == ["300", "250", "200"]
    assert result.cursor["mentions_since_id"] == "300"  # the first page's newest_id


def test_an_empty_poll_keeps_the_cursor(http: Any) -> None:
    http.get(MENTIONS, json={"meta": {"result_count": 0}})
    result = connector().fetch({"mentions_since_id": "100"})
    assert result.items == ()
    assert result.cursor == {"mentions_since_id": "100"}


def test_malformed_items_are_skipped_and_the_rest_kept(http: Any) -> None:
    http.get(
        MENTIONS,
        json={
            "data": [
                tweet("11", "@acme fine"),
                {"id": "12", "text": "no time"},
                {"text": "no id", "created_at": "2026-10-07T22:43:10.000Z"},
                "not even an object",
                tweet("13", "@acme also fine"),
            ],
            "errors": [
                {"detail": "Could not find tweet with ids: [1].", "title": "Not Found Error"}
            ],
            "meta": {"newest_id": "13", "result_count": 5},
        },
    )
    result = connector().fetch(None)
    assert [i.external_id for i in result.items] == ["11", "13"]
    assert result.skipped == 3


def test_own_tweets_are_outbound(http: Any) -> None:
    http.get(
        MENTIONS,
        json=page(
            [
                tweet(
                    "9",
                    "Thanks, on it",
                    author_id=ME,
                    referenced_tweets=[{"type": "replied_to", "id": "8"}],
                )
            ]
        ),
    )
    [item] = connector().fetch(None).items
    assert (item.direction, item.kind) == ("out", "reply")


def test_direct_messages_page_until_a_known_event(http: Any) -> None:
    http.get(MENTIONS, json={"meta": {"result_count": 0}})
    http.get(
        DMS,
        json={
            "data": [
                {
                    "id": "1850000000000000105",
                    "event_type": "MessageCreate",
                    "text": "Hi, can you check my order?",
                    "sender_id": "2244994945",
                    "dm_conversation_id": "783214-2244994945",
                    "created_at": "2026-10-07T22:50:00.000Z",
                },
                {
                    "id": "1850000000000000104",
                    "event_type": "MessageCreate",
                    "text": "Sure, what's the number?",
                    "sender_id": ME,
                    "dm_conversation_id": "783214-2244994945",
                    "created_at": "2026-10-07T22:49:00.000Z",
                },
                {"id": "1850000000000000103", "event_type": "ParticipantsJoin"},
                {
                    "id": "1850000000000000101",
                    "event_type": "MessageCreate",
                    "text": "old",
                    "sender_id": "2244994945",
                    "dm_conversation_id": "783214-2244994945",
                    "created_at": "2026-10-07T22:40:00.000Z",
                },
            ],
            "includes": {
                "users": [{"id": "2244994945", "name": "Jane Doe", "username": "janedoe"}]
            },
            "meta": {"result_count": 4, "next_token": "18LAA5G1SL0NR5OG0G00ZZZZ"},
        },
    )
    result = connector(dm=True).fetch(
        {"mentions_since_id": "1", "dm_max_id": "1850000000000000101"}
    )
    assert [(i.external_id, i.direction) for i in result.items] == [
        ("1850000000000000105", "in"),
        ("1850000000000000104", "out"),
    ]
    assert result.items[0].thread_external_id == "783214-2244994945"
    assert result.cursor["dm_max_id"] == "1850000000000000105"
    assert len(http.calls) == 2  # stopped at the known event despite next_token


def test_a_plan_without_dms_skips_that_stream_only(http: Any) -> None:
    http.get(MENTIONS, json=page([tweet("5", "@acme hi")]))
    http.get(
        DMS,
        status=403,
        json={
            "title": "Client Forbidden",
            "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project.",
            "reason": "client-not-enrolled",
            "type": "https://api.twitter.com/2/problems/client-forbidden",
        },
    )
    result = connector(dm=True).fetch(None)
    assert [i.external_id for i in result.items] == ["5"]
    assert result.warnings
    assert "direct messages skipped" in result.warnings[0]


def test_a_refused_dm_stream_is_tried_again_a_day_later(http: Any) -> None:
    from datetime import UTC, datetime, timedelta

    http.get(MENTIONS, json=page([]))
    http.get(DMS, status=403, json={"title": "Forbidden", "status": 403, "detail": "no DMs"})
    now = [datetime(2026, 11, 23, 9, tzinfo=UTC)]
    client = tweepy.Client(TOKEN, return_type=dict, wait_on_rate_limit=False)
    x = XConnector(client, ME, dm_enabled=True, now=lambda: now[0])
    first = x.fetch(None)
    assert first.cursor["dm_paused_until"] == int((now[0] + timedelta(hours=24)).timestamp())
    http.calls.reset()
    x.fetch(first.cursor)
    assert [c.request.url.split("?")[0] for c in http.calls] == [MENTIONS]  # DMs not asked
    now[0] += timedelta(hours=24, seconds=1)
    http.calls.reset()
    x.fetch(first.cursor)
    assert [c.request.url.split("?")[0] for c in http.calls] == [MENTIONS, DMS]


def test_rate_limit_waits_for_the_reset_header(http: Any) -> None:
    http.get(
        MENTIONS,
        status=429,
        json={
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        },
        headers={
            "x-rate-limit-limit": "10",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": "1791400000",
        },
    )
    with pytest.raises(RateLimited) as info:
        connector().fetch({"mentions_since_id": "1"})
    reset = datetime.fromtimestamp(1791400000, tz=UTC)
    assert (
        reset < info.value.until <= reset.replace(second=reset.second) + (info.value.until - reset)
    )
    assert 1 <= (info.value.until - reset).total_seconds() <= 6


def test_expired_token_needs_reconnect_and_no_token_in_the_message(http: Any) -> None:
    http.get(
        MENTIONS,
        status=401,
        json={
            "title": "Unauthorized",
            "type": "about:blank",
            "status": 401,
            "detail": "Unauthorized",
        },
    )
    with pytest.raises(AuthExpired) as info:
        connector().fetch(None)
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(http: Any, status: int) -> None:
    http.get(MENTIONS, status=status, body="upstream error")
    with pytest.raises(TransientError):
        connector().fetch(None)


def test_timeouts_and_malformed_json_are_transient(http: Any) -> None:
    import requests

    http.get(MENTIONS, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(TransientError, match="in time"):
        connector().fetch(None)
    http.replace(responses.GET, MENTIONS, body="{not json", content_type="application/json")
    with pytest.raises(TransientError, match="not JSON"):
        connector().fetch(None)


def test_forbidden_mentions_is_a_permission_error(http: Any) -> None:
    http.get(
        MENTIONS,
        status=403,
        json={"title": "Forbidden", "detail": "Forbidden", "type": "about:blank", "status": 403},
    )
    with pytest.raises(PermissionDenied):
        connector().fetch(None)


def test_reply_sends_the_documented_body(http: Any) -> None:
    http.post(
        f"{API}/tweets",
        status=201,
        json={
            "data": {
                "id": "1850000000000000003",
                "text": "Thanks, on it",
                "edit_history_tweet_ids": ["1850000000000000003"],
            }
        },
    )
    result = connector().reply(
        "Thanks, on it", in_reply_to="1850000000000000002", thread_external_id="1850000000000000001"
    )
    assert result.external_id == "1850000000000000003"
    assert json.loads(http.calls[0].request.body) == {
        "reply": {"in_reply_to_tweet_id": "1850000000000000002"},
        "text": "Thanks, on it",
    }


def test_send_dm(http: Any) -> None:
    http.post(
        f"{API}/dm_conversations/with/2244994945/messages",
        status=201,
        json={
            "data": {
                "dm_conversation_id": "783214-2244994945",
                "dm_event_id": "1850000000000000102",
            }
        },
    )
    result = connector(dm=True).send_dm(
        "On it!", thread_external_id="783214-2244994945", recipient_id="2244994945"
    )
    assert (result.external_id, result.thread_external_id) == (
        "1850000000000000102",
        "783214-2244994945",
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
tweetish = st.dictionaries(
    st.sampled_from(
        [
            "id",
            "text",
            "created_at",
            "author_id",
            "conversation_id",
            "referenced_tweets",
            "in_reply_to_user_id",
            "event_type",
            "sender_id",
            "dm_conversation_id",
        ]
    ),
    json_values | st.sampled_from(["2026-10-07T22:43:10.000Z", "MessageCreate", ME]),
)


@given(
    item=tweetish | json_values,
    users=st.dictionaries(
        st.text(max_size=5),
        st.dictionaries(st.text(max_size=8), json_values, max_size=3),
        max_size=3,
    ),
)
def test_normalizers_only_ever_raise_malformed(item: Any, users: Any) -> None:
    for normalize in (normalize_tweet, normalize_dm):
        with contextlib.suppress(Malformed):
            normalize(item, users, ME)
