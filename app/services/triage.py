"""Working a conversation: claim, assign, hand over, status, priority, tags, notes, history.

Every action asks for :attr:`Action.WORK_CONVERSATIONS` in the conversation's unit (a role in a
unit above covers it), and writes its change, one line of the conversation's status history
(``conversation_events``) and one audit entry in the same transaction: all three or none.
Each returns the conversation's id, so the inbox can re-read what it shows.

Decisions:

- A claim is one conditional update (see :mod:`app.storage.triage`); the loser is told who holds
  the conversation and since when ("Aisha Bello claimed it 3 minutes ago"). Claiming one's own
  conversation again changes nothing.
- An assignee must be active and allowed to work conversations in the conversation's unit
  (a role there or above); assigning is a compare-and-set on the assignee the action read.
- A hand-over needs the right in the *source* unit only (any unit may receive), a reason, and
  optionally a note (stored as an internal note). It records the previous unit and the routing
  rule that had routed the conversation (for measuring mis-routing), clears the assignee, and
  puts the status back to ``open``, except that ``resolved`` and ``spam`` are kept: handing a
  finished conversation over files it, it does not reopen it.
- Status: ``open``, ``waiting``, ``resolved`` and ``spam`` may be set (``new`` only ever comes
  from ingest); resolving sets ``resolved_at``, any other status clears it; :meth:`reopen`
  is ``open``. Setting what is already there writes nothing.
- "Spam" and "Not spam" are an agent's verdict: "Spam" sets the status to ``spam`` and puts the
  conversation's author on the filter's list of known spam authors (``authors.is_spammer``),
  "Not spam" takes the author off it and puts a ``spam`` conversation back to ``open`` (any other
  status stays). Each writes a ``spam_verdict`` history line; a verdict that changes nothing
  writes nothing.
- Reading the history and the holder follows the inbox, which reads without a check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.enums import ConversationEventKind, ConversationStatus, Priority
from app.domain.permissions import Action, Actor
from app.domain.spam import AgentVerdict, learn
from app.models.base import utcnow
from app.services.access import NotAllowed, decide_in, require_in
from app.services.auditing import record_change
from app.services.routing_decisions import first_response_due
from app.storage.ports import Storage, StorageUnitOfWork
from app.storage.triage import KEEP_DUE, EventRow, KeepDue, NewEvent, NoteRow, TriageState

__all__ = [
    "ClaimOutcome",
    "Holder",
    "NotAllowed",
    "TriageDetails",
    "TriageError",
    "TriageService",
    "ago",
]

MAX_NOTE = 10_000
MAX_REASON = 500
MAX_TAG = 100
SETTABLE = (
    ConversationStatus.OPEN,
    ConversationStatus.WAITING,
    ConversationStatus.RESOLVED,
    ConversationStatus.SPAM,
)
_KEPT_ON_HAND_OVER = (ConversationStatus.RESOLVED, ConversationStatus.SPAM)


class TriageError(ValueError):
    """The action cannot be done as asked (no such conversation, empty note, …); says why."""


def ago(since: datetime, now: datetime) -> str:
    """How long ago, as a person says it: "just now", "3 minutes ago", "2 days ago"."""
    seconds = max(0, int((now - since).total_seconds()))
    for size, unit in ((86_400, "day"), (3_600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'' if n == 1 else 's'} ago"
    return "just now"


@dataclass(frozen=True, slots=True)
class Holder:
    """Who has claimed (or been assigned) a conversation, and since when."""

    person_id: int
    name: str
    since: datetime | None

    def text(self, now: datetime) -> str:
        when = f" {ago(self.since, now)}" if self.since is not None else ""
        return f"{self.name} claimed it{when}"


@dataclass(frozen=True, slots=True)
class ClaimOutcome:
    """Whether the operator's claim won; when not, who holds the conversation."""

    conversation_id: int
    won: bool
    holder: Holder | None
    message: str


@dataclass(frozen=True, slots=True)
class TriageDetails:
    """What the thread pane shows of a conversation's triage, read in one unit of work."""

    conversation_id: int
    status: str
    holder: Holder | None
    tags: tuple[str, ...]
    history: tuple[EventRow, ...]
    notes: tuple[NoteRow, ...]
    author_is_spammer: bool


