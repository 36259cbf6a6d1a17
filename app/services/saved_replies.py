"""Saved replies: a unit's ready-made answers, with placeholders filled in when used.

Decisions:

- **Whose.** A saved reply belongs to a unit and is offered in that unit and every unit below
  it (Customer Care's replies in Orders & Delivery too), nearest unit first when two share a
  title.
- **Who keeps them.** Supervisors and administrators of the unit (or of a unit above) add,
  edit and delete them; anyone who may work in a unit (agents) uses its replies. The refusal
  names the role and unit missing.
- **What they hold.** A title (1 to 100 characters, unique in its unit regardless of case)
  and a body (1 to 5,000 characters) of plain text in which only the placeholders of
  :data:`app.domain.saved_replies.PLACEHOLDERS` may appear in braces: a body with
  ``{order_id}`` is refused, naming it and the placeholders there are.
- **Using one** (:meth:`SavedRepliesService.expand`) fills in the conversation author's name
  and the operator's first name (:func:`app.domain.saved_replies.expand`).
- Every change leaves an audit entry (``entity = 'saved_reply'``) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from app.domain.approval import holds_role
from app.domain.enums import Role
from app.domain.permissions import Action, Actor, Place
from app.domain.saved_replies import (
    MAX_BODY,
    MAX_TITLE,
    PLACEHOLDERS,
    Expansion,
    expand,
    first_name,
    unknown_placeholders,
)
from app.models.base import utcnow
from app.services.access import NotAllowed, active_actor, require_in
from app.services.auditing import record_change
from app.storage.ports import Storage, StorageUnitOfWork
from app.storage.saved_replies import SavedReplyRecord

__all__ = ["NotAllowed", "SavedRepliesService", "SavedReplyError", "SavedReplyRow"]


class SavedReplyError(ValueError):
    """The saved reply cannot be saved or used as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class SavedReplyRow:
    """A saved reply offered in a unit."""

    id: int
    unit_id: int
    unit_name: str
    title: str
    body: str


def _row(r: SavedReplyRecord) -> SavedReplyRow:
    return SavedReplyRow(r.id, r.unit_id, r.unit_name, r.title, r.body)


def _unit_ids(place: Place) -> list[int]:
    return [int(p) for p in place.unit_path.strip("/").split("/") if p]


