"""The Sandbox network: Quiver's demo network, a real connector behind the same interface.

It streams realistic new conversations (and follow-ups on them) at a steady pace, derived from
a seed and its cursor, so the same cursor always yields the same items; publishing to it works,
and what it received is kept by the network (:mod:`app.connectors.sandbox_network`, a file
beside the workspace), so ``find_published`` answers from it after a crash or in another
process, as X or Facebook would. A connector made without a network keeps what it received in
memory only (tests of the connector alone).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from app.connectors.base import (
    Capabilities,
    FetchResult,
    InboundItem,
    MaybePublished,
    PublishResult,
    TransientError,
    check_find_published_args,
    published_at_or_after,
    texts_match,
)
from app.connectors.sandbox_network import (
    SandboxNetwork,
    SandboxNetworkError,
    SandboxWrite,
    answer,
)
from app.domain.demo_text import TOPICS, TextFactory
from app.domain.polling import poll_floor_s

#: One new conversation per account every this many seconds, on average.
DEFAULT_PACE_S = 20.0
#: At most this many items per poll (a long pause catches up over several polls).
MAX_ITEMS = 200
#: The share of the stream that is a follow-up in an earlier thread rather than a new one.
FOLLOW_UP_SHARE = 0.3
#: A follow-up goes to one of the last this many threads streamed before the poll.
FOLLOW_UP_REACH = 300
_TOPIC_WEIGHTS = (26, 23, 12, 6, 3, 2, 8, 4, 3)
_LANGS = ("en",) * 7 + ("de", "es")
_texts: TextFactory | None = None
_texts_lock = threading.Lock()


def _factory() -> TextFactory:
    global _texts
    with _texts_lock:
        if _texts is None:
            _texts = TextFactory()
        return _texts


class SandboxConnector:
    """A Sandbox account. ``clock`` is injectable so tests control the pace."""

    def __init__(
        self,
        account_handle: str,
        account_external_id: str,
        *,
        seed: int = 1,
        pace_s: float = DEFAULT_PACE_S,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        network: SandboxNetwork | None = None,
    ) -> None:
        self._network = network
        self._handle = account_handle
        self._me = account_external_id
        self._seed = seed
        self._pace = pace_s
        self._clock = clock
        self._published = 0
        self._writes: list[SandboxWrite] = []
        self._writes_lock = threading.Lock()

    def capabilities(self) -> Capabilities:
        return Capabilities(
            network="sandbox",
            can_post=True,
            can_reply=True,
            can_dm=True,
            max_text={"post": 2000, "reply": 2000, "dm": 2000},
            min_poll_interval_s=poll_floor_s("sandbox"),
        )

    def fetch(self, cursor: dict[str, Any] | None) -> FetchResult:
        """What arrived since the cursor's time: one item every ``pace_s`` seconds on average.

        Most items open a new conversation; about :data:`FOLLOW_UP_SHARE` of them are the
        customer writing again in a thread streamed by an earlier poll (which reopens it if it
        was resolved or waiting). The same cursor always gives the same items.
        """
        now = self._clock()
        cursor = dict(cursor or {})
        seq = int(cursor.get("seq", 0))
        since = _parse(cursor.get("at")) or now - timedelta(seconds=self._pace * 3)
        due = max(0, int((now - since).total_seconds() / self._pace))
        count = min(due, MAX_ITEMS)
        items: list[InboundItem] = []
        for i in range(count):
            at = min(since + timedelta(seconds=self._pace * (i + 1)), now)
            follow = self._follow_up(seq + i, seq, at)
            items.extend([follow] if follow is not None else self._thread(seq + i, at))
        new_at = since + timedelta(seconds=self._pace * count) if count else since
        return FetchResult(
            items=tuple(items),
            cursor={"seq": seq + count, "at": new_at.isoformat()},
        )

    def _is_follow_up(self, n: int) -> bool:
        if n == 0:
            return False
        return random.Random(f"{self._seed}:{self._handle}:slot:{n}").random() < FOLLOW_UP_SHARE

    def _follow_up(self, n: int, streamed: int, at: datetime) -> InboundItem | None:
        """Slot ``n`` as a follow-up in a thread of the first ``streamed`` slots, or ``None``."""
        if streamed == 0 or not self._is_follow_up(n):
            return None
        rng = random.Random(f"{self._seed}:{self._handle}:follow:{n}")
        target = rng.randrange(max(0, streamed - FOLLOW_UP_REACH), streamed)
        while target > 0 and self._is_follow_up(target):
            target -= 1  # that slot was itself a follow-up: take the thread before it
        first = self._thread(target, at)[0]
        topic = first.raw.get("topic")
        if topic == "spam":
            return None
        lang = str(first.raw.get("lang", "en"))
        later = [
            m.text
            for m in _factory().thread(rng, lang, str(topic)).messages[1:]
            if m.direction == "in"
        ]
        text = later[0] if later else "Any update on this?"
        ext = f"{first.thread_external_id}-r{n}"
        return InboundItem(
            network="sandbox",
            external_id=ext,
            kind="dm" if first.kind == "dm" else "reply",
            direction="in",
            text=text,
            created_at=at,
            author_external_id=first.author_external_id,
            author_handle=first.author_handle,
            author_name=first.author_name,
            thread_external_id=first.thread_external_id,
            thread_type=first.thread_type,
            in_reply_to=first.external_id,
            permalink=None if first.kind == "dm" else f"sandbox://{self._handle}/{ext}",
            raw={"id": ext, "text": text, "in_reply_to": first.external_id},
            author_followers=first.author_followers,
            language=lang,
        )

    def _thread(self, n: int, at: datetime) -> list[InboundItem]:
        rng = random.Random(f"{self._seed}:{self._handle}:{n}")
        topic = rng.choices(TOPICS, weights=_TOPIC_WEIGHTS)[0]
        lang = rng.choice(_LANGS)
        texts = _factory()
        thread = texts.thread(rng, lang, topic)
        author = texts.author(rng, lang)
        author_id = f"sbx-u{rng.randrange(10**9)}"
        dm = topic != "spam" and rng.random() < 0.2
        thread_id = f"sbx-{self._handle}-{n}"
        first = thread.messages[0]
        kind = "dm" if dm else rng.choice(("mention", "mention", "comment"))
        return [
            InboundItem(
                network="sandbox",
                external_id=thread_id,
                kind=kind,
                direction="in",
                text=first.text,
                created_at=at,
                author_external_id=author_id,
                author_handle=author.handle,
                author_name=author.display_name,
                thread_external_id=thread_id,
                thread_type="sandbox_dm" if dm else "sandbox_thread",
                in_reply_to=None,
                permalink=None if dm else f"sandbox://{self._handle}/{thread_id}",
                raw={"id": thread_id, "text": first.text, "topic": topic, "lang": lang},
                author_followers=author.followers,
                language=lang,
            )
        ]

    def publish(self, text: str) -> PublishResult:
        return self._accept(text, "post")

    def reply(self, text: str, *, in_reply_to: str, thread_external_id: str) -> PublishResult:
        return self._accept(text, "reply", thread_external_id, in_reply_to)

    def send_dm(self, text: str, *, thread_external_id: str, recipient_id: str) -> PublishResult:
        return self._accept(text, "dm", thread_external_id)

    @property
    def published(self) -> tuple[SandboxWrite, ...]:
        """Every write the network received from this account, oldest first."""
        if self._network is not None:
            return tuple(self._network.received(self._handle))
        with self._writes_lock:
            return tuple(self._writes)

    def find_published(
        self,
        text: str,
        *,
        since: datetime,
        in_reply_to: str | None = None,
        thread_external_id: str | None = None,
        kind: str = "post",
    ) -> PublishResult | None:
        """The write of ``text`` this connector accepted at or after ``since``, if any.

        Matches ``kind``, the text (as by ``texts_match``), for a reply ``in_reply_to`` and for
        a DM ``thread_external_id``; the newest such write wins. It asks the network's file:
        a new connector, in this process or another, finds what an earlier one wrote.

        Raises:
            ValueError: arguments that cannot describe a write (``check_find_published_args``).
        """
        check_find_published_args(kind, in_reply_to, thread_external_id)
        try:
            writes = self.published
        except SandboxNetworkError as exc:  # never taken as "not published"
            raise TransientError(str(exc)) from exc
        for write in reversed(writes):
            if (
                write.kind == kind
                and published_at_or_after(write.at, since)
                and (kind != "reply" or write.in_reply_to == in_reply_to)
                and (kind != "dm" or write.thread_external_id == thread_external_id)
                and texts_match(text, write.text)
            ):
                return write.result
        return None

    def _accept(
        self, text: str, kind: str, thread: str | None = None, in_reply_to: str | None = None
    ) -> PublishResult:
        at = self._clock()
        if self._network is not None:
            try:
                return self._network.receive(
                    self._handle, kind, text, at, thread=thread, in_reply_to=in_reply_to
                ).result
            except SandboxNetworkError as exc:  # like a network that did not answer
                raise MaybePublished(str(exc)) from exc
        with self._writes_lock:
            self._published += 1
            stamp = int(at.timestamp() * 1000)
            result = answer(
                self._handle, f"sbx-out-{self._handle}-{stamp}-{self._published}", thread
            )
            self._writes.append(
                SandboxWrite(
                    result=result,
                    text=text,
                    kind=kind,
                    in_reply_to=in_reply_to,
                    thread_external_id=thread,
                    at=at if at.tzinfo else at.replace(tzinfo=UTC),
                    account=self._handle,
                )
            )
        return result


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
