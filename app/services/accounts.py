"""Connecting and disconnecting accounts: tokens to the keyring, history and cursors kept."""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from app.domain.enums import AccountState, Network
from app.domain.permissions import Action
from app.domain.polling import MAX_POLL_INTERVAL_S, poll_floor_s
from app.services.access import require_anywhere_in, require_in
from app.services.auditing import record_change
from app.services.oauth import (
    FacebookLoginFlow,
    ManagedPage,
    OAuthFlows,
    Tokens,
    XAuthorizationFlow,
)
from app.services.polling import AccountRef
from app.services.tokens import TokenStore
from app.storage.ports import NewAccount, Storage, StorageUnitOfWork

log = logging.getLogger("quiver.services.accounts")
X_CLIENT_ID = "x.client_id"
FACEBOOK_APP_ID = "facebook.app_id"
REDIRECT_PORT = 8765  # the loopback port registered with the X app (connectors.md 1.2)
SANDBOX_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,30}$")
SANDBOX_POLL_S = 30  # as the demo's Sandbox accounts


class AccountsService:
    """Administrators connect, reconnect and disconnect accounts; every change is audited.

    Secrets go to ``tokens`` (the keyring) only. ``flows`` are the networks' authorization steps,
    built by the composition root.
    """

    def __init__(
        self,
        db: Storage,
        tokens: TokenStore,
        flows: OAuthFlows,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self._tokens = tokens
        self._flows = flows
        self._clock = clock

    # -- settings -----------------------------------------------------------------------------

    def x_client_id(self) -> str | None:
        with self._db.uow() as uow:
            return uow.settings.get(X_CLIENT_ID)

    def set_x_client_id(self, operator_id: int, client_id: str) -> None:
        client_id = client_id.strip()
        if not client_id:
            raise ValueError("the X client ID cannot be empty")
        self._save_setting(operator_id, X_CLIENT_ID, client_id, "settings.x_client_id")

    def facebook_app_id(self) -> str | None:
        """The id of the organization's Meta app, when one is set up for Facebook Login."""
        with self._db.uow() as uow:
            return uow.settings.get(FACEBOOK_APP_ID)

    def facebook_app_ready(self) -> bool:
        """Whether Facebook Login can run: app id in the workspace, its secret in the keyring."""
        app_id = self.facebook_app_id()
        return bool(app_id and self._tokens.get(Network.FACEBOOK, _app_entry(app_id), "app_secret"))

    def set_facebook_app(self, operator_id: int, app_id: str, app_secret: str) -> None:
        """Set up the organization's Meta app for Facebook Login (administrators only).

        The id goes in the workspace, the secret in the system keyring only.

        Raises:
            NotAllowed: the operator may not administer accounts there (the message says why).
            ValueError: the id is not numeric or the secret is empty.
        """
        app_id, app_secret = app_id.strip(), app_secret.strip()
        if not app_id.isdigit():
            raise ValueError("The Meta app ID is the number shown in the Meta developer dashboard.")
        if not app_secret:
            raise ValueError("Enter the app secret (Meta developer dashboard > App settings).")
        self._save_setting(operator_id, FACEBOOK_APP_ID, app_id, "settings.facebook_app")
        self._tokens.set(Network.FACEBOOK, _app_entry(app_id), "app_secret", app_secret)

    # -- connect / disconnect -----------------------------------------------------------------

    def connect_x(
        self,
        operator_id: int,
        *,
        tokens: Tokens,
        user_id: str,
        username: str,
        name: str,
        unit_id: int,
    ) -> int:
        """Add the X account (or reconnect it: same row, so history and cursors stay).

        Raises:
            NotAllowed: the operator may not administer accounts there (the message says why).
        """
        account_id, account_uuid = self._upsert(
            operator_id,
            network=Network.X,
            external_id=user_id,
            handle=username,
            name=name,
            unit_id=unit_id,
            scopes=" ".join(tokens.scopes),
            expires_at=tokens.expires_at,
            interval=90,
        )
        self._tokens.set(Network.X, account_uuid, "access_token", tokens.access_token)
        if tokens.refresh_token:
            self._tokens.set(Network.X, account_uuid, "refresh_token", tokens.refresh_token)
        return account_id

    def connect_facebook(
        self, operator_id: int, *, page_id: str, name: str, page_token: str, unit_id: int
    ) -> int:
        """Add (or reconnect) a Facebook Page with its Page access token."""
        account_id, account_uuid = self._upsert(
            operator_id,
            network=Network.FACEBOOK,
            external_id=page_id,
            handle=page_id,
            name=name,
            unit_id=unit_id,
            scopes="",
            expires_at=None,
            interval=120,
        )
        self._tokens.set(Network.FACEBOOK, account_uuid, "page_token", page_token)
        return account_id

    def add_sandbox_account(
        self, operator_id: int, handle: str, unit_id: int, *, display_name: str = ""
    ) -> int:
        """Add an account on the Sandbox, the demo network, for training (administrators only).

        It needs no token and is connected at once, so it polls and streams practice
        conversations like a real account; it is labelled as the demo network wherever
        accounts are listed.

        Raises:
            NotAllowed: the operator may not administer the unit's accounts.
            ValueError: the handle is not usable or already taken on the Sandbox.
        """
        handle = handle.strip().removeprefix("@")
        if not SANDBOX_HANDLE.match(handle):
            raise ValueError(
                "A Sandbox handle is 1 to 30 letters, digits or underscores, e.g. acme_training."
            )
        name = " ".join(display_name.split()) or "Sandbox training account"
        with self._db.uow() as uow:
            require_in(uow, operator_id, Action.MANAGE_ACCOUNTS, unit_id, doing="add its accounts")
            taken = any(
                a.network == Network.SANDBOX and a.handle.lower() == handle.lower()
                for a in uow.directory.accounts()
            )
            if taken:
                raise ValueError(f"The Sandbox already has an account @{handle}: choose another.")
            account_id = uow.accounts.add(
                NewAccount(
                    uuid=str(uuid.uuid4()),
                    network=Network.SANDBOX,
                    external_user_id=f"sbx-{handle.lower()}",
                    handle=handle,
                    display_name=name[:200],
                    unit_id=unit_id,
                    poll_interval_s=max(SANDBOX_POLL_S, poll_floor_s(Network.SANDBOX)),
                    state=AccountState.CONNECTED,
                    state_detail="",
                    scopes="",
                    token_expires_at=None,
                )
            )
            self._audit(
                uow,
                operator_id,
                "account.connected",
                "account",
                account_id,
                None,
                {
                    "network": Network.SANDBOX.value,
                    "handle": handle,
                    "unit_id": unit_id,
                    "training": True,
                },
            )
            uow.commit()
        log.info("added the Sandbox account %s for training", account_id)
        return account_id

    # -- the connection flows (blocking: run them off the GUI thread) -------------------------

    def start_x_authorization(
        self, operator_id: int, *, port: int = REDIRECT_PORT
    ) -> XAuthorizationFlow:
        """Prepare an authorization; open its ``authorization_url()`` in the system browser.

        Raises:
            NotAllowed: the operator may not administer accounts there (the message says why).
            ValueError: the workspace has no X client ID yet.
        """
        self._check_admin(operator_id)
        client_id = self.x_client_id()
        if not client_id:
            raise ValueError(
                "Enter the client ID of your organization's X app first (X developer portal, "
                "OAuth 2.0, type: native app, callback http://127.0.0.1:8765/callback)."
            )
        return self._flows.x_authorization(client_id, port)

    def finish_x_authorization(
        self,
        operator_id: int,
        auth: XAuthorizationFlow,
        *,
        unit_id: int,
        stop: threading.Event,
        timeout_s: float = 300,
    ) -> int:
        """Wait for the browser's redirect, trade the code for tokens, identify the account.

        Raises:
            AuthorizationFailed: cancelled, timed out or refused.
            ConnectorError: X could not be reached or refused ``/2/users/me``.
        """
        callback = auth.wait_for_callback(stop, timeout_s)
        tokens = auth.exchange(callback)
        user_id, username, name = self._flows.x_identity(tokens.access_token)
        return self.connect_x(
            operator_id,
            tokens=tokens,
            user_id=user_id,
            username=username,
            name=name or username,
            unit_id=unit_id,
        )

    def connect_facebook_with_token(
        self, operator_id: int, *, page_id: str, page_token: str, unit_id: int
    ) -> int:
        """Check a pasted Page access token against the Page, then connect it.

        Raises:
            NotAllowed: the operator may not administer accounts there (the message says why).
            ConnectorError: the token does not work for that Page (or Facebook is unreachable).
        """
        page_id, page_token = page_id.strip(), page_token.strip()
        if not page_id.isdigit() or not page_token:
            raise ValueError("Enter the Page's numeric ID and its Page access token.")
        self._check_admin(operator_id)
        found_id, name = self._flows.facebook_page(page_id, page_token)
        return self.connect_facebook(
            operator_id, page_id=found_id, name=name, page_token=page_token, unit_id=unit_id
        )

    def start_facebook_login(
        self, operator_id: int, *, port: int = REDIRECT_PORT
    ) -> FacebookLoginFlow:
        """Prepare a Facebook Login; open its ``authorization_url()`` in the system browser.

        Raises:
            NotAllowed: the operator may not administer accounts there (the message says why).
            ValueError: the workspace has no Meta app set up yet.
        """
        self._check_admin(operator_id)
        app_id = self.facebook_app_id()
        secret = (
            self._tokens.get(Network.FACEBOOK, _app_entry(app_id), "app_secret") if app_id else None
        )
        if not app_id or not secret:
            raise ValueError(
                "Set up your organization's Meta app first: its app ID and app secret (Meta "
                "developer dashboard; Facebook Login with the redirect URI "
                f"http://127.0.0.1:{port}/callback). Or connect the Page with a Page token."
            )
        return self._flows.facebook_login(app_id, secret, port)

    def finish_facebook_login(
        self,
        operator_id: int,
        login: FacebookLoginFlow,
        *,
        stop: threading.Event,
        timeout_s: float = 300,
    ) -> list[ManagedPage]:
        """Wait for the browser's redirect, get a long-lived user token, list the person's Pages.

        The user token is used for this listing only and never stored; each Page's own token
        (which does not expire) is stored when that Page is connected.

        Raises:
            NotAllowed: the operator may not administer accounts there (the message says why).
            AuthorizationFailed: cancelled, timed out or refused.
            ConnectorError: Facebook could not be reached or refused the exchange.
        """
        self._check_admin(operator_id)
        callback = login.wait_for_callback(stop, timeout_s)
        user_token = login.exchange(callback)
        return list(login.pages(user_token))

    def connect_facebook_page(self, operator_id: int, page: ManagedPage, *, unit_id: int) -> int:
        """Connect a Page chosen after Facebook Login (or reconnect it, keeping its history).

        Raises:
            NotAllowed: the operator may not administer accounts there (the message says why).
        """
        return self.connect_facebook(
            operator_id,
            page_id=page.id,
            name=page.name,
            page_token=page.access_token,
            unit_id=unit_id,
        )

    def set_poll_interval(self, operator_id: int, account_id: int, seconds: int) -> None:
        """How often the account's main stream is polled (administrators only).

        The floors are the networks' (connectors.md §5): a shorter interval only spends the
        plan's rate limit. The other streams keep their own intervals.

        Raises:
            NotAllowed: the operator may not administer accounts there (the message says why).
            KeyError: there is no such account.
            ValueError: the interval is below the network's floor or above an hour.
        """
        with self._db.uow() as uow:
            account = uow.accounts.get(account_id)
            if account is None:
                raise KeyError(f"no account {account_id}")
            require_in(
                uow,
                operator_id,
                Action.MANAGE_ACCOUNTS,
                account.unit_id,
                doing="change its accounts' poll interval",
            )
            floor = poll_floor_s(account.network)
            if not floor <= seconds <= MAX_POLL_INTERVAL_S:
                raise ValueError(
                    f"Poll this account every {floor} to {MAX_POLL_INTERVAL_S} seconds "
                    f"({account.network} allows no less than {floor} s)."
                )
            before = {"poll_interval_s": account.poll_interval_s}
            uow.accounts.set_poll_interval(account_id, seconds)
            self._audit(
                uow,
                operator_id,
                "account.poll_interval",
                "account",
                account_id,
                before,
                {"poll_interval_s": seconds},
            )
            uow.commit()

    def disconnect(self, operator_id: int, account_id: int) -> None:
        """Remove the account's tokens; keep its conversations. The account stays, paused."""
        with self._db.uow() as uow:
            account = uow.accounts.get(account_id)
            if account is None:
                raise KeyError(f"no account {account_id}")
            require_in(
                uow,
                operator_id,
                Action.MANAGE_ACCOUNTS,
                account.unit_id,
                doing="disconnect its accounts",
            )
            self._tokens.forget(account.network, account.uuid)
            before = {"state": account.state}
            uow.accounts.set_state(
                account_id,
                AccountState.PAUSED,
                "Disconnected: connect it again in Settings to poll.",
            )
            self._audit(
                uow,
                operator_id,
                "account.disconnected",
                "account",
                account_id,
                before,
                {"state": AccountState.PAUSED.value},
            )
            uow.commit()

    def refresh_x(self, ref: AccountRef) -> bool:
        """One refresh attempt after X refused the access token; True when new tokens are stored."""
        client_id = self.x_client_id()
        refresh = self._tokens.get(Network.X, ref.uuid, "refresh_token")
        if not client_id or not refresh:
            return False
        # AuthExpired propagates: the account needs reconnecting.
        tokens = self._flows.x_refresh(client_id, refresh, tuple(ref.scopes.split()) or None)
        self._tokens.set(Network.X, ref.uuid, "access_token", tokens.access_token)
        if tokens.refresh_token:
            self._tokens.set(Network.X, ref.uuid, "refresh_token", tokens.refresh_token)
        with self._db.uow() as uow:
            uow.accounts.set_token_expiry(ref.id, tokens.expires_at)
            uow.commit()
        log.info("refreshed the X token of account %s", ref.id)
        return True

    # -- helpers ------------------------------------------------------------------------------

    def _save_setting(self, operator_id: int, key: str, value: str, action: str) -> None:
        """Store a workspace setting (never a secret) with its audit entry; admins only."""
        with self._db.uow() as uow:
            require_in(uow, operator_id, Action.MANAGE_WORKSPACE)
            previous = uow.settings.get(key)
            uow.settings.put(key, value)
            self._audit(uow, operator_id, action, "workspace", None, {key: previous}, {key: value})
            uow.commit()

    def _upsert(
        self,
        operator_id: int,
        *,
        network: Network,
        external_id: str,
        handle: str,
        name: str,
        unit_id: int,
        scopes: str,
        expires_at: datetime | None,
        interval: int,
    ) -> tuple[int, str]:
        """Add the account, or reconnect the one already there (its unit and interval stay)."""
        with self._db.uow() as uow:
            existing = uow.accounts.find(network, external_id)
            require_in(
                uow,
                operator_id,
                Action.MANAGE_ACCOUNTS,
                unit_id if existing is None else existing.unit_id,
                doing="connect its accounts",
            )
            if existing is None:
                account_uuid, owner = str(uuid.uuid4()), unit_id
                account_id = uow.accounts.add(
                    NewAccount(
                        uuid=account_uuid,
                        network=network,
                        external_user_id=external_id,
                        handle=handle,
                        display_name=name,
                        unit_id=unit_id,
                        poll_interval_s=interval,
                        state=AccountState.CONNECTED,
                        state_detail="",
                        scopes=scopes,
                        token_expires_at=expires_at,
                    )
                )
            else:
                account_id, account_uuid, owner = existing.id, existing.uuid, existing.unit_id
                uow.accounts.set_connection(
                    account_id,
                    handle=handle,
                    display_name=name,
                    state=AccountState.CONNECTED,
                    state_detail="",
                    scopes=scopes,
                    token_expires_at=expires_at,
                )
            self._audit(
                uow,
                operator_id,
                "account.reconnected" if existing else "account.connected",
                "account",
                account_id,
                None,
                {"network": network.value, "handle": handle, "unit_id": owner},
            )
            uow.commit()
            return account_id, account_uuid

    def _check_admin(self, operator_id: int) -> None:
        """Before a connection flow starts: the operator administers accounts somewhere.

        The unit the account will belong to is checked again when it is connected.
        """
        with self._db.uow() as uow:
            require_anywhere_in(
                uow, operator_id, Action.MANAGE_ACCOUNTS, doing="connect or disconnect accounts"
            )

    def _audit(
        self,
        uow: StorageUnitOfWork,
        operator_id: int,
        action: str,
        entity: str,
        entity_id: int | None,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None = None,
    ) -> None:
        record_change(
            uow,
            at=self._clock(),
            person_id=operator_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
        )


def _app_entry(app_id: str) -> str:
    """The keyring entry of the Meta app's secret (it belongs to no account)."""
    return f"meta-app-{app_id}"
