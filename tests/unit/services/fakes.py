"""In-memory storage for service unit tests: Cosmic Python's ``FakeUnitOfWork``, for our ports.

:class:`FakeStorage` is the "database": its :class:`FakeData` is what has been committed. Each
:class:`FakeUnitOfWork` works on a private copy of it and replaces it on ``commit()``; leaving
the ``with`` block without committing drops the copy, as a rollback does. Every commit is kept
in :attr:`FakeStorage.history`, so a test can check what each transaction left behind.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

from app.domain.enums import (
    AccountState,
    ConversationStatus,
    Direction,
    MessageKind,
    Network,
    Role,
    ThreadType,
)
from app.domain.items import InboundItem
from app.domain.permissions import Actor, Grant, Place
from app.domain.rows import SORT_DUE, AccountRow, ConversationRow, FeedQuery, MessageRow, UnitRow
from app.domain.setup import OrganizationRow, PlannedUnit
from app.domain.spam import Sighting
from app.services.tokens import TokenStore
from app.storage.ingest import NewThread, Router, StoredBatch
from app.storage.ports import (
    AccountRecord,
    AuditRecord,
    BatchFacts,
    BatchOwner,
    CursorUpdate,
    HeldRole,
    KnownAuthor,
    NewAccount,
    NewPerson,
    NewSighting,
    PersonEntry,
    PersonRecord,
    PollAccount,
    RateLimitMark,
    RoleEntry,
    ThreadHeader,
    ThreadTarget,
    UnitEntry,
)
from app.storage.rules import Assignable, RoutingSetup, RoutingUnit, RuleRecord
from app.storage.search import SearchResult
from app.storage.signin import Credentials
from app.storage.views import SavedViewRecord
from tests.unit.services.fakes_admin import FakeAuditEntries, FakeUnits
from tests.unit.services.fakes_drafts import FakeDrafts, FakeDraftsData
from tests.unit.services.fakes_rules import FakeRulesData, FakeRuleStore
from tests.unit.services.fakes_triage import FakeTriage, FakeTriageData
from tests.unit.services.fakes_views import FakeSavedViews

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


class Clock:
    """A settable clock for services that take ``clock=``."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# -- the rows ---------------------------------------------------------------------------------


@dataclass
class FakeAccount:
    id: int
    network: str
    handle: str
    unit_id: int = 1
    uuid: str = ""
    display_name: str = ""
    external_user_id: str | None = None
    state: str = AccountState.CONNECTED
    state_detail: str = ""
    rate_limited_until: datetime | None = None
    poll_interval_s: int = 90
    cursor: dict[str, Any] | None = None
    token_expires_at: datetime | None = None
    scopes: str = ""
    last_sync_at: datetime | None = None


@dataclass
class FakeConversation:
    id: int
    account_id: int
    unit_id: int
    external_thread_id: str
    thread_type: str = ThreadType.X_THREAD
    network: str = Network.X
    status: str = ConversationStatus.NEW
    last_activity_at: datetime = NOW
    message_count: int = 0

    def row(self) -> ConversationRow:
        return ConversationRow(
            self.id,
            int(self.last_activity_at.timestamp() * 1000),
            self.network,
            MessageKind.MENTION,
            self.status,
            "normal",
            self.unit_id,
            self.account_id,
            "",
            self.message_count,
            None,
            "",
            None,
        )


