"""Odd Graph payloads (no id or time, unknown shapes, not JSON) and comments read by post age."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import facebook
import pytest
import requests
import responses

from app.connectors.base import TransientError
from app.connectors.facebook import FacebookConnector
from tests.integration.connectors.test_facebook import (
    COMMENT,
    CONVERSATIONS,
    FEED,
    NOW,
    PAGE,
    POST,
    POST_JSON,
    TOKEN,
    G,
    connector,
)

COMMENTS = f"{G}/{POST}/comments"


@pytest.fixture
def http() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def test_feed_items_without_id_or_time_are_skipped_and_the_rest_kept(http: Any) -> None:
    photo = {  # a photo post: no message at all
        "id": f"{PAGE}_205000000000002",
        "created_time": "2026-10-07T10:00:00+0000",
        "from": {"name": "Jane Doe", "id": "6100000000000042"},
        "permalink_url": "https://www.facebook.com/104000000000001/posts/205000000000002",
    }
    http.get(
        FEED,
        json={
            "data": [
                POST_JSON,
                {**POST_JSON, "id": None},
                {k: v for k, v in POST_JSON.items() if k != "created_time"},
                {**POST_JSON, "id": "x_1", "created_time": "yesterday"},
                "not an object",
                photo,
            ]
        },
    )
    anonymous = {k: v for k, v in COMMENT.items() if k != "from"}  # privacy: no author
    http.get(COMMENTS, json={"data": [anonymous, {"message": "no id"}]})
    http.get(f"{G}/{photo['id']}/comments", json={"data": []})
    result = connector().fetch(None)
    assert [i.external_id for i in result.items] == [POST, photo["id"], COMMENT["id"]]
    assert result.skipped == 5
    by_id = {i.external_id: i for i in result.items}
    assert by_id[photo["id"]].text == ""
    assert by_id[photo["id"]].direction == "in"
    assert by_id[COMMENT["id"]].author_external_id is None
    assert by_id[COMMENT["id"]].kind == "reply"


@pytest.mark.parametrize(
    "body",
    [{"data": {"unexpected": "object"}}, {"data": None}, {}, {"paging": {"next": 7}}],
    ids=["data-object", "data-null", "empty", "odd-paging"],
)
def test_unknown_shapes_bring_nothing_and_raise_nothing(http: Any, body: Any) -> None:
    http.get(FEED, json=body)
    result = connector().fetch({"feed_since": 5})
    assert result.items == ()
    assert result.cursor["feed_since"] == 5


def test_a_200_that_is_not_json_is_transient(http: Any) -> None:
    http.get(FEED, body="{not json", content_type="application/json")
    with pytest.raises(TransientError, match="not JSON"):
        connector().fetch(None)


def test_a_200_without_a_content_type_is_transient(http: Any) -> None:
    http.get(FEED, body=b'{"data": []}', content_type=None)
    with pytest.raises(TransientError):
        connector().fetch(None)


def test_messenger_conversations_without_id_or_time_are_skipped(http: Any) -> None:
    message = {
        "id": "m_AbCdEf123",
        "message": "Hi, my parcel is late",
        "created_time": "2026-10-07T22:52:11+0000",
        "from": {"name": "Jane Doe", "id": "6100000000000077"},
    }
    http.get(FEED, json={"data": []})
    http.get(
        CONVERSATIONS,
        json={
            "data": [
                {"id": "t_1", "updated_time": "2026-10-07T22:52:11+0000",
                 "messages": {"data": [message, {"id": "m_no_time"}, {"message": "no id"}]}},
                {"updated_time": "2026-10-07T22:50:00+0000", "messages": {"data": [message]}},
                {"id": "t_3", "updated_time": "not a time"},
                {"id": "t_4", "updated_time": "2026-10-07T22:40:00+0000", "messages": "odd"},
            ]
        },
    )  # fmt: skip
    result = connector(messenger=True).fetch(None)
    assert [(i.external_id, i.thread_external_id) for i in result.items] == [("m_AbCdEf123", "t_1")]
    assert result.skipped == 4


def _calls(http: Any) -> list[str]:
    urls = [c.request.url.split("?")[0] for c in http.calls]
    http.calls.reset()
    return urls


def test_scheduled_comments_follow_the_age_of_their_post(http: Any) -> None:
    young, old, ancient = f"{PAGE}_1", f"{PAGE}_2", f"{PAGE}_3"
    day = 24 * 3600
    now_s = int(NOW.timestamp())
    cursor = {
        "feed_since": now_s - 60,
        "comment_watermarks": {young: 0, old: 0, ancient: 0},
        "comment_posts": {young: now_s - day, old: now_s - 10 * day, ancient: now_s - 40 * day},
        "comment_checked": {young: now_s - 60, old: now_s - 5 * 60},
    }
    for post in (young, old):
        http.get(f"{G}/{post}/comments", json={"data": []})
    http.get(FEED, json={"data": []})
    c = connector()
    # The feed alone: no comments read.
    feed_only = c.fetch(cursor, streams=["feed"])
    assert _calls(http) == [FEED]
    assert ancient not in feed_only.cursor["comment_watermarks"]  # past 30 days: forgotten
    # Comments: the young post at every turn, the 10-day-old one only every 15 minutes.
    first = c.fetch(feed_only.cursor, streams=["comments"])
    assert _calls(http) == [f"{G}/{young}/comments"]
    assert first.cursor["comment_checked"][young] == now_s
    later = connector_at(NOW + timedelta(minutes=11)).fetch(first.cursor, streams=["comments"])
    assert _calls(http) == [f"{G}/{young}/comments", f"{G}/{old}/comments"]
    assert set(later.cursor["comment_watermarks"]) == {young, old}


def test_a_full_poll_reads_every_recent_post_s_comments(http: Any) -> None:
    now_s = int(NOW.timestamp())
    old = f"{PAGE}_2"
    http.get(FEED, json={"data": []})
    http.get(f"{G}/{old}/comments", json={"data": []})
    cursor = {
        "feed_since": now_s - 60,
        "comment_watermarks": {old: 0},
        "comment_posts": {old: now_s - 10 * 24 * 3600},
        "comment_checked": {old: now_s - 60},
    }
    connector().fetch(cursor)  # no streams given: everything, as connectors.md §6 says
    assert _calls(http) == [FEED, f"{G}/{old}/comments"]


def connector_at(moment: datetime) -> FacebookConnector:
    graph = facebook.GraphAPI(access_token=TOKEN, timeout=30, session=requests.Session())
    return FacebookConnector(graph, PAGE, now=lambda: moment)
