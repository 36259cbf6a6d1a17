"""Triage in SQL: claim, assign, hand over, status, priority, tags, notes, the status history.

The claim is one conditional ``UPDATE … WHERE assignee_id IS NULL``: whichever transaction's
update changes the row has won, on either engine (PostgreSQL re-checks the condition after the
row lock is released; SQLite serialises writers), so two claims of one conversation cannot both
win. An assignment is a compare-and-set on the assignee the caller saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from app.models import (
    Author,
    Conversation,
    ConversationEvent,
    ConversationTag,
    Note,
    Person,
    StrategyItem,
    Tag,
)


@dataclass(frozen=True, slots=True)
class TriageState:
    """What a triage action reads of a conversation before it acts."""

    id: int
    unit_id: int
    status: str
    priority: str
    assignee_id: int | None
    assignee_name: str | None
    claimed_at: datetime | None
    resolved_at: datetime | None
    routed_by_rule_id: int | None
    first_inbound_at: datetime | None = None
    first_response_at: datetime | None = None


class KeepDue:
    """A hand-over that leaves the first-response due time as it is (answered already)."""


KEEP_DUE = KeepDue()


@dataclass(frozen=True, slots=True)
class NewEvent:
    """One line for the status history (``conversation_events``)."""

    conversation_id: int
    at: datetime
    person_id: int | None
    person_name: str
    kind: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    unit_from: int | None = None
    unit_to: int | None = None
    rule_id: int | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class EventRow:
    """A stored line of the status history, oldest first in :meth:`SqlTriage.events`."""

    id: int
    event: NewEvent


@dataclass(frozen=True, slots=True)
class AuthorFlag:
    """The author of a conversation as the spam filter knows them."""

    id: int
    name: str
    is_spammer: bool


@dataclass(frozen=True, slots=True)
class NoteRow:
    id: int
    conversation_id: int
    person_id: int
    person_name: str
    text: str
    created_at: datetime


class SqlTriage:
    """:class:`app.storage.ports.TriageRepository` on a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def state(self, conversation_id: int) -> TriageState | None:
        row = self._s.execute(
            select(
                Conversation.id,
                Conversation.unit_id,
                Conversation.status,
                Conversation.priority,
                Conversation.assignee_id,
                Person.name,
                Conversation.claimed_at,
                Conversation.resolved_at,
                Conversation.routed_by_rule_id,
                Conversation.first_inbound_at,
                Conversation.first_response_at,
            )
            .outerjoin(Person, Person.id == Conversation.assignee_id)
            .where(Conversation.id == conversation_id)
        ).one_or_none()
        return None if row is None else TriageState(*row)

    def _update(self, conversation_id: int, *conditions: Any, **values: Any) -> bool:
        result = self._s.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, *conditions)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    def claim(self, conversation_id: int, person_id: int, at: datetime) -> bool:
        """Take an unassigned conversation; False when someone else holds it (or it is gone)."""
        return self._update(
            conversation_id,
            Conversation.assignee_id.is_(None),
            assignee_id=person_id,
            claimed_at=at,
        )

    def assign(
        self, conversation_id: int, person_id: int | None, at: datetime, *, expected: int | None
    ) -> bool:
        """Set the assignee (None: nobody) if it is still ``expected``; False otherwise."""
        held = (
            Conversation.assignee_id.is_(None)
            if expected is None
            else Conversation.assignee_id == expected
        )
        return self._update(
            conversation_id,
            held,
            assignee_id=person_id,
            claimed_at=None if person_id is None else at,
        )

    def move(
        self,
        conversation_id: int,
        unit_id: int,
        status: str,
        *,
        sla_due_at: datetime | KeepDue | None = KEEP_DUE,
    ) -> None:
        """Hand over: the new unit, nobody assigned, the given status (and due time)."""
        values: dict[str, Any] = {
            "unit_id": unit_id,
            "assignee_id": None,
            "claimed_at": None,
            "status": status,
        }
        if not isinstance(sla_due_at, KeepDue):
            values["sla_due_at"] = sla_due_at
        self._update(conversation_id, **values)

    def set_status(self, conversation_id: int, status: str, resolved_at: datetime | None) -> None:
        self._update(conversation_id, status=status, resolved_at=resolved_at)

    def set_priority(self, conversation_id: int, priority: str) -> None:
        self._update(conversation_id, priority=priority)

    def author(self, conversation_id: int) -> AuthorFlag | None:
        """Who opened the conversation (None: no author stored, e.g. our own post)."""
        row = self._s.execute(
            select(Author.id, Author.display_name, Author.handle, Author.is_spammer)
            .join(Conversation, Conversation.author_id == Author.id)
            .where(Conversation.id == conversation_id)
        ).one_or_none()
        if row is None:
            return None
        name = row.display_name or (f"@{row.handle}" if row.handle else f"author {row.id}")
        return AuthorFlag(row.id, name, bool(row.is_spammer))

    def set_spammer(self, author_id: int, is_spammer: bool) -> None:
        """Put the author on the filter's list of known spam authors, or take them off it."""
        self._s.execute(
            update(Author)
            .where(Author.id == author_id)
            .values(is_spammer=is_spammer)
            .execution_options(synchronize_session=False)
        )

    def tag_names(self, limit: int = 1000) -> list[str]:
        """Every tag's name in the workspace, alphabetically (for completion), at most ``limit``."""
        return list(self._s.scalars(select(Tag.name).order_by(Tag.name).limit(limit)))

    def tags(self, conversation_id: int) -> list[str]:
        return list(
            self._s.scalars(
                select(Tag.name)
                .join(ConversationTag, ConversationTag.tag_id == Tag.id)
                .where(ConversationTag.conversation_id == conversation_id)
                .order_by(Tag.name)
            )
        )

    def add_tag(self, conversation_id: int, name: str) -> bool:
        """Tag it (making the tag if new); False when it already had the tag."""
        tag_id = self._s.scalar(select(Tag.id).where(Tag.name == name))
        if tag_id is None:
            tag = Tag(name=name)
            self._s.add(tag)
            self._s.flush()
            tag_id = tag.id
        else:
            had = self._s.scalar(
                select(ConversationTag.tag_id).where(
                    ConversationTag.conversation_id == conversation_id,
                    ConversationTag.tag_id == tag_id,
                )
            )
            if had is not None:
                return False
        self._s.execute(
            insert(ConversationTag).values(conversation_id=conversation_id, tag_id=tag_id)
        )
        return True

    def remove_tag(self, conversation_id: int, name: str) -> bool:
        """Untag it; False when it did not have the tag."""
        tag_id = self._s.scalar(select(Tag.id).where(Tag.name == name))
        if tag_id is None:
            return False
        result = self._s.execute(
            delete(ConversationTag).where(
                ConversationTag.conversation_id == conversation_id,
                ConversationTag.tag_id == tag_id,
            )
        )
        return bool(getattr(result, "rowcount", 0))

    def social_goal(self, conversation_id: int) -> tuple[int, str] | None:
        """The social goal the conversation is tagged with: (id, title), or None."""
        row = self._s.execute(
            select(StrategyItem.id, StrategyItem.title)
            .join(Conversation, Conversation.social_goal_id == StrategyItem.id)
            .where(Conversation.id == conversation_id)
        ).first()
        return None if row is None else (int(row[0]), str(row[1]))

    def social_goals(self) -> list[tuple[int, str]]:
        """Every social goal of the strategy, (id, title), in the strategy's order."""
        rows = self._s.execute(
            select(StrategyItem.id, StrategyItem.title)
            .where(StrategyItem.type == "social_goal")
            .order_by(StrategyItem.position, StrategyItem.id)
        )
        return [(int(r[0]), str(r[1])) for r in rows]

    def set_social_goal(self, conversation_id: int, goal_id: int | None) -> None:
        self._s.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(social_goal_id=goal_id)
        )

    def add_note(self, conversation_id: int, person_id: int, text: str, at: datetime) -> int:
        note = Note(conversation_id=conversation_id, person_id=person_id, text=text, created_at=at)
        self._s.add(note)
        self._s.flush()
        return note.id

    def notes(self, conversation_id: int) -> list[NoteRow]:
        rows = self._s.execute(
            select(
                Note.id,
                Note.conversation_id,
                Note.person_id,
                Person.name,
                Note.text,
                Note.created_at,
            )
            .join(Person, Person.id == Note.person_id)
            .where(Note.conversation_id == conversation_id)
            .order_by(Note.created_at, Note.id)
        )
        return [NoteRow(*r) for r in rows]

    def append_event(self, event: NewEvent) -> int:
        row = ConversationEvent(
            conversation_id=event.conversation_id,
            at=event.at,
            person_id=event.person_id,
            person_name=event.person_name,
            kind=event.kind,
            before=event.before,
            after=event.after,
            unit_from=event.unit_from,
            unit_to=event.unit_to,
            rule_id=event.rule_id,
            reason=event.reason,
        )
        self._s.add(row)
        self._s.flush()
        return row.id

    def events(self, conversation_id: int) -> list[EventRow]:
        rows = self._s.scalars(
            select(ConversationEvent)
            .where(ConversationEvent.conversation_id == conversation_id)
            .order_by(ConversationEvent.at, ConversationEvent.id)
        )
        return [
            EventRow(
                r.id,
                NewEvent(
                    r.conversation_id,
                    r.at,
                    r.person_id,
                    r.person_name,
                    r.kind,
                    r.before,
                    r.after,
                    r.unit_from,
                    r.unit_to,
                    r.rule_id,
                    r.reason,
                ),
            )
            for r in rows
        ]
