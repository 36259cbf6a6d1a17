"""Connecting accounts: admins only, tokens in the keyring, reconnect keeps history, refresh once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import responses
from sqlalchemy import insert, select, update

from app.bootstrap import services_for
from app.connectors.x_oauth import TOKEN_URL, TokenSet
from app.models import Account, AuditEntry, Message, Person, RoleAssignment, Unit
from app.services.access import NotAllowed
from app.services.container import Services
from app.services.tokens import TokenStore
from app.storage.workspace import Database
from tests.stored import stored_bytes

MENTIONS = "https://api.twitter.com/2/users/783214/mentions"
TOKENS = TokenSet(
    "ACCESS-aaaa-1111",
    "REFRESH-bbbb-2222",
    datetime(2026, 12, 1, tzinfo=UTC),
    ("tweet.read", "users.read", "offline.access"),
)


@pytest.fixture
def services(db: Database) -> Services:
    return services_with_admin(db)


def services_with_admin(db: Database) -> Services:
    """Services on a workspace with one unit, an administrator (1) and an agent (2)."""
    with db.engine.begin() as conn:
        conn.execute(insert(Unit).values(id=1, path="/1/", name="Company"))
        conn.execute(
            insert(Person),
            [
                {"id": 1, "name": "Ada Admin", "email": "ada@example.org"},
                {"id": 2, "name": "Al Agent", "email": "al@example.org"},
            ],
        )
        conn.execute(
            insert(RoleAssignment),
            [
                {"person_id": 1, "unit_id": 1, "role": "admin"},
                {"person_id": 2, "unit_id": 1, "role": "agent"},
            ],
        )
    return services_for(db)


def test_only_admins_connect_and_tokens_go_to_the_keyring(services: Services) -> None:
    with pytest.raises(NotAllowed, match="administrator"):
        services.accounts.connect_x(
            2, tokens=TOKENS, user_id="783214", username="AcmeHelp", name="Acme", unit_id=1
        )
    account_id = services.accounts.connect_x(
        1, tokens=TOKENS, user_id="783214", username="AcmeHelp", name="Acme", unit_id=1
    )
    with services.db.uow() as uow:
        account = uow.session.get(Account, account_id)
        assert account is not None
        assert (account.state, account.scopes) == (
            "connected",
            "tweet.read users.read offline.access",
        )
        audit = uow.session.scalars(select(AuditEntry)).all()
        assert [a.action for a in audit] == ["account.connected"]
        assert "ACCESS" not in json.dumps(audit[0].after)
        account_uuid = account.uuid
    store = TokenStore()
    assert store.get("x", account_uuid, "access_token") == "ACCESS-aaaa-1111"
    assert store.get("x", account_uuid, "refresh_token") == "REFRESH-bbbb-2222"
    for _name, raw in stored_bytes(services.db):
        assert b"ACCESS-aaaa-1111" not in raw
        assert b"REFRESH-bbbb-2222" not in raw


def test_reconnecting_keeps_history_and_cursor(services: Services) -> None:
    first = services.accounts.connect_x(
        1, tokens=TOKENS, user_id="783214", username="AcmeHelp", name="Acme", unit_id=1
    )
    with services.db.engine.begin() as conn:
        conn.execute(
            update(Account).values(cursor={"mentions_since_id": "99"}, state="needs_reconnect")
        )
    services.ingest.store(first, [], {"mentions_since_id": "99"})
    again = services.accounts.connect_x(
        1, tokens=TOKENS, user_id="783214", username="AcmeHelp", name="Acme", unit_id=1
    )
    assert again == first
    with services.db.engine.connect() as conn:
        cursor, state = conn.execute(select(Account.cursor, Account.state)).one()
    assert (cursor, state) == ({"mentions_since_id": "99"}, "connected")


def test_disconnect_forgets_tokens_and_keeps_conversations(services: Services) -> None:
    account_id = services.accounts.connect_x(
        1, tokens=TOKENS, user_id="783214", username="AcmeHelp", name="Acme", unit_id=1
    )
    with services.db.engine.connect() as conn:
        account_uuid = conn.execute(select(Account.uuid)).scalar_one()
    services.accounts.disconnect(1, account_id)
    assert TokenStore().get("x", account_uuid, "access_token") is None
    with services.db.engine.connect() as conn:
        assert conn.execute(select(Account.state)).scalar() == "paused"


@responses.activate
def test_a_401_is_refreshed_once_then_polling_goes_on(services: Services) -> None:
    services.accounts.set_x_client_id(1, "client-123")
    services.accounts.connect_x(
        1, tokens=TOKENS, user_id="783214", username="AcmeHelp", name="Acme", unit_id=1
    )
    responses.get(
        MENTIONS,
        status=401,
        json={"title": "Unauthorized", "status": 401, "detail": "Unauthorized"},
    )
    responses.post(
        TOKEN_URL,
        json={
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": "ACCESS-new-3333",
            "scope": "tweet.read users.read offline.access",
            "refresh_token": "REFRESH-new-4444",
        },
    )
    ok = {
        "data": [
            {
                "id": "5",
                "text": "@AcmeHelp hi",
                "edit_history_tweet_ids": ["5"],
                "author_id": "9",
                "conversation_id": "5",
                "created_at": "2026-11-23T11:00:00.000Z",
            }
        ],
        "meta": {"newest_id": "5", "result_count": 1},
    }

    def mentions(request: object) -> tuple[int, dict[str, str], str]:
        auth = request.headers["Authorization"]  # type: ignore[attr-defined]
        if auth == "Bearer ACCESS-new-3333":
            return 200, {"content-type": "application/json"}, json.dumps(ok)
        return (
            401,
            {"content-type": "application/json"},
            json.dumps({"title": "Unauthorized", "status": 401}),
        )

    responses.add_callback(responses.GET, MENTIONS, callback=mentions)
    [outcome] = [o for o in services.polling.poll_due() if o.account_id]
    assert (outcome.state, outcome.new_messages) == ("connected", 1)
    with services.db.engine.connect() as conn:
        account_uuid = conn.execute(select(Account.uuid)).scalar_one()
    assert TokenStore().get("x", account_uuid, "refresh_token") == "REFRESH-new-4444"


@responses.activate
def test_a_refused_refresh_means_reconnect_and_history_stays(services: Services) -> None:
    services.accounts.set_x_client_id(1, "client-123")
    services.accounts.connect_x(
        1, tokens=TOKENS, user_id="783214", username="AcmeHelp", name="Acme", unit_id=1
    )
    responses.get(
        MENTIONS,
        status=401,
        json={"title": "Unauthorized", "status": 401, "detail": "Unauthorized"},
    )
    responses.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})
    [outcome] = services.polling.poll_due()
    assert outcome.state == "needs_reconnect"
    with services.db.engine.connect() as conn:
        assert conn.execute(select(Account.state)).scalar() == "needs_reconnect"
        assert conn.execute(select(Message.id)).first() is None


def _soon_expiring() -> TokenSet:
    return TokenSet(
        "ACCESS-old-5555",
        "REFRESH-old-6666",
        datetime.now(UTC) + timedelta(minutes=2),
        ("tweet.read", "users.read", "offline.access"),
    )


def _mentions_ok() -> dict[str, object]:
    return {"meta": {"result_count": 0}}


@responses.activate
def test_a_token_about_to_expire_is_renewed_before_the_poll(services: Services) -> None:
    services.accounts.set_x_client_id(1, "client-123")
    services.accounts.connect_x(
        1, tokens=_soon_expiring(), user_id="783214", username="AcmeHelp", name="Acme", unit_id=1
    )
    responses.post(
        TOKEN_URL,
        json={
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": "ACCESS-new-7777",
            "scope": "tweet.read users.read offline.access",
            "refresh_token": "REFRESH-new-8888",
        },
    )
    responses.get(MENTIONS, json=_mentions_ok())
    [outcome] = services.polling.poll_due()
    assert outcome.state == "connected"
    assert [c.request.method for c in responses.calls] == ["POST", "GET"]  # renewed first
    assert responses.calls[1].request.headers["Authorization"] == "Bearer ACCESS-new-7777"
    with services.db.engine.connect() as conn:
        account_uuid, expires = conn.execute(select(Account.uuid, Account.token_expires_at)).one()
    assert expires > datetime.now(UTC) + timedelta(hours=1)
    assert TokenStore().get("x", account_uuid, "refresh_token") == "REFRESH-new-8888"


@responses.activate
def test_a_failed_early_renewal_still_polls_with_the_current_token(services: Services) -> None:
    services.accounts.set_x_client_id(1, "client-123")
    services.accounts.connect_x(
        1, tokens=_soon_expiring(), user_id="783214", username="AcmeHelp", name="Acme", unit_id=1
    )
    responses.post(TOKEN_URL, status=503, body="busy")
    responses.get(MENTIONS, json=_mentions_ok())
    [outcome] = services.polling.poll_due()
    assert outcome.state == "connected"
    assert responses.calls[-1].request.headers["Authorization"] == "Bearer ACCESS-old-5555"


def test_the_meta_app_secret_goes_to_the_keyring_only(services: Services) -> None:
    with pytest.raises(NotAllowed):
        services.accounts.set_facebook_app(2, "555000111", "APP-SECRET-1")
    with pytest.raises(ValueError, match="Meta app ID"):
        services.accounts.set_facebook_app(1, "my app", "APP-SECRET-1")
    with pytest.raises(ValueError, match="app secret"):
        services.accounts.set_facebook_app(1, "555000111", "  ")
    assert not services.accounts.facebook_app_ready()
    with pytest.raises(ValueError, match="Meta app"):
        services.accounts.start_facebook_login(1)
    services.accounts.set_facebook_app(1, " 555000111 ", "APP-SECRET-1")
    assert services.accounts.facebook_app_id() == "555000111"
    assert services.accounts.facebook_app_ready()
    assert TokenStore().get("facebook", "meta-app-555000111", "app_secret") == "APP-SECRET-1"
    with services.db.engine.connect() as conn:
        audit = conn.execute(select(AuditEntry.action, AuditEntry.after)).all()
    assert ("settings.facebook_app", {"facebook.app_id": "555000111"}) in [tuple(r) for r in audit]
    for _name, raw in stored_bytes(services.db):
        assert b"APP-SECRET-1" not in raw


def test_poll_intervals_respect_the_network_floors(services: Services) -> None:
    services.accounts.set_x_client_id(1, "client-123")
    account_id = services.accounts.connect_x(
        1, tokens=TOKENS, user_id="783214", username="AcmeHelp", name="Acme", unit_id=1
    )
    with pytest.raises(NotAllowed):
        services.accounts.set_poll_interval(2, account_id, 300)
    with pytest.raises(ValueError, match="no less than 15 s"):
        services.accounts.set_poll_interval(1, account_id, 10)
    with pytest.raises(ValueError, match="3600"):
        services.accounts.set_poll_interval(1, account_id, 7200)
    with pytest.raises(KeyError):
        services.accounts.set_poll_interval(1, 999, 300)
    services.accounts.set_poll_interval(1, account_id, 300)
    [row] = [a for a in services.directory.accounts() if a.id == account_id]
    assert row.poll_interval_s == 300
    [ref] = [r for r, _ in services.polling.accounts() if r.id == account_id]
    assert ref.poll_interval_s == 300  # the scheduler reads it at every turn
    with services.db.engine.connect() as conn:
        audit = conn.execute(
            select(AuditEntry.before, AuditEntry.after).where(
                AuditEntry.action == "account.poll_interval"
            )
        ).one()
    assert tuple(audit) == ({"poll_interval_s": 90}, {"poll_interval_s": 300})
