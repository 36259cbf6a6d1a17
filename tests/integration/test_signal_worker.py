"""The signal worker: a real spawned process gives the answers the ingest thread would give.

When it cannot start, dies or does not answer, the batch is worked out in the calling thread
(the same answers), the failure is logged once, and a new worker is tried after a rest.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.domain.items import InboundItem
from app.domain.text_signals import LanguageDetector, given_language, signals_many
from app.models import Account, Conversation
from app.services.ingest import IngestService
from app.services.routing import RoutingService
from app.services.signals import InlineSignals, WorkerSignals
from app.storage.workspace import open_database

TEXTS = [
    "Mein Paket ist immer noch nicht angekommen, bitte helfen Sie mir",
    "My order arrived broken and nobody answers, I want a refund!!",
    "Mi pedido llegó roto y nadie me responde",
    "Thanks, that was quick 😍",
    "ok",
    "",
]
GIVEN = [None, None, "es", "en", None, "und"]


@pytest.fixture
def detector() -> LanguageDetector:
    return LanguageDetector(["de", "en", "es", "fr"], fallback=["de", "en"])


@pytest.fixture
def worker() -> Iterator[WorkerSignals]:
    signals = WorkerSignals(timeout_s=60)
    yield signals
    signals.close()


def expected(detector: LanguageDetector) -> list[tuple[str | None, float | None]]:
    return signals_many(TEXTS, detector, [given_language(g) for g in GIVEN])


def test_the_worker_answers_what_the_ingest_thread_would(
    worker: WorkerSignals, detector: LanguageDetector
) -> None:
    tags = [given_language(g) for g in GIVEN]
    answer = worker.submit(TEXTS, detector, tags).result()
    assert answer == expected(detector)
    assert answer[0][0] == "de"
    assert answer[3] == ("en", answer[3][1])
    assert worker.running
    assert InlineSignals().submit(TEXTS, detector, tags).result() == answer
    assert worker.submit([], detector, []).result() == []


def test_a_worker_that_dies_is_replaced_after_a_rest(
    detector: LanguageDetector, caplog: pytest.LogCaptureFixture
) -> None:
    clock = [0.0]
    worker = WorkerSignals(timeout_s=60, retry_after_s=30, monotonic=lambda: clock[0])
    try:
        tags = [given_language(g) for g in GIVEN]
        assert worker.submit(TEXTS, detector, tags).result() == expected(detector)
        pids = _worker_pids(worker)
        assert len(pids) == 1
        os.kill(pids[0], signal.SIGKILL)
        with caplog.at_level(logging.WARNING, logger="quiver.services.signals"):
            # the batch in flight when it died, and the next while resting: the same answers
            assert worker.submit(TEXTS, detector, tags).result() == expected(detector)
            assert worker.submit(TEXTS, detector, tags).result() == expected(detector)
        assert not worker.running  # resting: worked out inline, no new process yet
        failures = [r for r in caplog.records if "signal worker failed" in r.message]
        assert len(failures) == 1
        clock[0] = 31.0
        assert worker.submit(TEXTS, detector, tags).result() == expected(detector)
        assert worker.running
        assert _worker_pids(worker) != pids
    finally:
        worker.close()


def test_a_worker_that_does_not_answer_in_time_is_left(
    detector: LanguageDetector, caplog: pytest.LogCaptureFixture
) -> None:
    worker = WorkerSignals(timeout_s=0.001)
    never: Future[list[tuple[str | None, float | None]]] = Future()

    class Stuck:
        def submit(self, *_args: object) -> Future[list[tuple[str | None, float | None]]]:
            return never

        def shutdown(self, **_kw: object) -> None:
            return None

    worker._executor = Stuck()  # type: ignore[assignment]
    tags = [given_language(g) for g in GIVEN]
    with caplog.at_level(logging.WARNING, logger="quiver.services.signals"):
        assert worker.submit(TEXTS, detector, tags).result() == expected(detector)
    assert "TimeoutError" in caplog.text
    assert not worker.running


def _worker_pids(worker: WorkerSignals) -> list[int]:
    executor = worker._executor
    assert executor is not None
    return [p.pid for p in executor._processes.values() if p.pid is not None]


def test_ingest_with_the_worker_stores_what_ingest_without_it_stores(
    workspace_url: Callable[[str], str],
) -> None:
    """Two copies of the demo workspace take one batch, one through the worker: same rows."""
    stored = []
    for signals in (InlineSignals(), WorkerSignals(timeout_s=60)):
        db = open_database(workspace_url("demo"))
        try:
            with db.engine.connect() as conn:
                account = (
                    conn.execute(
                        select(Account.id).where(Account.network == "sandbox").order_by(Account.id)
                    )
                    .scalars()
                    .first()
                )
            assert account is not None
            service = IngestService(db, routing=RoutingService(db, signals=signals))
            outcome = service.store(account, _batch(), None)
            assert len(outcome.new_conversation_ids) == len(TEXTS) - 1
            with db.engine.connect() as conn:
                stored.append(
                    conn.execute(
                        select(
                            Conversation.external_thread_id,
                            Conversation.unit_id,
                            Conversation.language,
                            Conversation.sentiment,
                            Conversation.status,
                            Conversation.routing_reason,
                        )
                        .where(Conversation.id.in_(outcome.new_conversation_ids))
                        .order_by(Conversation.external_thread_id)
                    ).all()
                )
        finally:
            signals.close()
            db.close()
    assert stored[0] == stored[1]
    languages = {row.external_thread_id: row.language for row in stored[0]}
    assert languages["w0"] == "de"
    assert languages["w1"] == "en"


def _batch() -> list[InboundItem]:
    at = datetime(2026, 11, 3, 9, tzinfo=UTC)
    return [
        InboundItem(
            network="sandbox",
            external_id=f"w{i}-0",
            kind="mention",
            direction="in",
            text=text,
            created_at=at + timedelta(minutes=i),
            author_external_id=f"fan{i}",
            author_handle=f"fan{i}",
            author_name=f"Fan {i}",
            thread_external_id=f"w{i}",
            thread_type="sandbox_thread",
            in_reply_to=None,
            permalink=None,
            raw={"id": f"w{i}-0"},
        )
        for i, text in enumerate(TEXTS[:-1])
    ] + [
        InboundItem(
            network="sandbox",
            external_id="w0-1",
            kind="reply",
            direction="in",
            text="Hallo? Noch immer nichts.",
            created_at=at + timedelta(hours=1),
            author_external_id="fan0",
            author_handle="fan0",
            author_name="Fan 0",
            thread_external_id="w0",
            thread_type="sandbox_thread",
            in_reply_to="w0-0",
            permalink=None,
            raw={"id": "w0-1"},
        )
    ]
