"""What services may ask of storage: a unit of work and its repositories, as Protocols.

The SQL versions are :class:`app.storage.uow.UnitOfWork` and the repositories it opens
(``app/storage/accounts.py``, ``directory.py``, ``feed.py``, ``threads.py``,
``ingest_batches.py``); ``tests/unit/services/fakes.py`` holds in-memory ones, so services run
in unit tests without a database (Cosmic Python's ``FakeUnitOfWork``).

A service asks its :class:`Storage` for a new unit of work per use case (one session, one
thread), reads and writes through the repositories, and calls ``commit()`` to keep the writes;
anything not committed is rolled back when the ``with`` block ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol

from app.domain.approval import Rule
from app.domain.compose_warnings import OtherPost
from app.domain.enums import StrategyItemType
from app.domain.items import InboundItem
from app.domain.permissions import Actor, Place
from app.domain.rows import AccountRow, ConversationRow, FeedQuery, MessageRow, UnitRow
from app.domain.setup import OrganizationRow, PlannedUnit
from app.domain.spam import Sighting
from app.domain.strategy_funnel import ItemFields
from app.domain.units import UnitDetails, UnitHoldings
from app.storage.approval_news import DraftEntry
from app.storage.audit import AuditQuery, AuditRow
from app.storage.compose import GoalRecord, InboundFacts
from app.storage.draft_records import (
    KEEP,
    AccountFacts,
    ConversationFacts,
    DecisionRecord,
    DraftRecord,
    Keep,
    NewDraft,
    PolicySource,
    VersionRecord,
)
from app.storage.ingest import Router, StoredBatch
from app.storage.outbox import OutboxTarget
from app.storage.outbox_records import OutboxRecord
from app.storage.rerouting import RerouteCandidate
from app.storage.rule_store import NewRule, SampleMessage
from app.storage.rules import Assignable, RoutingSetup, RuleRecord
from app.storage.saved_replies import SavedReplyRecord
from app.storage.search import SearchResult
from app.storage.signin import Credentials
from app.storage.strategy import (
    DeletionRecord,
    ItemRecord,
    PolicyLineRecord,
    RevisionRecord,
    ServedDraftRow,
    TaggedConversationRow,
)
from app.storage.triage import (
    KEEP_DUE,
    AuthorFlag,
    EventRow,
    KeepDue,
    NewEvent,
    NoteRow,
    TriageState,
)
from app.storage.views import SavedViewRecord

CursorUpdate = Callable[[dict[str, Any]], dict[str, Any]]

# -- records the repositories hand out (frozen: no ORM object leaves its session) ----------------


@dataclass(frozen=True, slots=True)
class PollAccount:
    """An account as polling needs it, with its stored state."""

    id: int
    uuid: str
    network: str
    handle: str
    external_user_id: str | None
    poll_interval_s: int
    scopes: str
    token_expires_at: datetime | None
    state: str


@dataclass(frozen=True, slots=True)
class RateLimitMark:
    """Until when the network asked an account to wait, and the detail shown meanwhile."""

    until: datetime | None
    detail: str


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """One account's identity, owner and settings, for the accounts service."""

    id: int
    uuid: str
    network: str
    handle: str
    unit_id: int
    state: str
    poll_interval_s: int


