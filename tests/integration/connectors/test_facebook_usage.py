"""FacebookConnector's adaptive rules (connectors.md §5) driven by Graph's usage headers (§2.8)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import facebook
import pytest
import requests
import responses
from responses import matchers

import app.connectors.facebook as fb
from app.connectors.base import RateLimited
from app.connectors.facebook import MESSENGER_FIELDS, FacebookConnector
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
    error,
)

COMMENTS = f"{G}/{POST}/comments"
MESSAGES = f"{G}/{PAGE}/messages"

FEED_PAGE = {
    "data": [POST_JSON],
    "paging": {
        "cursors": {"before": "QVFIUmx1WTBp", "after": "QVFIUkZAQbXFU"},
        "next": f"{G}/{PAGE}/feed?access_token={TOKEN}&limit=25&after=QVFIUkZAQbXFU",
    },
}
COMMENTS_PAGE = {"data": [COMMENT], "paging": {"cursors": {"before": "MQZDZD", "after": "MQZDZD"}}}
CONVERSATIONS_PAGE = {
    "data": [
        {
            "id": "t_1029384756",
            "updated_time": "2026-10-07T22:52:11+0000",
            "participants": {
                "data": [
                    {
                        "name": "Jane Doe",
                        "email": "6100000000000077@facebook.com",
                        "id": "6100000000000077",
                    },
                    {"name": "Acme", "email": "104000000000001@facebook.com", "id": PAGE},
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
                        "to": {
                            "data": [
                                {
                                    "name": "Acme",
                                    "email": "104000000000001@facebook.com",
                                    "id": PAGE,
                                }
                            ]
                        },
                    }
                ],
                "paging": {"cursors": {"before": "QVFIUa", "after": "QVFIUb"}},
            },
        }
    ],
    "paging": {
        "cursors": {"before": "QVFIUc", "after": "QVFIUd"},
        "next": f"{G}/{PAGE}/conversations?access_token={TOKEN}&platform=messenger&limit=25&after=QVFIUd",
    },
}


def app_usage(u: int) -> dict[str, str]:
    """An ``X-App-Usage`` header whose highest figure is ``u``."""
    return {"X-App-Usage": json.dumps({"call_count": u, "total_time": 25, "total_cputime": 25})}


def page_usage(u: int) -> dict[str, str]:
    """An ``X-Page-Usage`` header (same format as ``X-App-Usage``) at ``u``."""
    return {"X-Page-Usage": json.dumps({"call_count": 28, "total_time": u, "total_cputime": 25})}


def buc_usage(regain_minutes: int, call_count: int = 3) -> dict[str, str]:
    """An ``X-Business-Use-Case-Usage`` header as in connectors.md §2.8."""
    return {
        "X-Business-Use-Case-Usage": json.dumps(
            {
                PAGE: [
                    {
                        "type": "pages",
                        "call_count": call_count,
                        "total_cputime": 1,
                        "total_time": 2,
                        "estimated_time_to_regain_access": regain_minutes,
                    }
                ]
            }
        )
    }


class Clock:
    """An injectable ``now`` that tests move forward."""

    def __init__(self, start: datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def connector(clock: Clock, messenger: bool = False) -> FacebookConnector:
    graph = facebook.GraphAPI(access_token=TOKEN, timeout=30, session=requests.Session())
    return FacebookConnector(graph, PAGE, messenger_enabled=messenger, now=clock)


def urls(calls: Any) -> list[str]:
    return [call.request.url.split("?")[0] for call in calls]


@pytest.fixture
def http() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def test_regain_estimate_pauses_fetch_without_http(http: Any) -> None:
    clock = Clock()
    http.get(FEED, json={"data": []}, headers=buc_usage(5))
    c = connector(clock)
    c.fetch(None)
    assert len(http.calls) == 1

    with pytest.raises(RateLimited) as info:
        c.fetch({"feed_since": 1})
    assert info.value.until == NOW + timedelta(minutes=5)
    assert c.paused_until == NOW + timedelta(minutes=5)
    assert TOKEN not in str(info.value)
    assert len(http.calls) == 1  # refused before any HTTP call

    clock.advance(minutes=4, seconds=59)
    with pytest.raises(RateLimited):
        c.fetch({"feed_since": 1})
    assert len(http.calls) == 1

    clock.advance(seconds=2)
    http.get(FEED, json={"data": []}, headers=buc_usage(0))
    c.fetch({"feed_since": 1})
    assert len(http.calls) == 2
    assert c.paused_until is None


def test_a_pause_announced_mid_poll_stops_the_remaining_calls(http: Any) -> None:
    clock = Clock()
    http.get(FEED, json={"data": [POST_JSON]}, headers=buc_usage(5, call_count=100))
    with pytest.raises(RateLimited) as info:
        connector(clock).fetch(None)
    assert info.value.until == NOW + timedelta(minutes=5)
    assert urls(http.calls) == [FEED]  # the post's comments were not requested


def test_writes_wait_for_the_pause(http: Any) -> None:
    clock = Clock()
    http.get(FEED, json={"data": []}, headers=buc_usage(5))
    c = connector(clock, messenger=True)
    c.fetch({"feed_since": 1, "messenger_disabled": True})

    with pytest.raises(RateLimited) as info:
        c.publish("Autumn sale")
    assert info.value.until == NOW + timedelta(minutes=5)
    with pytest.raises(RateLimited):
        c.reply("Yes we do!", in_reply_to=COMMENT["id"], thread_external_id=POST)
    with pytest.raises(RateLimited):
        c.send_dm("On it!", thread_external_id="t_1029384756", recipient_id="6100000000000077")
    assert len(http.calls) == 1  # no write went out

    clock.advance(minutes=5)
    http.post(FEED, json={"id": "104000000000001_205000000000009"})
    assert c.publish("Autumn sale").external_id == "104000000000001_205000000000009"
    assert urls(http.calls) == [FEED, FEED]
    assert http.calls[1].request.method == "POST"


@pytest.mark.parametrize(
    ("u", "base", "expected"),
    [
        (10, 120, 120),
        (74, 120, 120),
        (75, 120, 240),
        (80, 120, 240),
        (89, 60, 120),
        (90, 120, 300),
        (95, 120, 300),
        (95, 600, 600),
    ],
)
def test_next_interval_follows_usage(http: Any, u: int, base: float, expected: float) -> None:
    http.get(FEED, json={"data": []}, headers=app_usage(u))
    c = connector(Clock())
    c.fetch({"feed_since": 1})
    assert c.next_interval(base) == expected


def test_next_interval_reads_every_usage_header(http: Any) -> None:
    http.get(FEED, json={"data": []}, headers={**app_usage(10), **page_usage(80)})
    http.get(COMMENTS, json={"data": []}, headers=buc_usage(0, call_count=95))
    c = connector(Clock())
    assert c.next_interval(120) == 120  # nothing read yet
    c.fetch({"feed_since": 1})
    assert c.next_interval(120) == 240
    c.fetch({"feed_since": 1, "comment_watermarks": {POST: 1}})
    assert c.next_interval(120) == 300


def test_high_usage_polls_only_messenger(http: Any) -> None:
    clock = Clock()
    # First poll at low usage: feed (two pages), comments, conversations (two pages).
    http.get(
        FEED,
        match=[matchers.query_param_matcher({"limit": "25"}, strict_match=False)],
        json=FEED_PAGE,
    )
    http.get(
        FEED,
        match=[matchers.query_param_matcher({"after": "QVFIUkZAQbXFU"}, strict_match=False)],
        json={"data": [], "paging": {"cursors": {"before": "a", "after": "b"}}},
    )
    http.get(COMMENTS, json=COMMENTS_PAGE, headers=page_usage(95))
    http.get(
        CONVERSATIONS,
        match=[
            matchers.query_param_matcher(
                {
                    "access_token": TOKEN,
                    "platform": "messenger",
                    "fields": MESSENGER_FIELDS,
                    "limit": "25",
                }
            )
        ],
        json=CONVERSATIONS_PAGE,
    )
    http.get(
        CONVERSATIONS,
        match=[matchers.query_param_matcher({"after": "QVFIUd"}, strict_match=False)],
        json={"data": []},
    )
    c = connector(clock, messenger=True)
    first = c.fetch(None)
    assert urls(http.calls) == [FEED, FEED, COMMENTS, CONVERSATIONS, CONVERSATIONS]
    assert c.next_interval(120) == 300

    # Second poll at 95 %: Messenger only, feed and comment cursors untouched.
    clock.advance(minutes=5)
    newer = json.loads(json.dumps(CONVERSATIONS_PAGE))
    newer["data"][0]["updated_time"] = "2026-10-08T12:04:00+0000"
    newer["data"][0]["messages"]["data"][0].update(
        id="m_New456", created_time="2026-10-08T12:04:00+0000"
    )
    newer["data"].append({**CONVERSATIONS_PAGE["data"][0]})  # older: ends the poll
    http.get(CONVERSATIONS, json=newer, headers=page_usage(95))
    before = len(http.calls)
    second = c.fetch(first.cursor)

    assert urls(http.calls[before:]) == [CONVERSATIONS]
    assert [i.external_id for i in second.items] == ["m_New456"]
    assert second.cursor["feed_since"] == first.cursor["feed_since"]
    assert second.cursor["comment_watermarks"] == first.cursor["comment_watermarks"]
    assert second.cursor["messenger_since"] > first.cursor["messenger_since"]
    assert len(second.warnings) == 1
    assert "95%" in second.warnings[0]
    assert "feed and comments are skipped" in second.warnings[0]
    assert TOKEN not in second.warnings[0]
    assert c.next_interval(120) == 300


@pytest.mark.parametrize(
    ("messenger", "cursor_extra"),
    [(False, {}), (True, {"messenger_disabled": True})],
    ids=["messenger-off", "messenger-not-permitted"],
)
def test_high_usage_without_messenger_returns_nothing(
    http: Any, messenger: bool, cursor_extra: dict[str, Any]
) -> None:
    http.get(FEED, json={"data": []}, headers=app_usage(95))
    c = connector(Clock(), messenger=messenger)
    c.fetch({"feed_since": 1, **cursor_extra})
    assert len(http.calls) == 1

    cursor = {"feed_since": 1, "comment_watermarks": {POST: 7}, **cursor_extra}

    result = c.fetch(dict(cursor))
    assert len(http.calls) == 1  # nothing polled
    assert result.items == ()
    assert result.cursor == cursor
    assert len(result.warnings) == 1
    assert "feed and comments are skipped" in result.warnings[0]


def test_high_usage_and_messenger_permission_missing_warns_twice(http: Any) -> None:
    http.get(FEED, json={"data": []}, headers=app_usage(95))
    http.get(CONVERSATIONS, status=403, json=error(230))
    clock = Clock()
    c = connector(clock, messenger=True)
    c.fetch({"feed_since": 1, "messenger_disabled": True})
    before = len(http.calls)
    result = c.fetch({"feed_since": 1, "comment_watermarks": {POST: 7}})
    assert urls(http.calls[before:]) == [CONVERSATIONS]
    assert result.items == ()
    # Messenger is paused for a day (a granted permission is noticed without a reconnect).
    retry_at = int((clock() + timedelta(hours=24)).timestamp())
    assert result.cursor == {
        "feed_since": 1,
        "comment_watermarks": {POST: 7},
        "messenger_paused_until": retry_at,
    }
    assert len(result.warnings) == 2
    assert result.warnings[1].startswith("Messenger skipped until")
    again = c.fetch(result.cursor)
    assert urls(http.calls[before + 1 :]) == []  # not asked again while paused
    assert again.cursor["messenger_paused_until"] == retry_at


def test_usage_readings_expire(http: Any) -> None:
    clock = Clock()
    http.get(FEED, json={"data": []}, headers=app_usage(95))
    c = connector(clock)
    c.fetch({"feed_since": 1})
    assert c.next_interval(120) == 300
    clock.advance(minutes=16)  # an old reading no longer keeps the feed paused
    assert c.next_interval(120) == 120
    c.fetch({"feed_since": 1})
    assert len(http.calls) == 2


def test_throttle_backoff_grows_with_consecutive_errors(
    http: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    bounds: list[tuple[float, float]] = []

    def top_of_range(a: float, b: float) -> float:
        bounds.append((a, b))
        return b

    monkeypatch.setattr(fb.random, "uniform", top_of_range)
    http.get(FEED, status=400, json=error(4))
    http.get(FEED, status=400, json=error(4))
    http.get(FEED, status=400, json=error(17))
    http.get(FEED, json={"data": []})
    http.get(FEED, status=400, json=error(4))
    c = connector(Clock())
    waits = []
    for _ in range(3):
        with pytest.raises(RateLimited) as info:
            c.fetch(None)
        waits.append((info.value.until - NOW).total_seconds())
    assert waits == [60, 120, 240]
    assert bounds == [(0, 60), (0, 120), (0, 240)]
    assert c.paused_until is None  # a jittered backoff is the scheduler's to honour

    c.fetch(None)  # a success resets the attempt counter
    with pytest.raises(RateLimited) as info:
        c.fetch(None)
    assert (info.value.until - NOW).total_seconds() == 60
    assert len(http.calls) == 5


def test_throttle_backoff_stays_within_the_jitter_bound(http: Any) -> None:
    http.get(FEED, status=400, json=error(4))
    c = connector(Clock())
    for attempt in range(8):
        with pytest.raises(RateLimited) as info:
            c.fetch(None)
        wait = (info.value.until - NOW).total_seconds()
        assert 0 <= wait <= min(3600, 60 * 2**attempt)
        assert TOKEN not in str(info.value)
    assert len(http.calls) == 8


def test_throttle_with_an_estimate_waits_for_it_even_after_backoffs(
    http: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fb.random, "uniform", lambda a, b: b)
    http.get(FEED, status=400, json=error(4))
    http.get(FEED, status=400, json=error(80001), headers=buc_usage(7, call_count=100))
    c = connector(Clock())
    with pytest.raises(RateLimited):
        c.fetch(None)
    with pytest.raises(RateLimited) as info:
        c.fetch(None)
    assert info.value.until == NOW + timedelta(minutes=7)
    assert c.paused_until == NOW + timedelta(minutes=7)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-App-Usage": "{not json"},
        {"X-App-Usage": "[28, 25]"},
        {"X-Page-Usage": '"call_count"'},
        {"X-Page-Usage": '{"call_count": "lots", "total_time": null}'},
        {"X-Business-Use-Case-Usage": '{"104000000000001": [{"type": "pages",'},
        {"X-Business-Use-Case-Usage": '{"104000000000001": "pages"}'},
        {
            "X-Business-Use-Case-Usage": '{"104000000000001": [{"estimated_time_to_regain_access": "soon"}]}'
        },
        {
            "X-Business-Use-Case-Usage": '{"104000000000001": [{"estimated_time_to_regain_access": Infinity}]}'
        },
        {
            "X-Business-Use-Case-Usage": '{"104000000000001": [{"estimated_time_to_regain_access": -5}]}'
        },
    ],
)
def test_malformed_usage_headers_are_ignored(http: Any, headers: dict[str, str]) -> None:
    http.get(FEED, json={"data": []}, headers=headers)
    c = connector(Clock())
    c.fetch({"feed_since": 1})
    c.fetch({"feed_since": 1})  # not paused
    assert len(http.calls) == 2
    assert c.next_interval(120) == 120
    assert c.paused_until is None


@pytest.mark.parametrize("minutes", [10**30, 10**400])
def test_an_absurd_estimate_is_capped(http: Any, minutes: int) -> None:
    http.get(FEED, json={"data": []}, headers=buc_usage(minutes))
    c = connector(Clock())
    c.fetch({"feed_since": 1})
    assert c.paused_until == NOW + timedelta(days=1)
