"""Unit of work: one session per use case, committed explicitly, rolled back otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from app.storage.accounts import SqlAccounts, SqlAuditLog, SqlSettings
from app.storage.approval_news import SqlApprovalNews
from app.storage.audit import SqlAuditEntries
from app.storage.compose import SqlCompose
from app.storage.directory import SqlDirectory
from app.storage.drafts import SqlDrafts
from app.storage.feed import SqlFeed
from app.storage.ingest_batches import SqlIngestBatches
from app.storage.organization import SqlOrganization
from app.storage.outbox import SqlOutbox
from app.storage.outbox_views import SqlOutboxViews
from app.storage.people import SqlPeople
from app.storage.rerouting import SqlRerouting
from app.storage.rule_store import SqlRuleStore
from app.storage.rules import SqlRules
from app.storage.saved_replies import SqlSavedReplies
from app.storage.signin import SqlSignIn
from app.storage.strategy import SqlStrategy
from app.storage.threads import SqlThreads
from app.storage.triage import SqlTriage
from app.storage.units import SqlUnits
from app.storage.views import SqlSavedViews


@dataclass(frozen=True, slots=True)
class _Repositories:
    accounts: SqlAccounts
    directory: SqlDirectory
    settings: SqlSettings
    organization: SqlOrganization
    audit: SqlAuditLog
    feed: SqlFeed
    threads: SqlThreads
    batches: SqlIngestBatches
    units: SqlUnits
    audit_entries: SqlAuditEntries
    signin: SqlSignIn
    people: SqlPeople
    triage: SqlTriage
    rules: SqlRules
    rerouting: SqlRerouting
    rule_store: SqlRuleStore
    saved_views: SqlSavedViews
    drafts: SqlDrafts
    outbox: SqlOutbox
    outbox_views: SqlOutboxViews
    approval_news: SqlApprovalNews
    compose: SqlCompose
    saved_replies: SqlSavedReplies
    strategy: SqlStrategy

    @classmethod
    def on(cls, session: Session) -> _Repositories:
        return cls(
            accounts=SqlAccounts(session),
            directory=SqlDirectory(session),
            settings=SqlSettings(session),
            organization=SqlOrganization(session),
            audit=SqlAuditLog(session),
            feed=SqlFeed(session),
            threads=SqlThreads(session),
            batches=SqlIngestBatches(session),
            units=SqlUnits(session),
            audit_entries=SqlAuditEntries(session),
            signin=SqlSignIn(session),
            people=SqlPeople(session),
            triage=SqlTriage(session),
            rules=SqlRules(session),
            rerouting=SqlRerouting(session),
            rule_store=SqlRuleStore(session),
            saved_views=SqlSavedViews(session),
            drafts=SqlDrafts(session),
            outbox=SqlOutbox(session),
            outbox_views=SqlOutboxViews(session),
            approval_news=SqlApprovalNews(session),
            compose=SqlCompose(session),
            saved_replies=SqlSavedReplies(session),
            strategy=SqlStrategy(session),
        )


class UnitOfWork:
    """Open with ``with uow:``; call :meth:`commit` to keep the changes.

    Anything not committed when the block ends is rolled back, also after an exception. The
    repositories (:class:`app.storage.ports.StorageUnitOfWork`) work on the open session; an
    instance is for one thread at a time (``Database.uow()`` hands out a new one per use case).
    """

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory
        self._session: Session | None = None
        self._repos: _Repositories | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use it in a `with` block")
        return self._session

    @property
    def accounts(self) -> SqlAccounts:
        return self._repositories.accounts

    @property
    def directory(self) -> SqlDirectory:
        return self._repositories.directory

    @property
    def settings(self) -> SqlSettings:
        return self._repositories.settings

    @property
    def organization(self) -> SqlOrganization:
        return self._repositories.organization

    @property
    def people(self) -> SqlPeople:
        return self._repositories.people

    @property
    def audit(self) -> SqlAuditLog:
        return self._repositories.audit

    @property
    def feed(self) -> SqlFeed:
        return self._repositories.feed

    @property
    def threads(self) -> SqlThreads:
        return self._repositories.threads

    @property
    def batches(self) -> SqlIngestBatches:
        return self._repositories.batches

    @property
    def units(self) -> SqlUnits:
        return self._repositories.units

    @property
    def audit_entries(self) -> SqlAuditEntries:
        return self._repositories.audit_entries

    @property
    def signin(self) -> SqlSignIn:
        return self._repositories.signin

    @property
    def triage(self) -> SqlTriage:
        return self._repositories.triage

    @property
    def rules(self) -> SqlRules:
        return self._repositories.rules

    @property
    def rerouting(self) -> SqlRerouting:
        return self._repositories.rerouting

    @property
    def rule_store(self) -> SqlRuleStore:
        return self._repositories.rule_store

    @property
    def saved_views(self) -> SqlSavedViews:
        return self._repositories.saved_views

    @property
    def drafts(self) -> SqlDrafts:
        return self._repositories.drafts

    @property
    def outbox(self) -> SqlOutbox:
        return self._repositories.outbox

    @property
    def outbox_views(self) -> SqlOutboxViews:
        return self._repositories.outbox_views

    @property
    def approval_news(self) -> SqlApprovalNews:
        return self._repositories.approval_news

    @property
    def compose(self) -> SqlCompose:
        return self._repositories.compose

    @property
    def saved_replies(self) -> SqlSavedReplies:
        return self._repositories.saved_replies

    @property
    def strategy(self) -> SqlStrategy:
        return self._repositories.strategy

    @property
    def _repositories(self) -> _Repositories:
        if self._repos is None:
            self._repos = _Repositories.on(self.session)
        return self._repos

    def __enter__(self) -> UnitOfWork:
        self._session = self._factory()
        self._repos = None
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session, self._repos = self._session, None, None
        if session is not None:
            session.rollback()
            session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