@dataclass(frozen=True, slots=True)
class NewAccount:
    """An account to add, as the accounts service decided it."""

    uuid: str
    network: str
    external_user_id: str
    handle: str
    display_name: str
    unit_id: int
    poll_interval_s: int
    state: str
    state_detail: str
    scopes: str
    token_expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audit log entry: who did what to which entity, before and after."""

    at: datetime
    person_id: int | None
    person_name: str
    action: str
    entity: str
    entity_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class UnitEntry:
    """A unit with its position among its siblings (the tree order is the service's)."""

    unit: UnitRow
    sort_order: int


@dataclass(frozen=True, slots=True)
class RoleEntry:
    """A person's role in a named unit."""

    person_id: int
    role: str
    unit_name: str


@dataclass(frozen=True, slots=True)
class PersonEntry:
    id: int
    name: str
    email: str
    title: str


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """A person as Settings > People and roles edits them (deactivated people included)."""

    id: int
    name: str
    email: str
    title: str
    active: bool


@dataclass(frozen=True, slots=True)
class HeldRole:
    """One role assignment: a person's role in a unit (by unit id)."""

    person_id: int
    unit_id: int
    role: str


@dataclass(frozen=True, slots=True)
class NewPerson:
    """A person to add (``app/storage/people.py``)."""

    name: str
    email: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class ThreadHeader:
    """What the thread pane shows about a conversation beside its messages."""

    unit_name: str
    account_name: str
    account_handle: str
    assignee_name: str | None
    routing_reason: str
    language: str


@dataclass(frozen=True, slots=True)
class ThreadTarget:
    """A conversation as thread search needs it, with its account's state."""

    account_id: int
    thread_type: str
    external_thread_id: str
    account_state: str


@dataclass(frozen=True, slots=True)
class BatchOwner:
    """The account an ingest batch is stored for, and the unit that owns it."""

    network: str
    unit_id: int
    unit_name: str


@dataclass(frozen=True, slots=True)
class KnownAuthor:
    """What routing and the spam filter read of an author already stored."""

    followers_count: int | None
    is_spammer: bool


@dataclass(frozen=True, slots=True)
class BatchFacts:
    """What a batch's routing reads before the write transaction (nothing is locked)."""

    owner: BatchOwner | None
    known_threads: frozenset[tuple[str, str]] = frozenset()
    authors: dict[str, KnownAuthor] = field(default_factory=dict)  # by external id
    # known threads of ``inbound`` nobody outside has written in yet (our own post), by unit
    awaiting: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewSighting:
    fingerprint: str
    author: str  # "network:external id"
    at: datetime


# -- repositories ---------------------------------------------------------------------------------


class AccountRepository(Protocol):
    """Accounts: polling state, cursors and connection settings."""

    def poll_targets(self, account_id: int | None = None) -> list[PollAccount]:
        """Every account (or the one with ``account_id``), for polling."""
        ...

    def rate_limit(self, account_id: int) -> RateLimitMark: ...

    def cursor(self, account_id: int) -> Any:
        """The stored cursor (a JSON object), or ``None``."""
        ...

    def save_poll_state(
        self, account_id: int, state: str, detail: str, rate_limited_until: datetime | None
    ) -> None: ...

    def get(self, account_id: int) -> AccountRecord | None: ...

    def find(self, network: str, external_user_id: str) -> AccountRecord | None: ...

    def add(self, account: NewAccount) -> int:
        """Add the account; returns its id."""
        ...

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
    ) -> None: ...

    def set_state(self, account_id: int, state: str, detail: str) -> None: ...

    def set_poll_interval(self, account_id: int, seconds: int) -> None: ...

    def set_token_expiry(self, account_id: int, expires_at: datetime | None) -> None: ...


class DirectoryRepository(Protocol):
    """The organization, its units, people and roles, and the accounts list."""

    def organization_name(self) -> str | None: ...

    def units(self) -> list[UnitEntry]:
        """Every unit, in no particular order."""
        ...

    def roles(self) -> list[RoleEntry]:
        """Every role assignment, by unit path then role."""
        ...

    def active_people(self) -> list[PersonEntry]:
        """Active people, by name."""
        ...

    def person_name(self, person_id: int) -> str | None: ...

    def has_role(self, person_id: int, role: str) -> bool:
        """Whether the person holds ``role`` in any unit."""
        ...

    def actor(self, person_id: int) -> Actor | None:
        """The person with every role they hold, by unit path; ``None``: no such person."""
        ...

    def place(self, unit_id: int | None) -> Place | None:
        """A unit's path and name (``None``: the root of the tree); ``None`` if there is none."""
        ...

    def accounts(self) -> list[AccountRow]:
        """Every account, by network then handle."""
        ...


class OrganizationRepository(Protocol):
    """The organization, and the first-run set-up's writes (``app/storage/organization.py``)."""

    def lock_for_setup(self) -> None:
        """Hold off any other set-up of this workspace until this unit of work ends."""
        ...

    def get(self) -> OrganizationRow | None: ...

    def create(self, *, name: str, mission: str, time_zone: str, business_hours: Any) -> int:
        """Add the organization; returns its id."""
        ...

    def save(self, row: OrganizationRow) -> None:
        """Write name, mission, sponsor, time zone and business hours of ``row``."""
        ...

    def person_by_email(self, email: str) -> int | None:
        """The id of the person with this email (compared without case), if any."""
        ...

    def add_person(self, *, name: str, email: str, title: str = "") -> int: ...

    def add_unit(self, parent_id: int | None, unit: PlannedUnit) -> UnitRow:
        """Add a unit below ``parent_id`` (None: the root), with its materialised path."""
        ...

    def rename_unit(self, unit_id: int, name: str) -> None: ...

    def grant(self, person_id: int, unit_id: int, role: str) -> None: ...


