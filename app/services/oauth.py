"""The network side of connecting an account, as the accounts service sees it.

The concrete flows (``app.connectors.x_oauth``, ``app.connectors.facebook_login``, tweepy and
facebook-sdk clients) are built in ``app/bootstrap.py`` and handed to
:class:`~app.services.accounts.AccountsService` as an :class:`OAuthFlows`; the service imports
none of them, so it runs in unit tests on fakes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class Tokens(Protocol):
    """The tokens an authorization or a refresh returned (``x_oauth.TokenSet``)."""

    @property
    def access_token(self) -> str: ...

    @property
    def refresh_token(self) -> str | None: ...

    @property
    def expires_at(self) -> datetime | None: ...

    @property
    def scopes(self) -> tuple[str, ...]: ...


class BrowserFlow(Protocol):
    """An authorization in the system browser: open its URL, then wait for the redirect."""

    def authorization_url(self) -> str: ...

    def wait_for_callback(self, stop: threading.Event, timeout_s: float = 300) -> str: ...


class XAuthorizationFlow(BrowserFlow, Protocol):
    """One X authorization attempt (``x_oauth.XAuthorization``)."""

    def exchange(self, callback_url: str) -> Tokens: ...


class ManagedPage(Protocol):
    """A Page the person manages, with its Page token (``facebook_login.PageChoice``)."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def access_token(self) -> str: ...


class FacebookLoginFlow(BrowserFlow, Protocol):
    """One Facebook Login attempt (``facebook_login.FacebookLogin``)."""

    def exchange(self, callback_url: str) -> str: ...

    def pages(self, user_token: str) -> Sequence[ManagedPage]: ...


@dataclass(frozen=True)
class OAuthFlows:
    """Factories of the network steps; each call may block on the network (not the GUI thread).

    Attributes:
        x_authorization: ``(client_id, port)`` to a new X authorization.
        x_identity: an X access token to the account's ``(user id, username, name)``.
        x_refresh: ``(client_id, refresh_token, scopes or None)`` to new tokens; raises
            ``AuthExpired`` when X refuses the refresh token.
        facebook_login: ``(app_id, app_secret, port)`` to a new Facebook Login.
        facebook_page: ``(page_id, page_token)`` to the Page's ``(id, name)``; raises a
            ``ConnectorError`` when the token does not work for the Page.
    """

    x_authorization: Callable[[str, int], XAuthorizationFlow]
    x_identity: Callable[[str], tuple[str, str, str]]
    x_refresh: Callable[[str, str, tuple[str, ...] | None], Tokens]
    facebook_login: Callable[[str, str, int], FacebookLoginFlow]
    facebook_page: Callable[[str, str], tuple[str, str]]
