"""The accounts service on a fake unit of work: administrators only, every change audited."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from app.connectors.base import AuthExpired
from app.domain.enums import AccountState, Network, Role
from app.services.access import NotAllowed
from app.services.accounts import AccountsService
from app.services.oauth import FacebookLoginFlow, OAuthFlows
from app.services.polling import AccountRef
from app.storage.ports import PersonEntry
from tests.unit.services.fakes import NOW, Clock, FakeData, FakeStorage, FakeTokens

ADMIN, AGENT = 1, 2
REFUSED = "Only an administrator can connect or disconnect accounts: Al Agent holds no such role."


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    scopes: tuple[str, ...]


TOKENS = Tokens("ACCESS-1", "REFRESH-1", datetime(2026, 12, 1, tzinfo=UTC), ("tweet.read",))


class BrowserAuthorization:
    def __init__(self, client_id: str, port: int) -> None:
        self.client_id, self.port = client_id, port

    def authorization_url(self) -> str:
        return f"https://x.example/authorize?client_id={self.client_id}"

    def wait_for_callback(self, stop: threading.Event, timeout_s: float = 300) -> str:
        return "http://127.0.0.1/callback?code=CODE"

    def exchange(self, callback_url: str) -> Tokens:
        assert callback_url.endswith("code=CODE")
        return TOKENS


class Flows:
    """Network steps that answer at once and remember what they were asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.refused_refresh = False

    def build(self) -> OAuthFlows:
        return OAuthFlows(
            x_authorization=BrowserAuthorization,
            x_identity=self.x_identity,
            x_refresh=self.x_refresh,
            facebook_login=self.facebook_login,
            facebook_page=self.facebook_page,
        )

    def x_identity(self, access_token: str) -> tuple[str, str, str]:
        self.calls.append(("me", access_token))
        return "783214", "AcmeHelp", "Acme Help"

    def x_refresh(self, client_id: str, refresh: str, scopes: tuple[str, ...] | None) -> Tokens:
        self.calls.append(("refresh", client_id, refresh))
        if self.refused_refresh:
            raise AuthExpired("X refused the refresh token (invalid_grant)")
        return Tokens("ACCESS-2", "REFRESH-2", datetime(2027, 1, 1, tzinfo=UTC), scopes or ())

    def facebook_login(self, app_id: str, secret: str, port: int) -> FacebookLoginFlow:
        raise AssertionError("not used here")

    def facebook_page(self, page_id: str, page_token: str) -> tuple[str, str]:
        self.calls.append(("page", page_id))
        return page_id, "Acme Page"


@pytest.fixture
def storage() -> FakeStorage:
    data = FakeData()
    data.add_unit(1, None, "Company")
    data.people = [
        PersonEntry(ADMIN, "Ada Admin", "ada@example.org", ""),
        PersonEntry(AGENT, "Al Agent", "al@example.org", ""),
    ]
    data.roles = [(ADMIN, Role.ADMIN, 1), (AGENT, Role.AGENT, 1)]
    return FakeStorage(data)


@pytest.fixture
def flows() -> Flows:
    return Flows()


@pytest.fixture
def tokens() -> FakeTokens:
    return FakeTokens()


@pytest.fixture
def accounts(storage: FakeStorage, tokens: FakeTokens, flows: Flows) -> AccountsService:
    return AccountsService(storage, tokens, flows.build(), clock=Clock())


def _connect(accounts: AccountsService, operator: int = ADMIN) -> int:
    return accounts.connect_x(
        operator, tokens=TOKENS, user_id="783214", username="AcmeHelp", name="Acme", unit_id=1
    )


def test_a_non_admin_is_refused_and_nothing_changes(
    accounts: AccountsService, storage: FakeStorage, tokens: FakeTokens
) -> None:
    with pytest.raises(
        NotAllowed, match="Only an administrator of Company can connect its accounts"
    ):
        _connect(accounts, AGENT)
    with pytest.raises(
        NotAllowed, match="Only an administrator of Company can change the workspace"
    ):
        accounts.set_x_client_id(AGENT, "client-1")
    with pytest.raises(NotAllowed, match=REFUSED):
        accounts.start_x_authorization(AGENT)

    assert storage.history == []
    assert storage.data.accounts == {}
    assert storage.data.audit == []
    assert tokens.secrets == {}


def test_connecting_adds_the_account_and_writes_the_audit_entry(
    accounts: AccountsService, storage: FakeStorage, tokens: FakeTokens
) -> None:
    account_id = _connect(accounts)

    account = storage.data.accounts[account_id]
    assert (account.network, account.state, account.scopes) == ("x", "connected", "tweet.read")
    [entry] = storage.data.audit
    assert (entry.at, entry.person_id, entry.person_name) == (NOW, ADMIN, "Ada Admin")
    assert (entry.action, entry.entity, entry.entity_id) == (
        "account.connected",
        "account",
        account_id,
    )
    assert entry.after == {"network": "x", "handle": "AcmeHelp", "unit_id": 1}
    assert "ACCESS" not in repr(entry)  # the token goes to the keyring only
    assert tokens.get(Network.X, account.uuid, "access_token") == "ACCESS-1"
    assert tokens.get(Network.X, account.uuid, "refresh_token") == "REFRESH-1"


