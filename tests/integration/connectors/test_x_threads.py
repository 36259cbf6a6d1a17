"""XConnector thread search and rate-limit budget over HTTP intercepted by `responses`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses
import tweepy
from hypothesis import given
from hypothesis import strategies as st
from responses import matchers

from app.connectors.base import AuthExpired, RateLimited, TransientError
from app.connectors.normalize import Malformed
from app.connectors.x import RateBudget, XConnector, normalize_tweet
from tests.integration.connectors.test_x import json_values, tweetish

API = "https://api.twitter.com/2"
ME = "783214"
JANE = "2244994945"
CID = "1850000000000000001"
SEARCH = f"{API}/tweets/search/recent"
MENTIONS = f"{API}/users/{ME}/mentions"
DMS = f"{API}/dm_events"
TOKEN = "SECRET-user-token-abc123"
RESET = 1_795_000_000  # epoch seconds, as in x-rate-limit-reset
RESET_AT = datetime.fromtimestamp(RESET, tz=UTC)
TOO_MANY = {
    "title": "Too Many Requests",
    "detail": "Too Many Requests",
    "type": "about:blank",
    "status": 429,
}


class Clock:
    """The connector's injectable ``now``; tests move it forward."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def tweet(tid: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": tid,
        "text": text,
        "edit_history_tweet_ids": [tid],
        "author_id": JANE,
        "conversation_id": CID,
        "created_at": "2026-10-07T22:43:10.000Z",
        **extra,
    }


USERS = {
    "users": [
        {
            "id": JANE,
            "name": "Jane Doe",
            "username": "janedoe",
            "public_metrics": {"followers_count": 120},
        },
        {"id": ME, "name": "Acme", "username": "acme"},
    ]
}


def page(
    data: list[Any], newest: str | None = None, next_token: str | None = None
) -> dict[str, Any]:
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


def search_params(since_id: str | None = None, next_token: str | None = None) -> dict[str, str]:
    """Every query parameter fetch_thread sends, for a strict match."""
    params = {
        "query": f"conversation_id:{CID}",
        "max_results": "100",
        "sort_order": "recency",
        "tweet.fields": "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,entities,lang",
        "expansions": "author_id,referenced_tweets.id,in_reply_to_user_id",
        "user.fields": "username,name,profile_image_url,public_metrics,verified",
    }
    if since_id:
        params["since_id"] = since_id
    if next_token:
        params["next_token"] = next_token
    return params


def limits(remaining: int, limit: int = 10, reset: int = RESET) -> dict[str, str]:
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(reset),
    }


@pytest.fixture
def http() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def clock() -> Clock:
    return Clock(RESET_AT - timedelta(minutes=10))


def connector(clock: Clock | None = None, dm: bool = False) -> XConnector:
    client = tweepy.Client(TOKEN, return_type=dict, wait_on_rate_limit=False)
    now = clock or Clock(RESET_AT - timedelta(minutes=10))
    return XConnector(client, ME, dm_enabled=dm, now=now)


# -- thread search ---------------------------------------------------------------------------


def test_thread_search_follows_next_token_with_the_same_since_id(http: Any) -> None:
    http.get(
        SEARCH,
        match=[matchers.query_param_matcher(search_params(since_id="100"))],
        json=page(
            [
                tweet("1850000000000000004", "@bob same here"),
                tweet("1850000000000000003", "me too"),
            ],
            next_token="b26v89c19zqg8o3fpzbkk1n2p1mrqbr6zd3xlp0gnvcr5",
        ),
    )
    http.get(
        SEARCH,
        match=[
            matchers.query_param_matcher(
                search_params(
                    since_id="100", next_token="b26v89c19zqg8o3fpzbkk1n2p1mrqbr6zd3xlp0gnvcr5"
                )
            )
        ],
        json=page([tweet("1850000000000000002", "first reply")]),
    )
    result = connector().fetch_thread(CID, since_id="100")
    assert [i.external_id for i in result.items] == [
        "1850000000000000004",
        "1850000000000000003",
        "1850000000000000002",
    ]
    assert result.cursor == {"since_id": "1850000000000000004"}  # the first page's newest_id
    assert (result.skipped, result.warnings) == (0, ())
    assert len(http.calls) == 2
    assert http.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_a_first_thread_search_sends_no_since_id(http: Any) -> None:
    http.get(
        SEARCH,
        match=[matchers.query_param_matcher(search_params())],
        json=page([tweet("1850000000000000002", "first reply")]),
    )
    result = connector().fetch_thread(CID)
    assert result.cursor == {"since_id": "1850000000000000002"}
    assert "since_id" not in http.calls[0].request.url


