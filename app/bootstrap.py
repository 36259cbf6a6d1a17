"""Composition root: a workspace URL in, the services every entry point uses out.

The concrete network clients are built here, and only here: the Sandbox connector, tweepy and
facebook-sdk clients, the OAuth flows. Services get them as factories and know only
``app.connectors.base``. Each is imported when first built, so none of them (nor keyring) is on
the GUI's start-up path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from app.config import default_paths
from app.connectors.base import AuthExpired, Connector
from app.connectors.sandbox_network import SandboxNetwork, network_file_beside
from app.domain.enums import Network
from app.services.access import AccessService
from app.services.accounts import AccountsService
from app.services.audit import AuditService
from app.services.container import Services
from app.services.directory import DirectoryService
from app.services.drafts import DraftsService
from app.services.inbox import InboxService
from app.services.ingest import IngestService
from app.services.oauth import FacebookLoginFlow, OAuthFlows, Tokens, XAuthorizationFlow
from app.services.organization import OrganizationService
from app.services.people import PeopleService
from app.services.polling import AccountRef, ConnectorFactory, PollingService
from app.services.publisher import ConnectorFor, Publisher
from app.services.publishing import PublishingService
from app.services.routing import RoutingService
from app.services.rules import RulesService
from app.services.saved_replies import SavedRepliesService
from app.services.signals import shared_worker_signals
from app.services.signin import SignInService
from app.services.strategy import StrategyService
from app.services.strategy_files import StrategyFiles
from app.services.threads import ThreadSearchService
from app.services.tokens import TokenStore
from app.services.triage import TriageService
from app.services.units import UnitsService
from app.services.views import SavedViewsService
from app.storage.workspace import Database, open_database


def build_services(workspace: str, *, create: bool = False) -> Services:
    """Open the workspace (migrating it if due) and wire the services on it.

    Raises:
        app.storage.workspace.WorkspaceError: the workspace cannot be opened.
    """
    return services_for(open_database(workspace, create=create))


def ingest_for(db: Database) -> IngestService:
    """The ingest service as the app runs it: routed, its text signals in the worker process."""
    return IngestService(db, routing=RoutingService(db, signals=shared_worker_signals()))


def services_for(db: Database, *, sandbox_pace_s: float = 20.0) -> Services:
    tokens = TokenStore()
    ingest = ingest_for(db)
    routing = ingest.routing
    accounts = AccountsService(db, tokens, oauth_flows())
    threads = ThreadSearchService(db, ingest)
    polling = PollingService(
        db,
        ingest,
        connector_factory(
            tokens, sandbox_pace_s=sandbox_pace_s, sandbox_network=sandbox_network_for(db)
        ),
        refresh=lambda ref: ref.network == Network.X and accounts.refresh_x(ref),
        threads=threads,
    )
    inbox = InboxService(db)
    drafts = DraftsService(db)
    return Services(
        db=db,
        inbox=inbox,
        directory=DirectoryService(db),
        ingest=ingest,
        polling=polling,
        accounts=accounts,
        threads=threads,
        access=AccessService(db),
        units=UnitsService(db, inbox),
        audit=AuditService(db),
        organization=OrganizationService(db),
        signin=SignInService(db),
        people=PeopleService(db),
        triage=TriageService(db),
        routing=routing,
        rules=RulesService(db),
        views=SavedViewsService(db, inbox),
        drafts=drafts,
        publisher=Publisher(db, drafts, polling.connector_for_account),
        publishing=PublishingService(db),
        saved_replies=SavedRepliesService(db),
        strategy=StrategyService(db),
        strategy_files=StrategyFiles(db),
    )


# -- connectors -------------------------------------------------------------------------------


def demo_connectors(db: Database) -> ConnectorFor:
    """Each account's connector by id, as the publisher asks (for the demo's own outbox)."""
    tokens = TokenStore()
    factory = connector_factory(tokens, sandbox_network=sandbox_network_for(db))
    return PollingService(db, IngestService(db), factory).connector_for_account


def sandbox_network_for(db: Database) -> SandboxNetwork:
    """The Sandbox network of a workspace, in its own file.

    Beside a workspace file; for a workspace on a server, one per server and database in this
    computer's data folder.
    """
    if db.path is not None:
        return SandboxNetwork(network_file_beside(db.path))
    url = db.url
    name = f"{url.host or 'local'}-{url.port or 5432}-{url.database or 'quiver'}"
    safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in name)
    return SandboxNetwork(default_paths().data_dir / "sandbox" / f"{safe}.sandbox")


def connector_factory(
    tokens: TokenStore,
    *,
    sandbox_pace_s: float = 20.0,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sandbox_network: SandboxNetwork | None = None,
) -> ConnectorFactory:
    """Builds an account's connector: Sandbox directly, X and Facebook from keyring tokens."""

    def build(ref: AccountRef) -> Connector:
        if ref.network == Network.SANDBOX:
            from app.connectors.sandbox import SandboxConnector

            return SandboxConnector(
                ref.handle,
                ref.external_user_id or ref.handle,
                seed=ref.id,
                pace_s=sandbox_pace_s,
                clock=clock,
                network=sandbox_network,
            )
        if ref.network == Network.X:
            token = tokens.get(Network.X, ref.uuid, "access_token")
            if not token or not ref.external_user_id:
                raise AuthExpired("no X token stored for this account: connect it in Settings")
            from app.connectors.x import XConnector

            # Direct messages only where the granted scopes include them (plan and consent).
            return XConnector(
                _x_client(token), ref.external_user_id, dm_enabled="dm.read" in ref.scopes
            )
        if ref.network == Network.FACEBOOK:
            token = tokens.get(Network.FACEBOOK, ref.uuid, "page_token")
            if not token or not ref.external_user_id:
                raise AuthExpired("no Page token stored for this account: connect it in Settings")
            from app.connectors.facebook import FacebookConnector

            return FacebookConnector(_graph(token), ref.external_user_id)
        raise AuthExpired(f"unknown network {ref.network!r}")

    return build


