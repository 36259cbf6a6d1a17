"""X (API v2) through ``tweepy.Client``: mentions, DMs, threads in; posts, replies, DMs out."""

from __future__ import annotations

import functools
import html
import logging
import random
import re
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
import tweepy

from app.connectors.base import (
    UNSURE,
    AuthExpired,
    Capabilities,
    FetchResult,
    InboundItem,
    MaybePublished,
    PermissionDenied,
    PublishRejected,
    PublishResult,
    RateLimited,
    TransientError,
    check_find_published_args,
    published_at_or_after,
    safe_reason,
    texts_match,
    write_transport_error,
)
from app.connectors.normalize import (
    Malformed,
    as_dict,
    as_list,
    opt_int,
    opt_str,
    parse_time,
    paused_until,
    poll_optional_stream,
    req_str,
    written_id,
)
from app.domain.polling import poll_floor_s

log = logging.getLogger("quiver.connectors.x")

MAX_PAGES = 8
DM_INTERVAL_S = 120.0
SEARCH_PATH = "/2/tweets/search/recent"
MAX_QUERY_LENGTH = 512  # search query limit (connectors.md §1.5)
TWEET_FIELDS = [
    "created_at",
    "author_id",
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "entities",
    "lang",
]
EXPANSIONS = ["author_id", "referenced_tweets.id", "in_reply_to_user_id"]
USER_FIELDS = ["username", "name", "profile_image_url", "public_metrics", "verified"]
RECONCILE_MAX_PAGES = 5  # pages of the account's timeline or conversation read to reconcile
# The leading @mentions X adds to a reply's text (auto-populated reply metadata).
_LEADING_MENTIONS = re.compile(r"^(?:@\w{1,15}\s+)+")
_DM_CONVERSATION_ID = re.compile(r"\d{1,20}(?:-\d{1,20})?")
DM_FIELDS = [
    "id",
    "event_type",
    "text",
    "sender_id",
    "created_at",
    "dm_conversation_id",
    "participant_ids",
    "attachments",
    "referenced_tweets",
]