def test_reconnecting_keeps_the_account_its_unit_and_interval(
    accounts: AccountsService, storage: FakeStorage
) -> None:
    first = _connect(accounts)
    storage.data.accounts[first].state = AccountState.NEEDS_RECONNECT
    storage.data.accounts[first].poll_interval_s = 300

    again = _connect(accounts)

    assert again == first
    account = storage.data.accounts[first]
    assert (account.state, account.poll_interval_s) == ("connected", 300)
    assert [e.action for e in storage.data.audit] == ["account.connected", "account.reconnected"]


def test_the_browser_flow_identifies_the_account_with_its_new_token(
    accounts: AccountsService, storage: FakeStorage, flows: Flows
) -> None:
    with pytest.raises(ValueError, match="client ID"):
        accounts.start_x_authorization(ADMIN)
    accounts.set_x_client_id(ADMIN, " client-1 ")
    auth = accounts.start_x_authorization(ADMIN, port=9999)
    assert auth.authorization_url() == "https://x.example/authorize?client_id=client-1"

    account_id = accounts.finish_x_authorization(ADMIN, auth, unit_id=1, stop=threading.Event())

    assert flows.calls == [("me", "ACCESS-1")]
    assert storage.data.accounts[account_id].handle == "AcmeHelp"
    assert [e.action for e in storage.data.audit] == ["settings.x_client_id", "account.connected"]
    assert storage.data.audit[0].before == {"x.client_id": None}
    assert storage.data.audit[0].after == {"x.client_id": "client-1"}


def test_poll_intervals_respect_the_network_floor_and_are_audited(
    accounts: AccountsService, storage: FakeStorage
) -> None:
    account_id = _connect(accounts)
    with pytest.raises(ValueError, match="no less than 15 s"):
        accounts.set_poll_interval(ADMIN, account_id, 10)
    with pytest.raises(KeyError):
        accounts.set_poll_interval(ADMIN, 99, 300)
    with pytest.raises(NotAllowed):
        accounts.set_poll_interval(AGENT, account_id, 300)

    accounts.set_poll_interval(ADMIN, account_id, 300)

    assert storage.data.accounts[account_id].poll_interval_s == 300
    entry = storage.data.audit[-1]
    assert (entry.action, entry.before, entry.after) == (
        "account.poll_interval",
        {"poll_interval_s": 90},
        {"poll_interval_s": 300},
    )


def test_disconnecting_forgets_the_tokens_and_pauses_the_account(
    accounts: AccountsService, storage: FakeStorage, tokens: FakeTokens
) -> None:
    account_id = _connect(accounts)

    accounts.disconnect(ADMIN, account_id)

    account = storage.data.accounts[account_id]
    assert account.state == AccountState.PAUSED
    assert account.state_detail.startswith("Disconnected")
    assert tokens.secrets == {}
    entry = storage.data.audit[-1]
    assert (entry.action, entry.before, entry.after) == (
        "account.disconnected",
        {"state": "connected"},
        {"state": "paused"},
    )


def test_a_refresh_stores_the_new_tokens_and_expiry(
    accounts: AccountsService, storage: FakeStorage, tokens: FakeTokens, flows: Flows
) -> None:
    account_id = _connect(accounts)
    account = storage.data.accounts[account_id]
    ref = AccountRef(account_id, account.uuid, Network.X, "AcmeHelp", "783214", 90, "tweet.read")
    assert accounts.refresh_x(ref) is False  # no client id yet: nothing to refresh with
    accounts.set_x_client_id(ADMIN, "client-1")

    assert accounts.refresh_x(ref) is True

    assert flows.calls[-1] == ("refresh", "client-1", "REFRESH-1")
    assert tokens.get(Network.X, account.uuid, "access_token") == "ACCESS-2"
    assert storage.data.accounts[account_id].token_expires_at == datetime(2027, 1, 1, tzinfo=UTC)


def test_a_refused_refresh_changes_nothing_stored(
    accounts: AccountsService, storage: FakeStorage, tokens: FakeTokens, flows: Flows
) -> None:
    account_id = _connect(accounts)
    accounts.set_x_client_id(ADMIN, "client-1")
    account = storage.data.accounts[account_id]
    ref = AccountRef(account_id, account.uuid, Network.X, "AcmeHelp", "783214", 90, "tweet.read")
    flows.refused_refresh = True

    with pytest.raises(AuthExpired):
        accounts.refresh_x(ref)

    assert tokens.get(Network.X, account.uuid, "access_token") == "ACCESS-1"
    assert storage.data.accounts[account_id].token_expires_at == TOKENS.expires_at


def test_a_pasted_page_token_is_checked_with_the_page_first(
    accounts: AccountsService, storage: FakeStorage, tokens: FakeTokens, flows: Flows
) -> None:
    with pytest.raises(ValueError, match="numeric ID"):
        accounts.connect_facebook_with_token(ADMIN, page_id="acme", page_token="T", unit_id=1)
    with pytest.raises(NotAllowed):
        accounts.connect_facebook_with_token(AGENT, page_id="123", page_token="T", unit_id=1)
    assert flows.calls == []  # refused before anything reached the network

    account_id = accounts.connect_facebook_with_token(
        ADMIN, page_id=" 123 ", page_token=" PAGE-T ", unit_id=1
    )

    assert flows.calls == [("page", "123")]
    account = storage.data.accounts[account_id]
    assert (account.network, account.display_name, account.poll_interval_s) == (
        "facebook",
        "Acme Page",
        120,
    )
    assert tokens.get(Network.FACEBOOK, account.uuid, "page_token") == "PAGE-T"
