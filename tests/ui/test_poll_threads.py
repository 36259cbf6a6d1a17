"""Poll workers: one thread per account, and closing never waits on a hanging network call."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
import responses
from sqlalchemy import func, select

from app.bootstrap import connector_factory
from app.models import Account, Message
from app.services.ingest import IngestService
from app.services.polling import PollingService
from app.services.tokens import TokenStore
from app.storage.workspace import Database
from app.ui.polling import PollingController
from tests.integration.test_polling import MENTIONS, TOKEN, add_accounts, tweet


@pytest.fixture
def accounts(db: Database) -> Database:
    return add_accounts(db)


@pytest.fixture
def hanging_x(accounts: Database) -> Any:
    """The X account's mentions call blocks until the test releases it."""
    TokenStore().set("x", "u-x", "access_token", TOKEN)
    entered, release = threading.Event(), threading.Event()

    def hang(_request: Any) -> tuple[int, dict[str, str], str]:
        entered.set()
        release.wait(20)
        body = {"data": [tweet("41")], "meta": {"newest_id": "41", "result_count": 1}}
        return 200, {"content-type": "application/json"}, json.dumps(body)

    with responses.RequestsMock() as mock:
        mock.add_callback(responses.GET, MENTIONS, callback=hang)
        yield entered, release


def messages(db: Database, account_id: int) -> int:
    with db.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(Message).where(Message.account_id == account_id)
            ).scalar_one()
        )


def cursor(db: Database, account_id: int) -> Any:
    with db.engine.connect() as conn:
        return conn.execute(select(Account.cursor).where(Account.id == account_id)).scalar()


def test_a_hanging_account_neither_delays_others_nor_holds_up_closing(
    qtbot: Any, accounts: Database, hanging_x: Any
) -> None:
    entered, release = hanging_x
    polling = PollingService(
        accounts, IngestService(accounts), connector_factory(TokenStore(), sandbox_pace_s=10)
    )
    controller = PollingController(polling, tick_s=0.05, discover_s=0.05)
    arrived: list[int] = []
    controller.batch_stored.connect(lambda account, _new, _touched: arrived.append(account))
    controller.start()
    assert entered.wait(10), "the X poll never started"
    # The Sandbox account (1) is polled while X (2) waits on the network.
    qtbot.waitUntil(lambda: 1 in arrived, timeout=5000)
    assert messages(accounts, 1) > 0
    started = time.monotonic()
    stopped = controller.shutdown(2000)
    took = time.monotonic() - started
    assert took < 2.5
    assert not stopped  # the X worker is still inside its call...
    release.set()  # ...and when the network answers, it stores nothing
    qtbot.waitUntil(lambda: not controller.running, timeout=5000)
    assert messages(accounts, 2) == 0
    assert cursor(accounts, 2) is None  # so the next start fetches the same items again
    assert 2 not in arrived


def test_closing_an_idle_controller_is_immediate(accounts: Database) -> None:
    polling = PollingService(accounts, IngestService(accounts), connector_factory(TokenStore()))
    controller = PollingController(polling, tick_s=0.05, discover_s=0.05)
    controller.start()
    time.sleep(0.2)
    started = time.monotonic()
    assert controller.shutdown(2000)
    assert time.monotonic() - started < 0.5
    assert not controller.running


@responses.activate
def test_opening_an_x_thread_brings_the_rest_of_it_into_the_pane(
    qtbot: Any, accounts: Database
) -> None:
    from app.bootstrap import services_for
    from app.ui.inbox.inbox_page import InboxPage
    from tests.ui.feed import listed

    TokenStore().set("x", "u-x", "access_token", TOKEN)
    services = services_for(accounts)
    responses.get(
        MENTIONS, json={"data": [tweet("81")], "meta": {"newest_id": "81", "result_count": 1}}
    )
    x_ref = next(ref for ref, _ in services.polling.accounts() if ref.network == "x")
    services.polling.poll(x_ref)
    reply = {**tweet("82"), "conversation_id": "81", "author_id": "6", "text": "me too!"}
    responses.get(
        "https://api.twitter.com/2/tweets/search/recent",
        json={"data": [reply], "meta": {"newest_id": "82", "result_count": 1}},
    )
    page = InboxPage(services)
    qtbot.addWidget(page)
    page.show()
    page.status_filter.setCurrentText("All statuses")
    listed(qtbot, page.model)
    row = next(i for i in range(page.model.rowCount()) if page.model.row_at(i).network == "x")
    page.view.selectRow(row)
    assert page.thread_pane.texts() == ["@AcmeHelp hi 81"]
    qtbot.waitUntil(lambda: page.thread_pane.texts() == ["@AcmeHelp hi 81", "me too!"])
    page.shutdown()