def test_thread_search_kinds_inbound_is_a_reply_own_is_post_or_reply(http: Any) -> None:
    http.get(
        SEARCH,
        json=page(
            [
                # A third party answering another third party: no mention, no reply to us.
                tweet(
                    "14",
                    "@bob agreed",
                    in_reply_to_user_id="999",
                    referenced_tweets=[{"type": "replied_to", "id": "12"}],
                ),
                tweet(
                    "13",
                    "@acme still waiting",
                    in_reply_to_user_id=ME,
                    referenced_tweets=[{"type": "replied_to", "id": "11"}],
                ),
                tweet(
                    "11",
                    "Thanks, on it",
                    author_id=ME,
                    referenced_tweets=[{"type": "replied_to", "id": CID}],
                ),
                tweet(CID, "Our new bike is out", author_id=ME, conversation_id=CID),
            ]
        ),
    )
    items = {i.external_id: i for i in connector().fetch_thread(CID).items}
    assert (items["14"].kind, items["14"].direction, items["14"].in_reply_to) == (
        "reply",
        "in",
        "12",
    )
    assert (items["13"].kind, items["13"].direction) == ("reply", "in")
    assert (items["11"].kind, items["11"].direction, items["11"].in_reply_to) == (
        "reply",
        "out",
        CID,
    )
    assert (items[CID].kind, items[CID].direction, items[CID].in_reply_to) == ("post", "out", None)
    assert {i.thread_external_id for i in items.values()} == {CID}
    assert items["14"].permalink == "https://x.com/janedoe/status/14"
    assert items["11"].author_handle == "acme"


def test_the_same_tweet_is_a_mention_outside_search() -> None:
    raw = tweet("14", "@acme @bob agreed", in_reply_to_user_id="999")
    users = {u["id"]: u for u in USERS["users"]}
    assert normalize_tweet(raw, users, ME).kind == "mention"
    assert normalize_tweet(raw, users, ME, from_search=True).kind == "reply"


def test_an_empty_thread_search_keeps_the_since_id(http: Any) -> None:
    http.get(
        SEARCH,
        match=[matchers.query_param_matcher(search_params(since_id="1850000000000000004"))],
        json={"meta": {"result_count": 0}},
    )
    result = connector().fetch_thread(CID, since_id="1850000000000000004")
    assert result.items == ()
    assert result.cursor == {"since_id": "1850000000000000004"}


def test_an_empty_first_thread_search_has_no_since_id(http: Any) -> None:
    http.get(SEARCH, json={"meta": {"result_count": 0}})
    assert connector().fetch_thread(CID).cursor == {"since_id": None}


def test_malformed_thread_tweets_are_skipped_and_partial_errors_logged(
    http: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="quiver.connectors.x")
    http.get(
        SEARCH,
        json={
            "data": [
                tweet("21", "fine"),
                {"id": "22", "text": "no time", "edit_history_tweet_ids": ["22"]},
                {"text": "no id", "created_at": "2026-10-07T22:43:10.000Z"},
                "not even an object",
                tweet("23", "also fine"),
            ],
            "includes": USERS,
            "errors": [
                {
                    "value": "1850000000000000000",
                    "detail": "Could not find tweet with ids: [1850000000000000000].",
                    "title": "Not Found Error",
                    "resource_type": "tweet",
                    "parameter": "ids",
                    "resource_id": "1850000000000000000",
                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                }
            ],
            "meta": {"newest_id": "23", "oldest_id": "21", "result_count": 5},
        },
    )
    result = connector().fetch_thread(CID)
    assert [i.external_id for i in result.items] == ["21", "23"]
    assert result.skipped == 3
    assert result.cursor == {"since_id": "23"}
    assert "Could not find tweet with ids" in caplog.text
    assert TOKEN not in caplog.text


def test_a_429_on_search_is_rate_limited_until_the_reset_header(http: Any) -> None:
    http.get(SEARCH, status=429, json=TOO_MANY, headers=limits(remaining=0, limit=300))
    x = connector()
    with pytest.raises(RateLimited) as info:
        x.fetch_thread(CID, since_id="100")
    assert 1 <= (info.value.until - RESET_AT).total_seconds() <= 6
    assert TOKEN not in str(info.value)
    # The budget now holds search: the next call is refused without HTTP.
    with pytest.raises(RateLimited) as again:
        x.fetch_thread(CID, since_id="100")
    assert again.value.until == RESET_AT + timedelta(seconds=1)
    assert len(http.calls) == 1