@dataclass
class FakeData:
    organization: str | None = None
    org_row: OrganizationRow | None = None  # the whole organization (its name also above)
    units: list[UnitEntry] = field(default_factory=list)
    people: list[PersonEntry] = field(default_factory=list)
    roles: list[tuple[int, str, int]] = field(default_factory=list)  # person, role, unit id
    inactive: set[int] = field(default_factory=set)  # ids of deactivated people
    credentials: dict[int, Credentials] = field(default_factory=dict)  # sign-in, by person
    signin_required: bool = False
    accounts: dict[int, FakeAccount] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    audit: list[AuditRecord] = field(default_factory=list)
    conversations: list[FakeConversation] = field(default_factory=list)
    messages: dict[tuple[int, str], InboundItem] = field(default_factory=dict)  # (account, id)
    unit_extra: dict[int, dict[str, Any]] = field(default_factory=dict)  # fakes_admin.FakeUnits
    triage: FakeTriageData = field(default_factory=FakeTriageData)  # fakes_triage.FakeTriage
    # routing (FakeRules, FakeBatches): rules, settings, what each new conversation got
    rules: list[RuleRecord] = field(default_factory=list)
    time_zone: str = "UTC"
    business_hours: dict[str, Any] = field(default_factory=dict)
    holidays: tuple[str, ...] = ()
    spam_threshold: float = 0.6
    spam_keywords: tuple[str, ...] = ()
    unit_targets: dict[int, float] = field(default_factory=dict)  # first-response hours
    authors: dict[str, KnownAuthor] = field(default_factory=dict)  # by external id
    sightings: list[NewSighting] = field(default_factory=list)
    routed: dict[int, NewThread] = field(default_factory=dict)  # conversation id -> decision
    rule_store: FakeRulesData = field(default_factory=FakeRulesData)  # fakes_rules.FakeRuleStore
    saved_views: list[SavedViewRecord] = field(default_factory=list)  # fakes_views
    drafts: FakeDraftsData = field(default_factory=FakeDraftsData)  # fakes_drafts.FakeDrafts

    def unit_name(self, unit_id: int) -> str:
        return next(e.unit.name for e in self.units if e.unit.id == unit_id)

    def add_unit(self, unit_id: int, parent: int | None, name: str, sort_order: int = 0) -> None:
        parent_path = (
            next(e.unit.path for e in self.units if e.unit.id == parent) if parent else "/"
        )
        row = UnitRow(
            unit_id, parent, f"{parent_path}{unit_id}/", name, "department", "#607d8b", "", False
        )
        self.units.append(UnitEntry(row, sort_order))


# -- the repositories -------------------------------------------------------------------------


class FakeAccounts:
    def __init__(self, data: FakeData) -> None:
        self._d = data

    def poll_targets(self, account_id: int | None = None) -> list[PollAccount]:
        return [
            PollAccount(
                a.id,
                a.uuid,
                a.network,
                a.handle,
                a.external_user_id,
                a.poll_interval_s,
                a.scopes,
                a.token_expires_at,
                a.state,
            )
            for a in sorted(self._d.accounts.values(), key=lambda a: a.id)
            if account_id is None or a.id == account_id
        ]

    def rate_limit(self, account_id: int) -> RateLimitMark:
        a = self._d.accounts[account_id]
        return RateLimitMark(a.rate_limited_until, a.state_detail)

    def cursor(self, account_id: int) -> Any:
        a = self._d.accounts.get(account_id)
        return None if a is None else copy.deepcopy(a.cursor)

    def save_poll_state(
        self, account_id: int, state: str, detail: str, rate_limited_until: datetime | None
    ) -> None:
        a = self._d.accounts[account_id]
        a.state, a.state_detail, a.rate_limited_until = state, detail, rate_limited_until

    def get(self, account_id: int) -> AccountRecord | None:
        a = self._d.accounts.get(account_id)
        return None if a is None else self._record(a)

    def find(self, network: str, external_user_id: str) -> AccountRecord | None:
        for a in self._d.accounts.values():
            if a.network == network and a.external_user_id == external_user_id:
                return self._record(a)
        return None

    def add(self, account: NewAccount) -> int:
        account_id = max(self._d.accounts, default=0) + 1
        values = {f.name: getattr(account, f.name) for f in fields(account)}
        self._d.accounts[account_id] = FakeAccount(id=account_id, **values)
        return account_id

    def set_connection(
        self,
        account_id: int,
        *,
        handle: str,
        display_name: str,
        state: str,
        state_detail: str,
        scopes: str,
        token_expires_at: datetime | None,
    ) -> None:
        a = self._d.accounts[account_id]
        a.handle, a.display_name, a.state, a.state_detail = (
            handle,
            display_name,
            state,
            state_detail,
        )
        a.scopes, a.token_expires_at = scopes, token_expires_at

    def set_state(self, account_id: int, state: str, detail: str) -> None:
        a = self._d.accounts[account_id]
        a.state, a.state_detail = state, detail

    def set_poll_interval(self, account_id: int, seconds: int) -> None:
        self._d.accounts[account_id].poll_interval_s = seconds

    def set_token_expiry(self, account_id: int, expires_at: datetime | None) -> None:
        self._d.accounts[account_id].token_expires_at = expires_at

    @staticmethod
    def _record(a: FakeAccount) -> AccountRecord:
        return AccountRecord(
            a.id, a.uuid, a.network, a.handle, a.unit_id, a.state, a.poll_interval_s
        )


