"""What the compose pane asks of the drafts service: a context to check against, and warnings.

:meth:`ComposeReads.context` reads once (off the GUI thread) everything a live check needs:
the compiled policy, the approval rules, the accounts a post may go out on (or the
conversation's account), the draft's unit and the conversation's facts. Its
:meth:`ComposeContext.check` is then pure: the policy's findings per account, the counters,
the ranges to underline and the approvals the draft will need, worked out by the same
functions submit uses (:func:`app.services.draft_checks.assess`), in about a millisecond for a
2,000-character draft. The rules and policy are those in force when the context was read;
submit checks again with the rules in force then.

:meth:`ComposeReads.warnings` works out what :mod:`app.domain.compose_warnings` says about a
text going out at a time, from the drafts around that time on its accounts (one query).

Decisions:

- **The accounts a post may go out on** are every account of the workspace, those of the
  draft's unit first: permission is the unit's (``create`` asks the same).
- **The units a post may be written for** are those the operator may work in.
- **The draft to open again** for a reply or direct message is the author's newest one in the
  conversation that has not gone out (nor is going out); for a post, the newest that is still
  being written (draft, changes requested, rejected).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from app.domain.approval import Requirement, Rule
from app.domain.compose_warnings import DUPLICATE_WINDOW, posting_warnings
from app.domain.enums import DraftKind, DraftState, Network, ThreadType
from app.domain.permissions import Action, Place, decide
from app.domain.policy import Policy, Severity
from app.domain.saved_replies import first_name
from app.services.access import NOBODY, NotAllowed, require_in
from app.services.draft_checks import (
    PolicyCache,
    TargetFindings,
    accounts_in_order,
    assess,
    compiled,
    finding_messages,
)
from app.services.draft_steps import DraftError, kind_of
from app.storage.compose import GoalRecord
from app.storage.draft_records import AccountFacts, ConversationFacts
from app.storage.ports import Storage

#: A post still being written (what "reopen the compose pane" brings back).
POST_OPEN_STATES = (DraftState.DRAFT, DraftState.CHANGES_REQUESTED, DraftState.REJECTED)
#: A reply or direct message not gone out yet.
REPLY_OPEN_STATES = tuple(
    s for s in DraftState if s not in (DraftState.PUBLISHING, DraftState.PUBLISHED)
)


@dataclass(frozen=True, slots=True)
class Counter:
    """How long the text is on one account, and how long it may be."""

    account_id: int
    account: str
    network: Network
    length: int
    limit: int

    @property
    def over(self) -> bool:
        return self.length > self.limit

    @property
    def text(self) -> str:
        """E.g. "@acme 120 / 280"."""
        return f"{self.account} {self.length:,} / {self.limit:,}"


@dataclass(frozen=True, slots=True)
class Mark:
    """One finding's range in the text, with the accounts it holds for."""

    start: int
    end: int
    severity: Severity
    message: str
    accounts: tuple[str, ...]
    requires_approval: bool = False  # a risky term: the draft needs an approval


@dataclass(frozen=True, slots=True)
class ComposeCheck:
    """What a live check says about the text being written."""

    targets: tuple[TargetFindings, ...]
    counters: tuple[Counter, ...]
    marks: tuple[Mark, ...]  # by position; a range may be empty (a missing disclaimer)
    requirement: Requirement

    @property
    def blocked(self) -> bool:
        return any(t.findings.blocked for t in self.targets)

    @property
    def blocks(self) -> tuple[str, ...]:
        return finding_messages(self.targets, block=True)

    @property
    def warnings(self) -> tuple[str, ...]:
        return finding_messages(self.targets, block=False)

    @property
    def approval(self) -> tuple[str, ...]:
        """The approvals it will need and from whom, one line per demand."""
        return self.requirement.reasons


@dataclass(frozen=True, slots=True)
class UnitChoice:
    id: int
    name: str
    path: str