@dataclass(frozen=True, slots=True)
class RateBudget:
    """The last ``x-rate-limit-*`` headers seen for one endpoint family (``connectors.md`` §1.9)."""

    limit: int
    remaining: int
    reset: datetime  # aware UTC

    def held_until(self, now: datetime) -> datetime | None:
        """When calls may go out again, or ``None`` when the budget allows a call at ``now``.

        Per ``connectors.md`` §5: with ``remaining <= max(1, 10% of limit)``, the next call waits
        until ``x-rate-limit-reset + 1 s``.
        """
        if self.remaining > max(1, self.limit // 10):
            return None
        until = self.reset + timedelta(seconds=1)
        return until if now < until else None


def endpoint_family(path: str) -> str | None:
    """The rate-limit family of an X API path: ``mentions``, ``dms``, ``search`` or ``None``."""
    if "/mentions" in path:
        return "mentions"
    if "dm_events" in path:
        return "dms"
    if path.rstrip("/") == SEARCH_PATH:
        return "search"
    return None


class _SinceIdTooOld(Exception):  # noqa: N818 - private signal, never leaves the connector
    """Recent search refused a ``since_id`` older than its 7-day window (400 naming it)."""


def _users(payload: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    users: dict[str, dict[str, Any]] = {}
    for user in as_list(as_dict(payload.get("includes")).get("users")):
        u = as_dict(user)
        uid = opt_str(u.get("id"))
        if uid:
            users[uid] = u
    return users


def normalize_tweet(
    tweet: Any,
    users: Mapping[str, Mapping[str, Any]],
    account_user_id: str,
    *,
    from_search: bool = False,
) -> InboundItem:
    """One tweet as an inbound item (``connectors.md`` §3).

    With ``from_search`` (the tweet came from thread search), an inbound tweet is a ``reply``
    even when it does not reply to the account; the account's own tweets stay post/reply.

    Raises:
        Malformed: the tweet has no id, text or time.
    """
    t = as_dict(tweet)
    tweet_id = req_str(t, "id")
    text = t.get("text")
    if not isinstance(text, str):
        raise Malformed("missing text")
    created = parse_time(t.get("created_at"))
    author_id = opt_str(t.get("author_id"))
    replied_to = None
    refs = t.get("referenced_tweets")
    if refs:
        for r in as_list(refs):
            if isinstance(r, dict) and r.get("type") == "replied_to":
                replied_to = opt_str(r.get("id"))
                break
    if author_id == account_user_id:
        direction, kind = "out", ("reply" if replied_to else "post")
    elif from_search or opt_str(t.get("in_reply_to_user_id")) == account_user_id:
        direction, kind = "in", "reply"
    else:
        direction, kind = "in", "mention"
    user = users.get(author_id) if author_id else None
    if not isinstance(user, Mapping):
        user = {}
    username = opt_str(user.get("username"))
    metrics = user.get("public_metrics")
    return InboundItem(
        network="x",
        external_id=tweet_id,
        kind=kind,
        direction=direction,
        text=text,
        created_at=created,
        author_external_id=author_id,
        author_handle=username,
        author_name=opt_str(user.get("name")),
        thread_external_id=opt_str(t.get("conversation_id")) or tweet_id,
        thread_type="x_thread",
        in_reply_to=replied_to,
        permalink=(
            f"https://x.com/{username}/status/{tweet_id}"
            if username
            else f"https://x.com/i/web/status/{tweet_id}"
        ),
        raw=t,
        author_followers=(
            opt_int(metrics.get("followers_count")) if isinstance(metrics, dict) else None
        ),
        language=opt_str(t.get("lang")) or "",
    )


def normalize_dm(
    event: Any, users: Mapping[str, Mapping[str, Any]], account_user_id: str
) -> InboundItem | None:
    """One DM event as an inbound item; ``None`` for events that are not messages.

    Raises:
        Malformed: a message event without id, time, text, sender or conversation.
    """
    e = as_dict(event)
    event_id = req_str(e, "id")
    if e.get("event_type") != "MessageCreate":
        return None
    text = e.get("text")
    if not isinstance(text, str):
        raise Malformed("missing text")
    sender = req_str(e, "sender_id")
    user = as_dict(users.get(sender, {}))
    return InboundItem(
        network="x",
        external_id=event_id,
        kind="dm",
        direction="out" if sender == account_user_id else "in",
        text=text,
        created_at=parse_time(e.get("created_at")),
        author_external_id=sender,
        author_handle=opt_str(user.get("username")),
        author_name=opt_str(user.get("name")),
        thread_external_id=req_str(e, "dm_conversation_id"),
        thread_type="x_dm",
        in_reply_to=None,
        permalink=None,
        raw=e,
    )


class XConnector:
    """An X account, read and written with its OAuth 2.0 user token (``user_auth=False``)."""

    def __init__(
        self,
        client: tweepy.Client,
        account_user_id: str,
        *,
        dm_enabled: bool = True,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = client
        self._me = account_user_id
        self._dm_enabled = dm_enabled
        self._now = now
        self._budgets: dict[str, RateBudget] = {}
        self._budget_lock = threading.Lock()
        session = client.session
        if not isinstance(session.request, functools.partial):
            # tweepy passes no timeout: never let a poll hang (connect 5 s, read 30 s).
            session.request = functools.partial(session.request, timeout=(5, 30))
        session.hooks.setdefault("response", []).append(self._on_response)

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Record the rate-limit headers of every X response, per endpoint family."""
        family = endpoint_family(urlsplit(response.url or "").path)
        if family is None:
            return
        headers = response.headers
        limit = opt_int(headers.get("x-rate-limit-limit"))
        remaining = opt_int(headers.get("x-rate-limit-remaining"))
        reset = opt_int(headers.get("x-rate-limit-reset"))
        if limit is None or remaining is None or reset is None:
            return
        try:
            reset_at = datetime.fromtimestamp(reset, tz=UTC)
        except (OverflowError, OSError, ValueError):
            log.info("unreadable x-rate-limit-reset header for %s", family)
            return
        budget = RateBudget(limit=limit, remaining=remaining, reset=reset_at)
        with self._budget_lock:
            self._budgets[family] = budget
        if budget.held_until(self._now()):
            log.info(
                "X %s budget low (%d of %d left): holding until %s",
                family,
                remaining,
                limit,
                _utc(reset_at + timedelta(seconds=1)),
            )

    def rate_budget(self, family: str) -> RateBudget | None:
        """The last rate-limit headers seen for ``family`` (``mentions``, ``dms``, ``search``)."""
        with self._budget_lock:
            return self._budgets.get(family)

    def held_until(self, family: str) -> datetime | None:
        """Until when ``family`` must not be called (aware UTC), or ``None`` if it may be now."""
        budget = self.rate_budget(family)
        return budget.held_until(self._now()) if budget else None

    def _check_budget(self, family: str, label: str) -> None:
        """Refuse a call to ``family`` while its budget is held (``connectors.md`` §5).

        Raises:
            RateLimited: until the reset, with no HTTP call made.
        """
        held = self.held_until(family)
        if held:
            raise RateLimited(f"X rate-limit budget is low for {label} until {_utc(held)}", held)

    def capabilities(self) -> Capabilities:
        return Capabilities(
            network="x",
            can_post=True,
            can_reply=True,
            can_dm=self._dm_enabled,
            max_text={"post": 280, "reply": 280, "dm": 10_000},
            min_poll_interval_s=poll_floor_s("x"),
        )

    def me(self) -> tuple[str, str, str]:
        """The connected user's id, username and name (``GET /2/users/me``)."""
        payload = self._call(self._client.get_me, user_auth=False, user_fields=["username", "name"])
        data = as_dict(payload.get("data"))
        return req_str(data, "id"), req_str(data, "username"), opt_str(data.get("name")) or ""

    # -- reading ------------------------------------------------------------------------------

    def schedule(self, base_s: float) -> dict[str, float]:
        """Each read stream's interval in seconds (``connectors.md`` §5).

        Mentions on the account's own interval (``base_s``), direct messages every 120 s where
        the plan includes them.
        """
        streams = {"mentions": max(base_s, poll_floor_s("x"))}
        if self._dm_enabled:
            streams["dms"] = DM_INTERVAL_S
        return streams

    def fetch(
        self, cursor: dict[str, Any] | None, *, streams: Collection[str] | None = None
    ) -> FetchResult:
        """Poll mentions and, where the plan allows, direct messages once.

        ``streams`` limits the poll to some of them (``mentions``, ``dms``), for a scheduler that
        polls each on its own interval; by default both. A stream whose rate-limit budget is
        held (``connectors.md`` §5) is skipped with a warning; the other stream still runs.

        Raises:
            RateLimited: every stream is held (no HTTP call made), or X answered 429.
            AuthExpired, PermissionDenied, TransientError: the poll failed.
        """
        cursor = dict(cursor or {})
        items: list[InboundItem] = []
        skipped = 0
        warnings: list[str] = []
        new_cursor = dict(cursor)

        wanted = {"mentions", "dms"} if streams is None else set(streams)
        names: dict[str, str] = {}
        if "mentions" in wanted:
            names["mentions"] = "mentions"
        dm_pause = paused_until(cursor.get("dm_paused_until"), self._now())
        if "dms" in wanted and self._dm_enabled and not cursor.get("dm_disabled") and not dm_pause:
            names["dms"] = "direct messages"
        if not names:
            return FetchResult(cursor=new_cursor)
        held = {f: t for f in names if (t := self.held_until(f)) is not None}
        if len(held) == len(names):
            until = min(held.values())
            raise RateLimited(
                f"X rate-limit budget is low for {' and '.join(names.values())}"
                f" until {_utc(until)}",
                until,
            )
        for family, until in held.items():
            warnings.append(
                f"{names[family]} skipped: X rate-limit budget is low until {_utc(until)}"
            )
            log.info("%s skipped: X rate-limit budget is low until %s", names[family], _utc(until))

        if "mentions" in names and "mentions" not in held:
            got, bad, since = self._mentions(opt_str(cursor.get("mentions_since_id")), warnings)
            items += got
            skipped += bad
            if since:
                new_cursor["mentions_since_id"] = since
        if "dms" in names and "dms" not in held:
            dms = poll_optional_stream(
                "direct messages",
                "dm_paused_until",
                self._now(),
                new_cursor,
                warnings,
                lambda: self._dms(opt_str(cursor.get("dm_max_id")), warnings),
            )
            if dms is not None:
                got, bad, top = dms
                items += got
                skipped += bad
                if top:
                    new_cursor["dm_max_id"] = top
        return FetchResult(
            items=tuple(items), cursor=new_cursor, skipped=skipped, warnings=tuple(warnings)
        )

    def _mentions(
        self, since_id: str | None, warnings: list[str]
    ) -> tuple[list[InboundItem], int, str | None]:
        items: list[InboundItem] = []
        skipped = 0
        newest: str | None = None
        token: str | None = None
        pages = MAX_PAGES if since_id else 1
        for page_no in range(pages):
            if page_no and self.held_until("mentions"):
                # Stop paging; keep the old since_id so nothing between the pages is lost.
                warnings.append("mentions paused mid-poll: rate-limit budget low, rest next poll")
                return items, skipped, since_id
            payload = self._call(
                self._client.get_users_mentions,
                self._me,
                since_id=since_id,
                pagination_token=token,
                max_results=100,
                tweet_fields=TWEET_FIELDS,
                expansions=EXPANSIONS,
                user_fields=USER_FIELDS,
                user_auth=False,
            )
            self._log_partial_errors(payload)
            meta = as_dict(payload.get("meta"))
            if page_no == 0:
                newest = opt_str(meta.get("newest_id"))
            users = _users(payload)
            for tweet in as_list(payload.get("data")):
                try:
                    items.append(normalize_tweet(tweet, users, self._me))
                except Malformed as exc:
                    skipped += 1
                    log.warning("skipped a malformed tweet: %s", exc)
            token = opt_str(meta.get("next_token"))
            if not token:
                break
        else:
            if token:
                warnings.append("more mentions than one poll reads: the rest come next poll")
        return items, skipped, newest or since_id

    def _dms(
        self, max_seen: str | None, warnings: list[str]
    ) -> tuple[list[InboundItem], int, str | None]:
        items: list[InboundItem] = []
        skipped = 0
        seen = int(max_seen) if max_seen and max_seen.isdigit() else None
        top = seen
        token: str | None = None
        for page_no in range(MAX_PAGES if seen is not None else 1):
            if page_no and self.held_until("dms"):
                # Stop paging; keep the old cursor so the unread older events come next poll.
                warnings.append(
                    "direct messages paused mid-poll: rate-limit budget low, rest next poll"
                )
                return items, skipped, max_seen
            payload = self._call(
                self._client.get_direct_message_events,
                event_types="MessageCreate",
                pagination_token=token,
                max_results=100,
                dm_event_fields=DM_FIELDS,
                expansions=["sender_id"],
                user_fields=USER_FIELDS,
                user_auth=False,
            )
            users = _users(payload)
            reached_known = False
            for event in as_list(payload.get("data")):
                event_id = opt_int(as_dict(event).get("id"))
                if event_id is not None and seen is not None and event_id <= seen:
                    reached_known = True
                    continue
                try:
                    item = normalize_dm(event, users, self._me)
                except Malformed as exc:
                    skipped += 1
                    log.warning("skipped a malformed DM event: %s", exc)
                    continue
                if item is None:
                    continue
                items.append(item)
                if event_id is not None and (top is None or event_id > top):
                    top = event_id
            token = opt_str(as_dict(payload.get("meta")).get("next_token"))
            if reached_known or not token:
                break
        return items, skipped, None if top is None else str(top)

    def fetch_thread(self, conversation_id: str, since_id: str | None = None) -> FetchResult:
        """A thread's tweets newer than ``since_id``, by recent search (``connectors.md`` §1.5).

        Follows ``meta.next_token`` (same ``since_id``) for at most ``MAX_PAGES`` pages. Inbound
        tweets are replies; the account's own tweets are post/reply. The cursor is
        ``{"since_id": …}``: the first page's ``meta.newest_id``, or the given ``since_id`` when
        there is none. A ``since_id`` older than search's 7-day window (X answers 400 naming it)
        is dropped and the search made once without it. If the search budget runs low between
        pages, paging stops with a warning and the cursor keeps the given ``since_id``.

        Raises:
            ValueError: ``conversation_id`` is not a tweet id (digits only); no HTTP call is made.
            RateLimited: the search budget is held (no HTTP call made), or X answered 429.
            AuthExpired, PermissionDenied, TransientError: the search failed.
        """
        if not (conversation_id.isascii() and conversation_id.isdigit()):
            raise ValueError("conversation_id must be a tweet id (ASCII digits only)")
        query = f"conversation_id:{conversation_id}"
        if len(query) > MAX_QUERY_LENGTH:
            raise ValueError("conversation_id is too long for a search query")
        self._check_budget("search", "thread search")

        items: list[InboundItem] = []
        skipped = 0
        warnings: list[str] = []
        payload: dict[str, Any] | None
        try:
            payload = self._search_page(query, since_id, None)
        except _SinceIdTooOld:
            log.info("since_id is older than recent search allows: searching the whole window")
            since_id = payload = None
        if payload is None:
            self._check_budget("search", "thread search")
            payload = self._search_page(query, None, None)
        newest = opt_str(as_dict(payload.get("meta")).get("newest_id"))
        for page_no in range(1, MAX_PAGES + 1):
            self._log_partial_errors(payload)
            users = _users(payload)
            for tweet in as_list(payload.get("data")):
                try:
                    items.append(normalize_tweet(tweet, users, self._me, from_search=True))
                except Malformed as exc:
                    skipped += 1
                    log.warning("skipped a malformed tweet: %s", exc)
            token = opt_str(as_dict(payload.get("meta")).get("next_token"))
            if not token:
                break
            if page_no == MAX_PAGES:
                warnings.append(
                    "more thread replies than one search reads: the rest come next time"
                )
                break
            if self.held_until("search"):
                warnings.append("thread search paused: rate-limit budget low, rest next time")
                newest = None  # keep the given since_id: the unread pages come next time
                break
            payload = self._search_page(query, since_id, token)
        return FetchResult(
            items=tuple(items),
            cursor={"since_id": newest or since_id},
            skipped=skipped,
            warnings=tuple(warnings),
        )

    def _search_page(self, query: str, since_id: str | None, token: str | None) -> dict[str, Any]:
        def search(**kwargs: Any) -> Any:
            try:
                return self._client.search_recent_tweets(query, **kwargs)
            except tweepy.BadRequest as exc:
                if since_id and _names_parameter(exc, "since_id"):
                    raise _SinceIdTooOld from None
                raise

        return self._call(
            search,
            since_id=since_id,
            next_token=token,
            max_results=100,
            sort_order="recency",
            tweet_fields=TWEET_FIELDS,
            expansions=EXPANSIONS,
            user_fields=USER_FIELDS,
            user_auth=False,
        )

    @staticmethod
    def _log_partial_errors(payload: Mapping[str, Any]) -> None:
        for err in as_list(payload.get("errors")):
            log.info("X returned a partial error: %s", as_dict(err).get("detail"))

    # -- writing ------------------------------------------------------------------------------

    def publish(self, text: str) -> PublishResult:
        """Post ``text`` as a new tweet (``POST /2/tweets``).

        Raises:
            RateLimited: X answered 429; nothing was posted, retry after ``until``.
            AuthExpired: X refused the token; nothing was posted.
            TransientError: the request provably never left (DNS, refused, connect timeout).
            MaybePublished: the tweet may be posted (timeout after sending, dropped connection,
                5xx, unreadable answer, or X calls it a duplicate): reconcile before any retry.
            PublishRejected: X refused the tweet (400, or a 403 other than a duplicate).
        """
        payload = self._write("tweet", self._client.create_tweet, text=text, user_auth=False)
        tweet_id = written_id(as_dict(payload.get("data")), "id", "X", "tweet")
        return PublishResult(external_id=tweet_id, thread_external_id=tweet_id)

    def reply(self, text: str, *, in_reply_to: str, thread_external_id: str) -> PublishResult:
        """Reply to the tweet ``in_reply_to`` (``POST /2/tweets`` with ``reply``).

        Raises:
            RateLimited, AuthExpired, TransientError, MaybePublished, PublishRejected: as for
                ``publish``.
        """
        payload = self._write(
            "reply",
            self._client.create_tweet,
            text=text,
            in_reply_to_tweet_id=in_reply_to,
            user_auth=False,
        )
        return PublishResult(
            external_id=written_id(as_dict(payload.get("data")), "id", "X", "reply"),
            thread_external_id=thread_external_id,
        )

    def send_dm(self, text: str, *, thread_external_id: str, recipient_id: str) -> PublishResult:
        """Send a direct message to ``recipient_id`` (``connectors.md`` §1.8).

        Raises:
            RateLimited, AuthExpired, TransientError, MaybePublished, PublishRejected: as for
                ``publish``.
        """
        payload = self._write(
            "direct message",
            self._client.create_direct_message,
            participant_id=recipient_id,
            text=text,
            user_auth=False,
        )
        data = as_dict(payload.get("data"))
        return PublishResult(
            external_id=written_id(data, "dm_event_id", "X", "direct message"),
            thread_external_id=opt_str(data.get("dm_conversation_id")) or thread_external_id,
        )

    # -- reconciling --------------------------------------------------------------------------

    def find_published(
        self,
        text: str,
        *,
        since: datetime,
        in_reply_to: str | None = None,
        thread_external_id: str | None = None,
        kind: str = "post",
    ) -> PublishResult | None:
        """Whether the account wrote ``text`` at or after ``since`` (``connectors.md`` §5).

        Posts and replies are looked for in the account's timeline
        (``GET /2/users/{id}/tweets`` from ``since``, at most ``RECONCILE_MAX_PAGES`` pages); a
        post must not be a reply, and a reply must reply to ``in_reply_to``. A direct message is
        looked for among the events of the conversation ``thread_external_id``
        (``GET /2/dm_conversations/{id}/dm_events``, newest first), sent by the account at or
        after ``since``. Texts match as by ``texts_match`` with X's URL rewriting (``t.co``),
        also when X escaped ``&``, ``<`` and ``>`` as HTML or put the replied-to handles in
        front of a reply.

        Args:
            text: the text of the write.
            since: when the draft was created.
            in_reply_to: the tweet replied to; required for a reply.
            thread_external_id: the DM conversation; required for a DM.
            kind: ``"post"``, ``"reply"`` or ``"dm"``.

        Returns:
            The tweet (id, conversation, permalink) or the DM event (id, conversation), or
            ``None`` when X does not show it.

        Raises:
            ValueError: arguments that cannot describe a write, or a conversation id that is
                not X's; no HTTP call is made.
            RateLimited: the DM budget is held (no HTTP call made), or X answered 429.
            AuthExpired, PermissionDenied, TransientError: X could not be asked.
        """
        check_find_published_args(kind, in_reply_to, thread_external_id)
        if kind == "dm" and thread_external_id:
            return self._find_dm(text, since, thread_external_id)
        return self._find_tweet(text, since, in_reply_to if kind == "reply" else None)

    def _find_tweet(
        self, text: str, since: datetime, in_reply_to: str | None
    ) -> PublishResult | None:
        start = since if since.tzinfo else since.replace(tzinfo=UTC)
        token: str | None = None
        for _ in range(RECONCILE_MAX_PAGES):
            payload = self._call(
                self._client.get_users_tweets,
                self._me,
                start_time=start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                pagination_token=token,
                max_results=100,
                tweet_fields=TWEET_FIELDS,
                user_auth=False,
            )
            self._log_partial_errors(payload)
            for tweet in as_list(payload.get("data")):
                try:
                    item = normalize_tweet(tweet, {}, self._me)
                except Malformed as exc:
                    log.info("reconcile skipped a malformed tweet: %s", exc)
                    continue
                if (
                    item.author_external_id in (None, self._me)  # the timeline is the account's
                    and item.in_reply_to == in_reply_to  # None for a post: not a reply
                    and published_at_or_after(item.created_at, since)
                    and x_texts_match(text, item.text, reply=in_reply_to is not None)
                ):
                    return PublishResult(
                        external_id=item.external_id,
                        thread_external_id=item.thread_external_id,
                        permalink=item.permalink,
                    )
            token = opt_str(as_dict(payload.get("meta")).get("next_token"))
            if not token:
                return None
        log.info("reconcile read %d timeline pages without finding the tweet", RECONCILE_MAX_PAGES)
        return None

    def _find_dm(self, text: str, since: datetime, conversation_id: str) -> PublishResult | None:
        if not _DM_CONVERSATION_ID.fullmatch(conversation_id):
            raise ValueError("thread_external_id must be an X DM conversation id")
        token: str | None = None
        for _ in range(RECONCILE_MAX_PAGES):
            self._check_budget("dms", "direct messages")
            payload = self._call(
                self._client.get_direct_message_events,
                dm_conversation_id=conversation_id,
                event_types="MessageCreate",
                pagination_token=token,
                max_results=100,
                dm_event_fields=DM_FIELDS,
                user_auth=False,
            )
            reached_older = False
            for event in as_list(payload.get("data")):
                e = as_dict(event)
                event_id = opt_str(e.get("id"))
                seen = e.get("text")
                if not event_id or e.get("event_type") != "MessageCreate":
                    continue
                try:
                    created = parse_time(e.get("created_at"))
                except Malformed:
                    log.info("reconcile skipped a DM event without a time")
                    continue
                if not published_at_or_after(created, since):
                    reached_older = True  # newest first: the rest is older still
                    break
                if (
                    opt_str(e.get("sender_id")) == self._me
                    and opt_str(e.get("dm_conversation_id")) in (None, conversation_id)
                    and isinstance(seen, str)
                    and x_texts_match(text, seen)
                ):
                    return PublishResult(external_id=event_id, thread_external_id=conversation_id)
            token = opt_str(as_dict(payload.get("meta")).get("next_token"))
            if reached_older or not token:
                return None
        log.info("reconcile read %d DM pages without finding the message", RECONCILE_MAX_PAGES)
        return None

    # -- errors -------------------------------------------------------------------------------

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            result = fn(*args, **kwargs)
        except tweepy.TooManyRequests as exc:
            raise RateLimited("X rate limit reached", self._reset_after(exc)) from None
        except tweepy.Unauthorized:
            raise AuthExpired("X refused the token (expired or revoked)") from None
        except tweepy.Forbidden as exc:
            raise PermissionDenied(_problem(exc) or "X refused: the plan lacks access") from None
        except tweepy.TwitterServerError as exc:
            raise TransientError(f"X server error {exc.response.status_code}") from None
        except tweepy.BadRequest as exc:
            raise TransientError(f"X rejected the request: {_problem(exc)}") from None
        except tweepy.HTTPException as exc:
            raise TransientError(f"X answered {exc.response.status_code}") from None
        except requests.Timeout:
            raise TransientError("X did not answer in time") from None
        except requests.ConnectionError:
            raise TransientError("cannot reach X (offline?)") from None
        except ValueError:  # the body was not JSON
            raise TransientError("X sent a response that is not JSON") from None
        if not isinstance(result, dict):
            raise TransientError("X sent an unexpected response")
        return result

    def _write(self, what: str, fn: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
        """One write request, with failures mapped so a caller can never post twice.

        Args:
            what: the write in words (``tweet``, ``reply``, ``direct message``), for messages.
            fn: the tweepy method to call.
            **kwargs: ``fn``'s arguments.

        Raises:
            RateLimited: 429; nothing was posted.
            AuthExpired: 401; nothing was posted.
            TransientError: the request provably never left this machine.
            MaybePublished: the write may have been posted, or X calls it a duplicate.
            PublishRejected: X refused the write (a 4xx other than the above).
        """
        try:
            result = fn(**kwargs)
        except tweepy.TooManyRequests as exc:
            raise RateLimited(
                f"X rate limit reached: the {what} was not sent", self._reset_after(exc)
            ) from None
        except tweepy.Unauthorized:
            raise AuthExpired(
                f"X refused the token (expired or revoked): the {what} was not sent"
            ) from None
        except tweepy.TwitterServerError as exc:
            raise MaybePublished(
                f"X server error {exc.response.status_code} after the {what} was sent: {UNSURE}"
            ) from None
        except tweepy.HTTPException as exc:
            status = exc.response.status_code
            reason = self._reason(exc)
            if status == 403 and _is_duplicate(exc):
                raise MaybePublished(
                    f"X says this {what} duplicates one already posted: {UNSURE}"
                ) from None
            if 400 <= status < 500:
                raise PublishRejected(
                    f"X refused the {what} ({status}): {reason or 'no reason given'}", status
                ) from None
            raise MaybePublished(f"X answered {status} to the {what}: {UNSURE}") from None
        except ValueError:  # the body was not JSON (requests.JSONDecodeError too)
            raise MaybePublished(
                f"X sent a response that is not JSON to the {what}: {UNSURE}"
            ) from None
        except requests.RequestException as exc:
            raise write_transport_error(exc, "X", what) from None
        if not isinstance(result, dict):
            raise MaybePublished(f"X sent an unexpected response to the {what}: {UNSURE}")
        return result

    def _reason(self, exc: tweepy.HTTPException) -> str:
        """X's own reason for a refused request, token-free and at most 300 characters."""
        client = self._client
        secrets = (client.bearer_token, client.access_token, client.access_token_secret)
        messages = [m for m in getattr(exc, "api_messages", []) if isinstance(m, str)]
        return safe_reason("; ".join(messages), secrets)

    def _reset_after(self, exc: tweepy.TooManyRequests) -> datetime:
        headers = exc.response.headers
        resets = [exc.reset_time] if exc.reset_time else []
        for scope in ("user", "app"):
            if headers.get(f"x-{scope}-limit-24hour-remaining") == "0":
                value = opt_int(headers.get(f"x-{scope}-limit-24hour-reset"))
                if value:
                    resets.append(value)
        if resets:
            until = datetime.fromtimestamp(max(resets), tz=UTC)
            return until + timedelta(seconds=1 + random.uniform(0, 5))
        return self._now() + timedelta(seconds=random.uniform(0, 5.0))


def x_texts_match(written: str, seen: str, *, reply: bool = False) -> bool:
    """Whether ``seen``, a text X shows, is ``written`` as X stores it.

    As ``texts_match`` with ``urls_rewritten`` (X turns links into ``https://t.co/…``), trying
    the text as given and with HTML entities decoded (X sends ``&``, ``<`` and ``>`` as
    ``&amp;``, ``&lt;`` and ``&gt;``), and for a ``reply`` also without the leading
    ``@handle`` mentions X puts in front of it.
    """
    candidates = {seen, html.unescape(seen)}
    if reply:
        candidates |= {_LEADING_MENTIONS.sub("", c.lstrip()) for c in candidates}
    return any(texts_match(written, c, urls_rewritten=True) for c in candidates)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _names_parameter(exc: tweepy.HTTPException, name: str) -> bool:
    """Whether a 400's ``errors[].parameters`` names the query parameter ``name``."""
    return any(
        name in as_dict(as_dict(err).get("parameters"))
        for err in as_list(getattr(exc, "api_errors", None))
    )


def _is_duplicate(exc: tweepy.HTTPException) -> bool:
    """Whether X refused a write as a duplicate (problem+json ``detail``, or legacy code 187)."""
    if 187 in getattr(exc, "api_codes", []):
        return True
    return any(
        isinstance(m, str) and "duplicate" in m.lower() for m in getattr(exc, "api_messages", [])
    )


def _problem(exc: tweepy.HTTPException) -> str:
    messages = [m for m in getattr(exc, "api_messages", []) if isinstance(m, str)]
    return "; ".join(messages)[:300]
