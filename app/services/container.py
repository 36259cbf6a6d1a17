"""The services of one open workspace, as the entry points hand them to the UI and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from app.services.access import AccessService
from app.services.accounts import AccountsService
from app.services.audit import AuditService
from app.services.directory import DirectoryService
from app.services.drafts import DraftsService
from app.services.inbox import InboxService
from app.services.ingest import IngestService
from app.services.organization import OrganizationService
from app.services.people import PeopleService
from app.services.polling import PollingService
from app.services.publisher import Publisher
from app.services.publishing import PublishingService
from app.services.routing import RoutingService
from app.services.rules import RulesService
from app.services.saved_replies import SavedRepliesService
from app.services.signin import SignInService
from app.services.strategy import StrategyService
from app.services.strategy_files import StrategyFiles
from app.services.threads import ThreadSearchOutcome, ThreadSearchService
from app.services.triage import TriageService
from app.services.units import UnitsService
from app.services.views import SavedViewsService
from app.storage.workspace import Database, WorkspaceError

__all__ = ["Services", "WorkspaceError"]


@dataclass
class Services:
    db: Database
    inbox: InboxService
    directory: DirectoryService
    ingest: IngestService
    polling: PollingService
    accounts: AccountsService
    threads: ThreadSearchService
    access: AccessService
    units: UnitsService
    audit: AuditService
    organization: OrganizationService
    signin: SignInService
    people: PeopleService
    triage: TriageService
    routing: RoutingService  # routing on ingest; preview_again / apply_again
    rules: RulesService
    views: SavedViewsService
    drafts: DraftsService  # drafts, approvals and the approvals queue
    publisher: Publisher  # the outbox: approved drafts out, each exactly once
    publishing: PublishingService  # the outbox's queue and calendar (read side)
    saved_replies: SavedRepliesService
    strategy: StrategyService  # the funnel, its policy lines, exported revisions
    strategy_files: StrategyFiles  # export to a strategy file, import one through the merge

    def search_opened_thread(self, conversation_id: int) -> ThreadSearchOutcome:
        """Bring the rest of an X thread an agent just opened (call it off the GUI thread)."""
        return self.threads.thread_opened(conversation_id, self.polling.connector_for_account)

    @property
    def workspace_url(self) -> str:
        """The workspace URL as text (the key under which local preferences are kept)."""
        if self.db.path is None:  # a server: the same key with or without a password given
            return self.db.location
        return self.db.url.render_as_string(hide_password=True)

    @property
    def workspace_name(self) -> str:
        return self.db.display_name

    def close(self) -> None:
        self.db.close()