class PeopleRepository(Protocol):
    """People and their role assignments, for Settings > People and roles and the CSV import."""

    def get(self, person_id: int) -> PersonRecord | None: ...

    def find_email(self, email: str) -> PersonRecord | None:
        """The person with this email, compared case-insensitively."""
        ...

    def search(
        self,
        text: str = "",
        *,
        include_inactive: bool = True,
        after: tuple[str, int] | None = None,
        limit: int = 200,
    ) -> list[PersonRecord]:
        """People whose name or email contains ``text``, by ``(name, id)``, after ``after``."""
        ...

    def everyone(self) -> list[PersonRecord]:
        """Every person, deactivated ones included (for the import's checks)."""
        ...

    def all_roles(self) -> list[HeldRole]: ...

    def roles_of(self, person_id: int) -> list[HeldRole]: ...

    def holders(self, unit_id: int, role: str) -> list[PersonRecord]:
        """Who holds ``role`` in exactly ``unit_id`` (active or not)."""
        ...

    def add(self, person: NewPerson) -> int: ...

    def edit(self, person_id: int, *, name: str, email: str, title: str) -> None: ...

    def set_active(self, person_id: int, active: bool, at: datetime | None) -> None: ...

    def grant(self, person_id: int, unit_id: int, role: str) -> bool:
        """Add the assignment; ``False`` when the person holds it already."""
        ...

    def revoke(self, person_id: int, unit_id: int, role: str) -> bool:
        """Remove the assignment; ``False`` when there was none."""
        ...

    def add_many(self, people: Sequence[NewPerson]) -> dict[str, int]:
        """Insert people set-wise (executemany); their ids by lower-case email."""
        ...

    def grant_many(self, roles: Sequence[HeldRole]) -> None: ...

    def rename_many(self, names: Sequence[tuple[int, str]]) -> None: ...


class SettingsRepository(Protocol):
    """Workspace settings (never secrets: those live in the keyring)."""

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str) -> None: ...


class AuditLog(Protocol):
    def record(self, entry: AuditRecord) -> None: ...


class FeedRepository(Protocol):
    """The inbox's read queries (``app/storage/feed.py``)."""

    def page(
        self, query: FeedQuery, *, after: tuple[int, int] | None = None, limit: int = 200
    ) -> list[ConversationRow]:
        """A page in the query's order after the key ``after`` (``ConversationRow.key_for``)."""
        ...

    def newer(
        self, query: FeedQuery, *, than: tuple[int, int], limit: int = 500
    ) -> list[ConversationRow]:
        """Rows with newer activity than ``than``, newest first."""
        ...

    def keys(
        self, query: FeedQuery, *, after: tuple[int, int] | None = None
    ) -> list[tuple[int, int]]:
        """Every key after ``after`` in the query's order."""
        ...

    def search(self, query: FeedQuery) -> SearchResult:
        """The conversations the query's text finds within its filters."""
        ...

    def count(self, query: FeedQuery) -> tuple[int, bool]:
        """How many conversations the query selects; true: at least that many (a capped search)."""
        ...

    def tag_names(self) -> list[str]:
        """Every tag's name, in alphabetical order."""
        ...

    def rows(self, ids: Sequence[int]) -> dict[int, ConversationRow]: ...

    def status_counts(self) -> dict[tuple[int, str], int]:
        """Conversations per ``(unit_id, status)``."""
        ...

    def conversation(self, conversation_id: int) -> ConversationRow | None: ...

    def thread_header(self, conversation_id: int) -> ThreadHeader | None: ...

    def messages(self, conversation_id: int, *, limit: int) -> tuple[list[MessageRow], bool]:
        """The newest ``limit`` messages in time order, and whether older ones exist."""
        ...

    def author_followers(self, conversation_id: int) -> int | None: ...


