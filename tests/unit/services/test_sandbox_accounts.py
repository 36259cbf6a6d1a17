"""Sandbox accounts for training: administrators add them, connected at once, and they stream."""

from __future__ import annotations

import random

import pytest

from app.bootstrap import connector_factory
from app.domain.enums import AccountState, Network, Role
from app.services.access import NotAllowed
from app.services.accounts import AccountsService
from app.services.ingest import IngestService
from app.services.oauth import OAuthFlows
from app.services.polling import PollingService
from app.storage.ports import PersonEntry
from tests.unit.services.fakes import Clock, FakeData, FakeStorage, FakeTokens

ADMIN, MARKETING_ADMIN, AGENT = 1, 2, 3


def _no_flows() -> OAuthFlows:
    def refuse(*_args: object) -> object:
        raise AssertionError("a Sandbox account needs no authorization")

    return OAuthFlows(
        x_authorization=refuse,  # type: ignore[arg-type]
        x_identity=refuse,  # type: ignore[arg-type]
        x_refresh=refuse,  # type: ignore[arg-type]
        facebook_login=refuse,  # type: ignore[arg-type]
        facebook_page=refuse,  # type: ignore[arg-type]
    )


@pytest.fixture
def storage() -> FakeStorage:
    data = FakeData(organization="Acme")
    data.add_unit(1, None, "Acme")
    data.add_unit(2, 1, "Customer Care")
    data.add_unit(3, 1, "Marketing")
    data.people = [
        PersonEntry(ADMIN, "Ada Admin", "ada@acme.example", ""),
        PersonEntry(MARKETING_ADMIN, "Mo Marketing", "mo@acme.example", ""),
        PersonEntry(AGENT, "Al Agent", "al@acme.example", ""),
    ]
    data.roles = [(ADMIN, Role.ADMIN, 1), (MARKETING_ADMIN, Role.ADMIN, 3), (AGENT, Role.AGENT, 1)]
    return FakeStorage(data)


@pytest.fixture
def tokens() -> FakeTokens:
    return FakeTokens()


@pytest.fixture
def accounts(storage: FakeStorage, tokens: FakeTokens) -> AccountsService:
    return AccountsService(storage, tokens, _no_flows(), clock=Clock())


def test_an_admin_adds_a_connected_sandbox_account(
    storage: FakeStorage, tokens: FakeTokens, accounts: AccountsService
) -> None:
    account_id = accounts.add_sandbox_account(ADMIN, " @acme_training ", 2)
    account = storage.data.accounts[account_id]
    assert account.network == Network.SANDBOX
    assert account.handle == "acme_training"
    assert account.unit_id == 2
    assert account.state == AccountState.CONNECTED
    assert account.display_name == "Sandbox training account"
    assert account.external_user_id == "sbx-acme_training"
    assert account.poll_interval_s == 30
    assert tokens.secrets == {}  # nothing to keep in the keyring
    [entry] = storage.data.audit
    assert (entry.action, entry.person_id, entry.person_name) == (
        "account.connected",
        ADMIN,
        "Ada Admin",
    )
    assert entry.after == {
        "network": "sandbox",
        "handle": "acme_training",
        "unit_id": 2,
        "training": True,
    }


def test_who_may_add_one_and_where(storage: FakeStorage, accounts: AccountsService) -> None:
    with pytest.raises(NotAllowed, match="Only an administrator of Acme can add its accounts"):
        accounts.add_sandbox_account(AGENT, "al_practice", 1)
    # An administrator of Marketing: in Marketing yes, in Customer Care no.
    accounts.add_sandbox_account(MARKETING_ADMIN, "mkt_practice", 3)
    with pytest.raises(NotAllowed, match="Only an administrator of Customer Care"):
        accounts.add_sandbox_account(MARKETING_ADMIN, "care_practice", 2)
    storage.data.inactive.add(ADMIN)
    with pytest.raises(NotAllowed, match="deactivated"):
        accounts.add_sandbox_account(ADMIN, "ada_practice", 1)
    assert [a.handle for a in storage.data.accounts.values()] == ["mkt_practice"]
    assert len(storage.history) == 1


@pytest.mark.parametrize("handle", ["", "@", "has space", "x" * 31, "bad-dash", "ünï"])
def test_a_bad_handle_is_refused(
    storage: FakeStorage, accounts: AccountsService, handle: str
) -> None:
    with pytest.raises(ValueError, match="letters, digits or underscores"):
        accounts.add_sandbox_account(ADMIN, handle, 1)
    assert storage.history == []


def test_a_taken_handle_is_refused(storage: FakeStorage, accounts: AccountsService) -> None:
    accounts.add_sandbox_account(ADMIN, "acme", 1)
    with pytest.raises(ValueError, match="already has an account @ACME"):
        accounts.add_sandbox_account(ADMIN, "ACME", 2)
    assert len(storage.data.accounts) == 1


def test_it_polls_and_streams_through_the_real_sandbox_connector(
    storage: FakeStorage, tokens: FakeTokens, accounts: AccountsService
) -> None:
    account_id = accounts.add_sandbox_account(ADMIN, "acme_training", 2)
    clock = Clock()
    polling = PollingService(
        storage,
        IngestService(storage, clock=clock),
        connector_factory(tokens, sandbox_pace_s=20.0, clock=clock),
        clock=clock,
        rng=random.Random(1),
    )
    [outcome] = polling.poll_due()
    assert outcome.account_id == account_id
    assert outcome.state == AccountState.CONNECTED
    assert outcome.new_messages > 0
    conversations = [c for c in storage.data.conversations if c.account_id == account_id]
    assert conversations
    assert {c.network for c in conversations} == {Network.SANDBOX}
    assert {c.unit_id for c in conversations} == {2}  # no rule: the owning unit takes them