class FakeDirectory:
    def __init__(self, data: FakeData) -> None:
        self._d = data

    def organization_name(self) -> str | None:
        return self._d.organization

    def units(self) -> list[UnitEntry]:
        return list(self._d.units)

    def roles(self) -> list[RoleEntry]:
        return [RoleEntry(p, role, self._d.unit_name(u)) for p, role, u in self._d.roles]

    def active_people(self) -> list[PersonEntry]:
        return sorted(self._d.people, key=lambda p: p.name)

    def person_name(self, person_id: int) -> str | None:
        return next((p.name for p in self._d.people if p.id == person_id), None)

    def has_role(self, person_id: int, role: str) -> bool:
        return any(p == person_id and r == role for p, r, _u in self._d.roles)

    def actor(self, person_id: int) -> Actor | None:
        person = next((p for p in self._d.people if p.id == person_id), None)
        if person is None:
            return None
        paths = {e.unit.id: e.unit.path for e in self._d.units}
        grants = tuple(Grant(Role(r), paths[u]) for p, r, u in self._d.roles if p == person_id)
        return Actor(person_id, person.name, person_id not in self._d.inactive, grants)

    def place(self, unit_id: int | None) -> Place | None:
        for e in self._d.units:
            if (unit_id is None and e.unit.parent_id is None) or e.unit.id == unit_id:
                return Place(e.unit.path, e.unit.name)
        return None

    def accounts(self) -> list[AccountRow]:
        return [
            AccountRow(
                a.id,
                a.network,
                a.handle,
                a.display_name,
                a.unit_id,
                a.state,
                a.state_detail,
                a.poll_interval_s,
            )
            for a in sorted(self._d.accounts.values(), key=lambda a: (a.network, a.handle))
        ]


class FakeSettings:
    def __init__(self, data: FakeData) -> None:
        self._d = data

    def get(self, key: str) -> str | None:
        return self._d.settings.get(key)

    def put(self, key: str, value: str) -> None:
        self._d.settings[key] = value


class FakeAudit:
    def __init__(self, data: FakeData) -> None:
        self._d = data

    def record(self, entry: AuditRecord) -> None:
        self._d.audit.append(entry)


