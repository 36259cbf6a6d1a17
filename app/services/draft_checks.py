"""What the drafts service works out about a draft: findings, facts, requirement, reviews.

The policy's findings per target, the facts the approval engine reads, the requirement under
the rules in force, and the stored decisions as the engine's reviews.

Pure functions over the repositories' records, plus :class:`PolicyCache`, which compiles the
policy once for as long as its lines do not change.

Decisions:

- **Targets.** A post is checked once per target account, a reply or direct message for the
  conversation's account. Each :class:`app.domain.policy.Target` carries the *draft's* unit path:
  a policy line scoped to a unit applies to the drafts written for that unit and its sub-units
  (Legal's disclaimer to every Legal draft, whichever account it goes out on); a line scoped to
  an account covers the account side.
- **Facts.** ``has_links``: :func:`app.domain.links.find_links` finds a link in the text;
  ``policy_warns``: any target has a warning; ``sentiment``: the conversation's score (none for a
  post); ``author_is_new``: it is the conversation author's first conversation.
- **Risky terms need approval.** A risky term makes a draft need approval even when no approval
  rule asks for one: when no rule demands an approval and a finding ``requires_approval``, the
  requirement is worked out again with :data:`RISKY_TERMS_RULE` (one approval from a supervisor
  of the draft's unit or above). When a rule asks for approvals already, those are enough.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.domain.approval import ApprovalFacts, Requirement, Review, Rule, required
from app.domain.enums import ApprovalCondition, Decision, DraftKind, Network, Role, ThreadType
from app.domain.links import find_links
from app.domain.permissions import Action, Actor, Place
from app.domain.policy import Findings, Policy, PolicyError, Target
from app.services.access import require_in
from app.services.draft_steps import DraftError
from app.storage.draft_records import (
    AccountFacts,
    ConversationFacts,
    DecisionRecord,
    DraftRecord,
    PolicySource,
)
from app.storage.ports import StorageUnitOfWork

DM_THREADS = frozenset({ThreadType.X_DM, ThreadType.FB_MESSENGER, ThreadType.SANDBOX_DM})

#: The rule a risky term brings in when no approval rule asks for an approval.
RISKY_TERMS_RULE = Rule(
    id=0,
    name="risky terms need approval",
    condition=ApprovalCondition.POLICY_WARNS,
    required_approvals=1,
    approver_role=Role.SUPERVISOR,
)


@dataclass(frozen=True, slots=True)
class TargetFindings:
    """What the policy says about the text going out on one account."""

    account_id: int
    account: str  # "@acme", the Page's name
    network: Network
    findings: Findings


@dataclass(frozen=True, slots=True)
class Assessment:
    """A draft's findings, facts and requirement under the policy and rules in force now."""

    findings: tuple[TargetFindings, ...]
    facts: ApprovalFacts
    requirement: Requirement

    @property
    def blocked(self) -> bool:
        return any(t.findings.blocked for t in self.findings)

    @property
    def blocks(self) -> tuple[str, ...]:
        """Every blocking finding in words, once, naming its accounts when not all of them."""
        return finding_messages(self.findings, block=True)

    @property
    def warnings(self) -> tuple[str, ...]:
        return finding_messages(self.findings, block=False)


def finding_messages(findings: Sequence[TargetFindings], *, block: bool) -> tuple[str, ...]:
    where: dict[str, list[str]] = {}
    for target in findings:
        chosen = target.findings.blocks if block else target.findings.warnings
        for f in chosen:
            accounts = where.setdefault(f.message, [])
            if target.account not in accounts:
                accounts.append(target.account)
    every = len(findings)
    return tuple(
        message if len(accounts) == every else f"{message} (for {', '.join(accounts)})"
        for message, accounts in where.items()
    )


