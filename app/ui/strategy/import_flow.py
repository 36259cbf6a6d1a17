"""Export the workspace's strategy to a file, and import one back through the merge dialog.

Import: the plan is worked out off the GUI thread (``services.strategy_files.plan_import``),
shown in the :class:`~app.ui.strategy.merge_dialog.MergeDialog`, and, once the person has
decided every conflict and pressed Apply, applied off the GUI thread in one transaction. If the
workspace changed between the plan and Apply (someone else edited the strategy), the import is
refused by the service with nothing changed and the dialog opens again on the new plan.
Export: a new revision written to the file the person chooses.

Every outcome is said in words through :attr:`StrategyTransfer.message`; the acting person is
always the operator binding's at the moment of the call.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from app.domain.strategy_doc import StrategyDoc
from app.services.access import NotAllowed
from app.services.container import Services
from app.services.strategy_files import ImportConflicts, ImportPlan, ImportRefused
from app.ui.operator import OperatorBinding
from app.ui.strategy.merge_dialog import MergeDialog
from app.ui.tasks import SerialTaskRunner

log = logging.getLogger(__name__)

FILTER = "Strategy files (*.yaml *.yml);;All files (*)"


def _summary(plan: ImportPlan) -> str:
    counts = plan.counts().items()
    return ", ".join(f"{n} {action}" for action, n in counts if n) or "nothing"


class StrategyTransfer(QObject):
    """Import a strategy doc into the workspace, or export the workspace's to a file."""

    #: Words for the status bar or a banner: what happened, or why not; and whether it is
    #: trouble (a refusal, a failure) rather than news.
    message = Signal(str, bool)
    #: An import was applied (the plan applied): the Strategy screen reads the strategy again.
    imported = Signal(object)
    #: An export was written (its path).
    exported = Signal(str)

    def __init__(
        self, services: Services, operator: OperatorBinding, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._operator = operator
        self._parent = parent
        self._jobs = SerialTaskRunner(self)
        self.dialog: MergeDialog | None = None  # the open one (tests read it)
        self._dialog_parent = parent
        self.busy = False

    # -- import ------------------------------------------------------------------------------

    def start_import(
        self, doc: StrategyDoc, source_name: str, parent: QWidget | None = None
    ) -> None:
        """Work out what importing ``doc`` would do, then show it for the person to decide.

        ``parent``: the window the dialog belongs to (a file window; else the screen's).
        """
        if self.busy:
            self.message.emit("An import is already under way.", False)
            return
        self.busy = True
        self._dialog_parent = parent or self._parent
        me, files = self._operator.id, self._services.strategy_files
        self._jobs.submit(
            lambda: files.plan_import(me, doc),
            lambda plan: self._show(doc, source_name, plan, ""),
            self._failed,
        )

    def choose_and_import(self) -> None:
        """Ask for a strategy file, read it off the GUI thread, and start its import."""
        path, _ = QFileDialog.getOpenFileName(self._parent, "Import a strategy file", "", FILTER)
        if path:
            self.import_file(path)

    def import_file(self, path: str) -> None:
        from app.domain.strategy_file import StrategyFileError, read_strategy_file

        def read() -> StrategyDoc | str:
            try:
                return read_strategy_file(path).doc
            except StrategyFileError as exc:
                return f"{Path(path).name} cannot be imported: {exc}"
            except OSError as exc:
                return f"Quiver cannot read {path} ({exc.strerror or exc})."

        def read_done(result: StrategyDoc | str) -> None:
            if isinstance(result, str):
                self.message.emit(result, True)
            else:
                self.start_import(result, Path(path).name)

        self._jobs.submit(read, read_done, self._failed)

    def _show(self, doc: StrategyDoc, source_name: str, plan: ImportPlan, note: str) -> None:
        self.busy = False
        workspace = Path(self._services.workspace_name).name
        dialog = MergeDialog(
            plan.result,
            refusals=plan.refusals,
            source_name=source_name,
            workspace_name=workspace,
            parent=self._dialog_parent,
        )
        dialog.setWindowTitle(f"Import {source_name} into {workspace}")
        if note:
            dialog.summary.setText(f"{note} {dialog.summary.text()}")
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._apply(doc, source_name, dialog))
        dialog.finished.connect(lambda _code: self._closed(dialog))
        dialog.open()
        if plan.nothing_to_do:
            self.message.emit("Nothing to import: the file and the workspace agree.", False)

    def _closed(self, dialog: MergeDialog) -> None:
        if self.dialog is dialog and dialog.result() != MergeDialog.DialogCode.Accepted:
            self.dialog = None
        dialog.deleteLater()

    def _apply(self, doc: StrategyDoc, source_name: str, dialog: MergeDialog) -> None:
        self.busy = True
        me, files = self._operator.id, self._services.strategy_files
        decided = dialog.resolutions()

        def apply() -> tuple[str, Any]:
            try:
                return "applied", files.apply_import(me, doc, decided)
            except (ImportConflicts, ImportRefused, KeyError):
                # The workspace changed since the plan: plan again, decide again.
                return "again", files.plan_import(me, doc)

        def applied(outcome: tuple[str, Any]) -> None:
            self.busy = False
            self.dialog = None
            kind, plan = outcome
            if kind == "again":
                note = "The workspace's strategy changed while you decided: look again."
                self.message.emit(note, True)
                self._show(doc, source_name, plan, note)
                return
            self.message.emit(f"Imported {source_name}: {_summary(plan)}.", False)
            self.imported.emit(plan)

        self._jobs.submit(apply, applied, self._failed)

    # -- export ------------------------------------------------------------------------------

    def choose_and_export(self) -> None:
        name = f"{Path(self._services.workspace_name).stem}-strategy.yaml"
        path, _ = QFileDialog.getSaveFileName(
            self._parent, "Export the strategy to a file", str(Path.home() / name), FILTER
        )
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> None:
        """Keep the strategy as a new revision and write it to ``path`` (off the GUI thread)."""
        me, files = self._operator.id, self._services.strategy_files

        def export() -> tuple[bool, str]:
            try:
                done = files.export_file(me, path)
            except NotAllowed as exc:
                return False, str(exc)
            except OSError as exc:
                return False, f"Quiver cannot write {path} ({exc.strerror or exc})."
            return True, (
                f"Exported revision {done.revision} to {Path(path).name}: edit it offline "
                "(File > Open strategy file…) and import it back here."
            )

        def exported(outcome: tuple[bool, str]) -> None:
            ok, words = outcome
            self.message.emit(words, not ok)
            if ok:
                self.exported.emit(path)

        self._jobs.submit(export, exported, self._failed)

    def _failed(self, why: str) -> None:
        self.busy = False
        log.warning("strategy transfer failed: %s", why)
        self.message.emit(f"That did not work: {why}", True)

    def shutdown(self) -> None:
        self._jobs.wait(3000)
