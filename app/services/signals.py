"""Where a batch's language and sentiment are worked out: here, or in a worker process.

Language detection and VADER are pure Python over every new conversation's text, the largest
part of routing a batch. :class:`WorkerSignals` runs them in one worker process, so that on a
machine with two cores they overlap with what the ingest thread does meanwhile (reading the
spam sightings, scoring spam) and, in the window, the GUI process does none of that work (its
event loop shares the interpreter with the ingest threads). :class:`InlineSignals` works them
out in the calling thread: what tests and one-off tools use.

Both give the same answers (:func:`app.domain.text_signals.signals_many`). A worker that cannot
start, dies or does not answer in time is reported in the log once and the batch is worked out
in the calling thread instead; the next batch starts a new worker. Nothing is lost or guessed.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from app.domain.text_signals import LanguageDetector, batch_signals, signals_many

log = logging.getLogger("quiver.services.signals")

Signals = list[tuple[str | None, float | None]]  # (language, sentiment) per text

WORKER_TIMEOUT_S = 120.0  # the first batch waits for the worker to start and load its models
RETRY_AFTER_S = 300.0  # after a failure, batches are worked out inline this long


class PendingSignals(Protocol):
    def result(self) -> Signals:
        """The answers, in the order of the texts submitted (waits for them)."""
        ...


class SignalSource(Protocol):
    def submit(
        self, texts: Sequence[str], detector: LanguageDetector, given: Sequence[str | None]
    ) -> PendingSignals:
        """Start working out each text's language (unless ``given``) and sentiment."""
        ...

    def close(self) -> None:
        """Stop any worker; later submissions start a new one."""
        ...


class _Done:
    def __init__(self, value: Signals) -> None:
        self._value = value

    def result(self) -> Signals:
        return self._value


class InlineSignals:
    """Works the signals out in the calling thread, at submission."""

    def submit(
        self, texts: Sequence[str], detector: LanguageDetector, given: Sequence[str | None]
    ) -> PendingSignals:
        return _Done(signals_many(texts, detector, given))

    def close(self) -> None:
        return None


class _InWorker:
    def __init__(
        self,
        future: Future[Signals],
        owner: WorkerSignals,
        texts: Sequence[str],
        detector: LanguageDetector,
        given: Sequence[str | None],
    ) -> None:
        self._future = future
        self._owner = owner
        self._args = (texts, detector, given)

    def result(self) -> Signals:
        try:
            return self._future.result(timeout=self._owner.timeout_s)
        except (BrokenProcessPool, FutureTimeout, OSError, RuntimeError) as exc:
            self._owner.broken(exc)
        texts, detector, given = self._args
        return signals_many(texts, detector, given)


class WorkerSignals:
    """Works the signals out in one worker process, started on the first batch.

    Safe from any thread. The worker is started with ``spawn`` (a fresh interpreter: forking a
    process that runs Qt and threads is unsafe) and loads the language model itself, so the
    process that submits never loads it.
    """

    def __init__(
        self,
        *,
        timeout_s: float = WORKER_TIMEOUT_S,
        retry_after_s: float = RETRY_AFTER_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout_s = timeout_s
        self._retry_after_s = retry_after_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._failed_at: float | None = None

    def submit(
        self, texts: Sequence[str], detector: LanguageDetector, given: Sequence[str | None]
    ) -> PendingSignals:
        if not texts:
            return _Done([])
        texts, given = list(texts), list(given)
        if self._resting():
            return _Done(signals_many(texts, detector, given))
        try:
            future = self._pool().submit(
                batch_signals, texts, detector.languages, detector.fallback, given
            )
        except (BrokenProcessPool, OSError, RuntimeError) as exc:
            self.broken(exc)
            return _Done(signals_many(texts, detector, given))
        return _InWorker(future, self, texts, detector, given)

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=1, mp_context=multiprocessing.get_context("spawn")
                )
            return self._executor

    def _resting(self) -> bool:
        """Whether a worker failed less than ``retry_after_s`` ago (work stays inline)."""
        with self._lock:
            failed = self._failed_at
        return failed is not None and self._monotonic() - failed < self._retry_after_s

    @property
    def running(self) -> bool:
        """Whether a worker process is up (or starting)."""
        with self._lock:
            return self._executor is not None

    def broken(self, exc: BaseException) -> None:
        """The worker failed: say so, work inline for a while, then try a new worker."""
        log.warning(
            "signal worker failed (%s: %s); batches are worked out in the ingest thread for "
            "the next %.0f s",
            exc.__class__.__name__,
            str(exc).strip().splitlines()[0] if str(exc).strip() else "",
            self._retry_after_s,
        )
        with self._lock:
            executor, self._executor = self._executor, None
            self._failed_at = self._monotonic()
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


_shared: WorkerSignals | None = None
_shared_lock = threading.Lock()


def shared_worker_signals() -> WorkerSignals:
    """The process's one signal worker (every workspace opened in this process uses it)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = WorkerSignals()
            atexit.register(_shared.close)
        return _shared
