"""Reading the inbox: units with counts, keyset pages of conversations, and threads."""

from __future__ import annotations

from collections import defaultdict
from threading import Lock

from app.domain.enums import ConversationStatus
from app.domain.rows import (
    ASSIGNEE_ME,
    ASSIGNEE_NOBODY,
    SORTS,
    ConversationRow,
    FeedFilter,
    FeedQuery,
    ThreadView,
    UnitCount,
    UnitRow,
)
from app.domain.units import UnitNode, rollup, subtree_ids
from app.storage.ports import Storage, UnitEntry

PAGE_SIZE = 200
_BACKLOG = {s.value for s in ConversationStatus.backlog()}


class InboxService:
    """The read side of the inbox; safe to call from any thread (one unit of work per call).

    The unit tree is cached (guarded by a lock) until :meth:`forget_units`.
    """

    def __init__(self, db: Storage) -> None:
        self._db = db
        self._units: tuple[UnitRow, ...] | None = None
        self._lock = Lock()

    def units(self) -> tuple[UnitRow, ...]:
        """Every unit, in tree order (parents before children, siblings by position and name)."""
        with self._lock:
            if self._units is None:
                with self._db.uow() as uow:
                    entries = uow.directory.units()
                self._units = _tree_order(entries)
            return self._units

    def forget_units(self) -> None:
        """Drop the cached unit tree (after units were edited)."""
        with self._lock:
            self._units = None

    def subtree(self, unit_id: int) -> tuple[int, ...]:
        """The unit and every unit below it.

        Raises:
            KeyError: there is no such unit.
        """
        return subtree_ids(self._nodes(), unit_id)

    def resolve(self, query: FeedFilter, *, me: int | None = None) -> FeedQuery:
        """The filter as storage reads it: the unit's sub-tree as ids, "me" as ``me``.

        Raises:
            ValueError: the filter asks for "me" and no person is reading the list.
        """
        if query.sort not in SORTS:
            raise ValueError(f"Unknown sort {query.sort!r}: choose {', '.join(SORTS)}.")
        assignee_ids: tuple[int, ...] = ()
        if query.assignee == ASSIGNEE_ME:
            if me is None:
                raise ValueError("The filter 'assigned to me' needs the person reading the list.")
            assignee_ids = (me,)
        elif isinstance(query.assignee, int):
            assignee_ids = (query.assignee,)
        unit_ids = self._unit_ids(query)
        return FeedQuery(
            unit_ids=unit_ids,
            networks=query.networks,
            statuses=query.statuses,
            account_ids=query.account_ids,
            kinds=query.kinds,
            assignee_ids=assignee_ids,
            unassigned=query.assignee == ASSIGNEE_NOBODY,
            tags=query.tags,
            sentiments=query.sentiments,
            languages=query.languages,
            text=query.text.strip(),
            sort=query.sort,
        )

    def page(
        self,
        query: FeedFilter,
        after: tuple[int, int] | None = None,
        limit: int = PAGE_SIZE,
        *,
        me: int | None = None,
    ) -> list[ConversationRow]:
        """One page of conversations matching ``query`` in its order, after the key ``after``.

        ``me`` is the person reading the list (what "assigned to me" means).
        """
        resolved = self.resolve(query, me=me)
        with self._db.uow() as uow:
            return uow.feed.page(resolved, after=after, limit=limit)

    def newer(
        self,
        query: FeedFilter,
        than: tuple[int, int],
        limit: int = 500,
        *,
        me: int | None = None,
    ) -> list[ConversationRow]:
        """Conversations whose activity is newer than the key ``than`` (newest first)."""
        resolved = self.resolve(query, me=me)
        with self._db.uow() as uow:
            return uow.feed.newer(resolved, than=than, limit=limit)

    def keys(
        self, query: FeedFilter, after: tuple[int, int] | None = None, *, me: int | None = None
    ) -> list[tuple[int, int]]:
        """Every remaining key of the list after ``after`` (two integers per conversation)."""
        resolved = self.resolve(query, me=me)
        with self._db.uow() as uow:
            return uow.feed.keys(resolved, after=after)

    def search_capped(self, query: FeedFilter, *, me: int | None = None) -> bool:
        """Whether the filter's search text found more conversations than a list shows."""
        resolved = self.resolve(query, me=me)
        if not resolved.text:
            return False
        with self._db.uow() as uow:
            return uow.feed.search(resolved).capped

    def tag_names(self) -> list[str]:
        """Every tag's name, for the tag filter."""
        with self._db.uow() as uow:
            return uow.feed.tag_names()

    def languages(self) -> tuple[str, ...]:
        """The languages the units answer in (the organization's languages), English first."""
        codes = {"en"}
        for unit in self.units():
            codes.update(c.strip() for c in unit.languages.split(",") if c.strip())
        return ("en", *sorted(codes - {"en"}))

    def rows(self, ids: list[int]) -> dict[int, ConversationRow]:
        """The list rows of these conversations, by id."""
        with self._db.uow() as uow:
            return uow.feed.rows(ids)

    def unit_counts(self) -> dict[int, UnitCount]:
        """Backlog, new and total conversations per unit, each including its sub-units.

        Reads every unit's counts in one grouped pass: run it off the GUI thread.
        """
        with self._db.uow() as uow:
            per_status = uow.feed.status_counts()
        backlog: dict[int, int] = defaultdict(int)
        new: dict[int, int] = defaultdict(int)
        total: dict[int, int] = defaultdict(int)
        for (unit_id, status), n in per_status.items():
            total[unit_id] += n
            if status in _BACKLOG:
                backlog[unit_id] += n
            if status == ConversationStatus.NEW:
                new[unit_id] += n
        nodes = self._nodes()
        b, n_, t = rollup(nodes, backlog), rollup(nodes, new), rollup(nodes, total)
        return {u.id: UnitCount(backlog=b[u.id], new=n_[u.id], total=t[u.id]) for u in nodes}

    def thread(self, conversation_id: int, *, limit: int = 500) -> ThreadView | None:
        """A conversation and its newest ``limit`` messages, or ``None`` if it is gone."""
        with self._db.uow() as uow:
            row = uow.feed.conversation(conversation_id)
            header = None if row is None else uow.feed.thread_header(conversation_id)
            if row is None or header is None:
                return None
            msgs, more = uow.feed.messages(conversation_id, limit=limit)
            followers = uow.feed.author_followers(conversation_id)
        return ThreadView(
            conversation=row,
            unit_name=header.unit_name,
            account_name=f"{header.account_name} (@{header.account_handle})",
            assignee_name=header.assignee_name,
            routing_reason=header.routing_reason,
            language=header.language,
            author_followers=followers,
            messages=tuple(msgs),
            more_before=more,
        )

    def _unit_ids(self, query: FeedFilter) -> tuple[int, ...] | None:
        """The units a filter covers; ``None`` for the whole tree (the unfiltered index)."""
        if query.unit_id is None:
            return None
        unit_ids = self.subtree(query.unit_id)
        return None if len(unit_ids) == len(self.units()) else unit_ids

    def _nodes(self) -> list[UnitNode]:
        return [UnitNode(u.id, u.parent_id, u.name, u.path) for u in self.units()]


def _tree_order(entries: list[UnitEntry]) -> tuple[UnitRow, ...]:
    """Parents before children; siblings by their position, then by name."""
    order = {e.unit.id: (e.sort_order, e.unit.name) for e in entries}
    ranked = sorted(
        entries, key=lambda e: [order[int(p)] for p in e.unit.path.strip("/").split("/")]
    )
    return tuple(e.unit for e in ranked)