class SavedViewRepository(Protocol):
    """A person's saved inbox views (``app/storage/views.py``)."""

    def of(self, person_id: int) -> list[SavedViewRecord]:
        """The person's views in their order."""
        ...

    def get(self, view_id: int) -> SavedViewRecord | None: ...

    def add(
        self, person_id: int, name: str, filters: dict[str, Any], position: int, at: datetime
    ) -> int: ...

    def rename(self, view_id: int, name: str) -> None: ...

    def set_filters(self, view_id: int, filters: dict[str, Any]) -> None: ...

    def delete(self, view_id: int) -> None: ...

    def set_positions(self, positions: Mapping[int, int]) -> None: ...


class ThreadRepository(Protocol):
    """Conversations as thread search reads them."""

    def recent_threads(
        self, account_id: int, thread_type: str, since: datetime, limit: int
    ) -> list[str]:
        """External ids of the account's threads active since ``since``, most recent first."""
        ...

    def target(self, conversation_id: int) -> ThreadTarget | None: ...


class IngestBatches(Protocol):
    """One ingest batch: the account touched (write first), then the items stored."""

    def open_batch(
        self,
        account_id: int,
        *,
        synced_at: datetime,
        cursor: dict[str, Any] | None,
        update_cursor: CursorUpdate | None,
    ) -> BatchOwner | None:
        """Mark the account synced, store or derive its cursor; ``None``: no such account."""
        ...

    def facts(
        self,
        account_id: int,
        threads: Sequence[tuple[str, str]],
        authors: Sequence[str],
        *,
        inbound: Sequence[tuple[str, str]] = (),
    ) -> BatchFacts:
        """What routing reads before the write transaction (nothing is locked).

        The account's owner, which of ``threads`` (thread type, external id) exist, the stored
        ``authors`` (external ids), and which stored threads of ``inbound`` (those the batch
        brings someone else's message in) nobody outside has written in yet.
        """
        ...

    def sightings(self, fingerprints: Sequence[str], since: datetime) -> dict[str, list[Sighting]]:
        """The spam filter's earlier sightings of ``fingerprints`` at or after ``since``."""
        ...

    def store(
        self,
        account_id: int,
        network: str,
        items: Sequence[InboundItem],
        route: Router,
        sightings: Sequence[NewSighting] = (),
        first_due: Mapping[tuple[str, str], int] | None = None,
    ) -> StoredBatch:
        """Store the items, and the spam filter's ``sightings`` of this batch.

        New conversations go where ``route`` decides, with its tags. ``first_due`` holds the
        first-response due time (epoch ms) of stored threads nobody outside had written in
        (our own posts) that the batch brings the first such message to; it is set only when
        the conversation still has no first inbound message and no due time.
        """
        ...

    def prune_sightings(self, before: datetime) -> int:
        """Forget sightings older than ``before``; how many went."""
        ...


class Rerouting(Protocol):
    """Applying the rules again: conversations to evaluate and the conditional move.

    See ``app/storage/rerouting.py``.
    """

    def candidates(
        self,
        *,
        unit_path: str | None,
        conversation_ids: Sequence[int],
        statuses: Sequence[str] | None,
        limit: int,
    ) -> list[RerouteCandidate]: ...

    def move(
        self,
        conversation_id: int,
        *,
        from_unit: int,
        to_unit: int,
        rule_id: int | None,
        reason: str,
    ) -> bool:
        """False when the conversation is no longer in ``from_unit`` (nothing changed)."""
        ...


class RoutingRules(Protocol):
    """What routing reads: rules, the organization and units, assignable people.

    ``app/storage/rules.py``; the rules editor writes through its own repository.
    """

    def fingerprint(self) -> str:
        """A hash of every stored rule row: unchanged rules, unchanged hash."""
        ...

    def enabled(self) -> list[RuleRecord]: ...

    def setup(self) -> RoutingSetup: ...

    def assignable(self, person_ids: Sequence[int]) -> list[Assignable]: ...


