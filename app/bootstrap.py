"""Composition root: a workspace URL in, the services every entry point uses out."""

from __future__ import annotations

from app.services.accounts import AccountsService
from app.services.connectors import connector_factory
from app.services.container import Services
from app.services.directory import DirectoryService
from app.services.inbox import InboxService
from app.services.ingest import IngestService
from app.services.polling import PollingService
from app.services.threads import ThreadSearchService
from app.services.tokens import TokenStore
from app.storage.workspace import Database, open_database


def build_services(workspace: str, *, create: bool = False) -> Services:
    """Open the workspace (migrating it if due) and wire the services on it.

    Raises:
        app.storage.workspace.WorkspaceError: the workspace cannot be opened.
    """
    return services_for(open_database(workspace, create=create))


def services_for(db: Database, *, sandbox_pace_s: float = 20.0) -> Services:
    tokens = TokenStore()
    ingest = IngestService(db)
    accounts = AccountsService(db, tokens)
    threads = ThreadSearchService(db, ingest)
    polling = PollingService(
        db,
        ingest,
        connector_factory(tokens, sandbox_pace_s=sandbox_pace_s),
        refresh=lambda ref: ref.network == "x" and accounts.refresh_x(ref),
        threads=threads,
    )
    return Services(
        db=db,
        inbox=InboxService(db),
        directory=DirectoryService(db),
        ingest=ingest,
        polling=polling,
        accounts=accounts,
        threads=threads,
    )
