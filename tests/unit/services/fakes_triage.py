"""In-memory triage for service tests (registered on ``FakeUnitOfWork.triage`` in ``fakes.py``).

A conversation's unit and status stay on :class:`tests.unit.services.fakes.FakeConversation`;
what triage adds (assignee, claim and resolve times, priority, the routing rule, tags, notes,
the status history) sits in ``FakeData.triage``, so a rollback drops it with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from app.storage.triage import (
    KEEP_DUE,
    AuthorFlag,
    EventRow,
    KeepDue,
    NewEvent,
    NoteRow,
    TriageState,
)

if TYPE_CHECKING:
    from tests.unit.services.fakes import FakeConversation, FakeData


@dataclass
class TriageExtra:
    assignee_id: int | None = None
    claimed_at: datetime | None = None
    resolved_at: datetime | None = None
    priority: str = "normal"
    rule_id: int | None = None
    author_id: int | None = None
    first_inbound_at: datetime | None = None
    first_response_at: datetime | None = None
    sla_due_at: datetime | None = None


@dataclass
class FakeTriageData:
    extra: dict[int, TriageExtra] = field(default_factory=dict)  # by conversation id
    tags: dict[int, list[str]] = field(default_factory=dict)
    notes: list[NoteRow] = field(default_factory=list)
    events: list[NewEvent] = field(default_factory=list)
    spammers: dict[int, bool] = field(default_factory=dict)  # author id -> is_spammer


class FakeTriage:
    def __init__(self, data: FakeData) -> None:
        self._d = data
        self._t = data.triage

    def _conversation(self, conversation_id: int) -> FakeConversation | None:
        return next((c for c in self._d.conversations if c.id == conversation_id), None)

    def _extra(self, conversation_id: int) -> TriageExtra:
        return self._t.extra.setdefault(conversation_id, TriageExtra())

    def state(self, conversation_id: int) -> TriageState | None:
        c = self._conversation(conversation_id)
        if c is None:
            return None
        x = self._extra(conversation_id)
        name = next((p.name for p in self._d.people if p.id == x.assignee_id), None)
        return TriageState(
            c.id,
            c.unit_id,
            c.status,
            x.priority,
            x.assignee_id,
            name,
            x.claimed_at,
            x.resolved_at,
            x.rule_id,
            x.first_inbound_at,
            x.first_response_at,
        )

    def claim(self, conversation_id: int, person_id: int, at: datetime) -> bool:
        if self._conversation(conversation_id) is None:
            return False
        x = self._extra(conversation_id)
        if x.assignee_id is not None:
            return False
        x.assignee_id, x.claimed_at = person_id, at
        return True

    def assign(
        self, conversation_id: int, person_id: int | None, at: datetime, *, expected: int | None
    ) -> bool:
        x = self._extra(conversation_id)
        if x.assignee_id != expected:
            return False
        x.assignee_id, x.claimed_at = person_id, (None if person_id is None else at)
        return True

    def move(
        self,
        conversation_id: int,
        unit_id: int,
        status: str,
        *,
        sla_due_at: datetime | KeepDue | None = KEEP_DUE,
    ) -> None:
        c = self._conversation(conversation_id)
        assert c is not None
        c.unit_id, c.status = unit_id, status
        x = self._extra(conversation_id)
        x.assignee_id, x.claimed_at = None, None
        if not isinstance(sla_due_at, KeepDue):
            x.sla_due_at = sla_due_at

    def set_status(self, conversation_id: int, status: str, resolved_at: datetime | None) -> None:
        c = self._conversation(conversation_id)
        assert c is not None
        c.status = status
        self._extra(conversation_id).resolved_at = resolved_at

    def set_priority(self, conversation_id: int, priority: str) -> None:
        self._extra(conversation_id).priority = priority

    def author(self, conversation_id: int) -> AuthorFlag | None:
        author_id = self._extra(conversation_id).author_id
        if author_id is None:
            return None
        return AuthorFlag(author_id, f"author {author_id}", self._t.spammers.get(author_id, False))

    def set_spammer(self, author_id: int, is_spammer: bool) -> None:
        self._t.spammers[author_id] = is_spammer

    def tag_names(self, limit: int = 1000) -> list[str]:
        return sorted({t for tags in self._t.tags.values() for t in tags})[:limit]

    def tags(self, conversation_id: int) -> list[str]:
        return sorted(self._t.tags.get(conversation_id, []))

    def add_tag(self, conversation_id: int, name: str) -> bool:
        tags = self._t.tags.setdefault(conversation_id, [])
        if name in tags:
            return False
        tags.append(name)
        return True

    def remove_tag(self, conversation_id: int, name: str) -> bool:
        tags = self._t.tags.get(conversation_id, [])
        if name not in tags:
            return False
        tags.remove(name)
        return True

    def add_note(self, conversation_id: int, person_id: int, text: str, at: datetime) -> int:
        note_id = len(self._t.notes) + 1
        name = next((p.name for p in self._d.people if p.id == person_id), "")
        self._t.notes.append(NoteRow(note_id, conversation_id, person_id, name, text, at))
        return note_id

    def notes(self, conversation_id: int) -> list[NoteRow]:
        return [n for n in self._t.notes if n.conversation_id == conversation_id]

    def append_event(self, event: NewEvent) -> int:
        self._t.events.append(event)
        return len(self._t.events)

    def events(self, conversation_id: int) -> list[EventRow]:
        rows = [EventRow(i + 1, e) for i, e in enumerate(self._t.events)]
        return [r for r in rows if r.event.conversation_id == conversation_id]


def set_extra(data: FakeData, conversation_id: int, **values: Any) -> None:
    """Give a test conversation triage values (``assignee_id``, ``rule_id``, …)."""
    x = data.triage.extra.setdefault(conversation_id, TriageExtra())
    for key, value in values.items():
        setattr(x, key, value)