class UnitRepository(Protocol):
    """The unit tree as the units editor changes it (``app/storage/units.py``)."""

    def all(self) -> list[UnitDetails]:
        """Every unit, by path."""
        ...

    def get(self, unit_id: int) -> UnitDetails | None: ...

    def add(self, parent_id: int, name: str, *, kind: str, colour: str, sort_order: int) -> int:
        """Add a unit below ``parent_id``; returns its id."""
        ...

    def rename(self, unit_id: int, name: str) -> None: ...

    def move(self, unit_id: int, new_parent_id: int) -> int:
        """Put the unit and its sub-tree below ``new_parent_id``; how many paths changed."""
        ...

    def set_sort_orders(self, orders: Mapping[int, int]) -> None: ...

    def set_field(self, unit_id: int, field: str, value: Any) -> None:
        """Colour, head, region, languages, target, hours (``app.storage.units.SETTABLE``)."""
        ...

    def holdings(self, unit_id: int) -> UnitHoldings:
        """Conversations, accounts, drafts, roles and sub-units the unit holds itself."""
        ...

    def reassign(self, from_id: int, to_id: int) -> UnitHoldings:
        """Hand what ``from_id`` holds (sub-units excepted) to ``to_id``; what moved."""
        ...

    def delete(self, unit_id: int) -> None: ...


class AuditEntries(Protocol):
    """The audit log's read side (``app/storage/audit.py``)."""

    def page(
        self, query: AuditQuery, *, after: tuple[int, int] | None = None, limit: int = 200
    ) -> list[AuditRow]:
        """Entries matching ``query``, newest first, after the key ``(at_ms, id)``."""
        ...

    def stream(self, query: AuditQuery, *, chunk: int = 1000) -> Iterator[AuditRow]:
        """Every entry matching ``query``, newest first."""
        ...

    def actors(self) -> list[tuple[int | None, str]]: ...

    def actions(self) -> list[str]: ...


# -- the unit of work -----------------------------------------------------------------------------


class SignInRepository(Protocol):
    """Passphrase hashes and wrong attempts (app.storage.signin), and the workspace setting."""

    def credentials(self, person_id: int) -> Credentials | None: ...

    def set_hash(self, person_id: int, passphrase_hash: str | None) -> None:
        """Store a new hash (None: no passphrase) and forget the wrong attempts."""
        ...

    def record_attempt(
        self, person_id: int, failures: int, blocked_until: datetime | None
    ) -> None: ...

    def required(self) -> bool:
        """Whether people of this workspace sign in with a passphrase."""
        ...

    def set_required(self, required: bool) -> None: ...


class TriageRepository(Protocol):
    """Working a conversation (app.storage.triage): claim, assign, hand over, status, history."""

    def state(self, conversation_id: int) -> TriageState | None: ...

    def claim(self, conversation_id: int, person_id: int, at: datetime) -> bool:
        """One conditional update: True for the one claim that took an unassigned conversation."""
        ...

    def assign(
        self, conversation_id: int, person_id: int | None, at: datetime, *, expected: int | None
    ) -> bool:
        """Compare-and-set of the assignee: False when it is no longer ``expected``."""
        ...

    def move(
        self,
        conversation_id: int,
        unit_id: int,
        status: str,
        *,
        sla_due_at: datetime | KeepDue | None = KEEP_DUE,
    ) -> None: ...

    def set_status(
        self, conversation_id: int, status: str, resolved_at: datetime | None
    ) -> None: ...

    def set_priority(self, conversation_id: int, priority: str) -> None: ...

    def author(self, conversation_id: int) -> AuthorFlag | None:
        """The conversation's author and whether the spam filter lists them as a spammer."""
        ...

    def set_spammer(self, author_id: int, is_spammer: bool) -> None: ...

    def tag_names(self, limit: int = 1000) -> list[str]:
        """Every tag in the workspace, alphabetically."""
        ...

    def tags(self, conversation_id: int) -> list[str]: ...

    def add_tag(self, conversation_id: int, name: str) -> bool: ...

    def remove_tag(self, conversation_id: int, name: str) -> bool: ...

    def social_goal(self, conversation_id: int) -> tuple[int, str] | None:
        """The social goal the conversation is tagged with: (id, title)."""
        ...

    def social_goals(self) -> list[tuple[int, str]]:
        """Every social goal of the strategy, (id, title), in the strategy's order."""
        ...

    def set_social_goal(self, conversation_id: int, goal_id: int | None) -> None: ...

    def add_note(self, conversation_id: int, person_id: int, text: str, at: datetime) -> int: ...

    def notes(self, conversation_id: int) -> list[NoteRow]: ...

    def append_event(self, event: NewEvent) -> int: ...

    def events(self, conversation_id: int) -> list[EventRow]: ...


