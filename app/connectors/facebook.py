"""Facebook Pages through facebook-sdk's ``GraphAPI.request``: feed, comments and Messenger."""

from __future__ import annotations

import json
import logging
import math
import random
import re
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import facebook
import requests

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
from app.domain.polling import backoff, poll_floor_s

log = logging.getLogger("quiver.connectors.facebook")

GRAPH_API_VERSION = "v26.0"
GRAPH_URL = "https://graph.facebook.com/"
MAX_PAGES = 5
FEED_OVERLAP_S = 300
COMMENT_WINDOW = timedelta(days=30)  # comments are read for posts this young
COMMENT_FAST_WINDOW = timedelta(days=7)  # ...at every comments turn for posts this young
COMMENT_SLOW_INTERVAL_S = 900  # ...and every 15 minutes for older ones
COMMENTS_INTERVAL_S = 180.0
COMMENT_FIELDS = "id,message,created_time,from,parent{id},permalink_url"
FEED_FIELDS = "id,message,created_time,updated_time,permalink_url,from"
RECONCILE_FEED_FIELDS = "id,message,created_time,from"
RECONCILE_COMMENT_FIELDS = "id,message,created_time,from,parent{id}"
RECONCILE_MESSAGES_FIELDS = "messages.limit(20){id,message,from,created_time}"
# A Graph id put in a path: no separator, query, fragment or escape can ride along.
_GRAPH_ID = re.compile(r"[A-Za-z0-9_.:$-]{1,200}")
MESSENGER_FIELDS = (
    "id,updated_time,participants,messages.limit(10){id,message,from,to,created_time}"
)

AUTH_CODES = {190, 102}
THROTTLE_CODES = {4, 17, 32, 613, 341, 80001, 80006}
TRANSIENT_CODES = {1, 2}
PERMISSION_CODES = {10, 3} | set(range(200, 300))
POLICY_BLOCK_CODE = 368  # temporarily blocked for policy violations
DUPLICATE_CODE = 506  # duplicate post
UNAVAILABLE_CODE = 551  # Messenger: this person is not available right now
INVALID_PARAMETER_CODE = 100
OUTSIDE_WINDOW_SUBCODE = 2018278  # Messenger: sent outside the allowed 24-hour window

USAGE_HEADERS = ("X-App-Usage", "X-Page-Usage", "X-Business-Use-Case-Usage")
USAGE_SLOW = 75  # u >= 75: double every interval (connectors.md §5)
USAGE_MESSENGER_ONLY = 90  # u >= 90: poll only Messenger, every 5 min
MESSENGER_ONLY_INTERVAL_S = 300.0
MESSENGER_INTERVAL_S = 60.0
# A usage reading older than this no longer steers polling: without it, a high reading from a
# header that later responses stop carrying would keep the feed paused for good.
USAGE_TTL = timedelta(minutes=15)
MAX_REGAIN_MINUTES = 24 * 60  # ignore absurd estimates rather than overflow a datetime
THROTTLE_BACKOFF_BASE_S = 60.0
THROTTLE_BACKOFF_CAP_S = 3600.0


def regain_minutes(buc_usage: Any) -> float:
    """The largest positive ``estimated_time_to_regain_access`` (minutes) in a BUC usage value.

    Anything unreadable counts as 0, and estimates are capped at ``MAX_REGAIN_MINUTES``.
    """
    minutes = 0.0
    for entries in as_dict(buc_usage).values():
        for entry in as_list(entries):
            value = as_dict(entry).get("estimated_time_to_regain_access")
            estimate = opt_int(value)  # ints of any size, digit strings
            if estimate is not None:
                value = min(estimate, MAX_REGAIN_MINUTES)
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if math.isfinite(value) and value > 0:
                minutes = max(minutes, min(float(value), MAX_REGAIN_MINUTES))
    return minutes


def strip_token(url: str) -> str:
    """A Graph URL without its ``access_token`` parameter (safe to log or store)."""
    parts = urlsplit(url)
    query = "&".join(f"{k}={v}" for k, v in parse_qsl(parts.query) if k != "access_token")
    return parts._replace(query=query).geturl()


def _next_request(paging: Any) -> tuple[str, dict[str, str]] | None:
    """Path (version included) and arguments of ``paging.next``, without the token."""
    nxt = opt_str(as_dict(paging).get("next"))
    if not nxt or not nxt.startswith(GRAPH_URL):
        return None
    parts = urlsplit(nxt)
    args = {k: v for k, v in parse_qsl(parts.query) if k != "access_token"}
    return parts.path.lstrip("/"), args