class FakeFeed:
    """The feed over :attr:`FakeData.conversations`; every filter it was asked for is kept."""

    def __init__(self, data: FakeData, calls: list[dict[str, Any]]) -> None:
        self._d = data
        self.calls = calls

    def _matching(self, q: FeedQuery) -> list[ConversationRow]:
        """The rows the query selects, in its order (the fakes hold no tags, text or authors)."""
        rows = [
            c.row()
            for c in self._d.conversations
            if (q.unit_ids is None or c.unit_id in q.unit_ids)
            and (not q.networks or c.network in q.networks)
            and (not q.statuses or c.status in q.statuses)
            and (not q.account_ids or c.account_id in q.account_ids)
        ]
        if q.sort == SORT_DUE:
            return sorted(rows, key=lambda r: r.due_key)
        return sorted(rows, key=lambda r: r.key, reverse=True)

    def page(
        self, query: FeedQuery, *, after: tuple[int, int] | None = None, limit: int = 200
    ) -> list[ConversationRow]:
        self.calls.append(asdict(query))
        rows = self._matching(query)
        if after is not None:
            due = query.sort == SORT_DUE
            rows = [r for r in rows if (r.due_key > after if due else r.key < after)]
        return rows[:limit]

    def newer(
        self, query: FeedQuery, *, than: tuple[int, int], limit: int = 500
    ) -> list[ConversationRow]:
        self.calls.append(asdict(query))
        return [r for r in self._matching(query) if r.key > than][-limit:]

    def keys(
        self, query: FeedQuery, *, after: tuple[int, int] | None = None
    ) -> list[tuple[int, int]]:
        self.calls.append(asdict(query))
        due = query.sort == SORT_DUE
        keys = [r.key_for(query.sort) for r in self._matching(query)]
        return [k for k in keys if after is None or (k > after if due else k < after)]

    def search(self, query: FeedQuery) -> SearchResult:
        self.calls.append(asdict(query))
        return SearchResult([], False)

    def count(self, query: FeedQuery) -> tuple[int, bool]:
        self.calls.append(asdict(query))
        return len(self._matching(query)), False

    def tag_names(self) -> list[str]:
        return sorted({t for names in self._d.triage.tags.values() for t in names})

    def rows(self, ids: Sequence[int]) -> dict[int, ConversationRow]:
        return {c.id: c.row() for c in self._d.conversations if c.id in ids}

    def status_counts(self) -> dict[tuple[int, str], int]:
        counts: dict[tuple[int, str], int] = {}
        for c in self._d.conversations:
            counts[(c.unit_id, c.status)] = counts.get((c.unit_id, c.status), 0) + 1
        return counts

    def conversation(self, conversation_id: int) -> ConversationRow | None:
        return self.rows([conversation_id]).get(conversation_id)

    def thread_header(self, conversation_id: int) -> ThreadHeader | None:
        c = next((c for c in self._d.conversations if c.id == conversation_id), None)
        if c is None:
            return None
        a = self._d.accounts[c.account_id]
        return ThreadHeader(self._d.unit_name(c.unit_id), a.display_name, a.handle, None, "", "")

    def messages(self, conversation_id: int, *, limit: int) -> tuple[list[MessageRow], bool]:
        return [], False

    def author_followers(self, conversation_id: int) -> int | None:
        return None


class FakeThreads:
    def __init__(self, data: FakeData) -> None:
        self._d = data

    def recent_threads(
        self, account_id: int, thread_type: str, since: datetime, limit: int
    ) -> list[str]:
        found = [
            c
            for c in self._d.conversations
            if c.account_id == account_id
            and c.thread_type == thread_type
            and c.last_activity_at >= since
        ]
        found.sort(key=lambda c: (c.last_activity_at, c.id), reverse=True)
        return [c.external_thread_id for c in found[:limit]]

    def target(self, conversation_id: int) -> ThreadTarget | None:
        c = next((c for c in self._d.conversations if c.id == conversation_id), None)
        if c is None:
            return None
        state = self._d.accounts[c.account_id].state
        return ThreadTarget(c.account_id, c.thread_type, c.external_thread_id, state)