class OutboxRepository(Protocol):
    """What is due, the publisher's claims, what a send needs. ``app/storage/outbox.py``."""

    def due_drafts(self, now: datetime, lead_until: datetime, limit: int) -> list[int]: ...

    def finished_publishing(self, limit: int) -> list[int]: ...

    def flagged(self, draft_id: int) -> list[OutboxTarget]: ...

    def sendable(self, now: datetime, limit: int) -> list[OutboxTarget]: ...

    def unsure(self, now: datetime | None, limit: int) -> list[OutboxTarget]: ...

    def target(self, target_id: int) -> OutboxTarget | None: ...

    def target_states(self, draft_id: int) -> list[str]: ...

    def failures(self, draft_id: int) -> list[tuple[str, str]]: ...

    def waiting_count(self) -> int: ...

    def unanswered(self, unit_id: int, limit: int) -> list[int]: ...

    def claim(
        self,
        target_id: int,
        *,
        by: str,
        at: datetime,
        state: str,
        claimed_by: str | None,
        claimed_at: datetime | None,
    ) -> bool: ...

    def release(
        self,
        target_id: int,
        *,
        by: str,
        state: str,
        error: str,
        next_attempt_at: datetime | None = None,
        attempts: int | None = None,
        needs_person: bool = False,
    ) -> bool: ...

    def mark_published(
        self, target_id: int, *, by: str, external_id: str, at: datetime
    ) -> bool: ...

    def resolve_by_person(
        self, target_id: int, *, published: bool, external_id: str | None, at: datetime
    ) -> bool: ...

    def reset_failed(self, draft_id: int) -> int: ...

    def mark_sent(
        self, account_id: int, network: str, external_id: str, *, sent_by: int, unit_id: int
    ) -> int | None: ...

    def answered(self, conversation_id: int) -> None: ...

    def pause_account(self, account_id: int, detail: str) -> None: ...


class DraftsRepository(Protocol):
    """Drafts, their versions, decisions and approvers, and what checking one reads.

    ``app/storage/drafts.py``.
    """

    def get(self, draft_id: int, *, lock: bool = False) -> DraftRecord | None:
        """The draft; ``lock``: no one else changes it until this unit of work ends."""
        ...

    def add(self, draft: NewDraft) -> int:
        """Store a new draft (state ``draft``, version 1, its targets); returns its id."""
        ...

    def mark_submitted(self, draft_id: int, version: int, at: datetime) -> None:
        """``version`` was submitted (it is never rewritten in place from now on)."""
        ...

    def was_submitted(self, draft_id: int, version: int) -> bool: ...

    def add_version(
        self, draft_id: int, version: int, text: str, person_id: int, at: datetime
    ) -> None:
        """Store a new version of the text and make it the current one."""
        ...

    def rewrite(self, draft_id: int, version: int, text: str, at: datetime) -> None:
        """Replace the text of ``version`` in place."""
        ...

    def set_state(
        self,
        draft_id: int,
        *,
        expected: str,
        state: str,
        at: datetime,
        schedule_at: datetime | Keep | None = KEEP,
        failure_reason: str | None = None,
    ) -> bool:
        """Compare-and-set of the state: False when the draft is no longer in ``expected``."""
        ...

    def delete(self, draft_id: int) -> None: ...

    def versions(self, draft_id: int) -> list[VersionRecord]: ...

    def decisions(self, draft_id: int) -> list[DecisionRecord]:
        """Every decision on the draft, any version, in the order given."""
        ...

    def decisions_of(self, draft_ids: Sequence[int]) -> dict[int, list[DecisionRecord]]: ...

    def add_decision(
        self,
        draft_id: int,
        version: int,
        person_id: int,
        decision: str,
        reason: str,
        at: datetime,
    ) -> None: ...

    def set_approvers(self, draft_id: int, approvers: Iterable[tuple[str, str]]) -> None:
        """Who may decide the draft: ``(role, unit path)`` pairs, replacing the old ones."""
        ...

    def pending(
        self,
        grants: Sequence[tuple[str, str]],
        person_id: int,
        *,
        after: tuple[datetime, int] | None = None,
        limit: int = 50,
    ) -> list[DraftRecord]:
        """Pending drafts whose approvers ``grants`` cover, by ``(created_at, id)``.

        Not those ``person_id`` wrote or decided (this version); after ``after``.
        """
        ...

    def waiting(
        self, *, after: tuple[datetime, int] | None = None, limit: int = 500
    ) -> list[DraftRecord]:
        """Every pending draft, by ``(created_at, id)`` after ``after``."""
        ...

    def accounts(self, account_ids: Sequence[int]) -> dict[int, AccountFacts]: ...

    def conversation(self, conversation_id: int) -> ConversationFacts | None: ...

    def conversations(self, conversation_ids: Sequence[int]) -> dict[int, ConversationFacts]: ...

    def message_conversation(self, message_id: int) -> int | None: ...

    def is_social_goal(self, item_id: int) -> bool: ...

    def policy(self) -> PolicySource: ...

    def approval_rules(self) -> list[Rule]: ...


