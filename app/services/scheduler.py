"""Polling in worker threads, one per account, for any front end (the window, ``quiver poll``).

Each account has its own thread, so a slow or hanging network call of one account never delays
another. The threads are plain daemon threads: a call stuck in the network cannot hold the
process open. Shutting down asks them to stop and waits a bounded time; a thread still inside a
network call then stores nothing of what it gets back (the polling service checks the stop flag
after the call), so its cursor is unchanged and the next start fetches the same items again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from app.services.polling import PollingService, PollOutcome

log = logging.getLogger("quiver.services.scheduler")
TICK_S = 1.0  # how often an account's worker asks whether its turn has come
DISCOVER_S = 5.0  # how often new accounts (connected meanwhile) get a worker


class PollScheduler:
    """Owns the poll threads. Callbacks run in the worker threads: keep them short."""

    def __init__(
        self,
        polling: PollingService,
        on_outcome: Callable[[PollOutcome], None],
        on_error: Callable[[str], None],
        *,
        tick_s: float = TICK_S,
        discover_s: float = DISCOVER_S,
    ) -> None:
        self._polling = polling
        self._on_outcome = on_outcome
        self._on_error = on_error
        self._tick_s = tick_s
        self._discover_s = discover_s
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers: dict[int, threading.Thread] = {}
        self._supervisor = threading.Thread(target=self._supervise, name="quiver-poll", daemon=True)

    def start(self) -> None:
        self._supervisor.start()

    def shutdown(self, timeout_s: float = 2.0) -> bool:
        """Stop every worker; True when all ended within ``timeout_s``.

        A worker still waiting on the network after that is left to end on its own (it is a
        daemon thread and stores nothing once asked to stop).
        """
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads():
            if thread.ident is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        late = [t.name for t in self._threads() if t.is_alive()]
        if late:
            log.warning(
                "poll threads still in a network call after %.1f s, left to end: %s",
                timeout_s,
                ", ".join(late),
            )
        return not late

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads())

    def _threads(self) -> list[threading.Thread]:
        with self._lock:
            return [self._supervisor, *self._workers.values()]

    # -- in the worker threads -----------------------------------------------------------------

    def _supervise(self) -> None:
        while not self._stop.is_set():
            try:
                ids = [ref.id for ref, _state in self._polling.accounts()]
            except Exception as exc:  # a database error: report it, try again later
                log.exception("listing accounts to poll failed")
                self._on_error(f"{exc.__class__.__name__}: {exc}")
                ids = []
            with self._lock:
                for account_id in ids:
                    worker = self._workers.get(account_id)
                    if worker is None or not worker.is_alive():
                        worker = threading.Thread(
                            target=self._run,
                            args=(account_id,),
                            name=f"quiver-poll-{account_id}",
                            daemon=True,
                        )
                        self._workers[account_id] = worker
                        worker.start()
            self._stop.wait(self._discover_s)

    def _run(self, account_id: int) -> None:
        while not self._stop.is_set():
            try:
                outcome = self._polling.poll_account_if_due(account_id, self._stop)
            except KeyError:
                return  # the account was removed
            except Exception as exc:  # a database error: report it, keep the worker alive
                log.exception("polling account %s failed", account_id)
                self._on_error(f"{exc.__class__.__name__}: {exc}")
                outcome = None
            if outcome is not None and not self._stop.is_set():
                self._on_outcome(outcome)
            self._stop.wait(self._tick_s)
