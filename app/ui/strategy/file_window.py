"""A strategy file in its own window: the same editor, no workspace, no network.

``quiver strategy edit FILE`` (:func:`run_file_editor`) and File > Open strategy file… in the
main window open it. Open… (Ctrl+O), Save (Ctrl+S) and Save as… (Ctrl+Shift+S) work on the
file; the title carries a "•" while changes are not saved, and closing asks first. A file that
cannot be read is refused with its reason (the line and the item) in words, and whatever was
open stays open. Reading and writing run on the editor's worker: a large file never freezes
the window.

For importing into a workspace later, :meth:`StrategyFileWindow.document` gives the doc being
edited and its path, and :attr:`StrategyFileWindow.file_menu` is where such an action goes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QThreadPool, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from app.domain.strategy_doc import StrategyDoc
from app.domain.strategy_file import StrategyFileError
from app.services.strategy_editing import EditorNames
from app.services.strategy_file_editing import FileSource
from app.ui.application import styled_application
from app.ui.labels import plain_label
from app.ui.strategy.editor import Outcome, StrategyEditor, attempt

EXIT_OK, EXIT_ERROR = 0, 2
FILTER = "Strategy files (*.yaml *.yml);;All files (*)"
UNTITLED = "Untitled strategy"
Hints = Callable[[], EditorNames]
log = logging.getLogger("quiver.ui.strategy")


def choose_file_to_open(parent: QWidget, folder: str) -> str | None:
    """Ask which strategy file to open (tests replace this)."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open a strategy file", folder, FILTER)
    return path or None


def choose_file_to_save(parent: QWidget, suggested: str) -> str | None:
    """Ask where to save the strategy file (tests replace this)."""
    path, _ = QFileDialog.getSaveFileName(parent, "Save the strategy file as", suggested, FILTER)
    return path or None


