"""The Strategy screen: the workspace's strategy in the funnel editor, as the person acting now.

What the operator may change depends on their roles (the sponsor's circle: mission, business
goals, policy; a unit's head: its department goals; strategists: their units' parts); the
service decides and its refusal is shown in words. The strategy is read the first time the
screen is shown and again after an operator switch.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from app.domain.rows import PersonRow
from app.services.container import Services
from app.services.strategy_editing import WorkspaceSource
from app.ui.labels import plain_label
from app.ui.operator import OperatorBinding
from app.ui.strategy.editor import StrategyEditor
from app.ui.strategy.import_flow import StrategyTransfer


def _who(name: str) -> str:
    return (
        f"The workspace's strategy, edited as {name}. What you may change depends on your "
        "roles; every change is in the audit log."
    )


class StrategyPage(QWidget):
    """Header (what this is, who acts, open a file) over the editor."""

    #: "Open a strategy file…" was clicked (the main window opens the file window).
    open_file_requested = Signal()

    def __init__(
        self, services: Services, operator: OperatorBinding, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("strategyPage")
        self._operator = operator
        self.source = WorkspaceSource(services, operator.id)
        self._started = False
        self.title = plain_label("Strategy", object_name="listTitle", wrap=False)
        self.who = plain_label(_who(operator.name), object_name="threadFacts")
        self.open_button = QPushButton("Open a strategy file…")
        self.open_button.setToolTip("edit a strategy file offline, with no workspace")
        self.open_button.clicked.connect(self.open_file_requested)
        self.transfer = StrategyTransfer(services, operator, self)
        self.export_button = QPushButton("Export to a file…")
        self.export_button.setToolTip(
            "write the strategy to one YAML file to edit offline (kept as a revision, so its "
            "import merges item by item)"
        )
        self.export_button.clicked.connect(self.transfer.choose_and_export)
        self.import_button = QPushButton("Import a file…")
        self.import_button.setToolTip(
            "merge a strategy file back: a change on one side applies, a field changed on "
            "both sides is yours to decide"
        )
        self.import_button.clicked.connect(self.transfer.choose_and_import)
        self.notice = plain_label(object_name="strategyNotice")
        self.notice.hide()
        self.transfer.message.connect(self._on_transfer_message)
        self.transfer.imported.connect(self._on_transfer_imported)
        header = QHBoxLayout()
        header.setContentsMargins(16, 10, 16, 6)
        header.addWidget(self.title)
        header.addWidget(self.who, 1)
        header.addWidget(self.export_button)
        header.addWidget(self.import_button)
        header.addWidget(self.open_button)
        self.editor = StrategyEditor(self.source)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        notice_row = QHBoxLayout()
        notice_row.setContentsMargins(16, 0, 16, 6)
        notice_row.addWidget(self.notice)
        layout.addLayout(notice_row)
        layout.addWidget(self.editor, 1)
        operator.changed.connect(self._on_operator_changed)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._started:
            self.reload()

    def reload(self) -> None:
        self._started = True
        self.editor.reload()

    def shutdown(self) -> None:
        self.transfer.shutdown()
        self.editor.shutdown()

    def _on_transfer_message(self, words: str, trouble: bool) -> None:
        self.notice.setText(words)
        self.notice.setProperty("trouble", trouble)
        self.notice.style().unpolish(self.notice)
        self.notice.style().polish(self.notice)
        self.notice.setVisible(bool(words))

    def _on_transfer_imported(self, _plan: object) -> None:
        self.reload()

    def _on_operator_changed(self, person: PersonRow) -> None:
        self.source.act_as(person.id)
        self.who.setText(_who(person.name))
        if self._started:
            self.reload()