class PolicyCache:
    """The compiled policy, compiled again only when its lines or names change; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[PolicySource, Policy] | None = None

    def policy(self, source: PolicySource) -> Policy:
        """The compiled policy of ``source``.

        Raises:
            app.domain.policy.PolicyError: a line cannot be used as written.
        """
        with self._lock:
            last = self._last
        if last is not None and last[0] == source:
            return last[1]
        policy = Policy.compile(
            source.lines,
            unit_names=dict(source.unit_names),
            account_names=dict(source.account_names),
        )
        with self._lock:
            self._last = (source, policy)
        return policy


def compiled(cache: PolicyCache, uow: StorageUnitOfWork) -> Policy:
    """The policy in force, compiled (once for as long as it does not change).

    Raises:
        DraftError: a stored line cannot be used, naming it.
    """
    try:
        return cache.policy(uow.drafts.policy())
    except PolicyError as e:
        raise DraftError(
            f"The policy cannot be checked ({e}): an administrator must correct that line."
        ) from e


def check(
    policy: Policy,
    text: str,
    kind: DraftKind,
    unit: Place,
    accounts: Sequence[AccountFacts],
) -> tuple[TargetFindings, ...]:
    """The policy's findings for ``text`` on each of ``accounts``, in their order."""
    targets = [Target(Network(a.network), DraftKind(kind), a.id, unit.unit_path) for a in accounts]
    found = policy.check_many(text, targets)
    return tuple(
        TargetFindings(a.id, a.label, Network(a.network), found[t])
        for a, t in zip(accounts, targets, strict=True)
    )


def assess(
    *,
    draft_id: int,
    kind: DraftKind,
    unit: Place,
    author_id: int,
    version: int,
    text: str,
    accounts: Sequence[AccountFacts],
    conversation: ConversationFacts | None,
    policy: Policy,
    rules: Sequence[Rule],
) -> Assessment:
    """Findings, facts and requirement of one draft (see the module for the decisions)."""
    findings = check(policy, text, kind, unit, accounts)
    facts = ApprovalFacts(
        draft_id=draft_id,
        kind=DraftKind(kind),
        unit=unit,
        author_id=author_id,
        version=version,
        account_ids=tuple(a.id for a in accounts),
        has_links=bool(find_links(text)),
        policy_warns=any(t.findings.warnings for t in findings),
        sentiment=conversation.sentiment if conversation is not None else None,
        author_is_new=conversation.author_is_new if conversation is not None else False,
    )
    return Assessment(findings, facts, requirement_for(rules, facts, findings))


def assess_draft(
    draft: DraftRecord,
    conversation: ConversationFacts | None,
    policy: Policy,
    rules: Sequence[Rule],
) -> Assessment:
    """:func:`assess` of a stored draft (its current version, its targets)."""
    accounts = [
        AccountFacts(t.account_id, t.network, t.handle, t.display_name, t.unit_id)
        for t in draft.targets
    ]
    return assess(
        draft_id=draft.id,
        kind=DraftKind(draft.kind),
        unit=Place(draft.unit_path, draft.unit_name),
        author_id=draft.author_id,
        version=draft.version,
        text=draft.text,
        accounts=accounts,
        conversation=conversation,
        policy=policy,
        rules=rules,
    )


def assess_stored(uow: StorageUnitOfWork, cache: PolicyCache, draft: DraftRecord) -> Assessment:
    """:func:`assess_draft` with the policy, the rules and the conversation read now."""
    conversation = (
        uow.drafts.conversation(draft.conversation_id)
        if draft.conversation_id is not None
        else None
    )
    return assess_draft(draft, conversation, compiled(cache, uow), uow.drafts.approval_rules())


def conversations_of(
    uow: StorageUnitOfWork, drafts: Sequence[DraftRecord]
) -> dict[int, ConversationFacts]:
    """The conversations of many drafts, read at once, by id."""
    return uow.drafts.conversations(
        [d.conversation_id for d in drafts if d.conversation_id is not None]
    )


def conversation_of(
    conversations: Mapping[int, ConversationFacts], draft: DraftRecord
) -> ConversationFacts | None:
    """The draft's conversation among those read (a post has none)."""
    if draft.conversation_id is None:
        return None
    return conversations.get(draft.conversation_id)


