"""Saved inbox views: a person's named filters, with their counts; only the owner sees them.

Decisions:

- A view belongs to the person who saved it. Listing shows only the operator's own views;
  renaming, deleting and reordering someone else's view is refused, naming whose it is.
- Names are trimmed, 1 to 100 characters, and unique per person regardless of case ("My open"
  and "my open" cannot both exist), so a list never shows two entries a person cannot tell apart.
- The filter is stored in its JSON form (``app.domain.filters``). A stored filter this version
  cannot read is listed with the reason and no count, never dropped: deleting it stays possible.
- Counts run one count query per view: call :meth:`SavedViewsService.counts` off the GUI thread.
- Every change leaves an audit entry (``entity = 'saved_view'``) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from app.domain.filters import FilterError, filter_from_json, filter_to_json
from app.domain.rows import FeedFilter
from app.models.base import utcnow
from app.services.access import NOBODY, NotAllowed
from app.services.auditing import record_change
from app.services.inbox import InboxService
from app.storage.ports import Storage, StorageUnitOfWork
from app.storage.views import SavedViewRecord

__all__ = ["NotAllowed", "SavedViewError", "SavedViewRow", "SavedViewsService", "ViewCount"]

MAX_NAME = 100


class SavedViewError(ValueError):
    """The view cannot be saved or changed as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class SavedViewRow:
    """One of the operator's views; ``filter`` is None when its stored form cannot be read."""

    id: int
    name: str
    filter: FeedFilter | None
    position: int
    problem: str = ""


@dataclass(frozen=True, slots=True)
class ViewCount:
    """How many conversations a view shows; ``at_least``: a search that found more than that."""

    n: int
    at_least: bool = False

    def text(self) -> str:
        return f"{self.n:,}+" if self.at_least else f"{self.n:,}"