def normalize_post(post: Any, page_id: str) -> InboundItem:
    """A Page feed item (``connectors.md`` §3).

    Raises:
        Malformed: no id or time.
    """
    p = as_dict(post)
    post_id = req_str(p, "id")
    author = as_dict(p.get("from"))
    author_id = opt_str(author.get("id"))
    return InboundItem(
        network="facebook",
        external_id=post_id,
        kind="post",
        direction="out" if author_id == page_id else "in",
        text=opt_str(p.get("message")) or "",
        created_at=parse_time(p.get("created_time")),
        author_external_id=author_id,
        author_handle=None,
        author_name=opt_str(author.get("name")),
        thread_external_id=post_id,
        thread_type="fb_post",
        in_reply_to=None,
        permalink=opt_str(p.get("permalink_url")),
        raw={k: v for k, v in p.items() if k != "comments"},
    )


def normalize_comment(comment: Any, post_id: str, page_id: str) -> InboundItem:
    """A comment or a reply to a comment on a Page post.

    Raises:
        Malformed: no id or time.
    """
    c = as_dict(comment)
    comment_id = req_str(c, "id")
    author = as_dict(c.get("from"))  # may be missing (privacy): the author stays unknown
    author_id = opt_str(author.get("id"))
    parent = opt_str(as_dict(c.get("parent")).get("id"))
    return InboundItem(
        network="facebook",
        external_id=comment_id,
        kind="reply" if parent else "comment",
        direction="out" if author_id == page_id else "in",
        text=opt_str(c.get("message")) or "",
        created_at=parse_time(c.get("created_time")),
        author_external_id=author_id,
        author_handle=None,
        author_name=opt_str(author.get("name")),
        thread_external_id=post_id,
        thread_type="fb_post",
        in_reply_to=parent or post_id,
        permalink=opt_str(c.get("permalink_url")),
        raw=c,
    )


def normalize_messenger(message: Any, thread_id: str, page_id: str) -> InboundItem:
    """One Messenger message of a Page conversation.

    Raises:
        Malformed: no id or time.
    """
    m = as_dict(message)
    author = as_dict(m.get("from"))
    author_id = opt_str(author.get("id"))
    return InboundItem(
        network="facebook",
        external_id=req_str(m, "id"),
        kind="dm",
        direction="out" if author_id == page_id else "in",
        text=opt_str(m.get("message")) or "",
        created_at=parse_time(m.get("created_time")),
        author_external_id=author_id,
        author_handle=None,
        author_name=opt_str(author.get("name")),
        thread_external_id=thread_id,
        thread_type="fb_messenger",
        in_reply_to=None,
        permalink=None,
        raw=m,
    )