class FakeBatches:
    """Stores items as messages; text no UTF-8 encoder takes fails as a database driver does."""

    def __init__(self, data: FakeData, chunks: list[int]) -> None:
        self._d = data
        self.chunks = chunks

    def open_batch(
        self,
        account_id: int,
        *,
        synced_at: datetime,
        cursor: dict[str, Any] | None,
        update_cursor: CursorUpdate | None,
    ) -> BatchOwner | None:
        a = self._d.accounts.get(account_id)
        if a is None:
            return None
        a.last_sync_at = synced_at
        if cursor is not None:
            a.cursor = dict(cursor)
        if update_cursor is not None:
            a.cursor = update_cursor(dict(a.cursor or {}))
        return BatchOwner(a.network, a.unit_id, self._d.unit_name(a.unit_id))

    def facts(
        self,
        account_id: int,
        threads: Sequence[tuple[str, str]],
        authors: Sequence[str],
        *,
        inbound: Sequence[tuple[str, str]] = (),
    ) -> BatchFacts:
        a = self._d.accounts.get(account_id)
        if a is None:
            return BatchFacts(None)
        stored = {
            (c.thread_type, c.external_thread_id)
            for c in self._d.conversations
            if c.account_id == account_id
        }
        return BatchFacts(
            BatchOwner(a.network, a.unit_id, self._d.unit_name(a.unit_id)),
            frozenset(t for t in threads if t in stored),
            {e: self._d.authors[e] for e in authors if e in self._d.authors},
        )

    def sightings(self, fingerprints: Sequence[str], since: datetime) -> dict[str, list[Sighting]]:
        seen: dict[str, list[Sighting]] = {}
        for s in self._d.sightings:
            if s.fingerprint in fingerprints and s.at >= since:
                seen.setdefault(s.fingerprint, []).append(Sighting(s.author, s.at))
        return seen

    def prune_sightings(self, before: datetime) -> int:
        kept = [s for s in self._d.sightings if s.at >= before]
        gone = len(self._d.sightings) - len(kept)
        self._d.sightings = kept
        return gone

    def store(
        self,
        account_id: int,
        network: str,
        items: Sequence[InboundItem],
        route: Router,
        sightings: Sequence[NewSighting] = (),
        first_due: Mapping[tuple[str, str], int] | None = None,
    ) -> StoredBatch:
        self.chunks.append(len(items))
        self._d.sightings.extend(sightings)
        new = dup = 0
        created: list[int] = []
        touched: set[int] = set()
        for item in items:
            item.text.encode("utf-8")  # raises UnicodeEncodeError on a lone surrogate
            if (account_id, item.external_id) in self._d.messages:
                dup += 1
                continue
            self._d.messages[(account_id, item.external_id)] = item
            new += 1
            conv = next(
                (
                    c
                    for c in self._d.conversations
                    if c.account_id == account_id
                    and c.external_thread_id == item.thread_external_id
                ),
                None,
            )
            if conv is None:
                decision = route(item)
                conv = FakeConversation(
                    id=len(self._d.conversations) + 1,
                    account_id=account_id,
                    unit_id=decision.unit_id,
                    status=decision.status,
                    external_thread_id=item.thread_external_id,
                    thread_type=item.thread_type,
                    network=network,
                    last_activity_at=item.created_at,
                )
                self._d.conversations.append(conv)
                self._d.routed[conv.id] = decision
                created.append(conv.id)
            if item.author_external_id and item.author_external_id not in self._d.authors:
                self._d.authors[item.author_external_id] = KnownAuthor(item.author_followers, False)
            conv.message_count += 1
            touched.add(conv.id)
        return StoredBatch(new, dup, tuple(created), tuple(sorted(touched)))


class FakeRules:
    """Routing's read side: the stored rules, the settings and units, who may be assigned."""

    def __init__(self, data: FakeData, calls: list[str]) -> None:
        self._d = data
        self.calls = calls

    def fingerprint(self) -> str:
        return repr(self._d.rules)

    def enabled(self) -> list[RuleRecord]:
        self.calls.append("enabled")
        return sorted((r for r in self._d.rules if r.enabled), key=lambda r: (r.position, r.id))

    def setup(self) -> RoutingSetup:
        units = tuple(
            RoutingUnit(
                e.unit.id,
                e.unit.name,
                e.unit.path,
                e.unit.languages,
                e.unit.is_triage,
                self._d.unit_targets.get(e.unit.id),
                None,
            )
            for e in self._d.units
        )
        return RoutingSetup(
            self._d.time_zone,
            self._d.business_hours,
            self._d.holidays,
            self._d.spam_threshold,
            self._d.spam_keywords,
            units,
        )

    def assignable(self, person_ids: Sequence[int]) -> list[Assignable]:
        paths = {e.unit.id: e.unit.path for e in self._d.units}
        return [
            Assignable(
                p.id,
                p.name,
                p.id not in self._d.inactive,
                tuple(sorted(paths[u] for pid, _r, u in self._d.roles if pid == p.id)),
            )
            for p in self._d.people
            if p.id in person_ids
        ]


