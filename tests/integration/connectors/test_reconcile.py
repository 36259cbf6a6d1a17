"""``find_published``: after a ``MaybePublished``, ask the network whether the write went out.

connectors.md §5 "Writes": never retry a write that may have reached the server; reconcile
first (X: the account's tweets since the draft was created, matched on text; Facebook: the feed
or the comment thread; Messenger: the conversation's latest messages). Payloads are shaped as in
connectors.md §1.4, §1.6, §1.7, §2.4, §2.5 and §2.7.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses
from hypothesis import assume, given
from hypothesis import strategies as st
from responses import matchers

from app.connectors.base import (
    AuthExpired,
    Connector,
    PublishResult,
    RateLimited,
    normalize_text,
    texts_match,
)
from app.connectors.sandbox import SandboxConnector
from app.connectors.x import RECONCILE_MAX_PAGES, TWEET_FIELDS, x_texts_match
from tests.integration.connectors.test_facebook import FEED, PAGE, POST, G
from tests.integration.connectors.test_facebook import TOKEN as FB_TOKEN
from tests.integration.connectors.test_facebook import connector as fb_connector
from tests.integration.connectors.test_facebook import error as fb_error
from tests.integration.connectors.test_x import API, ME
from tests.integration.connectors.test_x import TOKEN as X_TOKEN
from tests.integration.connectors.test_x import connector as x_connector

# The draft was created half a second into 22:40:00; networks report whole seconds.
SINCE = datetime(2026, 10, 7, 22, 40, 0, 500_000, tzinfo=UTC)
X_TIMELINE = f"{API}/users/{ME}/tweets"
X_CONVERSATION = "783214-2244994945"
X_DM_EVENTS = f"{API}/dm_conversations/{X_CONVERSATION}/dm_events"
JANE = "2244994945"
REPLIED_TO = "1850000000000000002"
THREAD_ROOT = "1850000000000000001"

FB_COMMENT = "205000000000001_301000000000002"
FB_COMMENTS = f"{G}/{FB_COMMENT}/comments"
FB_THREAD = "t_1029384756"
FB_VISITOR = {"name": "Jane Doe", "id": "6100000000000077"}
FB_ACME = {"name": "Acme", "id": PAGE}


@pytest.fixture
def http() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


# -- X -----------------------------------------------------------------------------------------


def own_tweet(tid: str, text: str, created_at: str = "2026-10-07T22:41:00.000Z", **extra: Any):
    """A tweet by the account, as ``GET /2/users/{id}/tweets`` returns it."""
    return {
        "id": tid,
        "text": text,
        "edit_history_tweet_ids": [tid],
        "author_id": ME,
        "conversation_id": tid,
        "created_at": created_at,
        **extra,
    }


def own_reply(tid: str, text: str, to: str = REPLIED_TO, **extra: Any) -> dict[str, Any]:
    return own_tweet(
        tid,
        text,
        conversation_id=THREAD_ROOT,
        in_reply_to_user_id=JANE,
        referenced_tweets=[{"type": "replied_to", "id": to}],
        **extra,
    )


def timeline(data: list[dict[str, Any]], next_token: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"result_count": len(data)}
    if data:
        meta["newest_id"] = data[0]["id"]
        meta["oldest_id"] = data[-1]["id"]
    if next_token:
        meta["next_token"] = next_token
    return {"data": data, "meta": meta} if data else {"meta": meta}


def timeline_query(**extra: str) -> Any:
    return matchers.query_param_matcher(
        {
            "start_time": "2026-10-07T22:40:00Z",
            "max_results": "100",
            "tweet.fields": ",".join(TWEET_FIELDS),
            **extra,
        }
    )


def dm_event(eid: str, text: str, sender: str = ME, at: str = "2026-10-07T22:41:00.000Z"):
    return {
        "id": eid,
        "event_type": "MessageCreate",
        "text": text,
        "sender_id": sender,
        "dm_conversation_id": X_CONVERSATION,
        "created_at": at,
    }


def test_x_post_found_although_x_rewrote_its_link_to_t_co(http: Any) -> None:
    http.get(
        X_TIMELINE,
        match=[timeline_query()],
        json=timeline(
            [
                # The same words as a reply elsewhere: not the post.
                own_reply("1850000000000000011", "Autumn sale starts now https://t.co/zzz"),
                own_tweet("1850000000000000010", "Autumn sale starts now https://t.co/abc"),
                own_tweet("1850000000000000009", "Something else entirely"),
            ]
        ),
    )
    found = x_connector().find_published(
        "  Autumn sale starts now https://example.com/sale?utm=1 \n", since=SINCE
    )
    assert found == PublishResult(
        external_id="1850000000000000010",
        thread_external_id="1850000000000000010",
        permalink="https://x.com/i/web/status/1850000000000000010",
    )
    assert http.calls[0].request.headers["Authorization"] == f"Bearer {X_TOKEN}"


def test_x_post_found_with_the_ampersand_x_escapes_as_html(http: Any) -> None:
    http.get(
        X_TIMELINE, json=timeline([own_tweet("1850000000000000010", "Fish &amp; chips &lt;3")])
    )
    found = x_connector().find_published("Fish & chips <3", since=SINCE)
    assert found is not None
    assert found.external_id == "1850000000000000010"


def test_x_reply_found_only_with_the_right_in_reply_to(http: Any) -> None:
    http.get(
        X_TIMELINE,
        match=[timeline_query()],
        json=timeline(
            [
                # X puts the replied-to handle in front of a reply's text.
                own_reply("1850000000000000003", "@janedoe Thanks, on it"),
                own_tweet("1850000000000000004", "Thanks, on it"),
            ]
        ),
    )
    c = x_connector()
    found = c.find_published("Thanks, on it", since=SINCE, in_reply_to=REPLIED_TO, kind="reply")
    assert found == PublishResult(
        external_id="1850000000000000003",
        thread_external_id=THREAD_ROOT,
        permalink="https://x.com/i/web/status/1850000000000000003",
    )
    other = c.find_published(
        "Thanks, on it", since=SINCE, in_reply_to="1850000000000000099", kind="reply"
    )
    assert other is None
    assert len(http.calls) == 2


def test_x_not_found_is_none(http: Any) -> None:
    http.get(
        X_TIMELINE,
        match=[timeline_query()],
        json=timeline([own_tweet("1850000000000000010", "Autumn sale starts Monday")]),
    )
    http.get(X_TIMELINE, match=[timeline_query()], json={"meta": {"result_count": 0}})
    c = x_connector()
    assert c.find_published("Autumn sale starts now", since=SINCE) is None
    assert c.find_published("Autumn sale starts now", since=SINCE) is None


def test_x_tweets_older_than_since_are_ignored(http: Any) -> None:
    http.get(
        X_TIMELINE,
        json=timeline(
            [
                own_tweet("1850000000000000010", "Thanks!", created_at="2026-10-07T22:39:59.000Z"),
                # Written in the draft's own second: X's whole seconds count as at or after.
                own_tweet("1850000000000000011", "On it!", created_at="2026-10-07T22:40:00.000Z"),
            ]
        ),
    )
    c = x_connector()
    assert c.find_published("Thanks!", since=SINCE) is None
    found = c.find_published("On it!", since=SINCE)
    assert found is not None
    assert found.external_id == "1850000000000000011"


def test_x_paging_follows_next_token(http: Any) -> None:
    http.get(
        X_TIMELINE,
        match=[timeline_query(pagination_token="7140dibdnow9c7btw423i3sy3u5zupmkcpofxcsmxj48j")],
        json=timeline([own_tweet("1850000000000000010", "Autumn sale")]),
    )
    http.get(
        X_TIMELINE,
        match=[timeline_query()],
        json=timeline(
            [own_tweet("1850000000000000020", "Newer news")],
            next_token="7140dibdnow9c7btw423i3sy3u5zupmkcpofxcsmxj48j",
        ),
    )
    found = x_connector().find_published("Autumn sale", since=SINCE)
    assert found is not None
    assert found.external_id == "1850000000000000010"
    assert len(http.calls) == 2


def test_x_paging_stops_after_a_few_pages(http: Any) -> None:
    http.get(
        X_TIMELINE,
        json=timeline([own_tweet("1850000000000000020", "Newer news")], next_token="more"),
    )
    assert x_connector().find_published("Autumn sale", since=SINCE) is None
    assert len(http.calls) == RECONCILE_MAX_PAGES


def test_x_dm_found_in_its_conversation_by_sender_and_time(http: Any) -> None:
    http.get(
        X_DM_EVENTS,
        match=[
            matchers.query_param_matcher(
                {"event_types": "MessageCreate", "max_results": "100"}, strict_match=False
            )
        ],
        json={
            "data": [
                dm_event("1850000000000000106", "On it!", sender=JANE),  # echoed back by Jane
                dm_event("1850000000000000105", "On it!"),
                dm_event("1850000000000000104", "On it!", at="2026-10-07T22:30:00.000Z"),
            ],
            "meta": {"result_count": 3, "next_token": "18LAA5G1SL0NR5OG0G00ZZZZ"},
        },
    )
    c = x_connector(dm=True)
    found = c.find_published("On it!", since=SINCE, thread_external_id=X_CONVERSATION, kind="dm")
    assert found == PublishResult(
        external_id="1850000000000000105", thread_external_id=X_CONVERSATION
    )
    assert "dm_conversation_id" in http.calls[0].request.params["dm_event.fields"]

    later = SINCE + timedelta(minutes=5)  # only the older copies are left: not this draft's
    assert (
        c.find_published("On it!", since=later, thread_external_id=X_CONVERSATION, kind="dm")
        is None
    )
    assert len(http.calls) == 2  # an event older than since ends paging despite next_token


def test_x_dm_only_in_the_given_conversation(http: Any) -> None:
    other = "783214-9999999"
    http.get(
        f"{API}/dm_conversations/{other}/dm_events",
        json={"data": [], "meta": {"result_count": 0}},
    )
    found = x_connector(dm=True).find_published(
        "On it!", since=SINCE, thread_external_id=other, kind="dm"
    )
    assert found is None


def test_x_rate_limit_is_rate_limited(http: Any) -> None:
    http.get(
        X_TIMELINE,
        status=429,
        json={
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        },
        headers={
            "x-rate-limit-limit": "900",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": "1791400000",
        },
    )
    with pytest.raises(RateLimited) as info:
        x_connector().find_published("Autumn sale", since=SINCE)
    assert info.value.until > datetime.fromtimestamp(1791400000, tz=UTC)
    assert X_TOKEN not in str(info.value)


def test_x_expired_token_is_auth_expired(http: Any) -> None:
    http.get(
        X_TIMELINE,
        status=401,
        json={
            "title": "Unauthorized",
            "type": "about:blank",
            "status": 401,
            "detail": "Unauthorized",
        },
    )
    with pytest.raises(AuthExpired) as info:
        x_connector().find_published("Thanks", since=SINCE, in_reply_to=REPLIED_TO, kind="reply")
    assert X_TOKEN not in str(info.value)


def test_x_dm_rate_limit_is_rate_limited(http: Any) -> None:
    http.get(
        X_DM_EVENTS,
        status=429,
        json={
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        },
    )
    with pytest.raises(RateLimited):
        x_connector(dm=True).find_published(
            "On it!", since=SINCE, thread_external_id=X_CONVERSATION, kind="dm"
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "dm"},
        {"kind": "dm", "thread_external_id": "../../2/tweets"},
        {"kind": "reply"},
        {"kind": "quote"},
    ],
)
def test_x_arguments_that_describe_no_write_ask_nothing(http: Any, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"kind|in_reply_to|thread_external_id"):
        x_connector(dm=True).find_published("On it!", since=SINCE, **kwargs)
    assert len(http.calls) == 0


# -- Facebook ----------------------------------------------------------------------------------

FB_SINCE_PARAM = str(int(SINCE.timestamp()) - 300)


def fb_item(iid: str, message: str, author: dict[str, str] | None, at: str, **extra: Any):
    item: dict[str, Any] = {"id": iid, "message": message, "created_time": at, **extra}
    if author is not None:
        item["from"] = author
    return item


def test_facebook_post_found_in_the_feed_from_the_page_only(http: Any) -> None:
    http.get(
        FEED,
        match=[
            matchers.query_param_matcher(
                {
                    "access_token": FB_TOKEN,
                    "fields": "id,message,created_time,from",
                    "since": FB_SINCE_PARAM,
                },
                strict_match=False,
            )
        ],
        json={
            "data": [
                # A visitor's post with the same text is not the Page's post.
                fb_item(
                    "104000000000001_205000000000011",
                    "Autumn sale",
                    FB_VISITOR,
                    "2026-10-07T22:42:00+0000",
                ),
                fb_item(
                    "104000000000001_205000000000010",
                    "Autumn sale",
                    FB_ACME,
                    "2026-10-07T22:41:00+0000",
                ),
            ],
            "paging": {"cursors": {"before": "QVFIUmx1WTBp", "after": "QVFIUkZAQbXFU"}},
        },
    )
    found = fb_connector().find_published("Autumn sale", since=SINCE)
    assert found == PublishResult(
        external_id="104000000000001_205000000000010",
        thread_external_id="104000000000001_205000000000010",
    )


def test_facebook_visitor_post_with_the_same_text_is_not_a_match(http: Any) -> None:
    http.get(
        FEED,
        json={
            "data": [
                fb_item(
                    "104000000000001_205000000000011",
                    "Autumn sale",
                    FB_VISITOR,
                    "2026-10-07T22:42:00+0000",
                ),
                fb_item(  # the Page's own, but from before the draft
                    "104000000000001_205000000000001",
                    "Autumn sale",
                    FB_ACME,
                    "2026-10-07T22:38:00+0000",
                ),
            ],
            "paging": {"cursors": {"before": "a", "after": "b"}},
        },
    )
    assert fb_connector().find_published("Autumn sale", since=SINCE) is None


def test_facebook_feed_pages_are_followed_without_the_token(http: Any) -> None:
    http.get(
        FEED,
        match=[matchers.query_param_matcher({"after": "QVFIUkZAQbXFU"}, strict_match=False)],
        json={
            "data": [
                fb_item(
                    "104000000000001_205000000000010",
                    "Autumn sale",
                    FB_ACME,
                    "2026-10-07T22:41:00+0000",
                    permalink_url="https://www.facebook.com/104000000000001/posts/205000000000010",
                )
            ],
            "paging": {"cursors": {"before": "a", "after": "b"}},
        },
    )
    http.get(
        FEED,
        json={
            "data": [],
            "paging": {
                "cursors": {"before": "QVFIUmx1WTBp", "after": "QVFIUkZAQbXFU"},
                "next": f"{G}/{PAGE}/feed?access_token={FB_TOKEN}&limit=25&after=QVFIUkZAQbXFU",
            },
        },
    )
    found = fb_connector().find_published("Autumn sale", since=SINCE)
    assert found is not None
    assert found.permalink == "https://www.facebook.com/104000000000001/posts/205000000000010"
    assert len(http.calls) == 2


def test_facebook_comment_reply_found_in_the_comment_thread(http: Any) -> None:
    http.get(
        FB_COMMENTS,
        match=[
            matchers.query_param_matcher(
                {
                    "filter": "stream",
                    "order": "reverse_chronological",
                    "fields": "id,message,created_time,from,parent{id}",
                },
                strict_match=False,
            )
        ],
        json={
            "data": [
                fb_item(
                    "205000000000001_301000000000011",
                    "Yes we do!",
                    FB_VISITOR,  # Jane quoting the answer back
                    "2026-10-07T22:43:00+0000",
                    parent={"id": FB_COMMENT},
                ),
                fb_item(
                    "205000000000001_301000000000010",
                    "Yes we do!",
                    FB_ACME,
                    "2026-10-07T22:41:00+0000",
                    parent={"id": FB_COMMENT},
                ),
            ],
            "paging": {"cursors": {"before": "MQZDZD", "after": "MQZDZD"}},
        },
    )
    found = fb_connector().find_published(
        "Yes we do!", since=SINCE, in_reply_to=FB_COMMENT, thread_external_id=POST, kind="reply"
    )
    assert found == PublishResult(
        external_id="205000000000001_301000000000010", thread_external_id=POST
    )


def test_facebook_reply_to_another_comment_is_not_a_reply_to_the_post(http: Any) -> None:
    http.get(
        f"{G}/{POST}/comments",
        json={
            "data": [
                fb_item(
                    "205000000000001_301000000000010",
                    "Yes we do!",
                    FB_ACME,
                    "2026-10-07T22:41:00+0000",
                    parent={"id": FB_COMMENT},
                )
            ],
            "paging": {"cursors": {"before": "MQZDZD", "after": "MQZDZD"}},
        },
    )
    found = fb_connector().find_published(
        "Yes we do!", since=SINCE, in_reply_to=POST, thread_external_id=POST, kind="reply"
    )
    assert found is None


def test_facebook_messenger_reply_found_in_the_conversation(http: Any) -> None:
    http.get(
        f"{G}/{FB_THREAD}",
        match=[
            matchers.query_param_matcher(
                {"fields": "messages.limit(20){id,message,from,created_time}"},
                strict_match=False,
            )
        ],
        json={
            "id": FB_THREAD,
            "messages": {
                "data": [
                    fb_item("m_Zz9", "On it!", FB_VISITOR, "2026-10-07T22:52:30+0000"),
                    fb_item("m_AG5Hz2Uq7tuwNEhX", "On it!", FB_ACME, "2026-10-07T22:52:20+0000"),
                    fb_item(
                        "m_AbCdEf123",
                        "Hi, my parcel is late",
                        FB_VISITOR,
                        "2026-10-07T22:39:11+0000",
                    ),
                ],
                "paging": {"cursors": {"before": "QVFIUa", "after": "QVFIUb"}},
            },
        },
    )
    found = fb_connector(messenger=True).find_published(
        "On it!", since=SINCE, thread_external_id=FB_THREAD, kind="dm"
    )
    assert found == PublishResult(external_id="m_AG5Hz2Uq7tuwNEhX", thread_external_id=FB_THREAD)


def test_facebook_not_found_is_none(http: Any) -> None:
    http.get(FEED, json={"data": [], "paging": {"cursors": {"before": "a", "after": "b"}}})
    http.get(
        f"{G}/{FB_THREAD}",
        json={
            "id": FB_THREAD,
            "messages": {
                "data": [fb_item("m_AbCdEf123", "Hi", FB_VISITOR, "2026-10-07T22:52:11+0000")]
            },
        },
    )
    c = fb_connector(messenger=True)
    assert c.find_published("Autumn sale", since=SINCE) is None
    assert c.find_published("On it!", since=SINCE, thread_external_id=FB_THREAD, kind="dm") is None


def test_facebook_expired_token_is_auth_expired(http: Any) -> None:
    http.get(FB_COMMENTS, status=400, json=fb_error(190, 463))
    with pytest.raises(AuthExpired) as info:
        fb_connector().find_published(
            "Yes we do!", since=SINCE, in_reply_to=FB_COMMENT, kind="reply"
        )
    assert FB_TOKEN not in str(info.value)


def test_facebook_paused_connector_is_rate_limited_without_http(http: Any) -> None:
    http.get(
        FEED,
        json={"data": []},
        headers={
            "X-Business-Use-Case-Usage": json.dumps(
                {PAGE: [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 5}]}
            )
        },
    )
    c = fb_connector()
    assert c.find_published("Autumn sale", since=SINCE) is None
    for kwargs in (
        {},
        {"kind": "reply", "in_reply_to": FB_COMMENT},
        {"kind": "dm", "thread_external_id": FB_THREAD},
    ):
        with pytest.raises(RateLimited):
            c.find_published("Autumn sale", since=SINCE, **kwargs)
    assert len(http.calls) == 1  # refused before any HTTP call


def test_facebook_ids_that_could_change_the_path_ask_nothing(http: Any) -> None:
    with pytest.raises(ValueError, match="not a Facebook object id"):
        fb_connector().find_published(
            "x", since=SINCE, kind="dm", thread_external_id="t_1/../me?fields=x"
        )
    with pytest.raises(ValueError, match="not a Facebook object id"):
        fb_connector().find_published("x", since=SINCE, kind="reply", in_reply_to="..")
    assert len(http.calls) == 0


# -- Sandbox -----------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = SINCE

    def __call__(self) -> datetime:
        return self.now


def test_sandbox_finds_what_it_published() -> None:
    clock = Clock()
    c = SandboxConnector("acme", "sbx-1", clock=clock)
    assert isinstance(c, Connector)
    post = c.publish("Autumn sale")
    clock.now += timedelta(seconds=5)
    reply = c.reply("On it!", in_reply_to="sbx-acme-3", thread_external_id="sbx-acme-3")
    dm = c.send_dm("On it!", thread_external_id="sbx-acme-4", recipient_id="sbx-u1")

    assert c.find_published(" Autumn sale\n", since=SINCE) == post
    assert c.find_published("On it!", since=SINCE, in_reply_to="sbx-acme-3", kind="reply") == reply
    assert c.find_published("On it!", since=SINCE, thread_external_id="sbx-acme-4", kind="dm") == dm
    assert [w.kind for w in c.published] == ["post", "reply", "dm"]


def test_sandbox_does_not_find_what_it_did_not_publish() -> None:
    clock = Clock()
    c = SandboxConnector("acme", "sbx-1", clock=clock)
    c.publish("Autumn sale")
    c.reply("On it!", in_reply_to="sbx-acme-3", thread_external_id="sbx-acme-3")
    assert c.find_published("Winter sale", since=SINCE) is None
    assert c.find_published("On it!", since=SINCE) is None  # a reply is not a post
    assert c.find_published("On it!", since=SINCE, in_reply_to="sbx-acme-9", kind="reply") is None
    assert c.find_published("Autumn sale", since=SINCE + timedelta(seconds=1)) is None
    assert (
        SandboxConnector("acme", "sbx-1", clock=clock).find_published("Autumn sale", since=SINCE)
        is None
    )


def test_every_connector_has_find_published() -> None:
    assert isinstance(x_connector(), Connector)
    assert isinstance(fb_connector(), Connector)


# -- Text matching -----------------------------------------------------------------------------

WHITESPACE = [chr(c) for c in range(0x3100) if chr(c).isspace()]
surrounding = st.text(st.sampled_from(WHITESPACE), max_size=5)
urls = st.from_regex(r"https?://[A-Za-z0-9./_~?=&%#-]{1,40}", fullmatch=True)
no_url = st.text(max_size=40).filter(lambda s: "://" not in s)


@given(text=st.text(max_size=60), before=surrounding, after=surrounding, x=st.booleans())
def test_a_text_matches_itself_inside_any_surrounding_whitespace(
    text: str, before: str, after: str, x: bool
) -> None:
    assert texts_match(text, before + text + after, urls_rewritten=x)
    assert texts_match(before + text + after, text, urls_rewritten=x)


@given(
    before=no_url,
    after=st.one_of(st.just(""), st.tuples(st.sampled_from(WHITESPACE), no_url).map("".join)),
    first=urls,
    second=urls,
)
def test_x_url_placeholders_make_any_two_urls_equal(
    before: str, after: str, first: str, second: str
) -> None:
    assert texts_match(before + first + after, before + second + after, urls_rewritten=True)
    assert x_texts_match(before + first + after, before + second + after)


@given(a=no_url, b=no_url, x=st.booleans())
def test_different_text_without_urls_never_matches(a: str, b: str, x: bool) -> None:
    assume(normalize_text(a) != normalize_text(b))
    assert not texts_match(a, b, urls_rewritten=x)


def test_a_link_never_matches_plain_text() -> None:
    assert not texts_match("see https://example.com", "see here", urls_rewritten=True)
    assert not texts_match("see https://example.com", "see https://t.co/abc")  # not on X
    assert texts_match("Cafe\u0301", "Café")  # NFC