class FacebookConnector:
    """A Facebook Page, read and written with its Page access token."""

    def __init__(
        self,
        graph: facebook.GraphAPI,
        page_id: str,
        *,
        messenger_enabled: bool = True,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._graph = graph
        self._page = page_id
        self._messenger = messenger_enabled
        self._now = now
        self.usage: dict[str, Any] = {}
        self._usage_seen: dict[str, datetime] = {}
        self._last_status = 200
        self._last_regain_minutes = 0.0  # estimate carried by the latest response
        self._paused_until: datetime | None = None
        self._throttle_attempt = 0
        session: requests.Session = graph.session
        session.hooks.setdefault("response", []).append(self._on_response)
        if not graph.timeout:
            graph.timeout = 30

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Record the status and usage headers; pause when Facebook gives a regain estimate."""
        self._last_status = response.status_code
        now = self._now()
        for header in USAGE_HEADERS:
            value = response.headers.get(header)
            if not value:
                continue
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                log.info("unreadable %s header ignored", header)
                continue
            self.usage[header] = parsed
            self._usage_seen[header] = now
            if header == "X-Business-Use-Case-Usage":
                minutes = regain_minutes(parsed)
                self._last_regain_minutes = minutes
                if minutes > 0:
                    until = now + timedelta(minutes=minutes)
                    if self._paused_until is None or until > self._paused_until:
                        self._paused_until = until
                    log.warning("Facebook asks to pause until %s", until.isoformat())

    @property
    def paused_until(self) -> datetime | None:
        """When Facebook's ``estimated_time_to_regain_access`` pause ends (None: not paused)."""
        if self._paused_until is not None and self._now() >= self._paused_until:
            self._paused_until = None
        return self._paused_until

    def current_usage(self) -> int:
        """``u`` of connectors.md §5 over the usage readings younger than ``USAGE_TTL``."""
        cutoff = self._now() - USAGE_TTL
        fresh = {}
        for header, value in self.usage.items():
            seen = self._usage_seen.get(header)
            if seen is None or seen > cutoff:  # None: set directly, not by a response
                fresh[header] = value
        return usage_percent(fresh)

    def next_interval(self, base_s: float) -> float:
        """The delay before the next poll, stretched by Facebook's usage (connectors.md §5).

        Args:
            base_s: the account's configured poll interval, in seconds.

        Returns:
            ``base_s`` below 75 % usage, twice it from 75 %, and at least 300 s (Messenger
            only) from 90 %.
        """
        u = self.current_usage()
        if u >= USAGE_MESSENGER_ONLY:
            return max(MESSENGER_ONLY_INTERVAL_S, base_s)
        if u >= USAGE_SLOW:
            return 2 * base_s
        return base_s

    def capabilities(self) -> Capabilities:
        return Capabilities(
            network="facebook",
            can_post=True,
            can_reply=True,
            can_dm=self._messenger,
            max_text={"post": 63_206, "reply": 8_000, "dm": 2_000},
            min_poll_interval_s=poll_floor_s("facebook"),
        )

    def page_info(self) -> tuple[str, str]:
        """The Page's id and name, which also proves the token works for it."""
        result = self._call(f"{GRAPH_API_VERSION}/{self._page}", args={"fields": "id,name"})
        return req_str(result, "id"), opt_str(result.get("name")) or self._page

    # -- reading ------------------------------------------------------------------------------

    def schedule(self, base_s: float) -> dict[str, float]:
        """Each read stream's interval in seconds (``connectors.md`` §5).

        The feed on the account's own interval (``base_s``); comments every 180 s (every 15 min
        for posts older than 7 days); Messenger every 60 s where it is enabled.
        """
        streams = {
            "feed": max(base_s, poll_floor_s("facebook")),
            "comments": COMMENTS_INTERVAL_S,
        }
        if self._messenger:
            streams["messenger"] = MESSENGER_INTERVAL_S
        return streams

    def fetch(
        self, cursor: dict[str, Any] | None, *, streams: Collection[str] | None = None
    ) -> FetchResult:
        """Poll the feed with its comments, then Messenger, continuing from ``cursor``.

        ``streams`` limits the poll to some of them (``feed``, ``comments``, ``messenger``), for
        a scheduler that polls each on its own interval; by default all of them. From 90 % usage
        only Messenger is polled; the feed and comment entries of the cursor are kept as they
        were and a warning says why.

        Raises:
            RateLimited: Facebook asked for a pause that has not ended (no call is made), or
                throttled a call.
            AuthExpired: the Page token is expired, revoked or invalid.
            PermissionDenied: the token lacks access to the feed or comments.
            TransientError: 5xx, timeout, connection error or an unreadable response.
        """
        self._check_paused()
        cursor = dict(cursor or {})
        items: list[InboundItem] = []
        skipped = 0
        warnings: list[str] = []
        new_cursor = dict(cursor)

        wanted = {"feed", "comments", "messenger"} if streams is None else set(streams)
        u = self.current_usage()
        if wanted & {"feed", "comments"} and u >= USAGE_MESSENGER_ONLY:
            reason = (
                f"Facebook usage is at {u}%: feed and comments are skipped until it drops "
                f"below {USAGE_MESSENGER_ONLY}%"
            )
            warnings.append(reason)
            log.warning("%s", reason)
        elif wanted & {"feed", "comments"}:
            got, bad = self._feed_and_comments(
                cursor,
                new_cursor,
                feed="feed" in wanted,
                comments="comments" in wanted,
                by_age=streams is not None,
            )
            items += got
            skipped += bad

        messenger_pause = paused_until(cursor.get("messenger_paused_until"), self._now())
        if (
            "messenger" in wanted
            and self._messenger
            and not cursor.get("messenger_disabled")
            and not messenger_pause
        ):
            messenger = poll_optional_stream(
                "Messenger",
                "messenger_paused_until",
                self._now(),
                new_cursor,
                warnings,
                lambda: self._messenger_poll(opt_int(cursor.get("messenger_since"))),
            )
            if messenger is not None:
                got, bad, mark = messenger
                items += got
                skipped += bad
                if mark:
                    new_cursor["messenger_since"] = mark
        return FetchResult(
            items=tuple(items), cursor=new_cursor, skipped=skipped, warnings=tuple(warnings)
        )

    def _feed_and_comments(
        self,
        cursor: dict[str, Any],
        new_cursor: dict[str, Any],
        *,
        feed: bool = True,
        comments: bool = True,
        by_age: bool = False,
    ) -> tuple[list[InboundItem], int]:
        """Read the feed and the comments of recent posts, updating ``new_cursor`` in place.

        Every post of the last 30 days has its comments read. With ``by_age`` (a scheduler
        polling comments on their own interval, ``connectors.md`` §5) a post older than 7 days
        has them read at most every 15 minutes; younger ones at every call.

        Raises:
            RateLimited, AuthExpired, PermissionDenied, TransientError: a call failed.
        """
        items: list[InboundItem] = []
        skipped = 0
        now = self._now()
        posts_seen = _int_map(cursor, "comment_watermarks")
        created_at = _int_map(cursor, "comment_posts")
        checked = _int_map(cursor, "comment_checked")
        if feed:
            got, bad, feed_posts = self._feed(cursor, new_cursor)
            items += got
            skipped += bad
            for post_id, posted in feed_posts:
                posts_seen.setdefault(post_id, 0)
                created_at[post_id] = posted
        horizon = int((now - COMMENT_WINDOW).timestamp())
        young = int((now - COMMENT_FAST_WINDOW).timestamp())
        now_s = int(now.timestamp())
        watermarks: dict[str, int] = {}
        for post_id, seen in sorted(posts_seen.items()):
            created = created_at.get(post_id)
            if created is not None and created < horizon:
                continue  # older than 30 days: no longer read
            due = comments and (
                not by_age
                or created is None
                or created >= young
                or now_s - checked.get(post_id, 0) >= COMMENT_SLOW_INTERVAL_S
            )
            if due:
                got, bad, top = self._comments(post_id, seen)
                items += got
                skipped += bad
                seen = max(seen, top)
                checked[post_id] = now_s
            watermarks[post_id] = seen
        new_cursor["comment_watermarks"] = watermarks
        if created_at or "comment_posts" in cursor:
            new_cursor["comment_posts"] = {k: v for k, v in created_at.items() if k in watermarks}
        if checked or "comment_checked" in cursor:
            new_cursor["comment_checked"] = {k: v for k, v in checked.items() if k in watermarks}
        return items, skipped

    def _feed(
        self, cursor: dict[str, Any], new_cursor: dict[str, Any]
    ) -> tuple[list[InboundItem], int, list[tuple[str, int]]]:
        """The Page's new posts since the cursor, and each post's id with its creation time."""
        items: list[InboundItem] = []
        skipped = 0
        since = opt_int(cursor.get("feed_since"))
        args: dict[str, Any] = {"fields": FEED_FIELDS, "limit": 25}
        if since:
            args["since"] = since
        newest = since or 0
        feed_posts: list[tuple[str, int]] = []
        for payload in self._pages(f"{GRAPH_API_VERSION}/{self._page}/feed", args):
            for post in as_list(payload.get("data")):
                try:
                    item = normalize_post(post, self._page)
                except Malformed as exc:
                    skipped += 1
                    log.warning("skipped a malformed post: %s", exc)
                    continue
                items.append(item)
                created = int(item.created_at.timestamp())
                newest = max(newest, created)
                feed_posts.append((item.external_id, created))
        if newest:
            new_cursor["feed_since"] = max(newest - FEED_OVERLAP_S, since or 0)
        return items, skipped, feed_posts

    def _comments(self, post_id: str, seen: int) -> tuple[list[InboundItem], int, int]:
        items: list[InboundItem] = []
        skipped = 0
        top = seen
        args = {
            "fields": COMMENT_FIELDS,
            "filter": "stream",
            "order": "reverse_chronological",
            "limit": 50,
        }
        for payload in self._pages(f"{GRAPH_API_VERSION}/{post_id}/comments", args):
            fresh = False
            for comment in as_list(payload.get("data")):
                try:
                    item = normalize_comment(comment, post_id, self._page)
                except Malformed as exc:
                    skipped += 1
                    log.warning("skipped a malformed comment: %s", exc)
                    continue
                stamp = int(item.created_at.timestamp())
                if stamp > seen:
                    fresh = True
                    items.append(item)
                    top = max(top, stamp)
            if not fresh:
                break
        return items, skipped, top

    def _messenger_poll(self, since: int | None) -> tuple[list[InboundItem], int, int | None]:
        items: list[InboundItem] = []
        skipped = 0
        mark = since
        args = {"platform": "messenger", "fields": MESSENGER_FIELDS, "limit": 25}
        for payload in self._pages(f"{GRAPH_API_VERSION}/{self._page}/conversations", args):
            done = False
            for conversation in as_list(payload.get("data")):
                conv = as_dict(conversation)
                thread_id = opt_str(conv.get("id"))
                try:
                    updated = int(parse_time(conv.get("updated_time")).timestamp())
                except Malformed:
                    skipped += 1
                    continue
                if since is not None and updated <= since:
                    done = True
                    break
                if not thread_id:
                    skipped += 1
                    continue
                mark = max(mark or 0, updated)
                for message in as_list(as_dict(conv.get("messages")).get("data")):
                    try:
                        item = normalize_messenger(message, thread_id, self._page)
                    except Malformed as exc:
                        skipped += 1
                        log.warning("skipped a malformed Messenger message: %s", exc)
                        continue
                    if since is None or int(item.created_at.timestamp()) > since - FEED_OVERLAP_S:
                        items.append(item)
            if done:
                break
        return items, skipped, mark

    def _pages(self, path: str, args: dict[str, Any]) -> Any:
        """Yield up to MAX_PAGES payloads, following ``paging.next`` without its token."""
        request: tuple[str, dict[str, Any]] | None = (path, dict(args))
        for _ in range(MAX_PAGES):
            if request is None:
                return
            payload = self._call(request[0], args=request[1])
            yield payload
            request = _next_request(payload.get("paging"))

    # -- writing ------------------------------------------------------------------------------

    def publish(self, text: str) -> PublishResult:
        """Post ``text`` on the Page's feed.

        Raises:
            RateLimited: Facebook asked for a pause that has not ended (nothing is sent), or
                throttled the call; safe to retry after ``until``.
            AuthExpired: the Page token is refused; nothing was published.
            TransientError: the request provably never left (DNS, refused, connect timeout).
            MaybePublished: the post may be published (timeout after sending, dropped
                connection, 5xx, unreadable answer, or code 506 duplicate): reconcile first.
            PublishRejected: Facebook refused the post for a reason a person must handle
                (368 policy block, 100 invalid parameter, other refusals).
            PermissionDenied: the token lacks a permission (10, 200-299, 3).
        """
        result = self._write_call(
            "post", f"{GRAPH_API_VERSION}/{self._page}/feed", {"message": text}
        )
        post_id = written_id(result, "id", "Facebook", "post")
        return PublishResult(external_id=post_id, thread_external_id=post_id)

    def reply(self, text: str, *, in_reply_to: str, thread_external_id: str) -> PublishResult:
        """Comment as the Page under ``in_reply_to`` (a comment or a post).

        Raises:
            RateLimited, AuthExpired, TransientError, MaybePublished, PublishRejected,
                PermissionDenied: as for ``publish``.
        """
        result = self._write_call(
            "reply", f"{GRAPH_API_VERSION}/{in_reply_to}/comments", {"message": text}
        )
        return PublishResult(
            external_id=written_id(result, "id", "Facebook", "reply"),
            thread_external_id=thread_external_id,
        )

    def send_dm(self, text: str, *, thread_external_id: str, recipient_id: str) -> PublishResult:
        """Answer a Messenger conversation (``RESPONSE``, inside the 24 h window).

        Raises:
            PublishRejected: outside the 24-hour window (10 / 2018278, or a reason naming the
                window), the person is unavailable (551), or another refusal.
            RateLimited, AuthExpired, TransientError, MaybePublished, PermissionDenied: as for
                ``publish``.
        """
        result = self._write_call(
            "message",
            f"{GRAPH_API_VERSION}/{self._page}/messages",
            {
                "recipient": json.dumps({"id": recipient_id}),
                "messaging_type": "RESPONSE",
                "message": json.dumps({"text": text}),
            },
        )
        return PublishResult(
            external_id=written_id(result, "message_id", "Facebook", "message"),
            thread_external_id=thread_external_id,
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
        """Whether the Page wrote ``text`` at or after ``since`` (``connectors.md`` §5).

        A post is looked for in the Page's feed (``since`` minus ``FEED_OVERLAP_S``); a reply in
        the comments of ``in_reply_to`` (``filter=stream``, newest first), where a reply to
        another comment does not count; a Messenger message among the 20 latest messages of
        the conversation ``thread_external_id``. Only what the Page itself wrote (``from`` is
        the Page) at or after ``since`` with a text as by ``texts_match`` counts. The feed and
        comments are paged as in polling (at most ``MAX_PAGES`` pages).

        Args:
            text: the text of the write.
            since: when the draft was created.
            in_reply_to: the comment or post replied to; required for a reply.
            thread_external_id: the post of a reply (returned as its thread; by default
                ``in_reply_to``); the Messenger conversation (``t_…``) of a message, required
                then.
            kind: ``"post"``, ``"reply"`` or ``"dm"``.

        Returns:
            The post, comment or message (id, thread, permalink when Facebook gives one), or
            ``None`` when Facebook does not show it.

        Raises:
            ValueError: arguments that cannot describe a write, or an id that is not a Graph
                id; no HTTP call is made.
            RateLimited: a pause is under way (no call is made) or Facebook throttled the call.
            AuthExpired, PermissionDenied, TransientError: Facebook could not be asked.
        """
        check_find_published_args(kind, in_reply_to, thread_external_id)
        if kind == "dm" and thread_external_id:
            return self._find_message(text, since, _graph_id(thread_external_id))
        if kind == "reply" and in_reply_to:
            return self._find_comment(
                text, since, _graph_id(in_reply_to), thread_external_id or in_reply_to
            )
        args: dict[str, Any] = {
            "fields": RECONCILE_FEED_FIELDS,
            "since": _unix(since) - FEED_OVERLAP_S,
            "limit": 25,
        }
        for payload in self._pages(f"{GRAPH_API_VERSION}/{self._page}/feed", args):
            for post in as_list(payload.get("data")):
                found = self._own_write(post, text, since)
                if found:
                    return PublishResult(
                        external_id=found, thread_external_id=found, permalink=_permalink(post)
                    )
        return None

    def _find_comment(
        self, text: str, since: datetime, in_reply_to: str, thread: str
    ) -> PublishResult | None:
        args: dict[str, Any] = {
            "fields": RECONCILE_COMMENT_FIELDS,
            "filter": "stream",
            "order": "reverse_chronological",
            "limit": 50,
        }
        for payload in self._pages(f"{GRAPH_API_VERSION}/{in_reply_to}/comments", args):
            older = False
            for comment in as_list(payload.get("data")):
                parent = opt_str(as_dict(as_dict(comment).get("parent")).get("id"))
                if parent and parent != in_reply_to:
                    continue  # the Page's answer to another comment under this post
                found = self._own_write(comment, text, since)
                if found:
                    return PublishResult(
                        external_id=found, thread_external_id=thread, permalink=_permalink(comment)
                    )
                older = older or _older_than(comment, since)
            if older:  # newest first: the next pages are older still
                return None
        return None

    def _find_message(self, text: str, since: datetime, thread: str) -> PublishResult | None:
        result = self._call(
            f"{GRAPH_API_VERSION}/{thread}", args={"fields": RECONCILE_MESSAGES_FIELDS}
        )
        for message in as_list(as_dict(result.get("messages")).get("data")):
            found = self._own_write(message, text, since)
            if found:
                return PublishResult(external_id=found, thread_external_id=thread)
        return None

    def _own_write(self, item: Any, text: str, since: datetime) -> str | None:
        """The id of a feed item, comment or message if the Page wrote it as ``text``."""
        entry = as_dict(item)
        item_id = opt_str(entry.get("id"))
        message = entry.get("message")
        if not item_id or not isinstance(message, str):
            return None
        if opt_str(as_dict(entry.get("from")).get("id")) != self._page:
            return None
        try:
            created = parse_time(entry.get("created_time"))
        except Malformed:
            log.info("reconcile skipped an item without a time")
            return None
        if not published_at_or_after(created, since) or not texts_match(text, message):
            return None
        return item_id

    # -- errors -------------------------------------------------------------------------------

    def _call(
        self,
        path: str,
        *,
        args: dict[str, Any] | None = None,
        post_args: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One Graph request, with Facebook's errors mapped to connector errors.

        Raises:
            RateLimited: a pause is under way (no call is made) or Facebook throttled the call.
            AuthExpired, PermissionDenied, TransientError: the call failed.
        """
        self._check_paused()
        self._last_regain_minutes = 0.0
        try:
            result = self._graph.request(path, args=args, post_args=post_args)
        except facebook.GraphAPIError as exc:
            raise self._map_error(exc) from None
        except (requests.Timeout, requests.ConnectionError, ValueError, KeyError) as exc:
            raise read_failure(exc) from None
        if self._last_status >= 500:
            raise TransientError(f"Facebook server error {self._last_status}")
        if not isinstance(result, dict):
            raise TransientError("Facebook sent an unexpected response")
        self._throttle_attempt = 0
        return result

    def _write_call(self, what: str, path: str, post_args: dict[str, Any]) -> dict[str, Any]:
        """One Graph write (POST), mapped so that a caller can never publish twice.

        Args:
            what: the write in words (``post``, ``reply``, ``message``), for messages.
            path: the Graph path, version included.
            post_args: the form fields.

        Raises:
            RateLimited: a pause is under way (no call is made) or Facebook throttled the call.
            AuthExpired: the Page token is refused; nothing was published.
            TransientError: the request provably never left this machine.
            MaybePublished: the write may have been published, or Facebook calls it a duplicate.
            PublishRejected: Facebook refused the write for a reason a person must handle.
            PermissionDenied: the token lacks a permission for the write.
        """
        self._check_paused()
        self._last_regain_minutes = 0.0
        self._last_status = 0  # no response yet
        try:
            result = self._graph.request(path, post_args=post_args)
        except facebook.GraphAPIError as exc:
            raise self._map_write_error(exc, what) from None
        # Before RequestException: requests.JSONDecodeError is both. KeyError: no content type.
        except (ValueError, KeyError):
            raise MaybePublished(
                f"Facebook sent a response that is not JSON to the {what}: {UNSURE}"
            ) from None
        except requests.RequestException as exc:
            raise write_transport_error(exc, "Facebook", what) from None
        if self._last_status >= 500:
            raise MaybePublished(
                f"Facebook server error {self._last_status} after the {what} was sent: {UNSURE}"
            )
        if not isinstance(result, dict):
            raise MaybePublished(f"Facebook sent an unexpected response to the {what}: {UNSURE}")
        self._throttle_attempt = 0
        return result

    def _map_write_error(self, exc: facebook.GraphAPIError, what: str) -> Exception:
        """The connector error for a Graph error answering a write (``connectors.md`` §2.7)."""
        error = as_dict(as_dict(exc.result).get("error"))
        code = opt_int(error.get("code"))
        subcode = opt_int(error.get("error_subcode"))
        reason = self._reason(error)
        if code in AUTH_CODES:
            return AuthExpired(f"Facebook refused the Page token: {reason}")
        if code in THROTTLE_CODES:
            until = self._regain_at()
            self._throttle_attempt += 1
            return RateLimited(f"Facebook rate limit ({code}): the {what} was not sent", until)
        if code is None:  # no Graph error in the answer: nothing says it failed
            return MaybePublished(f"Facebook sent an unreadable answer to the {what}: {UNSURE}")
        if code == POLICY_BLOCK_CODE:
            return PublishRejected(
                "Facebook has temporarily blocked the Page for policy violations (368): "
                f"publishing is stopped for this account until a person resolves it: {reason}",
                code,
            )
        outside_window = what == "message" and "window" in reason.lower()
        if subcode == OUTSIDE_WINDOW_SUBCODE or outside_window:
            return PublishRejected(
                "Facebook refused the message: it is outside Messenger's 24-hour window since "
                f"the person's last message ({code}): {reason}",
                code,
            )
        if code == DUPLICATE_CODE:
            return MaybePublished(
                f"Facebook says this {what} duplicates one already published (506): {UNSURE}"
            )
        if code == UNAVAILABLE_CODE:
            return PublishRejected(
                f"Facebook says this person is not available to receive messages (551): {reason}",
                code,
            )
        if code == INVALID_PARAMETER_CODE:
            return PublishRejected(
                f"Facebook rejected a parameter of the {what} (100): {reason}", code
            )
        if code in PERMISSION_CODES:
            return PermissionDenied(f"Facebook permission missing ({code}): {reason}")
        if code in TRANSIENT_CODES or self._last_status >= 500:
            return MaybePublished(
                f"Facebook temporary error ({code}) after the {what} was sent: {UNSURE}"
            )
        return PublishRejected(f"Facebook refused the {what} ({code}): {reason}", code)

    def _reason(self, error: Mapping[str, Any]) -> str:
        """Facebook's own reason for an error, token-free and at most 300 characters."""
        parts = [
            text
            for key in ("message", "error_user_title", "error_user_msg")
            if (text := opt_str(error.get(key)))
        ]
        reason = " - ".join(parts) or "no reason given"
        return safe_reason(reason, (self._graph.access_token,))

    def _check_paused(self) -> None:
        """Refuse to call Facebook while its regain estimate runs.

        Raises:
            RateLimited: until the pause ends.
        """
        until = self.paused_until
        if until is not None:
            raise RateLimited(
                f"Facebook rate limit: paused until {until.astimezone(UTC):%H:%M} UTC", until
            )

    def _map_error(self, exc: facebook.GraphAPIError) -> Exception:
        error = as_dict(as_dict(exc.result).get("error"))
        code = opt_int(error.get("code"))
        message = opt_str(error.get("message")) or "Facebook refused the request"
        message = message[:300]
        if code in AUTH_CODES:
            return AuthExpired(f"Facebook refused the Page token: {message}")
        if code in THROTTLE_CODES:
            until = self._regain_at()
            self._throttle_attempt += 1
            return RateLimited(f"Facebook rate limit ({code})", until)
        if code in PERMISSION_CODES:
            return PermissionDenied(f"Facebook permission missing ({code}): {message}")
        if code in TRANSIENT_CODES or (code is None and self._last_status >= 500):
            return TransientError(f"Facebook temporary error ({code}): {message}")
        return TransientError(f"Facebook error {code}: {message}")

    def _regain_at(self) -> datetime:
        """When a throttled call may be retried (connectors.md §5).

        The throttled response's ``estimated_time_to_regain_access`` if positive; otherwise
        ``backoff(attempt, 60, 3600)``, ``attempt`` counting consecutive throttle errors.
        """
        if self._last_regain_minutes > 0:
            # The response hook already paused the connector until then (or later).
            return self._paused_until or self._now() + timedelta(minutes=self._last_regain_minutes)
        delay = backoff(
            self._throttle_attempt, random, THROTTLE_BACKOFF_BASE_S, THROTTLE_BACKOFF_CAP_S
        )
        return self._now() + timedelta(seconds=delay)


def read_failure(exc: Exception) -> TransientError:
    """The error for a Graph read that failed below Graph's own errors: try again later.

    A timeout, no connection, a body that is not JSON (``ValueError``) or has no content type
    (facebook-sdk's ``KeyError``), or another transport failure.
    """
    if isinstance(exc, requests.Timeout):
        return TransientError("Facebook did not answer in time")
    if isinstance(exc, requests.ConnectionError):
        return TransientError("cannot reach Facebook (offline?)")
    if isinstance(exc, ValueError | KeyError):
        return TransientError("Facebook sent a response that is not JSON")
    return TransientError("cannot reach Facebook")


def _int_map(cursor: Mapping[str, Any], key: str) -> dict[str, int]:
    """A cursor entry mapping ids to integers (times, watermarks); anything else dropped."""
    return {k: v for k, v in as_dict(cursor.get(key)).items() if isinstance(v, int)}


def _graph_id(value: str) -> str:
    """``value`` if it can be put in a Graph path as an object id.

    Raises:
        ValueError: it could carry a path separator, a query or an escape.
    """
    if not _GRAPH_ID.fullmatch(value) or set(value) <= {"."}:
        raise ValueError("not a Facebook object id")
    return value


def _unix(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _permalink(item: Any) -> str | None:
    return opt_str(as_dict(item).get("permalink_url"))


def _older_than(item: Any, since: datetime) -> bool:
    """Whether an item's ``created_time`` is readable and before ``since``."""
    try:
        created = parse_time(as_dict(item).get("created_time"))
    except Malformed:
        return False
    return not published_at_or_after(created, since)


def usage_percent(usage: Mapping[str, Any]) -> int:
    """The highest usage figure across Graph's usage headers (0-100)."""
    best = 0
    for key, value in usage.items():
        entries: list[Any] = []
        if key == "X-Business-Use-Case-Usage":
            for group in as_dict(value).values():
                entries += as_list(group)
        else:
            entries = [value]
        for entry in entries:
            e = as_dict(entry)
            for field in ("call_count", "total_time", "total_cputime"):
                best = max(best, opt_int(e.get(field)) or 0)
    return best
