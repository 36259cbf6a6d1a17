"""Write an internal note (plain text, never sent): Ctrl+Enter saves."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from app.services.triage import MAX_NOTE
from app.ui.text_dialog import TextDialog


class NoteDialog(TextDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            title="Internal note",
            placeholder="Only people in Quiver read this. Ctrl+Enter saves.",
            accept="Save",
            limit=MAX_NOTE,
            empty="The note is empty.",
            what="The note",
            name="note",
            parent=parent,
        )
