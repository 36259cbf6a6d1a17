"""The Compose & Publishing screen's compose side: a new post, checked live, saved by itself."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from app.domain.enums import DraftKind
from app.services.container import Services
from app.ui.compose.compose_pane import ComposePane
from app.ui.labels import plain_label
from app.ui.operator import OperatorBinding

COMPOSE_SCREEN = "Compose & Publishing"
INTRO = (
    "Write a post for one or several accounts. Counters and policy findings follow as you "
    "type; the draft saves itself, and nothing goes out before the approvals it needs."
)


class ComposePage(QWidget):
    """The screen's page: a heading and the compose pane for a new post."""

    def __init__(
        self, services: Services, operator: OperatorBinding, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("composePage")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 18)
        layout.setSpacing(6)
        layout.addWidget(plain_label(COMPOSE_SCREEN, object_name="placeholderTitle"))
        layout.addWidget(plain_label(INTRO, object_name="placeholderBody"))
        row = QHBoxLayout()
        self.pane = ComposePane(services, operator, DraftKind.POST)
        self.pane.setMaximumWidth(900)
        row.addWidget(self.pane, 1)
        row.addStretch(0)
        layout.addLayout(row, 1)

    def focus_editor(self) -> None:
        self.pane.editor.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def shutdown(self) -> None:
        self.pane.shutdown(3000)
