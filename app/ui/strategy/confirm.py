"""Asking before something goes: what will go with it, in words, and one button to go ahead."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout, QWidget

from app.domain.strategy_funnel import TYPE_NAMES
from app.services.strategy_editing import DependentRow
from app.ui.labels import plain_label

MOST_LISTED = 30


def dependents_text(dependents: tuple[DependentRow, ...]) -> str:
    """What deleting takes with it and what it only unlinks, a line each."""
    going = [d for d in dependents if d.deleted]
    staying = [d for d in dependents if not d.deleted]
    parts = []
    if going:
        parts.append("Deleted with it, as they cannot exist without it:")
        parts += [f"  • the {TYPE_NAMES[d.type]} “{d.title}”" for d in going[:MOST_LISTED]]
        if len(going) > MOST_LISTED:
            parts.append(f"  • and {len(going) - MOST_LISTED} more")
    if staying:
        parts.append("Kept, with one parent fewer:")
        parts += [f"  • the {TYPE_NAMES[d.type]} “{d.title}”" for d in staying[:MOST_LISTED]]
        if len(staying) > MOST_LISTED:
            parts.append(f"  • and {len(staying) - MOST_LISTED} more")
    if not parts:
        parts.append("Nothing else depends on it.")
    return "\n".join(parts)


class ConfirmDialog(QDialog):
    """A question, what it means, and Cancel / the action (Cancel is the default)."""

    def __init__(
        self, title: str, question: str, detail: str, action: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("confirmDialog")
        self.setWindowTitle(title)
        self.setMinimumWidth(480)
        self.question = plain_label(question, object_name="detailText")
        self.detail = plain_label(detail, object_name="threadFacts")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.go_button = buttons.addButton(action, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setDefault(True)
        self.go_button.clicked.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.question)
        layout.addWidget(self.detail)
        layout.addWidget(buttons)
