"""How outbox states look: one colour and one mark per state (colour is never the only cue)."""

from __future__ import annotations

from datetime import datetime

from app.domain.enums import DraftState

#: Chip and text colours per draft state.
STATE_COLOURS: dict[DraftState, str] = {
    DraftState.DRAFT: "#757575",
    DraftState.PENDING_APPROVAL: "#8d6e00",
    DraftState.APPROVED: "#1565c0",
    DraftState.SCHEDULED: "#1565c0",
    DraftState.PUBLISHING: "#6a1b9a",
    DraftState.PUBLISHED: "#2e7d32",
    DraftState.FAILED: "#c62828",
    DraftState.REJECTED: "#757575",
    DraftState.CHANGES_REQUESTED: "#757575",
}
#: Chip backgrounds (light tints of the colours above).
STATE_FILLS: dict[DraftState, str] = {
    DraftState.DRAFT: "#eeeeee",
    DraftState.PENDING_APPROVAL: "#fff4cc",
    DraftState.APPROVED: "#e3f0fc",
    DraftState.SCHEDULED: "#e3f0fc",
    DraftState.PUBLISHING: "#f1e4f7",
    DraftState.PUBLISHED: "#e3f4e4",
    DraftState.FAILED: "#fde5e5",
    DraftState.REJECTED: "#eeeeee",
    DraftState.CHANGES_REQUESTED: "#eeeeee",
}
#: A mark that says the state without colour.
STATE_MARKS: dict[DraftState, str] = {
    DraftState.DRAFT: "✎",
    DraftState.PENDING_APPROVAL: "◔",
    DraftState.APPROVED: "◷",
    DraftState.SCHEDULED: "◷",
    DraftState.PUBLISHING: "↑",
    DraftState.PUBLISHED: "✓",
    DraftState.FAILED: "✗",
    DraftState.REJECTED: "✎",
    DraftState.CHANGES_REQUESTED: "✎",
}
#: The word a calendar chip carries for its state.
CHIP_WORDS: dict[DraftState, str] = {
    DraftState.PENDING_APPROVAL: "Waiting",
    DraftState.APPROVED: "Approved",
    DraftState.SCHEDULED: "Scheduled",
    DraftState.PUBLISHING: "Sending",
    DraftState.PUBLISHED: "Published",
    DraftState.FAILED: "Failed",
}


def local(at: datetime) -> datetime:
    """``at`` in this computer's time zone (the calendar's days are local days)."""
    return at.astimezone()