def _x_client(access_token: str) -> object:
    import tweepy

    return tweepy.Client(access_token, return_type=dict, wait_on_rate_limit=False)


def _graph(access_token: str) -> object:
    import facebook
    import requests

    return facebook.GraphAPI(access_token=access_token, timeout=30, session=requests.Session())


# -- OAuth flows ------------------------------------------------------------------------------


def oauth_flows() -> OAuthFlows:
    """The real authorization steps (X OAuth 2.0 with PKCE, Facebook Login, Graph checks)."""
    return OAuthFlows(
        x_authorization=_x_authorization,
        x_identity=_x_identity,
        x_refresh=_x_refresh,
        facebook_login=_facebook_login,
        facebook_page=_facebook_page,
    )


def _x_authorization(client_id: str, port: int) -> XAuthorizationFlow:
    from app.connectors.x_oauth import XAuthorization

    return XAuthorization(client_id, port=port)


def _x_identity(access_token: str) -> tuple[str, str, str]:
    from app.connectors.x import XConnector

    return XConnector(_x_client(access_token), "").me()


def _x_refresh(client_id: str, refresh_token: str, scopes: tuple[str, ...] | None) -> Tokens:
    from app.connectors.x_oauth import refresh_tokens

    return refresh_tokens(client_id, refresh_token, scopes=scopes)


def _facebook_login(app_id: str, app_secret: str, port: int) -> FacebookLoginFlow:
    from app.connectors.facebook_login import FacebookLogin

    return FacebookLogin(app_id, app_secret, port=port)


def _facebook_page(page_id: str, page_token: str) -> tuple[str, str]:
    from app.connectors.facebook import FacebookConnector

    return FacebookConnector(_graph(page_token), page_id).page_info()