def requirement_for(
    rules: Sequence[Rule], facts: ApprovalFacts, findings: Iterable[TargetFindings]
) -> Requirement:
    """:func:`app.domain.approval.required`, with the risky-terms rule when no rule asks."""
    requirement = required(rules, facts)
    if requirement.needed:
        return requirement
    if any(f.requires_approval for t in findings for f in t.findings):
        return required([*rules, RISKY_TERMS_RULE], facts)
    return requirement


class Reviewers:
    """The people who decided, as they are now (their roles, whether active), read once each."""

    def __init__(self, uow: StorageUnitOfWork) -> None:
        self._uow = uow
        self._actors: dict[int, Actor] = {}

    def actor(self, person_id: int, name: str) -> Actor:
        found = self._actors.get(person_id)
        if found is None:
            found = self._uow.directory.actor(person_id) or Actor(person_id, name, False, ())
            self._actors[person_id] = found
        return found

    def reviews(self, decisions: Iterable[DecisionRecord]) -> list[Review]:
        return [
            Review(
                self.actor(d.person_id, d.person_name), d.version, Decision(d.decision), d.reason
            )
            for d in decisions
        ]


def approver_keys(requirement: Requirement) -> list[tuple[str, str]]:
    """The ``(role, unit path)`` of each demand: who the approvals queue offers the draft to."""
    return [(d.role.value, d.unit.unit_path) for d in requirement.demands]


def accounts_in_order(
    found: Mapping[int, AccountFacts], account_ids: Sequence[int]
) -> list[AccountFacts]:
    return [found[a] for a in account_ids if a in found]


def targets_for_new(
    uow: StorageUnitOfWork,
    operator: int,
    kind: DraftKind,
    account_ids: Sequence[int],
    conversation_id: int | None,
    message_id: int | None,
) -> tuple[int, ...]:
    """The accounts a new draft goes out on: a post's own, a reply's conversation's account.

    Raises:
        NotAllowed: the operator may not work in the conversation's unit.
        DraftError: no account for a post, an unknown one, a conversation for a post; no or
            an unknown conversation, the wrong account or kind of conversation, a message
            from another conversation for a reply or direct message.
    """
    wanted = tuple(dict.fromkeys(account_ids))
    if kind is DraftKind.POST:
        if conversation_id is not None or message_id is not None:
            raise DraftError("A post starts a conversation of its own: it answers none.")
        if not wanted:
            raise DraftError("A post needs at least one account to go out on.")
        found = uow.drafts.accounts(wanted)
        missing = [a for a in wanted if a not in found]
        if missing:
            raise DraftError(f"No account with id {missing[0]} exists (any more).")
        return wanted
    what = "A direct message" if kind is DraftKind.DM else "A reply"
    if conversation_id is None:
        raise DraftError(f"{what} needs the conversation it answers.")
    conversation = uow.drafts.conversation(conversation_id)
    if conversation is None:
        raise DraftError("That conversation does not exist (any more).")
    if (kind is DraftKind.DM) != (conversation.thread_type in DM_THREADS):
        raise DraftError(
            "A direct message answers a direct-message conversation; a reply, a public one."
            if kind is DraftKind.DM
            else "A direct-message conversation is answered with a direct message."
        )
    if wanted and wanted != (conversation.account_id,):
        label = uow.drafts.accounts([conversation.account_id])
        name = label[conversation.account_id].label if label else "its account"
        raise DraftError(f"{what} goes out from the conversation's account, {name}.")
    require_in(
        uow,
        operator,
        Action.WORK_CONVERSATIONS,
        conversation.unit_id,
        doing="answer its conversations",
    )
    if message_id is not None and uow.drafts.message_conversation(message_id) != (conversation_id):
        raise DraftError("The message it answers is not in that conversation.")
    return (conversation.account_id,)