def test_a_401_on_search_needs_reconnect(http: Any) -> None:
    http.get(
        SEARCH,
        status=401,
        json={
            "title": "Unauthorized",
            "type": "about:blank",
            "status": 401,
            "detail": "Unauthorized",
        },
    )
    with pytest.raises(AuthExpired) as info:
        connector().fetch_thread(CID)
    assert TOKEN not in str(info.value)


def test_other_400s_on_search_are_transient(http: Any) -> None:
    http.get(
        SEARCH,
        status=400,
        json={
            "errors": [
                {
                    "parameters": {"max_results": ["1"]},
                    "message": "The `max_results` query parameter value [1] is not between 10 and 100",
                }
            ],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
    )
    with pytest.raises(TransientError):
        connector().fetch_thread(CID, since_id="100")
    assert len(http.calls) == 1


def test_a_since_id_older_than_the_search_window_is_dropped_once(http: Any) -> None:
    http.get(
        SEARCH,
        status=400,
        match=[matchers.query_param_matcher(search_params(since_id="100"))],
        json={
            "errors": [
                {
                    "parameters": {"since_id": ["100"]},
                    "message": "Invalid 'since_id':'100'. 'since_id' must be a tweet id created after 2026-10-01T00:00Z.",
                }
            ],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
    )
    http.get(
        SEARCH,
        match=[matchers.query_param_matcher(search_params())],
        json=page([tweet("1850000000000000002", "first reply")]),
    )
    result = connector().fetch_thread(CID, since_id="100")
    assert [i.external_id for i in result.items] == ["1850000000000000002"]
    assert result.cursor == {"since_id": "1850000000000000002"}
    assert len(http.calls) == 2


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "abc",
        f"{CID} OR from:acme",
        f"{CID} ",
        "-1",
        "1e9",
        "١٢٣",  # Arabic-Indic digits: str.isdigit() is True, but not a tweet id
        "²",
        "1" * 600,
    ],
)
def test_a_conversation_id_that_is_not_digits_is_refused_before_any_http(
    http: Any, bad: str
) -> None:
    with pytest.raises(ValueError, match="conversation_id"):
        connector().fetch_thread(bad)
    assert len(http.calls) == 0


# -- rate-limit budget -----------------------------------------------------------------------


def dm_page() -> dict[str, Any]:
    return {
        "data": [
            {
                "id": "1850000000000000101",
                "event_type": "MessageCreate",
                "text": "Hi, can you check my order?",
                "sender_id": JANE,
                "dm_conversation_id": f"{ME}-{JANE}",
                "created_at": "2026-10-07T22:50:00.000Z",
            }
        ],
        "includes": {"users": [{"id": JANE, "name": "Jane Doe", "username": "janedoe"}]},
        "meta": {"result_count": 1},
    }


def test_a_low_mentions_budget_skips_mentions_until_reset_while_dms_run(
    http: Any, clock: Clock
) -> None:
    http.get(MENTIONS, json=page([tweet("5", "@acme hi")]), headers=limits(remaining=1, limit=10))
    http.get(DMS, json=dm_page(), headers=limits(remaining=290, limit=300))
    x = connector(clock, dm=True)
    first = x.fetch(None)
    assert [i.external_id for i in first.items] == ["5", "1850000000000000101"]
    assert len(http.calls) == 2

    second = x.fetch(first.cursor)
    assert len(http.calls) == 3  # DMs only
    assert http.calls[2].request.url.startswith(DMS)
    assert len(second.warnings) == 1
    assert "mentions" in second.warnings[0]
    assert TOKEN not in second.warnings[0]
    assert second.cursor["mentions_since_id"] == "5"  # kept for when mentions run again

    clock.at = RESET_AT + timedelta(seconds=1)  # reset + 1 s: calls go out again
    third = x.fetch(second.cursor)
    assert len(http.calls) == 5
    assert http.calls[3].request.url.startswith(MENTIONS)
    assert "since_id=5" in http.calls[3].request.url
    assert third.warnings == ()


def test_the_hold_lasts_until_one_second_after_the_reset(http: Any, clock: Clock) -> None:
    http.get(MENTIONS, json=page([tweet("5", "@acme hi")]), headers=limits(remaining=1))
    x = connector(clock)
    x.fetch(None)
    clock.at = RESET_AT + timedelta(milliseconds=500)
    with pytest.raises(RateLimited):
        x.fetch({"mentions_since_id": "5"})
    assert len(http.calls) == 1