@dataclass(frozen=True, eq=False)
class ComposeContext:
    """Everything a live check reads, read once; :meth:`check` is pure and thread-safe."""

    kind: DraftKind
    unit_id: int
    unit: Place
    author_id: int
    accounts: tuple[AccountFacts, ...]  # a post's choices; a reply's own account
    conversation_id: int | None
    conversation: ConversationFacts | None
    policy: Policy
    rules: tuple[Rule, ...]
    goals: tuple[GoalRecord, ...]
    units: tuple[UnitChoice, ...]  # where the operator may write posts
    my_first_name: str = ""
    author_name: str = ""  # whom a reply answers
    _by_id: dict[int, AccountFacts] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_id.update({a.id: a for a in self.accounts})

    @property
    def placeholder_values(self) -> dict[str, str]:
        """The values of the saved replies' placeholders here."""
        return {"author_name": self.author_name, "my_first_name": self.my_first_name}

    def default_accounts(self) -> tuple[int, ...]:
        """A reply's account; for a post, none chosen yet."""
        return () if self.kind is DraftKind.POST else tuple(a.id for a in self.accounts)

    def check(self, text: str, account_ids: Sequence[int] | None = None) -> ComposeCheck:
        """The findings, counters, marks and requirement for ``text`` on ``account_ids``.

        Args:
            text: What is written now.
            account_ids: A post's chosen accounts (unknown ones are skipped); ignored for a
                reply or direct message, which go out on the conversation's account.
        """
        if self.kind is DraftKind.POST and account_ids is not None:
            chosen = accounts_in_order(self._by_id, list(dict.fromkeys(account_ids)))
        else:
            chosen = list(self.accounts)
        assessment = assess(
            draft_id=0,
            kind=self.kind,
            unit=self.unit,
            author_id=self.author_id,
            version=1,
            text=text,
            accounts=chosen,
            conversation=self.conversation,
            policy=self.policy,
            rules=self.rules,
        )
        counters = tuple(
            Counter(t.account_id, t.account, t.network, t.findings.length, t.findings.limit)
            for t in assessment.findings
        )
        return ComposeCheck(
            assessment.findings, counters, _marks(assessment.findings), assessment.requirement
        )


def _marks(targets: Sequence[TargetFindings]) -> tuple[Mark, ...]:
    merged: dict[tuple[int, int, Severity, str, bool], list[str]] = {}
    for target in targets:
        for f in target.findings:
            key = (f.start, f.end, f.severity, f.message, f.requires_approval)
            accounts = merged.setdefault(key, [])
            if target.account not in accounts:
                accounts.append(target.account)
    return tuple(
        Mark(start, end, severity, message, tuple(accounts), risky)
        for (start, end, severity, message, risky), accounts in merged.items()
    )