class FakeSignIn:
    def __init__(self, data: FakeData) -> None:
        self._d = data

    def credentials(self, person_id: int) -> Credentials | None:
        return self._d.credentials.get(person_id)

    def set_hash(self, person_id: int, passphrase_hash: str | None) -> None:
        self._d.credentials[person_id] = replace(
            self._d.credentials[person_id],
            passphrase_hash=passphrase_hash,
            failed_sign_ins=0,
            blocked_until=None,
        )

    def record_attempt(self, person_id: int, failures: int, blocked_until: datetime | None) -> None:
        self._d.credentials[person_id] = replace(
            self._d.credentials[person_id], failed_sign_ins=failures, blocked_until=blocked_until
        )

    def required(self) -> bool:
        return self._d.signin_required

    def set_required(self, required: bool) -> None:
        self._d.signin_required = required


class FakePeople:
    """People over :attr:`FakeData.people` (deactivated ones in ``inactive``) and ``roles``."""

    def __init__(self, data: FakeData) -> None:
        self._d = data

    def _record(self, p: PersonEntry) -> PersonRecord:
        return PersonRecord(p.id, p.name, p.email, p.title, p.id not in self._d.inactive)

    def get(self, person_id: int) -> PersonRecord | None:
        return next((self._record(p) for p in self._d.people if p.id == person_id), None)

    def find_email(self, email: str) -> PersonRecord | None:
        wanted = email.strip().lower()
        found = (p for p in self._d.people if p.email.lower() == wanted)
        return next((self._record(p) for p in found), None)

    def search(
        self,
        text: str = "",
        *,
        include_inactive: bool = True,
        after: tuple[str, int] | None = None,
        limit: int = 200,
    ) -> list[PersonRecord]:
        words = [w.lower() for w in text.split()]
        found = [
            self._record(p)
            for p in sorted(self._d.people, key=lambda p: (p.name, p.id))
            if all(w in p.name.lower() or w in p.email.lower() for w in words)
            and (include_inactive or p.id not in self._d.inactive)
            and (after is None or (p.name, p.id) > after)
        ]
        return found[: max(1, limit)]

    def everyone(self) -> list[PersonRecord]:
        return [self._record(p) for p in sorted(self._d.people, key=lambda p: p.id)]

    def all_roles(self) -> list[HeldRole]:
        ordered = sorted(self._d.roles, key=lambda t: (t[0], t[2], t[1]))
        return [HeldRole(p, u, r) for p, r, u in ordered]

    def roles_of(self, person_id: int) -> list[HeldRole]:
        return [r for r in self.all_roles() if r.person_id == person_id]

    def holders(self, unit_id: int, role: str) -> list[PersonRecord]:
        ids = {p for p, r, u in self._d.roles if u == unit_id and r == role}
        return [r for r in self.everyone() if r.id in ids]

    def add(self, person: NewPerson) -> int:
        if self.find_email(person.email) is not None:
            raise ValueError("UNIQUE constraint failed: people.email")  # as the database does
        person_id = max((p.id for p in self._d.people), default=0) + 1
        self._d.people.append(PersonEntry(person_id, person.name, person.email, person.title))
        return person_id

    def edit(self, person_id: int, *, name: str, email: str, title: str) -> None:
        self._d.people = [
            PersonEntry(p.id, name, email, title) if p.id == person_id else p
            for p in self._d.people
        ]

    def set_active(self, person_id: int, active: bool, at: datetime | None) -> None:
        if active:
            self._d.inactive.discard(person_id)
        else:
            self._d.inactive.add(person_id)

    def grant(self, person_id: int, unit_id: int, role: str) -> bool:
        if (person_id, role, unit_id) in self._d.roles:
            return False
        self._d.roles.append((person_id, role, unit_id))
        return True

    def revoke(self, person_id: int, unit_id: int, role: str) -> bool:
        if (person_id, role, unit_id) not in self._d.roles:
            return False
        self._d.roles.remove((person_id, role, unit_id))
        return True

    def add_many(self, people: Sequence[NewPerson]) -> dict[str, int]:
        return {p.email.lower(): self.add(p) for p in people}

    def grant_many(self, roles: Sequence[HeldRole]) -> None:
        for r in roles:
            if not self.grant(r.person_id, r.unit_id, r.role):
                raise ValueError("UNIQUE constraint failed: role_assignments")

    def rename_many(self, names: Sequence[tuple[int, str]]) -> None:
        for person_id, name in names:
            p = next(p for p in self._d.people if p.id == person_id)
            self.edit(person_id, name=name, email=p.email, title=p.title)


