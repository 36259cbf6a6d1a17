"""Settings > Accounts: connect X through the browser flow, a Facebook Page by token, disconnect."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from app.config import LocalPrefs
from app.connectors.x_oauth import TOKEN_URL
from app.services.container import Services
from app.services.tokens import TokenStore
from app.ui.main_window import MainWindow
from app.ui.settings import settings_page
from tests.browser import follow_redirect, free_port

ADMIN = "ingrid.solberg@acme-mobility.example"
AGENT = "tom.becker@acme-mobility.example"


@pytest.fixture
def told(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    messages: list[str] = []
    monkeypatch.setattr(
        settings_page, "tell", lambda parent, title, text, error=True: messages.append(text)
    )
    return messages


def _browser(port: int, code: str) -> Any:
    """The person's browser: once they allow Quiver, it follows the redirect."""
    return lambda url: follow_redirect(url, port, code)


def _window(qtbot: Any, services: Services, tmp_path: Path, email: str) -> MainWindow:
    person = services.directory.person_by_email(email)
    assert person is not None
    window = MainWindow(services, person, LocalPrefs(tmp_path / "p.json"))
    qtbot.addWidget(window)
    window.show()
    window.show_screen("Settings")
    return window


def test_connect_x_through_the_browser(
    qtbot: Any,
    demo_services: Services,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    told: list[str],
) -> None:
    window = _window(qtbot, demo_services, tmp_path, ADMIN)
    tab = window.settings.accounts
    tab.redirect_port = free_port()
    tab.client_id.setText("client-123")
    tab._on_save_clicked()
    assert demo_services.accounts.x_client_id() == "client-123"

    monkeypatch.setattr(settings_page, "open_in_browser", _browser(tab.redirect_port, "CODE"))
    with responses.RequestsMock(assert_all_requests_are_fired=True) as http:
        http.post(
            TOKEN_URL,
            json={
                "token_type": "bearer",
                "expires_in": 7200,
                "access_token": "ACCESS-ui-1",
                "scope": "tweet.read tweet.write users.read dm.read dm.write offline.access",
                "refresh_token": "REFRESH-ui-1",
            },
        )
        http.get(
            "https://api.twitter.com/2/users/me",
            json={"data": {"id": "990001", "username": "AcmeNews", "name": "Acme News"}},
        )
        with qtbot.waitSignal(tab.accounts_changed, timeout=15_000):
            tab.connect_x_button.click()
    assert told == []
    handles = [tab.table.item(r, 1).text() for r in range(tab.table.rowCount())]
    assert "@AcmeNews — Acme News" in handles
    account = next(a for a in demo_services.directory.accounts() if a.handle == "AcmeNews")
    assert account.state == "connected"
    with demo_services.db.engine.connect() as conn:
        account_uuid = conn.exec_driver_sql(
            "SELECT uuid FROM accounts WHERE handle = 'AcmeNews'"
        ).scalar()
    assert TokenStore().get("x", account_uuid, "access_token") == "ACCESS-ui-1"
    assert window.accounts_label.text() == (
        "Accounts: 5 polling · @acmemobility needs reconnect · 2 paused"
    )


def test_only_admins_may_connect_and_a_switch_reaches_the_tab_at_once(
    qtbot: Any, demo_services: Services, tmp_path: Path, told: list[str]
) -> None:
    window = _window(qtbot, demo_services, tmp_path, AGENT)
    tab = window.settings.accounts
    assert not tab.access_note.isHidden()
    assert tab.access_note.text() == (
        "Only an administrator can connect or change accounts: "
        f"{window.operator.name} holds no such role."
    )
    assert not tab.connect_x_button.isEnabled()
    assert not tab.disconnect_button.isEnabled()
    tab.connect_x_button.click()
    assert told == []  # nothing to fail on: the button says no before
    admin = demo_services.directory.person_by_email(ADMIN)
    assert admin is not None
    window.set_operator(admin)
    assert tab.access_note.isHidden()
    assert tab.connect_x_button.isEnabled()
    assert window.settings.signin.required.isEnabled()  # the Sign-in tab followed too
    assert window.operator_label.text() == f"Acting as {admin.name}"
    # and what the tab does is done as the new operator: the audit log names the admin
    tab.client_id.setText("client-after-switch")
    tab._on_save_clicked()
    from sqlalchemy import select

    from app.models import AuditEntry

    with demo_services.db.engine.connect() as conn:
        names = (
            conn.execute(
                select(AuditEntry.person_name).where(AuditEntry.action == "settings.x_client_id")
            )
            .scalars()
            .all()
        )
    assert names == [admin.name]