class ComposeReads:
    """The compose pane's reads; safe from any thread (a unit of work per call)."""

    def __init__(self, db: Storage, policy: PolicyCache, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._policy = policy
        self._clock = clock

    def context(
        self, operator: int, kind: str, unit_id: int | None, conversation_id: int | None
    ) -> ComposeContext:
        """See :meth:`app.services.drafts.DraftsService.compose_context`."""
        draft_kind = kind_of(kind)
        with self._db.uow() as uow:
            actor = uow.directory.actor(operator)
            if actor is None:
                raise NotAllowed(NOBODY)
            units = tuple(
                UnitChoice(u.unit.id, u.unit.name, u.unit.path)
                for u in sorted(uow.directory.units(), key=lambda e: e.unit.path)
                if decide(actor, Action.WORK_CONVERSATIONS, Place(u.unit.path, u.unit.name)).allowed
            )
            conversation: ConversationFacts | None = None
            author_name = ""
            if draft_kind is DraftKind.POST:
                if conversation_id is not None:
                    raise DraftError("A post starts a conversation of its own: it answers none.")
                if unit_id is None:
                    if not units:
                        raise NotAllowed(
                            f"{actor.name} may work in no unit, so cannot write posts: "
                            "an administrator gives them an agent's role first."
                        )
                    unit_id = units[0].id
                owned = [a for a in uow.directory.accounts()]
                ordered = sorted(owned, key=lambda a: (a.unit_id != unit_id,))
                facts = uow.drafts.accounts([a.id for a in ordered])
                accounts = tuple(accounts_in_order(facts, [a.id for a in ordered]))
            else:
                if conversation_id is None:
                    what = "A direct message" if draft_kind is DraftKind.DM else "A reply"
                    raise DraftError(f"{what} needs the conversation it answers.")
                conversation = uow.drafts.conversation(conversation_id)
                if conversation is None:
                    raise DraftError("That conversation does not exist (any more).")
                unit_id = conversation.unit_id if unit_id is None else unit_id
                facts = uow.drafts.accounts([conversation.account_id])
                accounts = tuple(accounts_in_order(facts, [conversation.account_id]))
                author_name = uow.compose.author_name(conversation_id)
            place = uow.directory.place(unit_id)
            if place is None:
                raise DraftError("That unit does not exist (any more).")
            require_in(
                uow, operator, Action.WORK_CONVERSATIONS, unit_id, doing="write drafts for it"
            )
            return ComposeContext(
                kind=draft_kind,
                unit_id=unit_id,
                unit=place,
                author_id=operator,
                accounts=accounts,
                conversation_id=conversation_id,
                conversation=conversation,
                policy=compiled(self._policy, uow),
                rules=tuple(uow.drafts.approval_rules()),
                goals=tuple(uow.compose.social_goals()),
                units=units,
                my_first_name=first_name(actor.name),
                author_name=author_name,
            )

    def warnings(
        self,
        operator: int,
        kind: str,
        text: str,
        account_ids: Sequence[int],
        conversation_id: int | None,
        schedule_at: datetime | None,
        draft_id: int | None,
    ) -> tuple[str, ...]:
        """See :meth:`app.services.drafts.DraftsService.posting_warnings`."""
        draft_kind = kind_of(kind)
        now = self._clock()
        at = schedule_at if schedule_at is not None and schedule_at > now else now
        with self._db.uow() as uow:
            if uow.directory.actor(operator) is None:
                raise NotAllowed(NOBODY)
            messenger, last_inbound = False, None
            ids = tuple(dict.fromkeys(account_ids))
            if draft_kind is not DraftKind.POST and conversation_id is not None:
                conversation = uow.drafts.conversation(conversation_id)
                if conversation is None:
                    raise DraftError("That conversation does not exist (any more).")
                ids = (conversation.account_id,)
                inbound = uow.compose.inbound(conversation_id)
                if inbound is not None and inbound.thread_type == ThreadType.FB_MESSENGER:
                    messenger, last_inbound = True, inbound.last_inbound_at
            accounts = {a.id: a.label for a in uow.drafts.accounts(ids).values()}
            others = uow.compose.others_around(
                list(accounts),
                at - DUPLICATE_WINDOW,
                at + DUPLICATE_WINDOW,
                now,
                exclude_draft_id=draft_id,
            )
        return posting_warnings(
            kind=draft_kind,
            text=text,
            at=at,
            accounts=accounts,
            others=others,
            messenger=messenger,
            last_inbound_at=last_inbound,
        )

    def open_draft(self, operator: int, kind: str, conversation_id: int | None) -> int | None:
        """See :meth:`app.services.drafts.DraftsService.open_draft`."""
        draft_kind = kind_of(kind)
        states = POST_OPEN_STATES if draft_kind is DraftKind.POST else REPLY_OPEN_STATES
        with self._db.uow() as uow:
            return uow.compose.latest_draft(
                operator, draft_kind.value, conversation_id, [s.value for s in states]
            )