class FakeOrganization:
    """The organization over :attr:`FakeData.org_row`, and the set-up's writes."""

    def __init__(self, data: FakeData, locks: list[int]) -> None:
        self._d = data
        self._locks = locks

    def lock_for_setup(self) -> None:
        self._locks.append(1)

    def get(self) -> OrganizationRow | None:
        row = self._d.org_row
        if row is None:
            return None
        sponsor = next((p.name for p in self._d.people if p.id == row.executive_sponsor_id), None)
        return replace(row, executive_sponsor_name=sponsor)

    def create(self, *, name: str, mission: str, time_zone: str, business_hours: Any) -> int:
        self._d.org_row = OrganizationRow(
            1, name, mission, None, None, time_zone, copy.deepcopy(business_hours), ()
        )
        self._d.organization = name
        return 1

    def save(self, row: OrganizationRow) -> None:
        self._d.org_row = replace(row, executive_sponsor_name=None)
        self._d.organization = row.name

    def person_by_email(self, email: str) -> int | None:
        wanted = email.strip().lower()
        return next((p.id for p in self._d.people if p.email.lower() == wanted), None)

    def add_person(self, *, name: str, email: str, title: str = "") -> int:
        person_id = max((p.id for p in self._d.people), default=0) + 1
        self._d.people.append(PersonEntry(person_id, name, email, title))
        return person_id

    def add_unit(self, parent_id: int | None, unit: PlannedUnit) -> UnitRow:
        unit_id = max((e.unit.id for e in self._d.units), default=0) + 1
        parent_path = next((e.unit.path for e in self._d.units if e.unit.id == parent_id), "/")
        row = UnitRow(
            unit_id,
            parent_id,
            f"{parent_path}{unit_id}/",
            unit.name,
            unit.kind.value,
            unit.colour,
            "",
            unit.is_triage,
        )
        self._d.units.append(UnitEntry(row, unit.sort_order))
        return row

    def rename_unit(self, unit_id: int, name: str) -> None:
        self._d.units = [
            UnitEntry(replace(e.unit, name=name), e.sort_order) if e.unit.id == unit_id else e
            for e in self._d.units
        ]

    def grant(self, person_id: int, unit_id: int, role: str) -> None:
        self._d.roles.append((person_id, role, unit_id))


# -- the unit of work -------------------------------------------------------------------------