def test_connect_a_facebook_page_by_token_and_disconnect(
    qtbot: Any, demo_services: Services, tmp_path: Path, told: list[str]
) -> None:
    window = _window(qtbot, demo_services, tmp_path, ADMIN)
    tab = window.settings.accounts
    with responses.RequestsMock(assert_all_requests_are_fired=True) as http:
        http.get(
            "https://graph.facebook.com/v26.0/104000000000777",
            json={"id": "104000000000777", "name": "Acme Outlet"},
        )
        with qtbot.waitSignal(tab.accounts_changed, timeout=10_000):
            tab.connect_facebook("104000000000777", "PAGE-TOKEN-ui", tab._unit())
    row = next(
        r for r in range(tab.table.rowCount()) if "Acme Outlet" in tab.table.item(r, 1).text()
    )
    assert tab.table.item(row, 3).text() == "connected"
    tab.table.selectRow(row)
    tab.disconnect_button.click()
    assert tab.table.item(row, 3).text() == "paused"
    assert told == []


def test_connect_a_facebook_page_through_facebook_login(
    qtbot: Any,
    demo_services: Services,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    told: list[str],
) -> None:
    from responses import matchers

    window = _window(qtbot, demo_services, tmp_path, ADMIN)
    tab = window.settings.accounts
    tab.redirect_port = free_port()
    tab.login_fb_button.click()  # not set up yet: says how
    assert told
    assert "Meta app" in told.pop()
    tab.fb_app_id.setText("555000111")
    tab.fb_app_secret.setText("APP-SECRET-xyz")
    tab._on_save_fb_app_clicked()
    assert told == []
    assert demo_services.accounts.facebook_app_ready()
    assert TokenStore().get("facebook", "meta-app-555000111", "app_secret") == "APP-SECRET-xyz"

    chosen: list[list[str]] = []

    def pick(_parent: Any, pages: list[Any]) -> Any:
        chosen.append([p.name for p in pages])
        return next(p for p in pages if p.name == "Acme Bikes")

    opened: list[str] = []
    browser = _browser(tab.redirect_port, "FBCODE")
    monkeypatch.setattr(
        settings_page, "open_in_browser", lambda url: [opened.append(url), browser(url)]
    )
    monkeypatch.setattr(settings_page, "choose_page", pick)
    graph = "https://graph.facebook.com/v26.0"
    with responses.RequestsMock(assert_all_requests_are_fired=True) as http:
        http.get(
            f"{graph}/oauth/access_token",
            match=[matchers.query_param_matcher({"code": "FBCODE"}, strict_match=False)],
            json={"access_token": "USER-short", "token_type": "bearer", "expires_in": 3600},
        )
        http.get(
            f"{graph}/oauth/access_token",
            match=[
                matchers.query_param_matcher(
                    {"grant_type": "fb_exchange_token", "fb_exchange_token": "USER-short"},
                    strict_match=False,
                )
            ],
            json={"access_token": "USER-long", "token_type": "bearer", "expires_in": 5183944},
        )
        http.get(
            f"{graph}/me/accounts",
            json={
                "data": [
                    {"id": "104000000000901", "name": "Acme Bikes", "access_token": "PAGE-bikes",
                     "tasks": ["MODERATE", "MESSAGING", "CREATE_CONTENT"]},
                    {"id": "104000000000902", "name": "Acme Careers", "access_token": "PAGE-jobs",
                     "tasks": ["ANALYZE"]},
                ],
                "paging": {"cursors": {"before": "a", "after": "b"}},
            },
        )  # fmt: skip
        with qtbot.waitSignal(tab.accounts_changed, timeout=15_000):
            tab.login_fb_button.click()
    assert told == []
    assert parse_qs(urlsplit(opened[0]).query)["client_id"] == ["555000111"]
    assert chosen == [["Acme Bikes", "Acme Careers"]]
    account = next(a for a in demo_services.directory.accounts() if a.display_name == "Acme Bikes")
    assert (account.network, account.state) == ("facebook", "connected")
    with demo_services.db.engine.connect() as conn:
        account_uuid = conn.exec_driver_sql(
            "SELECT uuid FROM accounts WHERE external_user_id = '104000000000901'"
        ).scalar()
    assert TokenStore().get("facebook", account_uuid, "page_token") == "PAGE-bikes"
    assert TokenStore().get("facebook", account_uuid, "user_token") is None  # never kept


def test_an_admin_sets_how_often_an_account_is_polled(
    qtbot: Any, demo_services: Services, tmp_path: Path, told: list[str]
) -> None:
    window = _window(qtbot, demo_services, tmp_path, ADMIN)
    tab = window.settings.accounts
    tab.apply_interval_button.click()
    assert told.pop() == "Choose the account first."
    row = next(r for r in range(tab.table.rowCount()) if "@acme_de" in tab.table.item(r, 1).text())
    tab.table.selectRow(row)
    tab.interval.setValue(45)
    tab.apply_interval_button.click()
    assert told == []
    assert tab.table.item(row, 4).text() == "45 s"
    x_row = next(r for r in range(tab.table.rowCount()) if tab.table.item(r, 0).text() == "X")
    tab.table.selectRow(x_row)
    assert tab.interval.minimum() == 15  # X's floor