def _holder(state: TriageState) -> Holder | None:
    if state.assignee_id is None:
        return None
    return Holder(state.assignee_id, state.assignee_name or "Someone", state.claimed_at)


class TriageService:
    """The triage use cases; safe from any thread (a unit of work per call)."""

    def __init__(self, db: Storage, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock

    # -- reading ---------------------------------------------------------------------------

    def holder(self, conversation_id: int) -> Holder | None:
        """Who holds the conversation (None: nobody), for "Aisha Bello claimed it … ago"."""
        with self._db.uow() as uow:
            return _holder(self._state(uow, conversation_id))

    def history(self, conversation_id: int) -> list[EventRow]:
        """The conversation's status history, oldest first."""
        with self._db.uow() as uow:
            self._state(uow, conversation_id)
            return uow.triage.events(conversation_id)

    def notes(self, conversation_id: int) -> list[NoteRow]:
        with self._db.uow() as uow:
            return uow.triage.notes(conversation_id)

    def tags(self, conversation_id: int) -> list[str]:
        with self._db.uow() as uow:
            return uow.triage.tags(conversation_id)

    def tag_names(self) -> list[str]:
        """Every tag used in the workspace, alphabetically (the tag picker completes them)."""
        with self._db.uow() as uow:
            return uow.triage.tag_names()

    def details(self, conversation_id: int) -> TriageDetails:
        """Holder, tags, status history and notes of a conversation, for the thread pane.

        Raises:
            TriageError: there is no such conversation.
        """
        with self._db.uow() as uow:
            state = self._state(uow, conversation_id)
            author = uow.triage.author(conversation_id)
            return TriageDetails(
                conversation_id,
                state.status,
                _holder(state),
                tuple(uow.triage.tags(conversation_id)),
                tuple(uow.triage.events(conversation_id)),
                tuple(uow.triage.notes(conversation_id)),
                author is not None and author.is_spammer,
            )

    # -- claim and assignment --------------------------------------------------------------

    def claim(self, operator: int, conversation_id: int) -> ClaimOutcome:
        """Take the conversation if nobody holds it; exactly one of concurrent claims wins.

        Raises:
            NotAllowed: the operator may not work conversations in its unit.
            TriageError: there is no such conversation.
        """
        now = self._clock()
        with self._db.uow() as uow:
            state = self._state(uow, conversation_id)
            actor = self._require(uow, operator, state, "claim its conversations")
            if state.assignee_id == operator:
                return ClaimOutcome(conversation_id, True, _holder(state), "You hold it already.")
            if state.assignee_id is None and uow.triage.claim(conversation_id, operator, now):
                self._record(
                    uow,
                    actor,
                    state,
                    now,
                    ConversationEventKind.CLAIMED,
                    "conversation.claim",
                    before={"assignee_id": None},
                    after={"assignee_id": operator},
                )
                uow.commit()
                mine = Holder(operator, actor.name, now)
                return ClaimOutcome(conversation_id, True, mine, "You claimed it.")
            uow.rollback()
            holder = _holder(self._state(uow, conversation_id))
            message = holder.text(now) + "." if holder else "Someone else claimed it."
            return ClaimOutcome(conversation_id, False, holder, message)

    def assign(self, operator: int, conversation_id: int, person_id: int | None) -> int:
        """Give the conversation to a person (None: to nobody).

        Raises:
            NotAllowed: the operator may not work conversations in its unit.
            TriageError: no such conversation; the person is deactivated or holds no role that
                lets them work conversations there; someone changed the assignee meanwhile.
        """
        now = self._clock()
        with self._db.uow() as uow:
            state = self._state(uow, conversation_id)
            actor = self._require(uow, operator, state, "assign its conversations")
            if person_id == state.assignee_id:
                return conversation_id
            if person_id is not None:
                decision = decide_in(
                    uow,
                    person_id,
                    Action.WORK_CONVERSATIONS,
                    state.unit_id,
                    doing="work its conversations",
                )
                if not decision.allowed:
                    raise TriageError(f"It cannot be assigned to them: {decision.reason}")
            if not uow.triage.assign(conversation_id, person_id, now, expected=state.assignee_id):
                raise TriageError("Someone changed who holds it meanwhile: look again.")
            kind = (
                ConversationEventKind.UNASSIGNED
                if person_id is None
                else ConversationEventKind.ASSIGNED
            )
            self._record(
                uow,
                actor,
                state,
                now,
                kind,
                "conversation.unassign" if person_id is None else "conversation.assign",
                before={"assignee_id": state.assignee_id},
                after={"assignee_id": person_id},
            )
            uow.commit()
        return conversation_id

    def unassign(self, operator: int, conversation_id: int) -> int:
        return self.assign(operator, conversation_id, None)

    # -- hand-over -------------------------------------------------------------------------

    def hand_over(
        self, operator: int, conversation_id: int, unit_id: int, reason: str, note: str = ""
    ) -> int:
        """Move the conversation to another unit, with a reason (and a note, if given).

        Raises:
            NotAllowed: the operator may not work conversations in its (source) unit.
            TriageError: no such conversation or unit, the same unit, no reason, a bad note.
        """
        reason = reason.strip()
        if not reason:
            raise TriageError("Say why it goes to the other unit: a hand-over needs a reason.")
        if len(reason) > MAX_REASON:
            raise TriageError(f"The reason is longer than {MAX_REASON} characters.")
        note = _clean_note(note, required=False)
        now = self._clock()
        with self._db.uow() as uow:
            state = self._state(uow, conversation_id)
            actor = self._require(uow, operator, state, "hand over its conversations")
            target = uow.directory.place(unit_id)
            if target is None:
                raise TriageError("That unit does not exist (any more).")
            if unit_id == state.unit_id:
                raise TriageError(f"It is in {target.unit_name} already.")
            status = (
                state.status
                if state.status in _KEPT_ON_HAND_OVER
                else ConversationStatus.OPEN.value
            )
            # The new unit owes the first answer by its own target, counted from the customer's
            # first message (they have waited since then); once answered, the time stays.
            due: datetime | KeepDue | None = KEEP_DUE
            if state.first_response_at is None:
                due = (
                    first_response_due(uow.rules.setup(), unit_id, state.first_inbound_at)
                    if state.first_inbound_at is not None
                    else None
                )
            uow.triage.move(conversation_id, unit_id, status, sla_due_at=due)
            note_id = uow.triage.add_note(conversation_id, operator, note, now) if note else None
            before = {
                "unit_id": state.unit_id,
                "assignee_id": state.assignee_id,
                "status": state.status,
                "rule_id": state.routed_by_rule_id,
            }
            after = {
                "unit_id": unit_id,
                "assignee_id": None,
                "status": status,
                "reason": reason,
                "note_id": note_id,
            }
            self._record(
                uow,
                actor,
                state,
                now,
                ConversationEventKind.HANDED_OVER,
                "conversation.hand_over",
                before=before,
                after=after,
                unit_from=state.unit_id,
                unit_to=unit_id,
                rule_id=state.routed_by_rule_id,
                reason=reason,
            )
            uow.commit()
        return conversation_id

    # -- status, priority, tags, notes -----------------------------------------------------

    def set_status(self, operator: int, conversation_id: int, status: str) -> int:
        """Open, waiting, resolved or spam; resolving stamps ``resolved_at``, others clear it.

        Raises:
            NotAllowed: the operator may not work conversations in its unit.
            TriageError: no such conversation, or a status a person cannot set.
        """
        if status not in {s.value for s in SETTABLE}:
            allowed = ", ".join(s.value for s in SETTABLE)
            raise TriageError(f"{status!r} is not a status to set: choose {allowed}.")
        now = self._clock()
        with self._db.uow() as uow:
            state = self._state(uow, conversation_id)
            actor = self._require(uow, operator, state, "change its conversations' status")
            if state.status == status:
                return conversation_id
            resolved_at = now if status == ConversationStatus.RESOLVED else None
            uow.triage.set_status(conversation_id, status, resolved_at)
            self._record(
                uow,
                actor,
                state,
                now,
                ConversationEventKind.STATUS,
                "conversation.status",
                before={"status": state.status},
                after={"status": status},
            )
            uow.commit()
        return conversation_id

    def resolve(self, operator: int, conversation_id: int) -> int:
        return self.set_status(operator, conversation_id, ConversationStatus.RESOLVED)

    def reopen(self, operator: int, conversation_id: int) -> int:
        """Back to ``open`` (``resolved_at`` cleared)."""
        return self.set_status(operator, conversation_id, ConversationStatus.OPEN)

    def mark_spam(self, operator: int, conversation_id: int) -> int:
        """The agent's "Spam": status ``spam``, and the author is a known spam author from now on.

        Raises:
            NotAllowed: the operator may not work conversations in its unit.
            TriageError: there is no such conversation.
        """
        return self._verdict(operator, conversation_id, AgentVerdict.SPAM)

    def not_spam(self, operator: int, conversation_id: int) -> int:
        """The agent's "Not spam": a ``spam`` conversation is ``open`` again, its author cleared.

        Raises:
            NotAllowed: the operator may not work conversations in its unit.
            TriageError: there is no such conversation.
        """
        return self._verdict(operator, conversation_id, AgentVerdict.NOT_SPAM)

    def _verdict(self, operator: int, conversation_id: int, verdict: AgentVerdict) -> int:
        now = self._clock()
        with self._db.uow() as uow:
            state = self._state(uow, conversation_id)
            actor = self._require(uow, operator, state, "mark its conversations as spam or not")
            if verdict is AgentVerdict.SPAM:
                status = ConversationStatus.SPAM.value
            elif state.status == ConversationStatus.SPAM:
                status = ConversationStatus.OPEN.value
            else:
                status = state.status
            author = uow.triage.author(conversation_id)
            was_flagged = author is not None and author.is_spammer
            flagged = was_flagged
            if author is not None:  # the domain's rule: "Spam" adds the author, "Not spam" removes
                key = str(author.id)
                flagged = key in learn(frozenset({key} if was_flagged else ()), key, verdict)
            if status == state.status and flagged == was_flagged:
                return conversation_id
            if status != state.status:
                uow.triage.set_status(conversation_id, status, None)
            if author is not None and flagged != was_flagged:
                uow.triage.set_spammer(author.id, flagged)
            self._record(
                uow,
                actor,
                state,
                now,
                ConversationEventKind.SPAM_VERDICT,
                "conversation.spam" if verdict is AgentVerdict.SPAM else "conversation.not_spam",
                before={"status": state.status, "author_spammer": was_flagged},
                after={
                    "verdict": verdict.value,
                    "status": status,
                    "author_id": None if author is None else author.id,
                    "author_spammer": flagged,
                },
            )
            uow.commit()
        return conversation_id

    def set_priority(self, operator: int, conversation_id: int, priority: str) -> int:
        if priority not in {p.value for p in Priority}:
            allowed = ", ".join(p.value for p in Priority)
            raise TriageError(f"{priority!r} is not a priority: choose {allowed}.")
        now = self._clock()
        with self._db.uow() as uow:
            state = self._state(uow, conversation_id)
            actor = self._require(uow, operator, state, "change its conversations' priority")
            if state.priority == priority:
                return conversation_id
            uow.triage.set_priority(conversation_id, priority)
            self._record(
                uow,
                actor,
                state,
                now,
                ConversationEventKind.PRIORITY,
                "conversation.priority",
                before={"priority": state.priority},
                after={"priority": priority},
            )
            uow.commit()
        return conversation_id

    def add_tag(self, operator: int, conversation_id: int, tag: str) -> int:
        return self._tag(operator, conversation_id, tag, add=True)

    def remove_tag(self, operator: int, conversation_id: int, tag: str) -> int:
        return self._tag(operator, conversation_id, tag, add=False)

    def _tag(self, operator: int, conversation_id: int, tag: str, *, add: bool) -> int:
        name = " ".join(tag.split())
        if not name:
            raise TriageError("A tag needs a name.")
        if len(name) > MAX_TAG:
            raise TriageError(f"A tag's name is at most {MAX_TAG} characters.")
        now = self._clock()
        with self._db.uow() as uow:
            state = self._state(uow, conversation_id)
            actor = self._require(uow, operator, state, "tag its conversations")
            changed = (
                uow.triage.add_tag(conversation_id, name)
                if add
                else uow.triage.remove_tag(conversation_id, name)
            )
            if not changed:
                return conversation_id
            kind = ConversationEventKind.TAGGED if add else ConversationEventKind.UNTAGGED
            self._record(
                uow,
                actor,
                state,
                now,
                kind,
                "conversation.tag" if add else "conversation.untag",
                before=None,
                after={"tag": name},
            )
            uow.commit()
        return conversation_id

    def social_goal(self, conversation_id: int) -> tuple[int, str] | None:
        """The social goal the conversation is tagged with, (id, title); None: none."""
        with self._db.uow() as uow:
            return uow.triage.social_goal(conversation_id)

    def social_goals(self) -> list[tuple[int, str]]:
        """The strategy's social goals, (id, title), for the tag picker."""
        with self._db.uow() as uow:
            return uow.triage.social_goals()

    def set_social_goal(self, operator: int, conversation_id: int, goal_id: int | None) -> int:
        """Tag the conversation with the social goal it serves (None: with none).

        Raises:
            NotAllowed: the operator may not work conversations in its unit.
            TriageError: no such conversation, or ``goal_id`` is not a social goal.
        """
        now = self._clock()
        with self._db.uow() as uow:
            state = self._state(uow, conversation_id)
            actor = self._require(uow, operator, state, "tag its conversations")
            before = uow.triage.social_goal(conversation_id)
            goals = dict(uow.triage.social_goals())
            if goal_id is not None and goal_id not in goals:
                raise TriageError("That is not a social goal of the strategy (any more).")
            if (before[0] if before else None) == goal_id:
                return conversation_id
            uow.triage.set_social_goal(conversation_id, goal_id)
            old = {"social_goal_id": before[0], "social_goal": before[1]} if before else None
            new = {"social_goal_id": goal_id, "social_goal": goals[goal_id]} if goal_id else None
            self._record(
                uow,
                actor,
                state,
                now,
                ConversationEventKind.TAGGED if new else ConversationEventKind.UNTAGGED,
                "conversation.social_goal",
                before=old,
                after=new or old,
            )
            uow.commit()
        return conversation_id

    def add_note(self, operator: int, conversation_id: int, text: str) -> int:
        """An internal note (plain text, never sent); at most 10,000 characters.

        Raises:
            NotAllowed: the operator may not work conversations in its unit.
            TriageError: no such conversation; the note is empty or too long.
        """
        text = _clean_note(text, required=True)
        now = self._clock()
        with self._db.uow() as uow:
            state = self._state(uow, conversation_id)
            actor = self._require(uow, operator, state, "add notes to its conversations")
            note_id = uow.triage.add_note(conversation_id, operator, text, now)
            self._record(
                uow,
                actor,
                state,
                now,
                ConversationEventKind.NOTE,
                "conversation.note",
                before=None,
                after={"note_id": note_id, "length": len(text)},
            )
            uow.commit()
        return conversation_id

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _state(uow: StorageUnitOfWork, conversation_id: int) -> TriageState:
        state = uow.triage.state(conversation_id)
        if state is None:
            raise TriageError("That conversation does not exist (any more).")
        return state

    @staticmethod
    def _require(uow: StorageUnitOfWork, operator: int, state: TriageState, doing: str) -> Actor:
        return require_in(uow, operator, Action.WORK_CONVERSATIONS, state.unit_id, doing=doing)

    @staticmethod
    def _record(
        uow: StorageUnitOfWork,
        actor: Actor,
        state: TriageState,
        at: datetime,
        kind: ConversationEventKind,
        action: str,
        *,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        unit_from: int | None = None,
        unit_to: int | None = None,
        rule_id: int | None = None,
        reason: str = "",
    ) -> None:
        """The status-history line and the audit entry, in the action's transaction."""
        uow.triage.append_event(
            NewEvent(
                state.id,
                at,
                actor.person_id,
                actor.name,
                kind.value,
                before,
                after,
                unit_from,
                unit_to,
                rule_id,
                reason,
            )
        )
        audit_before = {"unit_id": state.unit_id, **(before or {})}
        audit_after = {"unit_id": unit_to or state.unit_id, **(after or {})}
        record_change(
            uow,
            at=at,
            person_id=actor.person_id,
            person_name=actor.name,
            action=action,
            entity="conversation",
            entity_id=state.id,
            before=audit_before,
            after=audit_after,
        )


def _clean_note(text: str, *, required: bool) -> str:
    """A note as stored: trimmed, plain text, at most ``MAX_NOTE`` characters.

    Raises:
        TriageError: empty (when ``required``) or too long.
    """
    text = text.strip()
    if required and not text:
        raise TriageError("The note is empty.")
    if len(text) > MAX_NOTE:
        raise TriageError(f"The note is longer than {MAX_NOTE:,} characters.")
    return text
