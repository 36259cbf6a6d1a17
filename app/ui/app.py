"""The GUI entry point: workspace, first-start demo, operator, main window, clean shutdown."""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, QThreadPool, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog, QWidget

from app.config import GuiOptions, LocalPrefs, default_paths
from app.domain.rows import PersonRow
from app.services.container import Services, WorkspaceError
from app.services.demo import Connectors, DemoError, generate_demo_workspace, is_demo_missing
from app.ui.application import styled_application
from app.ui.main_window import MainWindow
from app.ui.operator_dialog import OperatorDialog, confirm_identity
from app.ui.setup.first_run import first_run, maybe_welcome, new_workspace

log = logging.getLogger("quiver.ui")

OpenWorkspace = Callable[..., Services]
EXIT_OK, EXIT_ERROR = 0, 2
FIRST_PAINT_ENV = "QUIVER_EXIT_AFTER_FIRST_PAINT"
POLL_DELAY_MS = 1500


def show_error(title: str, text: str, parent: QWidget | None = None) -> None:
    """Tell the person what happened and what to do (plain text; tests replace this)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(title)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(text)
    box.exec()


def choose_operator(people: list[PersonRow], workspace: str) -> PersonRow | None:
    """Ask who is working (tests replace this)."""
    dialog = OperatorDialog(people, workspace)
    if dialog.exec() != OperatorDialog.DialogCode.Accepted:
        return None
    return dialog.chosen()


class _DemoWorker(QObject):
    progressed = Signal(int, int)
    finished = Signal(str)  # "" on success, else the message for a person

    def __init__(
        self, path: Path, conversations: int, seed: int, connectors: Connectors | None
    ) -> None:
        super().__init__()
        self._path, self._n, self._seed = path, conversations, seed
        self._connectors = connectors

    @Slot()
    def run(self) -> None:  # in the worker thread: only signals go out
        try:
            generate_demo_workspace(
                str(self._path),
                conversations=self._n,
                seed=self._seed,
                progress=self._report,
                connectors=self._connectors,
            )
        except (DemoError, WorkspaceError, OSError) as exc:
            self.finished.emit(str(exc))
        else:
            self.finished.emit("")

    def _report(self, done: int, total: int) -> None:
        self.progressed.emit(done, total)


def generate_demo_with_progress(
    path: Path, conversations: int, seed: int, connectors: Connectors | None = None
) -> str:
    """Generate the demo workspace in a worker thread behind a progress dialog.

    ``connectors``: the accounts' connectors, for the demo's own outbox (its history).

    Returns:
        An empty string on success, else what went wrong.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    dialog = QProgressDialog("Preparing the demo workspace…", "", 0, conversations)
    dialog.setWindowTitle("Quiver")
    dialog.setCancelButton(None)
    dialog.setMinimumDuration(0)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.setMinimumWidth(420)
    thread = QThread()
    worker = _DemoWorker(path, conversations, seed, connectors)
    worker.moveToThread(thread)
    outcome: list[str] = []

    def on_progress(done: int, total: int) -> None:
        dialog.setMaximum(max(total, 1))
        dialog.setValue(done)
        dialog.setLabelText(f"Preparing the demo workspace…\n{done:,} of {total:,} conversations")

    def on_finished(message: str) -> None:
        outcome.append(message)
        thread.quit()

    worker.progressed.connect(on_progress)
    worker.finished.connect(on_finished)
    thread.started.connect(worker.run)
    thread.finished.connect(dialog.close)
    dialog.show()
    thread.start()
    while thread.isRunning() or not outcome:
        QApplication.processEvents()
        thread.wait(20)
    thread.wait()
    dialog.close()
    dialog.deleteLater()
    return outcome[0] if outcome else "the demo generator stopped unexpectedly"


def _workspace_choice(options: GuiOptions, prefs: LocalPrefs) -> tuple[str, bool]:
    """The workspace to open and whether it is the (generated on demand) demo."""
    paths = default_paths()
    demo = str(paths.demo_workspace)
    if options.workspace:
        return options.workspace, False
    if options.demo:
        return demo, True
    last = prefs.last_workspace
    if last:
        return last, last in (demo, f"sqlite:///{demo}")
    return demo, True