class OutboxViews(Protocol):
    """The outbox as the Publishing screen reads it (app.storage.outbox_views)."""

    def queue(
        self,
        *,
        since: datetime,
        unit_ids: Sequence[int] | None = None,
        after: tuple[datetime, int] | None = None,
        limit: int = 50,
    ) -> list[OutboxRecord]: ...

    def calendar(
        self,
        start: datetime,
        end: datetime,
        *,
        unit_ids: Sequence[int] | None = None,
        kinds: Sequence[str] = ...,
        limit: int = 2000,
    ) -> list[OutboxRecord]: ...


class ApprovalNewsRepository(Protocol):
    """What happened to drafts since a moment, from the audit log (app.storage.approval_news)."""

    def started_waiting(self, since: datetime, *, limit: int = 100) -> list[DraftEntry]:
        """Submissions and lapsed approvals since ``since`` of drafts that still wait."""
        ...

    def decided(self, author_id: int, since: datetime, *, limit: int = 100) -> list[DraftEntry]:
        """Decisions since ``since`` on the drafts ``author_id`` wrote."""
        ...


class ComposeRepository(Protocol):
    """What the compose pane reads and writes beyond the drafts (``app/storage/compose.py``)."""

    def others_around(
        self,
        account_ids: Sequence[int],
        start: datetime,
        end: datetime,
        now: datetime,
        *,
        exclude_draft_id: int | None = None,
    ) -> list[OtherPost]:
        """Drafts on the accounts going (or gone) out between ``start`` and ``end``."""
        ...

    def inbound(self, conversation_id: int) -> InboundFacts | None: ...

    def author_name(self, conversation_id: int) -> str: ...

    def latest_draft(
        self, author_id: int, kind: str, conversation_id: int | None, states: Sequence[str]
    ) -> int | None: ...

    def social_goals(self) -> list[GoalRecord]: ...

    def set_targets(self, draft_id: int, account_ids: Sequence[int], at: datetime) -> None: ...

    def set_social_goal(self, draft_id: int, goal_id: int | None, at: datetime) -> None: ...


class SavedReplyRepository(Protocol):
    """Units' saved replies (``app/storage/saved_replies.py``)."""

    def of_units(self, unit_ids: Sequence[int]) -> list[SavedReplyRecord]: ...

    def get(self, reply_id: int) -> SavedReplyRecord | None: ...

    def add(self, unit_id: int, title: str, body: str, person_id: int, at: datetime) -> int: ...

    def edit(self, reply_id: int, title: str, body: str, at: datetime) -> None: ...

    def delete(self, reply_id: int) -> None: ...


class RuleStore(Protocol):
    """Routing rules as Settings edits them, and the preview's sample (app.storage.rule_store)."""

    def lock_order(self) -> None:
        """Hold off any other change of the rule order until this unit of work ends."""
        ...

    def all(self) -> list[RuleRecord]:
        """Every rule, in evaluation order."""
        ...

    def get(self, rule_id: int) -> RuleRecord | None: ...

    def add(self, rule: NewRule, at: datetime) -> int:
        """Store the rule after the last one; returns its id."""
        ...

    def update(self, rule_id: int, rule: NewRule) -> None: ...

    def set_enabled(self, rule_id: int, enabled: bool) -> None: ...

    def delete(self, rule_id: int) -> None: ...

    def set_order(self, rule_ids: list[int]) -> None:
        """Positions 1 … n in the order of ``rule_ids``."""
        ...

    def sample(self, conversations: int) -> list[SampleMessage]:
        """The first inbound message of each of the newest ``conversations`` conversations."""
        ...