class SavedRepliesService:
    """The saved replies' use cases; safe from any thread (one unit of work per call)."""

    def __init__(self, db: Storage, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock

    # -- reading ---------------------------------------------------------------------------

    def for_unit(self, operator: int, unit_id: int) -> list[SavedReplyRow]:
        """The replies offered in the unit (its own and those of the units above), by title.

        Raises:
            NotAllowed: the operator may not work in the unit.
        """
        with self._db.uow() as uow:
            place = self._place(uow, unit_id)
            require_in(uow, operator, Action.WORK_CONVERSATIONS, unit_id, doing="use its replies")
            found = uow.saved_replies.of_units(_unit_ids(place))
        nearest: dict[str, SavedReplyRecord] = {}
        for record in found:  # by title, then unit path: the nearest unit comes last
            nearest[record.title.casefold()] = record
        return [_row(r) for r in nearest.values()]

    def may_manage(self, operator: int, unit_id: int) -> bool:
        """Whether the operator may add, edit and delete the unit's saved replies."""
        with self._db.uow() as uow:
            place = uow.directory.place(unit_id)
            actor = uow.directory.actor(operator)
            return place is not None and actor is not None and _manages(actor, place)

    def expand(
        self, operator: int, reply_id: int, unit_id: int, conversation_id: int | None = None
    ) -> Expansion:
        """The reply's text filled in for a draft of ``unit_id`` (answering the conversation).

        Raises:
            NotAllowed: the operator may not work in the unit.
            SavedReplyError: no such saved reply, or it is not offered in that unit.
        """
        with self._db.uow() as uow:
            place = self._place(uow, unit_id)
            actor = require_in(
                uow, operator, Action.WORK_CONVERSATIONS, unit_id, doing="use its replies"
            )
            reply = self._get(uow, reply_id)
            if not place.unit_path.startswith(reply.unit_path):
                raise SavedReplyError(
                    f"“{reply.title}” is a saved reply of {reply.unit_name}, not offered in "
                    f"{place.unit_name}."
                )
            author = uow.compose.author_name(conversation_id) if conversation_id else ""
        return expand(reply.body, {"author_name": author, "my_first_name": first_name(actor.name)})

    # -- keeping them ----------------------------------------------------------------------

    def create(self, operator: int, unit_id: int, title: str, body: str) -> int:
        """A new saved reply for the unit; returns its id.

        Raises:
            NotAllowed: the operator is not a supervisor or administrator of the unit or above.
            SavedReplyError: no such unit; a title empty, too long or taken in the unit; a body
                empty, too long, or with an unknown placeholder.
        """
        title, body = _checked(title, body)
        now = self._clock()
        with self._db.uow() as uow:
            place = self._place(uow, unit_id)
            actor = self._manager(uow, operator, place)
            self._title_free(uow, unit_id, title, None)
            reply_id = uow.saved_replies.add(unit_id, title, body, operator, now)
            self._audit(uow, actor, now, "saved_reply.create", reply_id, unit_id, None, title, body)
            uow.commit()
        return reply_id

    def edit(self, operator: int, reply_id: int, title: str, body: str) -> None:
        """Change a saved reply's title and body.

        Raises:
            NotAllowed: as for :meth:`create`, in the reply's unit.
            SavedReplyError: no such saved reply; as for :meth:`create`.
        """
        title, body = _checked(title, body)
        now = self._clock()
        with self._db.uow() as uow:
            reply = self._get(uow, reply_id)
            actor = self._manager(uow, operator, Place(reply.unit_path, reply.unit_name))
            if (reply.title, reply.body) == (title, body):
                return
            self._title_free(uow, reply.unit_id, title, reply_id)
            uow.saved_replies.edit(reply_id, title, body, now)
            self._audit(
                uow, actor, now, "saved_reply.edit", reply_id, reply.unit_id, reply, title, body
            )
            uow.commit()

    def delete(self, operator: int, reply_id: int) -> None:
        """Delete a saved reply (the audit log keeps its text).

        Raises:
            NotAllowed: as for :meth:`create`, in the reply's unit.
            SavedReplyError: no such saved reply.
        """
        now = self._clock()
        with self._db.uow() as uow:
            reply = self._get(uow, reply_id)
            actor = self._manager(uow, operator, Place(reply.unit_path, reply.unit_name))
            uow.saved_replies.delete(reply_id)
            self._audit(uow, actor, now, "saved_reply.delete", reply_id, reply.unit_id, reply)
            uow.commit()

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _place(uow: StorageUnitOfWork, unit_id: int) -> Place:
        place = uow.directory.place(unit_id)
        if place is None:
            raise SavedReplyError("That unit does not exist (any more).")
        return place

    @staticmethod
    def _get(uow: StorageUnitOfWork, reply_id: int) -> SavedReplyRecord:
        reply = uow.saved_replies.get(reply_id)
        if reply is None:
            raise SavedReplyError("That saved reply does not exist (any more).")
        return reply

    @staticmethod
    def _manager(uow: StorageUnitOfWork, operator: int, place: Place) -> Actor:
        actor = active_actor(uow, operator)
        if not _manages(actor, place):
            raise NotAllowed(
                f"Only a supervisor or an administrator of {place.unit_name} (or of a unit "
                f"above) can change its saved replies; {actor.name} is neither."
            )
        return actor

    @staticmethod
    def _title_free(uow: StorageUnitOfWork, unit_id: int, title: str, reply_id: int | None) -> None:
        for other in uow.saved_replies.of_units([unit_id]):
            if other.id != reply_id and other.title.casefold() == title.casefold():
                raise SavedReplyError(
                    f"{other.unit_name} has a saved reply called “{other.title}” already: "
                    "pick another title."
                )

    @staticmethod
    def _audit(
        uow: StorageUnitOfWork,
        actor: Actor,
        at: datetime,
        action: str,
        reply_id: int,
        unit_id: int,
        before: SavedReplyRecord | None,
        title: str | None = None,
        body: str | None = None,
    ) -> None:
        record_change(
            uow,
            at=at,
            person_id=actor.person_id,
            person_name=actor.name,
            action=action,
            entity="saved_reply",
            entity_id=reply_id,
            before=None
            if before is None
            else {"unit_id": unit_id, "title": before.title, "body": before.body},
            after=None if title is None else {"unit_id": unit_id, "title": title, "body": body},
        )


def _manages(actor: Actor, place: Place) -> bool:
    return actor.active and any(
        holds_role(actor, role, place) for role in (Role.SUPERVISOR, Role.ADMIN)
    )


def _checked(title: str, body: str) -> tuple[str, str]:
    title = " ".join(title.split())
    body = body.strip()
    if not title:
        raise SavedReplyError("A saved reply needs a title.")
    if len(title) > MAX_TITLE:
        raise SavedReplyError(f"A title is at most {MAX_TITLE} characters.")
    if not body:
        raise SavedReplyError("A saved reply needs its text.")
    if len(body) > MAX_BODY:
        raise SavedReplyError(f"A saved reply is at most {MAX_BODY:,} characters.")
    unknown = unknown_placeholders(body)
    if unknown:
        known = " and ".join("{" + name + "}" for name in PLACEHOLDERS)
        raise SavedReplyError(
            f"{{{unknown[0]}}} is not a placeholder: the text may hold {known} "
            "(or write the braces' content out)."
        )
    return title, body
