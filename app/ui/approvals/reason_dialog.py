"""The reason for a rejection or a request for changes (required): Ctrl+Enter sends it."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from app.services.drafts import MAX_REASON
from app.ui.text_dialog import TextDialog


class ReasonDialog(TextDialog):
    """Asks what is wrong (reject) or what to change (request changes); never empty."""

    def __init__(self, title: str, prompt: str, button: str, parent: QWidget | None = None) -> None:
        super().__init__(
            title=title,
            placeholder="The author reads this with the draft. Ctrl+Enter sends it.",
            accept=button,
            limit=MAX_REASON,
            empty="A reason is needed: say what is wrong or what to change.",
            what="The reason",
            prompt=prompt,
            name="reason",
            parent=parent,
        )