class FakeUnitOfWork:
    def __init__(self, storage: FakeStorage) -> None:
        self._storage = storage
        self._work: FakeData | None = None

    @property
    def data(self) -> FakeData:
        if self._work is None:
            raise RuntimeError("the unit of work is not open")
        return self._work

    @property
    def accounts(self) -> FakeAccounts:
        return FakeAccounts(self.data)

    @property
    def directory(self) -> FakeDirectory:
        return FakeDirectory(self.data)

    @property
    def settings(self) -> FakeSettings:
        return FakeSettings(self.data)

    @property
    def audit(self) -> FakeAudit:
        return FakeAudit(self.data)

    @property
    def feed(self) -> FakeFeed:
        return FakeFeed(self.data, self._storage.feed_calls)

    @property
    def threads(self) -> FakeThreads:
        return FakeThreads(self.data)

    @property
    def batches(self) -> FakeBatches:
        return FakeBatches(self.data, self._storage.chunks)

    @property
    def units(self) -> FakeUnits:
        return FakeUnits(self.data)

    @property
    def audit_entries(self) -> FakeAuditEntries:
        return FakeAuditEntries(self.data)

    @property
    def organization(self) -> FakeOrganization:
        return FakeOrganization(self.data, self._storage.setup_locks)

    @property
    def signin(self) -> FakeSignIn:
        return FakeSignIn(self.data)

    @property
    def people(self) -> FakePeople:
        return FakePeople(self.data)

    @property
    def triage(self) -> FakeTriage:
        return FakeTriage(self.data)

    @property
    def rules(self) -> FakeRules:
        return FakeRules(self.data, self._storage.rule_calls)

    @property
    def rule_store(self) -> FakeRuleStore:
        return FakeRuleStore(self.data)

    @property
    def saved_views(self) -> FakeSavedViews:
        return FakeSavedViews(self.data.saved_views)

    @property
    def drafts(self) -> FakeDrafts:
        return FakeDrafts(self.data, self._storage.draft_locks)

    def __enter__(self) -> FakeUnitOfWork:
        self._work = copy.deepcopy(self._storage.data)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._work = None  # whatever was not committed is gone

    def commit(self) -> None:
        self._storage.data = copy.deepcopy(self.data)
        self._storage.history.append(copy.deepcopy(self.data))

    def rollback(self) -> None:
        self._work = copy.deepcopy(self._storage.data)


class FakeStorage:
    """Hands out fake units of work over one in-memory :class:`FakeData`."""

    def __init__(self, data: FakeData | None = None) -> None:
        self.data = data or FakeData()
        self.history: list[FakeData] = []  # the data after each commit
        self.feed_calls: list[dict[str, Any]] = []
        self.chunks: list[int] = []  # the size of every batch a unit of work tried to store
        self.setup_locks: list[int] = []  # one entry per lock_for_setup() call
        self.rule_calls: list[str] = []  # FakeRules: each time the rules were decoded
        self.draft_locks: list[int] = []  # FakeDrafts: each draft read with lock=True

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)


class FakeTokens(TokenStore):
    """The keyring as a dictionary."""

    def __init__(self) -> None:
        self.secrets: dict[tuple[str, str, str], str] = {}

    def get(self, network: str, account_uuid: str, name: str) -> str | None:
        return self.secrets.get((network, account_uuid, name))

    def set(self, network: str, account_uuid: str, name: str, secret: str) -> None:
        self.secrets[(network, account_uuid, name)] = secret

    def forget(self, network: str, account_uuid: str) -> None:
        for key in [k for k in self.secrets if k[:2] == (network, account_uuid)]:
            del self.secrets[key]


def item(
    external_id: str,
    thread: str = "t1",
    *,
    text: str = "hello",
    at: datetime = NOW,
    thread_type: str = ThreadType.X_THREAD,
) -> InboundItem:
    return InboundItem(
        network=Network.X,
        external_id=external_id,
        kind=MessageKind.MENTION,
        direction=Direction.IN,
        text=text,
        created_at=at,
        author_external_id="a1",
        author_handle="someone",
        author_name="Someone",
        thread_external_id=thread,
        thread_type=thread_type,
        in_reply_to=None,
        permalink=None,
        raw={},
    )
