"""Facebook Login for connecting a Page with the organization's own Meta app (connectors.md §2.3).

The person logs in in the system browser; Facebook redirects to the loopback server with a code.
The code and the app secret buy a short-lived user token, which is traded for a long-lived one;
with it, ``/me/accounts`` lists the Pages the person manages, each with its own Page token (which
does not expire). Only ``GraphAPI.request`` is used (connectors.md §2.2).

Tokens, the app secret and the code never reach a log or an error message.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import facebook
import requests

from app.connectors.base import AuthExpired, PermissionDenied, RateLimited, TransientError
from app.connectors.facebook import (
    AUTH_CODES,
    GRAPH_API_VERSION,
    GRAPH_URL,
    PERMISSION_CODES,
    THROTTLE_CODES,
    TRANSIENT_CODES,
    read_failure,
)
from app.connectors.loopback import REDIRECT_HOST, AuthorizationFailed, wait_for_callback
from app.connectors.normalize import as_dict, as_list, opt_int, opt_str

__all__ = [
    "PAGE_SCOPES",
    "AuthorizationFailed",
    "FacebookLogin",
    "PageChoice",
    "appsecret_proof",
    "parse_pages",
]

log = logging.getLogger("quiver.connectors.facebook_login")

PAGE_SCOPES: tuple[str, ...] = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_manage_posts",
    "pages_manage_engagement",
    "pages_messaging",
    "pages_manage_metadata",
)
DIALOG_URL = f"https://www.facebook.com/{GRAPH_API_VERSION}/dialog/oauth"
TOKEN_PATH = f"{GRAPH_API_VERSION}/oauth/access_token"
ACCOUNTS_PATH = f"{GRAPH_API_VERSION}/me/accounts"
ACCOUNTS_FIELDS = "id,name,access_token,tasks"
CALLBACK_PATH = "/callback"
REDIRECT_PORT = 8765  # app.services.accounts.REDIRECT_PORT: the registered redirect URI's port
MAX_ACCOUNT_PAGES = 10
RATE_LIMIT_WAIT = timedelta(seconds=60)
MESSAGE_MAX = 300
# Query arguments that are secrets: hidden from any message built from Facebook's answer.
SECRET_ARGS = ("client_secret", "code", "fb_exchange_token", "access_token", "appsecret_proof")


@dataclass(frozen=True)
class PageChoice:
    """A Page the person manages, with its Page token, offered for connecting."""

    id: str
    name: str
    access_token: str
    tasks: tuple[str, ...] = ()

    def __repr__(self) -> str:  # never print a token, not even in a traceback
        return f"PageChoice(id={self.id!r}, name={self.name!r}, tasks={self.tasks!r})"

    @property
    def can_post(self) -> bool:
        """The person may publish as the Page (task ``CREATE_CONTENT``)."""
        return "CREATE_CONTENT" in self.tasks

    @property
    def can_reply(self) -> bool:
        """The person may comment as the Page and read comment IDs (task ``MODERATE``)."""
        return "MODERATE" in self.tasks

    @property
    def can_message(self) -> bool:
        """The person may answer Messenger conversations (task ``MESSAGING``)."""
        return "MESSAGING" in self.tasks


def appsecret_proof(app_secret: str, token: str) -> str:
    """``hmac_sha256(app_secret, token)`` in hex, the ``appsecret_proof`` Graph parameter."""
    return hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def parse_pages(payload: Any) -> list[PageChoice]:
    """The Pages of one ``/me/accounts`` answer, sorted by name.

    Entries without a numeric id or a Page token are skipped (and logged by id); anything that
    is not shaped like a Graph answer gives no Pages. Never raises.
    """
    pages: list[PageChoice] = []
    for entry in as_list(as_dict(payload).get("data")):
        e = as_dict(entry)
        page_id = opt_str(e.get("id"))
        token = e.get("access_token")
        if not page_id or not (page_id.isascii() and page_id.isdigit()):
            log.warning("skipped a Page entry without a valid id")
            continue
        if not isinstance(token, str) or not token:
            log.warning("skipped Page %s: Facebook gave no Page token for it", page_id)
            continue
        tasks = tuple(t for t in as_list(e.get("tasks")) if isinstance(t, str))
        name = opt_str(e.get("name")) or page_id
        pages.append(PageChoice(id=page_id, name=name, access_token=token, tasks=tasks))
    return sorted(pages, key=_page_order)


def _page_order(page: PageChoice) -> tuple[str, str]:
    return page.name.casefold(), page.id


def _next_request(payload: dict[str, Any]) -> tuple[str, dict[str, str]] | None:
    """Path (version included) and arguments of ``paging.next``, without token nor proof."""
    nxt = opt_str(as_dict(payload.get("paging")).get("next"))
    if not nxt or not nxt.startswith(GRAPH_URL):
        return None
    parts = urlsplit(nxt)
    args = {k: v for k, v in parse_qsl(parts.query) if k not in ("access_token", "appsecret_proof")}
    return parts.path.lstrip("/"), args


def _redact(text: str, hidden: Iterable[str | None]) -> str:
    for secret in hidden:
        if secret:
            text = text.replace(secret, "[hidden]")
    return text


def _missing_permission(message: str, default: str) -> str:
    for scope in PAGE_SCOPES:
        if scope in message:
            return scope
    return default


class FacebookLogin:
    """One Facebook Login attempt; keep the same object between the URL and the exchange.

    It holds the ``state`` sent to Facebook, checked on the way back.
    """

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        *,
        port: int = REDIRECT_PORT,
        session: requests.Session | None = None,
    ) -> None:
        self.app_id = app_id
        self._secret = app_secret
        self._port = port
        self._session = session or requests.Session()
        self.redirect_uri = f"http://{REDIRECT_HOST}:{port}{CALLBACK_PATH}"
        self.state = secrets.token_urlsafe(32)

    def __repr__(self) -> str:
        return f"FacebookLogin(app_id={self.app_id!r}, redirect_uri={self.redirect_uri!r})"

    @property
    def port(self) -> int:
        return self._port

    def authorization_url(self) -> str:
        """The Login dialog to open in the system browser, asking for ``PAGE_SCOPES``."""
        query = urlencode(
            {
                "client_id": self.app_id,
                "redirect_uri": self.redirect_uri,
                "state": self.state,
                "response_type": "code",
                "scope": ",".join(PAGE_SCOPES),
            }
        )
        return f"{DIALOG_URL}?{query}"

    def wait_for_callback(self, stop: threading.Event, timeout_s: float = 300) -> str:
        """Serve the loopback redirect once and return the URL the browser was sent to.

        Raises:
            AuthorizationFailed: nothing arrived in time, ``stop`` was set, or the port is taken.
        """
        return wait_for_callback(self._port, CALLBACK_PATH, stop, timeout_s, network="Facebook")

    def exchange(self, callback_url: str) -> str:
        """Trade the callback's code for a long-lived user token (about 60 days).

        Args:
            callback_url: the URL returned by ``wait_for_callback``.

        Returns:
            The long-lived user token; use it to list the Pages, then forget it.

        Raises:
            AuthorizationFailed: cancelled, forged (state mismatch), without a code, or refused.
            AuthExpired: Facebook refused a token (error 190).
            PermissionDenied: Facebook reports a missing permission.
            RateLimited: Facebook throttled the app.
            TransientError: Facebook could not be reached or answered with a server error.
        """
        query = parse_qs(urlsplit(callback_url).query)

        def first(name: str) -> str:
            values = query.get(name)
            return values[0] if values else ""

        if not hmac.compare_digest(first("state").encode(), self.state.encode()):
            raise AuthorizationFailed(
                "The answer did not belong to this Facebook Login (state mismatch)."
            )
        error = first("error")
        if error == "access_denied":
            raise AuthorizationFailed(
                "The Facebook Login was cancelled in the browser: Quiver got no access to the "
                "Pages."
            )
        if error:
            detail = first("error_description") or first("error_reason") or error
            raise AuthorizationFailed(f"Facebook refused the login: {detail[:MESSAGE_MAX]}")
        code = first("code")
        if not code:
            raise AuthorizationFailed("Facebook's answer carried no authorization code.")

        graph = self._graph(None)
        short = self._user_token(
            self._call(
                graph,
                TOKEN_PATH,
                {
                    "client_id": self.app_id,
                    "redirect_uri": self.redirect_uri,
                    "client_secret": self._secret,
                    "code": code,
                },
                needs="the Facebook Login permissions",
            )
        )
        result = self._call(
            graph,
            TOKEN_PATH,
            {
                "grant_type": "fb_exchange_token",
                "client_id": self.app_id,
                "client_secret": self._secret,
                "fb_exchange_token": short,
            },
            needs="the Facebook Login permissions",
        )
        token = self._user_token(result)
        log.info(
            "Facebook Login: got a long-lived user token (expires in %s s)",
            opt_int(result.get("expires_in")),
        )
        return token

    def pages(self, user_token: str) -> list[PageChoice]:
        """The Pages the person manages, each with its Page token, sorted by name.

        Follows ``paging.next`` (at most ``MAX_ACCOUNT_PAGES`` requests), sending the user token
        once per request with its ``appsecret_proof``.

        Raises:
            AuthExpired: Facebook refused the user token (error 190).
            PermissionDenied: ``pages_show_list`` (or another permission) is missing.
            RateLimited: Facebook throttled the app.
            TransientError: Facebook could not be reached, answered with a server error or with
                something that is not JSON.
            AuthorizationFailed: Facebook refused the request for another reason.
        """
        graph = self._graph(user_token)
        proof = appsecret_proof(self._secret, user_token)
        path = ACCOUNTS_PATH
        args: dict[str, str] = {"fields": ACCOUNTS_FIELDS, "appsecret_proof": proof}
        found: dict[str, PageChoice] = {}
        for _ in range(MAX_ACCOUNT_PAGES):
            payload = self._call(graph, path, args, needs="pages_show_list")
            for page in parse_pages(payload):
                found.setdefault(page.id, page)
            request = _next_request(payload)
            if request is None:
                break
            path, args = request
            args["appsecret_proof"] = proof
        else:
            log.warning("listed the first %d pages of Pages only", MAX_ACCOUNT_PAGES)
        log.info("Facebook Login: %d Page(s) to choose from", len(found))
        return sorted(found.values(), key=_page_order)

    # -- Graph --------------------------------------------------------------------------------

    def _graph(self, token: str | None) -> facebook.GraphAPI:
        return facebook.GraphAPI(access_token=token, timeout=30, session=self._session)

    def _user_token(self, result: dict[str, Any]) -> str:
        """The ``access_token`` of a token answer.

        Raises:
            TransientError: the answer has none.
        """
        token = result.get("access_token")
        if not isinstance(token, str) or not token:
            raise TransientError("Facebook's token answer carried no access token")
        return token

    def _call(
        self, graph: facebook.GraphAPI, path: str, args: dict[str, str], *, needs: str
    ) -> dict[str, Any]:
        """One GET through ``GraphAPI.request``, with Facebook's errors mapped.

        Args:
            graph: the client, with the user token or none.
            path: the Graph path, version included.
            args: the query arguments (the client adds its token).
            needs: the permission to name if Facebook reports one missing without saying which.

        Raises:
            AuthExpired, PermissionDenied, RateLimited, TransientError, AuthorizationFailed: as
                in ``_map_error``.
        """
        hidden = [self._secret, graph.access_token, *(args.get(k) for k in SECRET_ARGS)]
        statuses: list[int] = []

        def record(response: requests.Response, *a: Any, **kw: Any) -> None:
            statuses.append(response.status_code)

        hooks = self._session.hooks.setdefault("response", [])
        hooks.append(record)
        try:
            result = graph.request(path, dict(args))
        except facebook.GraphAPIError as exc:
            status = statuses[-1] if statuses else 200
            raise self._map_error(exc, status, needs, hidden) from None
        except (requests.RequestException, ValueError, KeyError) as exc:
            raise read_failure(exc) from None
        finally:
            hooks.remove(record)
        if statuses and statuses[-1] >= 500:
            raise TransientError(f"Facebook server error {statuses[-1]}")
        if not isinstance(result, dict):
            raise TransientError("Facebook sent an unexpected response")
        return result

    def _map_error(
        self, exc: facebook.GraphAPIError, status: int, needs: str, hidden: list[str | None]
    ) -> Exception:
        """The connector error for a Graph error (connectors.md §2.7), its message token-free."""
        if not isinstance(exc.result, dict):  # facebook-sdk: "Maintype was not text, …"
            if status >= 500:
                return TransientError(f"Facebook server error {status}")
            return TransientError("Facebook sent a response that is not JSON")
        raw_error = exc.result.get("error")
        error = as_dict(raw_error)
        code = opt_int(error.get("code"))
        message = (
            opt_str(error.get("message"))
            or opt_str(exc.result.get("error_description"))
            or (raw_error if isinstance(raw_error, str) else None)
            or "no reason given"
        )
        message = _redact(message, hidden)[:MESSAGE_MAX]
        if code in AUTH_CODES:
            return AuthExpired(
                f"Facebook refused the login token ({code}): {message} Log in with Facebook again."
            )
        if code in PERMISSION_CODES:
            permission = _missing_permission(message, needs)
            return PermissionDenied(
                f"Facebook permission missing ({code}): {permission}. {message}"
            )
        if code in THROTTLE_CODES:
            return RateLimited(
                f"Facebook rate limit ({code}): try again in a minute.",
                datetime.now(UTC) + RATE_LIMIT_WAIT,
            )
        if code in TRANSIENT_CODES or status >= 500:
            return TransientError(f"Facebook temporary error ({code}): {message}")
        return AuthorizationFailed(f"Facebook refused the login ({code}): {message}")
