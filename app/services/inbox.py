"""Reading the inbox: units with counts, keyset pages of conversations, and threads."""

from __future__ import annotations

from collections import defaultdict
from threading import Lock

from sqlalchemy import select

from app.domain.enums import ConversationStatus
from app.domain.rows import ConversationRow, FeedFilter, ThreadView, UnitCount, UnitRow
from app.domain.units import UnitNode, rollup, subtree_ids
from app.models import Account, Conversation, Person, Unit
from app.storage import feed
from app.storage.workspace import Database

PAGE_SIZE = 200
_BACKLOG = {s.value for s in ConversationStatus.backlog()}


class InboxService:
    """The read side of the inbox; safe to call from any thread (one connection per call)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._units: tuple[UnitRow, ...] | None = None
        self._lock = Lock()

    def units(self) -> tuple[UnitRow, ...]:
        """Every unit, in tree order (parents before children, siblings by position and name)."""
        with self._lock:
            if self._units is None:
                with self._db.engine.connect() as conn:
                    rows = list(
                        conn.execute(
                            select(
                                Unit.id,
                                Unit.parent_id,
                                Unit.path,
                                Unit.name,
                                Unit.kind,
                                Unit.colour,
                                Unit.languages,
                                Unit.is_triage,
                                Unit.sort_order,
                            )
                        )
                    )
                order = {r.id: (r.sort_order, r.name) for r in rows}
                rows.sort(key=lambda r: [order[int(p)] for p in r.path.strip("/").split("/")])
                self._units = tuple(UnitRow(*r[:8]) for r in rows)
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

    def page(
        self, query: FeedFilter, after: tuple[int, int] | None = None, limit: int = PAGE_SIZE
    ) -> list[ConversationRow]:
        """One page of conversations matching ``query``, newest activity first, after ``after``."""
        with self._db.engine.connect() as conn:
            return feed.feed_page(
                conn,
                unit_ids=self._unit_ids(query),
                networks=query.networks,
                statuses=query.statuses,
                account_ids=query.account_ids,
                after=after,
                limit=limit,
            )

    def newer(
        self, query: FeedFilter, than: tuple[int, int], limit: int = 500
    ) -> list[ConversationRow]:
        """Conversations whose activity is newer than the key ``than`` (newest first)."""
        with self._db.engine.connect() as conn:
            return feed.feed_newer(
                conn,
                unit_ids=self._unit_ids(query),
                networks=query.networks,
                statuses=query.statuses,
                than=than,
                limit=limit,
            )

    def keys(
        self, query: FeedFilter, after: tuple[int, int] | None = None
    ) -> list[tuple[int, int]]:
        """Every remaining key of the list after ``after`` (two integers per conversation)."""
        with self._db.engine.connect() as conn:
            return feed.feed_keys(
                conn,
                unit_ids=self._unit_ids(query),
                networks=query.networks,
                statuses=query.statuses,
                after=after,
            )

    def rows(self, ids: list[int]) -> dict[int, ConversationRow]:
        """The list rows of these conversations, by id."""
        with self._db.engine.connect() as conn:
            return feed.rows_by_ids(conn, ids)

    def unit_counts(self) -> dict[int, UnitCount]:
        """Backlog, new and total conversations per unit, each including its sub-units.

        Reads every unit's counts in one grouped pass: run it off the GUI thread.
        """
        with self._db.engine.connect() as conn:
            per_status = feed.status_counts(conn)
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
        with self._db.engine.connect() as conn:
            row = feed.conversation_row(conn, conversation_id)
            if row is None:
                return None
            info = conn.execute(
                select(
                    Unit.name,
                    Account.display_name,
                    Account.handle,
                    Person.name,
                    Conversation.routing_reason,
                    Conversation.language,
                )
                .select_from(Conversation)
                .join(Unit, Unit.id == Conversation.unit_id)
                .join(Account, Account.id == Conversation.account_id)
                .outerjoin(Person, Person.id == Conversation.assignee_id)
                .where(Conversation.id == conversation_id)
            ).one()
            msgs, more = feed.thread_messages(conn, conversation_id, limit=limit)
            followers = feed.author_followers(conn, conversation_id)
        unit_name, acc_name, acc_handle, assignee, reason, lang = info
        return ThreadView(
            conversation=row,
            unit_name=unit_name,
            account_name=f"{acc_name} (@{acc_handle})",
            assignee_name=assignee,
            routing_reason=reason,
            language=lang,
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