class StrategyRepository(Protocol):
    """The strategy: items, links, policy lines, revisions, deletions (app.storage.strategy)."""

    def items(self) -> list[ItemRecord]:
        """Every item, by type, position and id."""
        ...

    def get(self, item_id: int) -> ItemRecord | None: ...

    def many(self, item_ids: Sequence[int]) -> list[ItemRecord]: ...

    def links(self) -> list[tuple[int, int]]:
        """Every link as ``(child_id, parent_id)``."""
        ...

    def parents(self, item_id: int) -> list[int]: ...

    def next_position(self, kind: StrategyItemType) -> int: ...

    def add(
        self,
        kind: StrategyItemType,
        uuid: str,
        fields: ItemFields,
        *,
        position: int,
        at: datetime,
    ) -> int: ...

    def update(self, item_id: int, fields: ItemFields, at: datetime) -> None: ...

    def set_positions(self, positions: Mapping[int, int]) -> None: ...

    def set_parents(self, child_id: int, parent_ids: Sequence[int]) -> None: ...

    def delete(self, item_ids: Sequence[int]) -> None: ...

    def mission(self) -> str: ...

    def set_mission(self, text: str) -> None: ...

    def sponsor_id(self) -> int | None: ...

    def person_active(self, person_id: int) -> bool | None: ...

    def policy_lines(self) -> list[PolicyLineRecord]: ...

    def policy_line(self, line_id: int) -> PolicyLineRecord | None: ...

    def add_policy_line(self, line: PolicyLineRecord) -> int: ...

    def update_policy_line(self, line: PolicyLineRecord) -> None: ...

    def delete_policy_line(self, line_id: int) -> None: ...

    def last_revision(self) -> int | None: ...

    def add_revision(self, revision: RevisionRecord) -> None: ...

    def revision(self, number: int) -> RevisionRecord | None: ...

    def revisions(self) -> list[tuple[int, datetime, str, str]]: ...

    def record_deletions(self, deletions: Sequence[DeletionRecord]) -> None: ...

    def deletions(self, since_revision: int | None = None) -> list[DeletionRecord]: ...

    def goal_counts(self, goal_id: int) -> tuple[int, int, int]: ...

    def goal_drafts(
        self, goal_id: int, *, after: tuple[datetime, int] | None, limit: int
    ) -> list[ServedDraftRow]: ...

    def goal_conversations(
        self, goal_id: int, *, after: tuple[datetime, int] | None, limit: int
    ) -> list[TaggedConversationRow]: ...


class StorageUnitOfWork(Protocol):
    """One use case's session: repositories, ``commit()``, rollback of the rest on exit."""

    @property
    def accounts(self) -> AccountRepository: ...

    @property
    def directory(self) -> DirectoryRepository: ...

    @property
    def settings(self) -> SettingsRepository: ...

    @property
    def people(self) -> PeopleRepository: ...

    @property
    def organization(self) -> OrganizationRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def feed(self) -> FeedRepository: ...

    @property
    def threads(self) -> ThreadRepository: ...

    @property
    def batches(self) -> IngestBatches: ...

    @property
    def rules(self) -> RoutingRules: ...

    @property
    def rerouting(self) -> Rerouting: ...

    @property
    def signin(self) -> SignInRepository: ...

    @property
    def units(self) -> UnitRepository: ...

    @property
    def audit_entries(self) -> AuditEntries: ...

    @property
    def triage(self) -> TriageRepository: ...

    @property
    def rule_store(self) -> RuleStore: ...

    @property
    def saved_views(self) -> SavedViewRepository: ...

    @property
    def drafts(self) -> DraftsRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def outbox_views(self) -> OutboxViews: ...

    @property
    def approval_news(self) -> ApprovalNewsRepository: ...

    @property
    def compose(self) -> ComposeRepository: ...

    @property
    def saved_replies(self) -> SavedReplyRepository: ...

    @property
    def strategy(self) -> StrategyRepository: ...

    def __enter__(self) -> StorageUnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class Storage(Protocol):
    """Opens units of work: :class:`app.storage.workspace.Database`, or a fake in tests."""

    def uow(self) -> StorageUnitOfWork: ...