class SavedViewsService:
    """The saved views' use cases; safe from any thread (one unit of work per call)."""

    def __init__(
        self, db: Storage, inbox: InboxService, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._db = db
        self._inbox = inbox
        self._clock = clock

    def views(self, operator: int) -> list[SavedViewRow]:
        """The operator's own views, in their order."""
        with self._db.uow() as uow:
            return [_row(r) for r in uow.saved_views.of(operator)]

    def counts(self, operator: int) -> dict[int, ViewCount]:
        """Each readable view's count, by view id ("assigned to me" is the operator)."""
        views = self.views(operator)
        out: dict[int, ViewCount] = {}
        for view in views:
            if view.filter is None:
                continue
            try:
                query = self._inbox.resolve(view.filter, me=operator)
            except (KeyError, ValueError):  # its unit was deleted since: nothing to count
                out[view.id] = ViewCount(0)
                continue
            with self._db.uow() as uow:
                n, at_least = uow.feed.count(query)
            out[view.id] = ViewCount(n, at_least)
        return out

    def create(self, operator: int, name: str, view: FeedFilter) -> int:
        """Save the filter under a new name, after the operator's other views.

        Raises:
            NotAllowed: nobody with that id works here.
            SavedViewError: the name is empty, too long or taken, or the filter is not valid.
        """
        filters = _checked_filter(view)
        with self._db.uow() as uow:
            who = self._person(uow, operator)
            mine = uow.saved_views.of(operator)
            clean = _checked_name(name, (v.name for v in mine))
            position = max((v.position for v in mine), default=-1) + 1
            view_id = uow.saved_views.add(operator, clean, filters, position, self._clock())
            self._audit(
                uow,
                operator,
                who,
                "saved_view.created",
                view_id,
                None,
                {"name": clean, "filters": filters},
            )
            uow.commit()
        return view_id

    def rename(self, operator: int, view_id: int, name: str) -> None:
        """Give one of the operator's views a new name.

        Raises:
            NotAllowed: the view is someone else's.
            SavedViewError: no such view, or the name is empty, too long or taken.
        """
        with self._db.uow() as uow:
            who = self._person(uow, operator)
            view = self._own(uow, operator, view_id, "rename")
            others = (v.name for v in uow.saved_views.of(operator) if v.id != view_id)
            clean = _checked_name(name, others)
            if clean == view.name:
                return
            uow.saved_views.rename(view_id, clean)
            self._audit(
                uow,
                operator,
                who,
                "saved_view.renamed",
                view_id,
                {"name": view.name},
                {"name": clean},
            )
            uow.commit()

    def delete(self, operator: int, view_id: int) -> None:
        """Remove one of the operator's views.

        Raises:
            NotAllowed: the view is someone else's.
            SavedViewError: no such view.
        """
        with self._db.uow() as uow:
            who = self._person(uow, operator)
            view = self._own(uow, operator, view_id, "delete")
            uow.saved_views.delete(view_id)
            self._audit(
                uow,
                operator,
                who,
                "saved_view.deleted",
                view_id,
                {"name": view.name, "filters": view.filters},
                None,
            )
            uow.commit()

    def reorder(self, operator: int, view_ids: Sequence[int]) -> None:
        """Put the operator's views in this order (every one of them, each once).

        Raises:
            SavedViewError: the ids are not exactly the operator's views.
        """
        with self._db.uow() as uow:
            who = self._person(uow, operator)
            mine = uow.saved_views.of(operator)
            if sorted(view_ids) != sorted(v.id for v in mine):
                raise SavedViewError(
                    "The new order must list each of your saved views exactly once."
                )
            before = [v.id for v in mine]
            if list(view_ids) == before:
                return
            uow.saved_views.set_positions({vid: i for i, vid in enumerate(view_ids)})
            self._audit(
                uow,
                operator,
                who,
                "saved_view.reordered",
                None,
                {"order": before},
                {"order": list(view_ids)},
            )
            uow.commit()

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _person(uow: StorageUnitOfWork, operator: int) -> str:
        name = uow.directory.person_name(operator)
        if name is None:
            raise NotAllowed(NOBODY)
        return name

    @staticmethod
    def _own(uow: StorageUnitOfWork, operator: int, view_id: int, doing: str) -> SavedViewRecord:
        view = uow.saved_views.get(view_id)
        if view is None:
            raise SavedViewError("That saved view no longer exists.")
        if view.person_id != operator:
            owner = uow.directory.person_name(view.person_id) or "someone else"
            raise NotAllowed(
                f"Only the owner of a saved view can {doing} it: '{view.name}' is {owner}'s."
            )
        return view

    def _audit(
        self,
        uow: StorageUnitOfWork,
        operator: int,
        name: str,
        action: str,
        view_id: int | None,
        before: dict[str, object] | None,
        after: dict[str, object] | None,
    ) -> None:
        record_change(
            uow,
            at=self._clock(),
            person_id=operator,
            person_name=name,
            action=action,
            entity="saved_view",
            entity_id=view_id,
            before=before,
            after=after,
        )


def _checked_name(name: str, taken: Iterable[str]) -> str:
    clean = " ".join(name.split())
    if not clean:
        raise SavedViewError("A saved view needs a name.")
    if len(clean) > MAX_NAME:
        raise SavedViewError(f"A view's name has at most {MAX_NAME} characters.")
    if any(clean.casefold() == t.casefold() for t in taken):
        raise SavedViewError(f"You already have a view named '{clean}': choose another name.")
    return clean


def _checked_filter(view: FeedFilter) -> dict[str, object]:
    data = filter_to_json(view)
    try:
        filter_from_json(data)
    except FilterError as exc:
        raise SavedViewError(f"This filter cannot be saved: {exc}") from exc
    return data


def _row(r: SavedViewRecord) -> SavedViewRow:
    try:
        return SavedViewRow(r.id, r.name, filter_from_json(r.filters), r.position)
    except FilterError as exc:
        return SavedViewRow(r.id, r.name, None, r.position, f"This view cannot be shown: {exc}")
