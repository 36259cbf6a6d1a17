"""Connecting and disconnecting accounts: tokens to the keyring, history and cursors kept."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

if TYPE_CHECKING:  # the OAuth stack (tweepy, oauthlib) loads only when an account connects
    from app.connectors.facebook_login import FacebookLogin, PageChoice
    from app.connectors.x_oauth import TokenSet, XAuthorization

from app.domain.polling import MAX_POLL_INTERVAL_S, poll_floor_s
from app.models import Account, AuditEntry, MetaEntry, Person, RoleAssignment
from app.services.polling import AccountRef
from app.services.tokens import TokenStore
from app.storage.workspace import Database

log = logging.getLogger("quiver.services.accounts")
X_CLIENT_ID = "x.client_id"
FACEBOOK_APP_ID = "facebook.app_id"
REDIRECT_PORT = 8765  # the loopback port registered with the X app (connectors.md 1.2)


class NotAllowed(Exception):  # noqa: N818 - reads as what happened
    """The operator lacks the role this action needs."""


class AccountsService:
    def __init__(self, db: Database, tokens: TokenStore) -> None:
        self._db = db
        self._tokens = tokens

    # -- settings -----------------------------------------------------------------------------

    def x_client_id(self) -> str | None:
        with self._db.engine.connect() as conn:
            return conn.execute(
                select(MetaEntry.value).where(MetaEntry.key == X_CLIENT_ID)
            ).scalar()

    def set_x_client_id(self, operator_id: int, client_id: str) -> None:
        client_id = client_id.strip()
        if not client_id:
            raise ValueError("the X client ID cannot be empty")
        self._save_setting(operator_id, X_CLIENT_ID, client_id, "settings.x_client_id")

    def facebook_app_id(self) -> str | None:
        """The id of the organization's Meta app, when one is set up for Facebook Login."""
        with self._db.engine.connect() as conn:
            return conn.execute(
                select(MetaEntry.value).where(MetaEntry.key == FACEBOOK_APP_ID)
            ).scalar()

    def facebook_app_ready(self) -> bool:
        """Whether Facebook Login can run: app id in the workspace, its secret in the keyring."""
        app_id = self.facebook_app_id()
        return bool(app_id and self._tokens.get("facebook", _app_entry(app_id), "app_secret"))

    def set_facebook_app(self, operator_id: int, app_id: str, app_secret: str) -> None:
        """Set up the organization's Meta app for Facebook Login (administrators only).

        The id goes in the workspace, the secret in the system keyring only.

        Raises:
            NotAllowed: the operator is not an administrator.
            ValueError: the id is not numeric or the secret is empty.
        """
        app_id, app_secret = app_id.strip(), app_secret.strip()
        if not app_id.isdigit():
            raise ValueError("The Meta app ID is the number shown in the Meta developer dashboard.")
        if not app_secret:
            raise ValueError("Enter the app secret (Meta developer dashboard > App settings).")
        self._save_setting(operator_id, FACEBOOK_APP_ID, app_id, "settings.facebook_app")
        self._tokens.set("facebook", _app_entry(app_id), "app_secret", app_secret)

    # -- connect / disconnect -----------------------------------------------------------------

    def connect_x(
        self,
        operator_id: int,
        *,
        tokens: TokenSet,
        user_id: str,
        username: str,
        name: str,
        unit_id: int,
    ) -> int:
        """Add the X account (or reconnect it: same row, so history and cursors stay).

        Raises:
            NotAllowed: the operator is not an administrator.
        """
        account_id, account_uuid = self._upsert(
            operator_id,
            network="x",
            external_id=user_id,
            handle=username,
            name=name,
            unit_id=unit_id,
            scopes=" ".join(tokens.scopes),
            expires_at=tokens.expires_at,
            interval=90,
        )
        self._tokens.set("x", account_uuid, "access_token", tokens.access_token)
        if tokens.refresh_token:
            self._tokens.set("x", account_uuid, "refresh_token", tokens.refresh_token)
        return account_id

    def connect_facebook(
        self, operator_id: int, *, page_id: str, name: str, page_token: str, unit_id: int
    ) -> int:
        """Add (or reconnect) a Facebook Page with its Page access token."""
        account_id, account_uuid = self._upsert(
            operator_id,
            network="facebook",
            external_id=page_id,
            handle=page_id,
            name=name,
            unit_id=unit_id,
            scopes="",
            expires_at=None,
            interval=120,
        )
        self._tokens.set("facebook", account_uuid, "page_token", page_token)
        return account_id

    # -- the connection flows (blocking: run them off the GUI thread) -------------------------

    def start_x_authorization(
        self, operator_id: int, *, port: int = REDIRECT_PORT
    ) -> XAuthorization:
        """Prepare an authorization; open its ``authorization_url()`` in the system browser.

        Raises:
            NotAllowed: the operator is not an administrator.
            ValueError: the workspace has no X client ID yet.
        """
        with self._db.uow() as uow:
            self._require_admin(uow.session, operator_id)
        client_id = self.x_client_id()
        if not client_id:
            raise ValueError(
                "Enter the client ID of your organization's X app first (X developer portal, "
                "OAuth 2.0, type: native app, callback http://127.0.0.1:8765/callback)."
            )
        from app.connectors.x_oauth import XAuthorization

        return XAuthorization(client_id, port=port)

    def finish_x_authorization(
        self,
        operator_id: int,
        auth: XAuthorization,
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
        import tweepy

        from app.connectors.x import XConnector

        client = tweepy.Client(tokens.access_token, return_type=dict, wait_on_rate_limit=False)
        user_id, username, name = XConnector(client, "").me()
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
            NotAllowed: the operator is not an administrator.
            ConnectorError: the token does not work for that Page (or Facebook is unreachable).
        """
        page_id, page_token = page_id.strip(), page_token.strip()
        if not page_id.isdigit() or not page_token:
            raise ValueError("Enter the Page's numeric ID and its Page access token.")
        with self._db.uow() as uow:
            self._require_admin(uow.session, operator_id)
        import facebook
        import requests

        from app.connectors.facebook import FacebookConnector

        graph = facebook.GraphAPI(access_token=page_token, timeout=30, session=requests.Session())
        found_id, name = FacebookConnector(graph, page_id).page_info()
        return self.connect_facebook(
            operator_id, page_id=found_id, name=name, page_token=page_token, unit_id=unit_id
        )

    def start_facebook_login(self, operator_id: int, *, port: int = REDIRECT_PORT) -> FacebookLogin:
        """Prepare a Facebook Login; open its ``authorization_url()`` in the system browser.

        Raises:
            NotAllowed: the operator is not an administrator.
            ValueError: the workspace has no Meta app set up yet.
        """
        with self._db.uow() as uow:
            self._require_admin(uow.session, operator_id)
        app_id = self.facebook_app_id()
        secret = self._tokens.get("facebook", _app_entry(app_id), "app_secret") if app_id else None
        if not app_id or not secret:
            raise ValueError(
                "Set up your organization's Meta app first: its app ID and app secret (Meta "
                "developer dashboard; Facebook Login with the redirect URI "
                f"http://127.0.0.1:{port}/callback). Or connect the Page with a Page token."
            )
        from app.connectors.facebook_login import FacebookLogin

        return FacebookLogin(app_id, secret, port=port)

    def finish_facebook_login(
        self,
        operator_id: int,
        login: FacebookLogin,
        *,
        stop: threading.Event,
        timeout_s: float = 300,
    ) -> list[PageChoice]:
        """Wait for the browser's redirect, get a long-lived user token, list the person's Pages.

        The user token is used for this listing only and never stored; each Page's own token
        (which does not expire) is stored when that Page is connected.

        Raises:
            NotAllowed: the operator is not an administrator.
            AuthorizationFailed: cancelled, timed out or refused.
            ConnectorError: Facebook could not be reached or refused the exchange.
        """
        with self._db.uow() as uow:
            self._require_admin(uow.session, operator_id)
        callback = login.wait_for_callback(stop, timeout_s)
        user_token = login.exchange(callback)
        return login.pages(user_token)

    def connect_facebook_page(self, operator_id: int, page: PageChoice, *, unit_id: int) -> int:
        """Connect a Page chosen after Facebook Login (or reconnect it, keeping its history).

        Raises:
            NotAllowed: the operator is not an administrator.
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
            NotAllowed: the operator is not an administrator.
            KeyError: there is no such account.
            ValueError: the interval is below the network's floor or above an hour.
        """
        with self._db.uow() as uow:
            s = uow.session
            self._require_admin(s, operator_id)
            account = s.get(Account, account_id)
            if account is None:
                raise KeyError(f"no account {account_id}")
            floor = poll_floor_s(account.network)
            if not floor <= seconds <= MAX_POLL_INTERVAL_S:
                raise ValueError(
                    f"Poll this account every {floor} to {MAX_POLL_INTERVAL_S} seconds "
                    f"({account.network} allows no less than {floor} s)."
                )
            before = {"poll_interval_s": account.poll_interval_s}
            account.poll_interval_s = seconds
            self._audit(
                s,
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
            s = uow.session
            self._require_admin(s, operator_id)
            account = s.get(Account, account_id)
            if account is None:
                raise KeyError(f"no account {account_id}")
            self._tokens.forget(account.network, account.uuid)
            before = {"state": account.state}
            account.state = "paused"
            account.state_detail = "Disconnected: connect it again in Settings to poll."
            self._audit(
                s,
                operator_id,
                "account.disconnected",
                "account",
                account_id,
                before,
                {"state": "paused"},
            )
            uow.commit()

    def refresh_x(self, ref: AccountRef) -> bool:
        """One refresh attempt after X refused the access token; True when new tokens are stored."""
        client_id = self.x_client_id()
        refresh = self._tokens.get("x", ref.uuid, "refresh_token")
        if not client_id or not refresh:
            return False
        from app.connectors.x_oauth import refresh_tokens

        # AuthExpired propagates: the account needs reconnecting.
        tokens = refresh_tokens(client_id, refresh, scopes=tuple(ref.scopes.split()) or None)
        self._tokens.set("x", ref.uuid, "access_token", tokens.access_token)
        if tokens.refresh_token:
            self._tokens.set("x", ref.uuid, "refresh_token", tokens.refresh_token)
        with self._db.engine.begin() as conn:
            conn.execute(
                update(Account)
                .where(Account.id == ref.id)
                .values(token_expires_at=tokens.expires_at)
            )
        log.info("refreshed the X token of account %s", ref.id)
        return True

    # -- helpers ------------------------------------------------------------------------------

    def _save_setting(self, operator_id: int, key: str, value: str, action: str) -> None:
        """Store a workspace setting (never a secret) with its audit entry; admins only."""
        with self._db.uow() as uow:
            s = uow.session
            self._require_admin(s, operator_id)
            previous = s.execute(select(MetaEntry.value).where(MetaEntry.key == key)).scalar()
            s.execute(delete(MetaEntry).where(MetaEntry.key == key))
            s.execute(insert(MetaEntry).values(key=key, value=value))
            self._audit(s, operator_id, action, "workspace", None, {key: previous}, {key: value})
            uow.commit()

    def _upsert(
        self,
        operator_id: int,
        *,
        network: str,
        external_id: str,
        handle: str,
        name: str,
        unit_id: int,
        scopes: str,
        expires_at: datetime | None,
        interval: int,
    ) -> tuple[int, str]:
        with self._db.uow() as uow:
            s = uow.session
            self._require_admin(s, operator_id)
            account = s.scalars(
                select(Account).where(
                    Account.network == network, Account.external_user_id == external_id
                )
            ).first()
            action = "account.reconnected" if account else "account.connected"
            if account is None:
                account = Account(
                    uuid=str(uuid.uuid4()),
                    network=network,
                    handle=handle,
                    display_name=name,
                    external_user_id=external_id,
                    unit_id=unit_id,
                    poll_interval_s=interval,
                )
                s.add(account)
            account.handle, account.display_name = handle, name
            account.state, account.state_detail = "connected", ""
            account.scopes, account.token_expires_at = scopes, expires_at
            s.flush()
            self._audit(
                s,
                operator_id,
                action,
                "account",
                account.id,
                None,
                {"network": network, "handle": handle, "unit_id": account.unit_id},
            )
            uow.commit()
            return account.id, account.uuid

    @staticmethod
    def _require_admin(s: Session, operator_id: int) -> None:
        is_admin = s.scalar(
            select(RoleAssignment.id)
            .where(RoleAssignment.person_id == operator_id, RoleAssignment.role == "admin")
            .limit(1)
        )
        if is_admin is None:
            raise NotAllowed("Only an administrator can connect or disconnect accounts.")

    @staticmethod
    def _audit(
        s: Session,
        operator_id: int,
        action: str,
        entity: str,
        entity_id: int | None,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None = None,
    ) -> None:
        person = s.get(Person, operator_id)
        s.add(
            AuditEntry(
                at=datetime.now(UTC),
                person_id=operator_id,
                person_name=person.name if person else "",
                action=action,
                entity=entity,
                entity_id=entity_id,
                before=before,
                after=after,
            )
        )


def _app_entry(app_id: str) -> str:
    """The keyring entry of the Meta app's secret (it belongs to no account)."""
    return f"meta-app-{app_id}"
