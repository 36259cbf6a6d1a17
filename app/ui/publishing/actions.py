"""What the Publishing screen asks of the drafts service, run in a worker, answered in words."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.services.access import NotAllowed
from app.services.drafts import DraftError, DraftsService
from app.services.publisher import Publisher
from app.ui.publishing.style import local
from app.ui.tasks import SerialTaskRunner

_STATE_WORDS = {
    "approved": "approved, back in the outbox",
    "scheduled": "scheduled",
    "pending_approval": "waiting for approval again",
    "draft": "back to draft",
    "published": "the draft is published",
    "publishing": "the outbox sends it",
}


class DraftActions(QObject):
    """Retry, unschedule, withdraw and move, one at a time, off the GUI thread.

    ``done`` carries what happened, ``refused`` the service's refusal (who may not, or what
    cannot be done), each a sentence for the person; either way the outbox changed or may have.
    """

    done = Signal(int, str)  # draft id, what happened
    refused = Signal(int, str)  # draft id, why not

    def __init__(
        self,
        drafts: DraftsService,
        operator: Callable[[], int],
        parent: QObject | None = None,
        publisher: Publisher | None = None,
    ) -> None:
        super().__init__(parent)
        self._drafts = drafts
        self._publisher = publisher
        self._operator = operator
        self._tasks = SerialTaskRunner(self)

    def retry(self, draft_id: int) -> None:
        self._run(draft_id, "Retry", lambda op: self._drafts.retry(op, draft_id))

    def resolve(self, draft_id: int, account_id: int, account: str, *, published: bool) -> None:
        """A person's answer for an account the network could not tell about."""
        publisher = self._publisher
        if publisher is None:
            return
        what = f"Recorded that {account} has it" if published else f"{account} gets it again"

        def answer(op: int) -> str:
            publisher.resolve(op, draft_id, account_id, published=published)
            return "published" if published else "publishing"

        self._run(draft_id, what, answer)

    def unschedule(self, draft_id: int) -> None:
        self._run(draft_id, "Unscheduled", lambda op: self._drafts.unschedule(op, draft_id))

    def withdraw(self, draft_id: int) -> None:
        self._run(draft_id, "Withdrawn", lambda op: self._drafts.withdraw(op, draft_id))

    def move(self, draft_id: int, at: datetime) -> None:
        when = local(at)
        self._run(
            draft_id,
            f"Moved to {when:%a} {when.day} {when:%b %H:%M}",
            lambda op: self._drafts.schedule(op, draft_id, at),
        )

    def _run(self, draft_id: int, what: str, call: Callable[[int], Any]) -> None:
        operator = self._operator()

        def attempt() -> tuple[bool, str]:  # in the worker: touches no Qt object
            try:
                state = call(operator)
            except (DraftError, NotAllowed) as e:
                return False, str(e)
            return True, f"{what}: {_STATE_WORDS.get(str(state), str(state).replace('_', ' '))}."

        self._tasks.submit(
            attempt,
            lambda result: self._on_finished(draft_id, result),
            lambda message: self.refused.emit(draft_id, f"That did not work: {message}"),
        )

    def _on_finished(self, draft_id: int, result: tuple[bool, str]) -> None:
        ok, message = result
        (self.done if ok else self.refused).emit(draft_id, message)

    def wait(self, msecs: int = 2000) -> bool:
        return self._tasks.wait(msecs)
