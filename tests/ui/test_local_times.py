"""Times a person reads are in this computer's local time, the rate limit's end included."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from app.domain.enums import AccountState
from app.domain.rows import AccountRow
from app.ui.formatting import account_detail, long_time
from app.ui.main_window import _accounts_summary

NOON_UTC = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def kolkata(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process in UTC+05:30 (no DST), as a desk in Bengaluru would be."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _account(state: str, detail: str, until: datetime | None) -> AccountRow:
    return AccountRow(3, "x", "AcmeHelp", "Acme Help", 1, state, detail, 90, until)


def test_a_rate_limit_ends_at_a_local_time(kolkata: None) -> None:
    limited = _account(AccountState.RATE_LIMITED, "rate limited until 12:00", NOON_UTC)
    assert account_detail(limited) == "rate limited until 17:30"
    assert _accounts_summary([limited]) == "Accounts: @AcmeHelp rate limited until 17:30"
    assert long_time(int(NOON_UTC.timestamp() * 1000)) == "Tue 1 Dec 2026, 17:30"


def test_other_states_keep_their_detail(kolkata: None) -> None:
    broken = _account(AccountState.NEEDS_RECONNECT, "the token was revoked", None)
    assert account_detail(broken) == "the token was revoked"
    assert account_detail(_account(AccountState.RATE_LIMITED, "rate limited", None)) == (
        "rate limited"
    )
