"""Autosave: what is typed reaches the workspace within two seconds, off the GUI thread.

Each keystroke restarts a single-shot timer (:data:`AUTOSAVE_MS`); when it fires, a snapshot
of the pane (text, accounts, goal, time, who acts) is written by one job on a serial worker:
the first one creates the draft (:meth:`~app.services.drafts.DraftsService.create`), later ones
store the text (:meth:`~app.services.drafts.DraftsService.save_text`) and whatever else changed.
Jobs run one after the other in the order asked, so a save never overtakes the one before, and
the draft's id lives with the worker (:class:`_Stored`), which alone reads and writes it.

The same worker then reads what the person should know about that draft (its outcome, the
warnings about duplicates and timing), so the GUI thread only paints. Submitting goes through
the same queue, after the last save.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from PySide6.QtCore import QObject, QTimer, Signal

from app.domain.enums import DraftKind, DraftState
from app.services.container import Services
from app.services.drafts import DraftError, NotAllowed
from app.ui.tasks import SerialTaskRunner

log = logging.getLogger("quiver.ui.compose")

AUTOSAVE_MS = 1000  # after the last keystroke; the write itself takes a few milliseconds


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The pane as it is when a save is asked for."""

    operator: int
    kind: DraftKind
    unit_id: int
    conversation_id: int | None
    text: str
    account_ids: tuple[int, ...]
    goal_id: int | None
    schedule_at: datetime | None


@dataclass(frozen=True, slots=True)
class Saved:
    """What a save (or a submit) did, for the pane to show."""

    draft_id: int | None
    state: DraftState | None
    outcome: str  # the draft's state and why (DraftView.outcome)
    warnings: tuple[str, ...]
    problems: tuple[str, ...]  # refusals met on the way (the text is stored anyway)
    submitted: bool = False
    refusal: str = ""  # why a submit was refused, in the service's words


class _Stored:
    """The draft as last written; touched only by the serial worker's jobs."""

    def __init__(self, draft_id: int | None, snapshot: Snapshot | None) -> None:
        self.draft_id = draft_id
        self.last = snapshot
        self.lock = threading.Lock()  # the worker owns it; the lock documents that and guards


class DraftSaver(QObject):
    """Debounced, ordered writes of one compose pane's draft."""

    saved = Signal(object)  # Saved

    def __init__(
        self,
        services: Services,
        snapshot: Callable[[], Snapshot | None],
        parent: QObject | None = None,
        *,
        delay_ms: int = AUTOSAVE_MS,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._snapshot = snapshot
        self._runner = SerialTaskRunner(self)
        self._stored = _Stored(None, None)
        self.pending = 0  # jobs asked for whose result has not arrived
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(delay_ms)
        self.timer.timeout.connect(self.flush)

    def adopt(self, draft_id: int | None, snapshot: Snapshot | None) -> None:
        """Go on with a stored draft (opened again); nothing is written now."""
        self._stored = _Stored(draft_id, snapshot)

    def touch(self) -> None:
        """Something changed: save once nothing has changed for the delay."""
        self.timer.start()

    @property
    def dirty(self) -> bool:
        return self.timer.isActive()

    def flush(self) -> None:
        """Save now (nothing happens if there is nothing to say)."""
        self.timer.stop()
        snap = self._snapshot()
        if snap is None:
            return
        self._submit_job(lambda: _persist(self._services, self._stored, snap))

    def submit(self) -> None:
        """Save, then send the draft for approval; the outcome arrives through :attr:`saved`."""
        self.timer.stop()
        snap = self._snapshot()
        if snap is None:
            return
        self._submit_job(lambda: _submit(self._services, self._stored, snap))

    def _submit_job(self, job: Callable[[], Saved]) -> None:
        self.pending += 1
        self._runner.submit(job, self._on_done, self._on_failed)

    def wait(self, msecs: int = 3000) -> bool:
        """Flush what is not saved yet and wait for every job (closing the window)."""
        if self.dirty:
            self.flush()
        return self._runner.wait(msecs)

    def _on_done(self, saved: Saved) -> None:
        self.pending -= 1
        self.saved.emit(saved)

    def _on_failed(self, message: str) -> None:
        self.pending -= 1
        log.warning("saving a draft failed: %s", message)
        self.saved.emit(Saved(None, None, "", (), (f"Not saved: {message}",)))


# -- the jobs (worker thread: no widget here) --------------------------------------------------


def _persist(services: Services, stored: _Stored, snap: Snapshot) -> Saved:
    with stored.lock:
        problems = _write(services, stored, snap)
        return _report(services, stored, snap, problems)


def _submit(services: Services, stored: _Stored, snap: Snapshot) -> Saved:
    with stored.lock:
        problems = _write(services, stored, snap)
        refusal = ""
        if stored.draft_id is None:
            refusal = problems[0] if problems else "Write something first."
        else:
            try:
                services.drafts.submit(snap.operator, stored.draft_id)
            except (DraftError, NotAllowed) as e:
                refusal = str(e)
        report = _report(services, stored, snap, problems)
        return Saved(
            report.draft_id,
            report.state,
            report.outcome,
            report.warnings,
            report.problems,
            submitted=not refusal,
            refusal=refusal,
        )


def _write(services: Services, stored: _Stored, snap: Snapshot) -> tuple[str, ...]:
    """Store what changed since the last write; the refusals met, in words."""
    drafts = services.drafts
    problems: list[str] = []
    last = stored.last
    if stored.draft_id is None:
        if not snap.text.strip():
            return ()  # nothing typed yet: nothing to keep
        accounts = snap.account_ids if snap.kind is DraftKind.POST else ()
        try:
            stored.draft_id = drafts.create(
                snap.operator,
                snap.kind.value,
                snap.unit_id,
                snap.text,
                accounts,
                conversation_id=snap.conversation_id,
                social_goal_id=snap.goal_id,
            )
        except (DraftError, NotAllowed) as e:
            return (str(e),)
        last = replace(snap, schedule_at=None)
    draft_id = stored.draft_id
    try:
        if last is None or last.text != snap.text or last.operator != snap.operator:
            drafts.save_text(snap.operator, draft_id, snap.text)
        if snap.kind is DraftKind.POST and (last is None or last.account_ids != snap.account_ids):
            drafts.set_accounts(snap.operator, draft_id, snap.account_ids)
        if last is None or last.goal_id != snap.goal_id:
            drafts.set_social_goal(snap.operator, draft_id, snap.goal_id)
    except (DraftError, NotAllowed) as e:
        problems.append(str(e))
    if last is None or last.schedule_at != snap.schedule_at:
        try:
            if snap.schedule_at is None:
                drafts.unschedule(snap.operator, draft_id)
            else:
                drafts.schedule(snap.operator, draft_id, snap.schedule_at)
        except (DraftError, NotAllowed) as e:
            problems.append(str(e))
    stored.last = snap
    return tuple(problems)


def _report(
    services: Services, stored: _Stored, snap: Snapshot, problems: tuple[str, ...]
) -> Saved:
    if stored.draft_id is None:
        return Saved(None, None, "", (), problems)
    try:
        view = services.drafts.draft_view(stored.draft_id)
        warnings = services.drafts.posting_warnings(
            snap.operator,
            snap.kind.value,
            snap.text,
            account_ids=snap.account_ids,
            conversation_id=snap.conversation_id,
            schedule_at=snap.schedule_at,
            draft_id=stored.draft_id,
        )
    except (DraftError, NotAllowed) as e:
        return Saved(stored.draft_id, None, "", (), (*problems, str(e)))
    return Saved(view.id, view.state, view.outcome, warnings, problems)