def run_gui(
    options: GuiOptions, open_workspace: OpenWorkspace, demo_connectors: Connectors | None = None
) -> int:
    """Open Quiver's window; returns the process exit code."""
    app = styled_application()
    paths = default_paths().ensure()
    prefs = LocalPrefs(paths.prefs_file)

    target, is_demo = _workspace_choice(options, prefs)
    if is_demo and is_demo_missing(paths.demo_workspace):
        message = generate_demo_with_progress(
            paths.demo_workspace, options.demo_conversations, options.demo_seed, demo_connectors
        )
        if message:
            show_error("Quiver could not prepare the demo", message)
            return EXIT_ERROR
    try:
        services = open_workspace(target, create=options.create)
    except WorkspaceError as exc:
        show_error("Quiver cannot open this workspace", str(exc))
        return EXIT_ERROR
    prefs.last_workspace = target if "://" not in target else services.db.location
    # A new workspace: the set-up assistant first; its administrator is then the operator.
    if not services.organization.is_set_up() and first_run(services, prefs) is None:
        services.close()
        return EXIT_OK

    operator = _operator(options, prefs, services)
    if operator is None:
        services.close()
        return EXIT_ERROR if options.operator else EXIT_OK
    window = MainWindow(services, operator, prefs)
    window.operator_switch_requested.connect(lambda: switch_operator(window, prefs))
    if os.environ.get(FIRST_PAINT_ENV):
        window.first_page_painted.connect(lambda: _report_first_paint(window))
    window.new_workspace_requested.connect(lambda: new_workspace(window, open_workspace, prefs))
    window.show()
    maybe_welcome(window)  # no account yet: how to connect the first one
    # Polling starts once the first page is on screen: it never competes with the first paint.
    # What start-up built stays for the session: set aside from the collector first.
    QTimer.singleShot(POLL_DELAY_MS, lambda: _settle_and_poll(window))
    try:
        return app.exec()
    finally:
        shutdown(window, services)


def _settle_and_poll(window: MainWindow) -> None:
    settle_heap()
    window.start_polling()


def settle_heap() -> None:
    """Set what start-up built aside from the garbage collector, for the whole session.

    The window, the services, the compiled rules and the first pages are tens of thousands of
    objects that live until Quiver closes. A full collection walks every object it tracks, in
    whichever thread triggers it, holding the interpreter: with start-up's objects among them it
    stalled the window for 100-250 ms while ingest threads allocated. Frozen (``gc.freeze``),
    they are never walked again; collections then cover only what the session creates.
    """
    gc.collect()
    gc.freeze()


def _operator(options: GuiOptions, prefs: LocalPrefs, services: Services) -> PersonRow | None:
    directory = services.directory
    if options.operator:
        person = directory.person_by_email(options.operator)
        if person is None:
            show_error(
                "Unknown person",
                f"Nobody with the email {options.operator} works in this workspace. Start "
                "Quiver without --operator to choose from the people who do.",
            )
            return None
        if not confirm_identity(services, person):
            return None
    else:
        remembered = prefs.operator_for(services.workspace_url)
        person = directory.person(remembered) if remembered is not None else None
        if person is not None and not confirm_identity(services, person):
            person = None  # someone else at this workstation: let them choose
        while person is None:
            person = choose_operator(directory.people(), services.workspace_name)
            if person is None:
                return None
            if not confirm_identity(services, person):
                person = None
    prefs.set_operator(services.workspace_url, person.id)
    return person


def switch_operator(window: MainWindow, prefs: LocalPrefs) -> None:
    """File > Switch operator…: choose who acts, and prove it when sign-in is on."""
    services = window.services
    person = choose_operator(services.directory.people(), services.workspace_name)
    if person is not None and confirm_identity(services, person, window):
        prefs.set_operator(services.workspace_url, person.id)
        window.set_operator(person)


def _report_first_paint(window: MainWindow) -> None:
    print(f"QUIVER_FIRST_PAINT {time.time():.6f}", flush=True)
    # Closing the last window ends app.exec() (a quit posted after exec returned would linger
    # in the event queue and end the next event loop instead).
    QTimer.singleShot(0, window.close)


def shutdown(window: MainWindow, services: Services) -> None:
    """Stop every background task, then close the workspace."""
    if window.isVisible():
        window.close()
    QThreadPool.globalInstance().waitForDone(2000)
    services.close()
