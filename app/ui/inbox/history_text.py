"""A conversation's status history and notes, as the sentences the thread pane shows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from app.domain.enums import ConversationEventKind, ConversationStatus
from app.storage.triage import EventRow, NewEvent, NoteRow
from app.ui.formatting import STATUS_LABELS, long_time


@dataclass(frozen=True, slots=True)
class ActivityLine:
    """One line of the thread's activity: a history event or an internal note."""

    at: datetime
    who: str
    what: str
    note: str = ""  # the note's text (plain), for a note line

    def heading(self) -> str:
        """The line's heading in the person's local time: "Tue 1 Dec 2026, 14:32 · Tom Becker …"."""
        return f"{when(self.at)} · {self.who} {self.what}"


def when(at: datetime) -> str:
    """A stored (UTC) time in the person's local time, the way the rest of the inbox says it."""
    return long_time(int(at.timestamp() * 1000))


def _status(status: object) -> str:
    return STATUS_LABELS.get(str(status), str(status))


def describe(event: NewEvent, units: Mapping[int, str], people: Mapping[int, str]) -> str:
    """What the person did, after their name: "handed it over from Orders to Sales: …"."""
    after = event.after or {}
    before = event.before or {}
    kind = event.kind
    if kind == ConversationEventKind.CLAIMED:
        return "claimed it"
    if kind == ConversationEventKind.ASSIGNED:
        person = people.get(after.get("assignee_id") or -1, "someone")
        return f"assigned it to {person}"
    if kind == ConversationEventKind.UNASSIGNED:
        return "unassigned it"
    if kind == ConversationEventKind.HANDED_OVER:
        source = units.get(event.unit_from or -1, "another unit")
        target = units.get(event.unit_to or -1, "another unit")
        reason = f": {event.reason}" if event.reason else ""
        return f"handed it over from {source} to {target}{reason}"
    if kind == ConversationEventKind.STATUS:
        old, new = before.get("status"), after.get("status")
        if new == ConversationStatus.RESOLVED:
            return "resolved it"
        if old == ConversationStatus.RESOLVED and new == ConversationStatus.OPEN:
            return "reopened it"
        return f"set the status from {_status(old)} to {_status(new)}"
    if kind == ConversationEventKind.PRIORITY:
        return f"set the priority to {after.get('priority', '?')}"
    if kind == ConversationEventKind.TAGGED and "social_goal" in after:
        return f"tagged it with the social goal “{after.get('social_goal', '')}”"
    if kind == ConversationEventKind.UNTAGGED and "social_goal" in after:
        return f"removed the social goal “{after.get('social_goal', '')}”"
    if kind == ConversationEventKind.TAGGED:
        return f"tagged it “{after.get('tag', '')}”"
    if kind == ConversationEventKind.UNTAGGED:
        return f"removed the tag “{after.get('tag', '')}”"
    if kind == ConversationEventKind.NOTE:
        return "added a note"
    if kind == ConversationEventKind.ROUTED:
        routed_to = units.get(event.unit_to or -1)
        return (
            f"applied the rules again (to {routed_to})" if routed_to else "applied the rules again"
        )
    if kind == ConversationEventKind.SPAM_VERDICT:
        return "marked it as spam" if after.get("verdict") == "spam" else "marked it as not spam"
    return kind.replace("_", " ")


def activity(
    history: tuple[EventRow, ...] | list[EventRow],
    notes: tuple[NoteRow, ...] | list[NoteRow],
    units: Mapping[int, str],
    people: Mapping[int, str],
) -> list[ActivityLine]:
    """History and notes interleaved, oldest first.

    A note's own history line ("added a note") is left out: the note itself is shown, with its
    author and time. A hand-over's note is a note too, shown right after the hand-over.
    """
    lines = [
        ActivityLine(r.event.at, r.event.person_name or "Someone", describe(r.event, units, people))
        for r in history
        if r.event.kind != ConversationEventKind.NOTE
    ]
    lines.extend(ActivityLine(n.created_at, n.person_name, "wrote a note", n.text) for n in notes)
    lines.sort(key=lambda line: (line.at, bool(line.note)))
    return lines