def test_when_every_stream_is_held_fetch_raises_without_http(http: Any, clock: Clock) -> None:
    http.get(MENTIONS, json=page([tweet("5", "@acme hi")]), headers=limits(remaining=0, limit=10))
    http.get(DMS, json=dm_page(), headers=limits(remaining=30, limit=300, reset=RESET - 120))
    x = connector(clock, dm=True)
    cursor = x.fetch(None).cursor
    assert len(http.calls) == 2
    with pytest.raises(RateLimited) as info:
        x.fetch(cursor)
    assert len(http.calls) == 2
    # The earliest reset + 1 s, as an aware UTC datetime.
    assert info.value.until == datetime.fromtimestamp(RESET - 120, tz=UTC) + timedelta(seconds=1)
    assert info.value.until.tzinfo is not None
    assert info.value.until.utcoffset() == timedelta(0)


def test_with_dms_off_a_held_mentions_budget_raises_without_http(http: Any, clock: Clock) -> None:
    http.get(MENTIONS, json=page([tweet("5", "@acme hi")]), headers=limits(remaining=1))
    x = connector(clock)
    x.fetch(None)
    with pytest.raises(RateLimited) as info:
        x.fetch({"mentions_since_id": "5"})
    assert info.value.until == RESET_AT + timedelta(seconds=1)
    assert len(http.calls) == 1


def test_a_held_search_budget_refuses_thread_search_without_http_until_reset(
    http: Any, clock: Clock
) -> None:
    http.get(
        SEARCH,
        json=page([tweet("1850000000000000002", "first reply")]),
        headers=limits(remaining=30, limit=300),
    )
    x = connector(clock)
    cursor = x.fetch_thread(CID).cursor
    with pytest.raises(RateLimited) as info:
        x.fetch_thread(CID, since_id=cursor["since_id"])
    assert info.value.until == RESET_AT + timedelta(seconds=1)
    assert len(http.calls) == 1

    clock.at = RESET_AT + timedelta(seconds=2)
    x.fetch_thread(CID, since_id=cursor["since_id"])
    assert len(http.calls) == 2


def test_a_low_search_budget_stops_paging_and_keeps_the_since_id(http: Any, clock: Clock) -> None:
    http.get(
        SEARCH,
        json=page([tweet("1850000000000000004", "newest")], next_token="p2"),
        headers=limits(remaining=1, limit=10),
    )
    result = connector(clock).fetch_thread(CID, since_id="100")
    assert [i.external_id for i in result.items] == ["1850000000000000004"]
    assert result.cursor == {"since_id": "100"}  # the unread page comes next time
    assert result.warnings
    assert len(http.calls) == 1


def test_families_are_budgeted_apart(http: Any, clock: Clock) -> None:
    http.get(SEARCH, json={"meta": {"result_count": 0}}, headers=limits(remaining=0))
    http.get(MENTIONS, json={"meta": {"result_count": 0}}, headers=limits(remaining=9))
    x = connector(clock)
    x.fetch_thread(CID)
    assert x.fetch(None).warnings == ()
    assert x.held_until("search") == RESET_AT + timedelta(seconds=1)
    assert x.held_until("mentions") is None
    assert len(http.calls) == 2


@pytest.mark.parametrize(
    ("limit", "remaining", "held"),
    [(10, 2, False), (10, 1, True), (10, 0, True), (450, 46, False), (450, 45, True), (5, 1, True)],
)
def test_the_budget_holds_at_ten_percent_or_one_call(
    limit: int, remaining: int, held: bool
) -> None:
    budget = RateBudget(limit=limit, remaining=remaining, reset=RESET_AT)
    before = RESET_AT - timedelta(minutes=1)
    assert (budget.held_until(before) is not None) is held
    assert budget.held_until(RESET_AT + timedelta(seconds=1)) is None


# -- property ----------------------------------------------------------------------------------


@given(
    item=tweetish | json_values,
    users=st.dictionaries(
        st.text(max_size=5),
        st.dictionaries(st.text(max_size=8), json_values, max_size=3),
        max_size=3,
    ),
)
def test_search_normalization_only_ever_raises_malformed(item: Any, users: Any) -> None:
    try:
        result = normalize_tweet(item, users, ME, from_search=True)
    except Malformed:
        return
    if result.direction == "in":
        assert result.kind == "reply"
    else:
        assert (result.direction, result.author_external_id) == ("out", ME)
        assert result.kind in {"reply", "post"}
