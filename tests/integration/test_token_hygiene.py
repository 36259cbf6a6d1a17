"""A whole connect, poll and publish cycle on X and Facebook: no secret in the workspace or logs."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses
from responses import matchers
from sqlalchemy import select

from app.cli import SECRET_LOGGERS, configure_logging
from app.connectors.x_oauth import TOKEN_URL
from app.models import Account, Message
from app.services.container import Services
from app.storage.workspace import Database
from tests.browser import follow_redirect, free_port
from tests.integration.test_accounts import services_with_admin
from tests.stored import stored_bytes

GRAPH = "https://graph.facebook.com/v26.0"
RECENT = datetime.now(UTC) - timedelta(minutes=5)  # inside every "recently active" window
PAGE = "104000000000001"
SECRETS = {
    "x access": "X-ACCESS-hygiene-1111",
    "x refresh": "X-REFRESH-hygiene-2222",
    "meta app secret": "META-APP-SECRET-3333",
    "fb short user": "FB-USER-SHORT-4444",
    "fb long user": "FB-USER-LONG-5555",
    "page": "FB-PAGE-TOKEN-6666",
    "other page": "FB-PAGE-TOKEN-7777",
}


def _connect_x(services: Services, http: Any) -> None:
    services.accounts.set_x_client_id(1, "client-hygiene")
    http.post(
        TOKEN_URL,
        json={
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": SECRETS["x access"],
            "scope": "tweet.read tweet.write users.read dm.read dm.write offline.access",
            "refresh_token": SECRETS["x refresh"],
        },
    )
    http.get(
        "https://api.twitter.com/2/users/me",
        json={"data": {"id": "783214", "username": "AcmeHelp", "name": "Acme Help"}},
    )
    port = free_port()
    auth = services.accounts.start_x_authorization(1, port=port)
    follow_redirect(auth.authorization_url(), port, "X-CODE")
    services.accounts.finish_x_authorization(1, auth, unit_id=1, stop=threading.Event())


def _connect_facebook(services: Services, http: Any) -> None:
    services.accounts.set_facebook_app(1, "555000111", SECRETS["meta app secret"])
    http.get(
        f"{GRAPH}/oauth/access_token",
        match=[matchers.query_param_matcher({"code": "FB-CODE"}, strict_match=False)],
        json={"access_token": SECRETS["fb short user"], "token_type": "bearer"},
    )
    http.get(
        f"{GRAPH}/oauth/access_token",
        match=[
            matchers.query_param_matcher({"grant_type": "fb_exchange_token"}, strict_match=False)
        ],
        json={
            "access_token": SECRETS["fb long user"],
            "token_type": "bearer",
            "expires_in": 5183944,
        },
    )
    http.get(
        f"{GRAPH}/me/accounts",
        json={
            "data": [
                {"id": PAGE, "name": "Acme", "access_token": SECRETS["page"], "tasks": ["MODERATE"]},
                {"id": "104000000000002", "name": "Acme Jobs", "access_token": SECRETS["other page"]},
            ],
            "paging": {"cursors": {"before": "a", "after": "b"}},
        },
    )  # fmt: skip
    port = free_port()
    login = services.accounts.start_facebook_login(1, port=port)
    follow_redirect(login.authorization_url(), port, "FB-CODE")
    pages = services.accounts.finish_facebook_login(1, login, stop=threading.Event())
    [page] = [p for p in pages if p.id == PAGE]
    services.accounts.connect_facebook_page(1, page, unit_id=1)


def _poll_and_publish(services: Services, http: Any) -> None:
    http.get(
        "https://api.twitter.com/2/users/783214/mentions",
        json={
            "data": [
                {
                    "id": "1850000000000000002",
                    "text": "@AcmeHelp my order #123 never arrived",
                    "edit_history_tweet_ids": ["1850000000000000002"],
                    "author_id": "2244994945",
                    "conversation_id": "1850000000000000002",
                    "created_at": RECENT.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                }
            ],
            "meta": {"newest_id": "1850000000000000002", "result_count": 1},
        },
    )
    http.get("https://api.twitter.com/2/dm_events", json={"meta": {"result_count": 0}})
    http.get("https://api.twitter.com/2/tweets/search/recent", json={"meta": {"result_count": 0}})
    post = {
        "id": f"{PAGE}_205000000000001",
        "message": "Our autumn range is here!",
        "created_time": RECENT.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "permalink_url": "https://www.facebook.com/104000000000001/posts/205000000000001",
        "from": {"name": "Acme", "id": PAGE},
    }
    http.get(
        f"{GRAPH}/{PAGE}/feed",
        json={
            "data": [post],
            "paging": {
                "next": f"{GRAPH}/{PAGE}/feed?access_token={SECRETS['page']}&limit=25&after=Q"
            },
        },
    )
    http.get(f"{GRAPH}/{post['id']}/comments", json={"data": []})
    http.get(f"{GRAPH}/{PAGE}/conversations", json={"data": []})
    outcomes = services.polling.poll_due()
    assert [(o.state, o.detail) for o in outcomes] == [("connected", "")] * 2
    assert all(o.new_messages for o in outcomes)
    http.post(
        "https://api.twitter.com/2/tweets",
        status=201,
        json={"data": {"id": "1850000000000000003", "text": "On it", "edit_history_tweet_ids": ["1850000000000000003"]}},
    )  # fmt: skip
    http.post(f"{GRAPH}/{post['id']}/comments", json={"id": f"{post['id']}_9"})
    with services.db.engine.connect() as conn:
        ids = dict(conn.execute(select(Account.network, Account.id)).all())
    x = services.polling.connector_for_account(ids["x"])
    fb = services.polling.connector_for_account(ids["facebook"])
    assert x is not None
    assert fb is not None
    x.reply("On it", in_reply_to="1850000000000000002", thread_external_id="1850000000000000002")
    fb.reply("Thanks!", in_reply_to=post["id"], thread_external_id=post["id"])


@pytest.fixture
def services(db: Database) -> Services:
    return services_with_admin(db)


def test_no_secret_reaches_the_workspace_or_the_logs(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging(verbose=True)
    caplog.set_level(logging.DEBUG)  # as verbose as it gets...
    for name in SECRET_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)  # ...as configure_logging leaves them
    with responses.RequestsMock(assert_all_requests_are_fired=True) as http:
        _connect_x(services, http)
        _connect_facebook(services, http)
        _poll_and_publish(services, http)
        sent = [c.request for c in http.calls]
    # The secrets were really used: the tokens went out as the networks expect.
    assert any(r.headers.get("Authorization") == f"Bearer {SECRETS['x access']}" for r in sent)
    assert any(SECRETS["page"] in (r.url or "") or SECRETS["page"] in str(r.body) for r in sent)
    with services.db.engine.connect() as conn:
        assert conn.execute(select(Message.id)).all()  # something was stored
    for name, data in stored_bytes(services.db):
        for what, secret in SECRETS.items():
            assert secret.encode() not in data, f"{what} in {name}"
    for what, secret in SECRETS.items():
        assert secret not in caplog.text, f"{what} in the log"