def ask_unsaved(parent: QWidget, name: str) -> str:
    """What to do with changes not saved: "save", "discard" or "cancel" (tests replace this)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Changes not saved")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(f"{name} has changes that are not saved yet.")
    box.setInformativeText("Save them before going on?")
    box.setStandardButtons(
        QMessageBox.StandardButton.Save
        | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel
    )
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    if answer == QMessageBox.StandardButton.Save:
        return "save"
    if answer == QMessageBox.StandardButton.Discard:
        return "discard"
    return "cancel"


def refusal_text(path: str, error: Exception) -> str:
    """Why a file cannot be opened, and what to do, in words."""
    name = Path(path).name
    if isinstance(error, StrategyFileError):
        return (
            f"Quiver cannot open {name}: {error}\n"
            "Correct that in a text editor and open the file again (File > Open…). Nothing "
            "was changed in it."
        )
    if isinstance(error, FileNotFoundError):
        return f"There is no file {path}. Check the name, or open another file (File > Open…)."
    if isinstance(error, IsADirectoryError):
        return f"{path} is a folder, not a strategy file."
    reason = getattr(error, "strerror", None) or str(error)
    return f"Quiver cannot read {path} ({reason})."


@dataclass(frozen=True, slots=True)
class FileDocument:
    """The strategy being edited: the doc, the file it came from, whether it is saved."""

    doc: StrategyDoc
    path: Path | None
    dirty: bool


def _open(path: str, hints: Hints | None) -> FileSource | str:
    """Read the file (worker thread): the source, or why not in words."""
    known = None
    if hints is not None:
        try:
            known = hints()
        except Exception:  # the workspace's names only complete typing: the file opens anyway
            log.warning("the workspace's names for completion could not be read", exc_info=True)
    try:
        return FileSource.open(path, hints=known)
    except (StrategyFileError, OSError) as e:
        return refusal_text(path, e)


class StrategyFileWindow(QMainWindow):
    """One strategy file (or an untitled strategy) in the funnel editor."""

    #: A file is open in the editor (its path).
    opened = Signal(str)
    #: A file could not be opened (the words shown).
    open_failed = Signal(str)
    #: The file was written (its path).
    saved = Signal(str)
    #: Saving was refused (the words shown).
    save_failed = Signal(str)

    def __init__(self, hints: Hints | None = None, parent: QWidget | None = None) -> None:
        """Build it; ``hints`` reads names a workspace knows (completion; any thread)."""
        super().__init__(parent)
        self.setObjectName("strategyFileWindow")
        self._hints = hints
        self.source = FileSource(StrategyDoc())
        self.dirty = False
        self.ever_opened = False
        self._close_after_save = False
        self._closing = False
        self._then_open: str | None = None
        self.banner = plain_label(object_name="threadNotice")
        self.banner.hide()
        self.where = plain_label(object_name="threadFacts", wrap=False)
        self.editor = StrategyEditor(self.source)
        self.editor.changed.connect(self._on_editor_changed)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(16, 8, 16, 6)
        top_layout.addWidget(self.banner)
        top_layout.addWidget(self.where)
        layout.addWidget(top)
        layout.addWidget(self.editor, 1)
        self.setCentralWidget(central)
        self._build_menus()
        self.statusBar().showMessage("No workspace and no network needed: the file is all.")
        self._show_title()
        self.editor.reload()

    def _build_menus(self) -> None:
        self.file_menu = self.menuBar().addMenu("&File")
        self.open_action = self._action("&Open…", "Ctrl+O", self.choose_and_open)
        self.save_action = self._action("&Save", "Ctrl+S", self.save)
        self.save_as_action = self._action("Save &as…", "Ctrl+Shift+S", self.save_as)
        self.file_menu.addSeparator()
        self._import_slot = self.file_menu.addSeparator()  # "Import into…" goes before it
        self.import_action: QAction | None = None
        self.close_action = self._action("&Close", "Ctrl+W", self.close)

    def _action(self, text: str, keys: str, slot: object) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(keys))
        action.triggered.connect(slot)
        self.file_menu.addAction(action)
        return action

    def offer_import(
        self, workspace: str, start: Callable[[StrategyDoc, str, QWidget], None]
    ) -> None:
        """Add File > "Import into <workspace>…": ``start(doc, name, window)`` imports the doc.

        The doc as it stands in the editor (unsaved changes included) is what is imported.
        """
        action = QAction(f"&Import into {workspace}…", self)
        action.setShortcut(QKeySequence("Ctrl+I"))
        action.setStatusTip(
            "merge this strategy into the workspace: what conflicts is yours to decide"
        )
        action.triggered.connect(lambda: start(self.source.doc, self.name(), self))
        self.file_menu.insertAction(self._import_slot, action)
        self.import_action = action

    # -- what is open -------------------------------------------------------------------------

    def document(self) -> FileDocument:
        """The strategy as edited now (for an import into a workspace), and its file."""
        return FileDocument(self.source.doc, self.source.path, self.dirty)

    def name(self) -> str:
        path = self.source.path
        return path.name if path is not None else UNTITLED

    def _show_title(self) -> None:
        mark = "• " if self.dirty else ""
        self.setWindowTitle(f"{mark}{self.name()} — Quiver strategy editor")
        path = self.source.path
        self.where.setText(
            f"{path} · {'changes not saved' if self.dirty else 'saved'}"
            if path is not None
            else "A new strategy, not saved anywhere yet (File > Save as…)."
        )

    def _refuse(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.setVisible(bool(text))

    # -- opening ------------------------------------------------------------------------------

    def choose_and_open(self) -> None:
        folder = str(self.source.path.parent) if self.source.path is not None else str(Path.home())
        path = choose_file_to_open(self, folder)
        if path:
            self.open_file(path)

    def open_file(self, path: str) -> None:
        """Open ``path`` in this window (asking first about changes not saved)."""
        if self.dirty:
            answer = ask_unsaved(self, self.name())
            if answer == "cancel":
                return
            if answer == "save":
                self._then_open = path
                self.save()
                return
        self.statusBar().showMessage(f"Opening {path}…")
        hints = self._hints
        self.editor.submit(lambda: _open(path, hints), self._on_opened)

    def _on_opened(self, result: FileSource | str) -> None:
        if isinstance(result, str):
            self._refuse(result)
            self.statusBar().showMessage("The file was not opened.", 10_000)
            self.open_failed.emit(result)
            return
        self._refuse("")
        self.source = result
        self.dirty = False
        self.ever_opened = True
        self.editor.set_source(result)
        self._show_title()
        self.statusBar().showMessage(f"Opened {result.path}.", 10_000)
        self.opened.emit(str(result.path))

    # -- saving -------------------------------------------------------------------------------

    def save(self) -> None:
        if self.source.path is None:
            self.save_as()
            return
        self._save(None)

    def save_as(self) -> None:
        here = self.source.path
        suggested = str(here) if here is not None else str(Path.home() / "strategy.yaml")
        path = choose_file_to_save(self, suggested)
        if path:
            self._save(path)
        else:
            self._close_after_save = False
            self._then_open = None

    def _save(self, path: str | None) -> None:
        source = self.source
        self.statusBar().showMessage("Saving…")
        self.editor.submit(lambda: attempt(lambda: source.save(path)), self._on_saved)

    def _on_saved(self, outcome: Outcome) -> None:
        if outcome.refusal:
            self._close_after_save = False
            self._then_open = None
            self._refuse(outcome.refusal)
            self.statusBar().showMessage("Not saved.", 10_000)
            self.save_failed.emit(outcome.refusal)
            return
        self._refuse("")
        self.dirty = False
        self._show_title()
        problems = len(self.editor.state.problems) if self.editor.state is not None else 0
        note = (
            f" It still has {problems} problem{'s' if problems != 1 else ''}: an import "
            "refuses it until they are put right."
            if problems
            else ""
        )
        self.statusBar().showMessage(f"Saved {outcome.value}.{note}", 15_000)
        self.saved.emit(str(outcome.value))
        if self._close_after_save:
            self._closing = True
            self.close()
        elif self._then_open is not None:
            path, self._then_open = self._then_open, None
            self.open_file(path)

    def _on_editor_changed(self) -> None:
        source = self.source
        self.editor.submit(lambda: (source, source.dirty), self._on_dirty)

    def _on_dirty(self, result: tuple[FileSource, bool]) -> None:
        source, dirty = result
        if source is self.source:
            self.dirty = dirty
            self._show_title()

    # -- closing ------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.dirty and not self._closing:
            answer = ask_unsaved(self, self.name())
            if answer == "cancel":
                event.ignore()
                return
            if answer == "save":
                event.ignore()
                self._close_after_save = True
                self.save()
                return
        self.editor.shutdown()
        super().closeEvent(event)


def run_file_editor(path: str) -> int:
    """``quiver strategy edit FILE``: the file in the editor window until it is closed.

    Returns:
        The exit code: 0 once a file was open, 2 if it never could be (the window said why).
    """
    app = styled_application()
    window = StrategyFileWindow()
    area = window.screen().availableGeometry()
    window.resize(min(1600, int(area.width() * 0.94)), min(960, int(area.height() * 0.94)))
    window.show()
    window.open_file(path)
    app.exec()
    QThreadPool.globalInstance().waitForDone(2000)
    return EXIT_OK if window.ever_opened else EXIT_ERROR
