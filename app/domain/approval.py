"""The approval engine: which approvals a draft needs, whether it has them, and who may decide.

Pure domain code over small frozen dataclasses the service builds from rows. Whether the text has
links, whether the policy warns, the conversation's sentiment and whether the author is new are
worked out elsewhere and arrive in :class:`ApprovalFacts`.

Which rules apply (:func:`required`). A :class:`Rule` applies to a draft when all of these hold:

- its unit is the draft's unit or a unit above it (a rule on ``/1/`` applies to a draft of
  ``/1/3/``); a rule without a unit applies in every unit;
- its account is one of the draft's target accounts; a rule without an account applies to all;
- its draft kind is the draft's kind; a rule without a kind applies to every kind;
- its condition holds: ``always``; ``posts_only`` (the draft is a post); ``has_links``;
  ``policy_warns``; ``negative_sentiment`` (the conversation's compound score is below
  :data:`app.domain.filters.NEGATIVE_BELOW`, -0.05; no score, as for a post, is not negative);
  ``new_author``.

What a rule asks: ``required_approvals`` approvals from people holding ``approver_role`` in the
rule's approver unit or a unit above it; without an approver unit, in the draft's unit or above.
The role is the one named, exactly: an administrator does not stand in for a supervisor.

The strictest requirement wins, within one account and over all of a draft's accounts alike:
every applying rule must be satisfied on its own. Rules asking the same role in the same unit
merge into one :class:`Demand` for the highest number any of them asks; rules asking different
roles or units each stay a demand of their own, and each must be met. One approval counts
towards every demand its giver is eligible for (a supervisor of the whole company is a
supervisor of Customer Care too), so the draft needs at least the highest number of approvals any
rule asks for, and more when no single set of people meets every demand. Rules only ever add: a
rule asking 0 approvals (shown as "no approval needed") never lifts another rule's demand. With
no rule applying, a draft needs no approval.

Which approvals count (:func:`evaluate`). An approval counts for a demand only when it is for the
draft's current version (an edit makes a new version, voiding the approvals of the old one), was
not given by the draft's author, comes from a person active now, and that person holds the
demand's role in its unit or above now. Roles and activity are read at evaluation time, not when
the approval was given: an approver who lost the role or was deactivated no longer vouches for a
post that has not gone out. One person is one approval, however many times they are listed. A
rejection or a request for changes on the current version blocks the draft, whoever gave it (it
was allowed when given; only an edit, making a new version, leads on).

On submit and again just before publishing the service calls :func:`verdict_for` (or
:func:`required` then :func:`evaluate`) with the rules in force at that moment and every stored
decision: nothing in a :class:`Review` refers to the rules it was given under, so an approval
given under an older rule set counts exactly when it satisfies the current requirement.

Who may decide (:func:`may_decide`): an active person other than the author, eligible for at
least one of the requirement's demands, deciding the current version of a draft that is pending
approval, once per version; a rejection or a request for changes needs a non-empty reason. Every
refusal, every demand and every shortfall is worded for a person to read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.domain import permissions
from app.domain.drafts import STATE_LABELS
from app.domain.enums import ApprovalCondition, Decision, DraftKind, DraftState, Role
from app.domain.filters import NEGATIVE_BELOW
from app.domain.permissions import ROLE_NAMES, Actor, Place, covers, deactivated

# -- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """One approval rule as the engine needs it (the service resolves unit ids to places).

    Attributes:
        id: The rule's id.
        name: The name people know it by ("posts need two"); reasons say "rule 7" without one.
        unit: Where it applies (and in every unit below); ``None``: everywhere.
        account_id: The one target account it applies to; ``None``: every account.
        account_name: How that account reads in a reason ("@acme_care").
        draft_kind: The one kind of draft it applies to; ``None``: every kind.
        condition: When it applies.
        required_approvals: How many approvals it asks for (0: none).
        approver_role: The role an approver must hold.
        approver_unit: Where they must hold it (or above); ``None``: the draft's unit.
    """

    id: int
    name: str = ""
    unit: Place | None = None
    account_id: int | None = None
    account_name: str = ""
    draft_kind: DraftKind | None = None
    condition: ApprovalCondition = ApprovalCondition.ALWAYS
    required_approvals: int = 1
    approver_role: Role = Role.SUPERVISOR
    approver_unit: Place | None = None

    def __post_init__(self) -> None:
        if self.required_approvals < 0:
            raise ValueError(f"{self.title} cannot ask for a negative number of approvals")

    @property
    def title(self) -> str:
        """How a reason names the rule ("rule 'posts need two'", "rule 7")."""
        return f"rule '{self.name}'" if self.name else f"rule {self.id}"


@dataclass(frozen=True, slots=True)
class ApprovalFacts:
    """What the engine knows about one draft (signals computed elsewhere).

    Attributes:
        draft_id: The draft's id.
        kind: Post, reply or direct message.
        unit: The draft's unit.
        author_id: Who wrote it (they never approve it).
        version: Its current version (only approvals for it count).
        account_ids: The accounts it goes out to.
        has_links: The text has links.
        policy_warns: The policy check found a warning (a risky term, say).
        sentiment: The conversation's compound sentiment score (``None``: not scored, or a post).
        author_is_new: The author counts as new (the service decides what new means).
    """

    draft_id: int
    kind: DraftKind
    unit: Place
    author_id: int
    version: int
    account_ids: tuple[int, ...]
    has_links: bool = False
    policy_warns: bool = False
    sentiment: float | None = None
    author_is_new: bool = False


@dataclass(frozen=True, slots=True)
class Review:
    """One stored decision on one version, with the person who gave it as they are now."""

    person: Actor
    version: int
    decision: Decision
    reason: str = ""


# -- outputs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Demand:
    """``count`` approvals from distinct people holding ``role`` in ``unit`` or a unit above."""

    role: Role
    unit: Place
    count: int
    rule_ids: tuple[int, ...]
    because: tuple[str, ...]  # the rules asking for it, in words ("rule 'links': ...")

    @property
    def who(self) -> str:
        """The approvers it wants ("a supervisor of Customer Care")."""
        return f"{ROLE_NAMES[self.role]} of {self.unit.unit_name}"

    @property
    def text(self) -> str:
        """E.g. "2 approvals from a supervisor of Customer Care (rule 'posts need two')"."""
        return f"{_approvals(self.count)} from {self.who} ({'; '.join(self.because)})"


@dataclass(frozen=True, slots=True)
class Requirement:
    """What a draft needs: every demand met."""

    demands: tuple[Demand, ...]
    rule_ids: tuple[int, ...]  # every applying rule, those asking 0 approvals included
    reasons: tuple[str, ...]  # one line per demand, then the rules that ask for none

    @property
    def needed(self) -> bool:
        """Whether any approval is needed at all."""
        return bool(self.demands)

    @property
    def approvals_needed(self) -> int:
        """The highest number of approvals any applying rule asks for (the least it takes)."""
        return max((d.count for d in self.demands), default=0)

    @property
    def summary(self) -> str:
        """All of it in one line."""
        return "; ".join(self.reasons)


@dataclass(frozen=True, slots=True)
class Shortfall:
    """A demand not met yet: ``have`` of its ``demand.count`` approvals."""

    demand: Demand
    have: int

    @property
    def missing(self) -> int:
        return self.demand.count - self.have

    @property
    def text(self) -> str:
        """E.g. "1 more approval from a supervisor of Customer Care (1 of 2 so far; rule …)"."""
        d = self.demand
        return (
            f"{self.missing} more {'approval' if self.missing == 1 else 'approvals'} from "
            f"{d.who} ({self.have} of {d.count} so far; {'; '.join(d.because)})"
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether the current version is approved under a requirement, and if not, why not."""

    approved: bool
    approver_ids: tuple[int, ...]  # the people whose approvals count, in the order given
    shortfalls: tuple[Shortfall, ...]
    blocked_by: tuple[str, ...]  # rejections and requests for changes of this version, in words
    not_counted: tuple[str, ...]  # approvals that do not count, each with why

    @property
    def missing(self) -> tuple[str, ...]:
        """What stands between the draft and approval, in words (empty when approved)."""
        return self.blocked_by + tuple(s.text for s in self.shortfalls)

    @property
    def summary(self) -> str:
        """All of it in one line ("Approved." or "Not approved: …")."""
        if self.approved:
            return "Approved."
        return "Not approved: " + "; ".join(self.missing).rstrip(".") + "."


# -- which rules apply -----------------------------------------------------------------------

_BECAUSE: dict[ApprovalCondition, str] = {
    ApprovalCondition.ALWAYS: "",
    ApprovalCondition.POSTS_ONLY: "the draft is a post",
    ApprovalCondition.HAS_LINKS: "the text has links",
    ApprovalCondition.POLICY_WARNS: "the policy warns",
    ApprovalCondition.NEGATIVE_SENTIMENT: "the conversation is negative",
    ApprovalCondition.NEW_AUTHOR: "the author is new",
}


def condition_holds(condition: ApprovalCondition, facts: ApprovalFacts) -> bool:
    """Whether ``condition`` holds for the draft described by ``facts``."""
    match ApprovalCondition(condition):
        case ApprovalCondition.ALWAYS:
            return True
        case ApprovalCondition.POSTS_ONLY:
            return facts.kind is DraftKind.POST
        case ApprovalCondition.HAS_LINKS:
            return facts.has_links
        case ApprovalCondition.POLICY_WARNS:
            return facts.policy_warns
        case ApprovalCondition.NEGATIVE_SENTIMENT:
            return facts.sentiment is not None and facts.sentiment < NEGATIVE_BELOW
        case ApprovalCondition.NEW_AUTHOR:
            return facts.author_is_new


def applies(rule: Rule, facts: ApprovalFacts) -> bool:
    """Whether ``rule`` applies to the draft (its unit or above, a target, its kind, its case)."""
    return (
        (rule.unit is None or _covers(rule.unit.unit_path, facts.unit.unit_path))
        and (rule.account_id is None or rule.account_id in facts.account_ids)
        and (rule.draft_kind is None or rule.draft_kind is DraftKind(facts.kind))
        and condition_holds(rule.condition, facts)
    )


def _covers(upper: str, unit_path: str) -> bool:
    """Whether the unit at ``upper`` is the unit at ``unit_path`` or one above it."""
    return unit_path.startswith(upper)


def _because(rule: Rule) -> str:
    words = rule.title
    if rule.account_id is not None:
        words += f", for {rule.account_name or f'account {rule.account_id}'}"
    condition = _BECAUSE[ApprovalCondition(rule.condition)]
    return f"{words}: {condition}" if condition else words


def required(rules: Iterable[Rule], facts: ApprovalFacts) -> Requirement:
    """The approvals the draft needs under ``rules``: the strictest of every applying rule.

    Args:
        rules: The approval rules in force (all of them; those that do not apply are skipped).
        facts: The draft, its targets and its signals.

    Returns:
        One demand per distinct (role, approver unit) with the highest count asked for it, the
        applying rules, and a line of reasons per demand.
    """
    applying = sorted((r for r in rules if applies(r, facts)), key=lambda r: r.id)
    groups: dict[tuple[Role, str], list[Rule]] = {}
    places: dict[str, Place] = {}
    free: list[Rule] = []
    for rule in applying:
        if rule.required_approvals == 0:
            free.append(rule)
            continue
        where = rule.approver_unit or facts.unit
        places.setdefault(where.unit_path, where)
        groups.setdefault((Role(rule.approver_role), where.unit_path), []).append(rule)
    demands = tuple(
        Demand(
            role=role,
            unit=places[path],
            count=max(r.required_approvals for r in group),
            rule_ids=tuple(r.id for r in group),
            because=tuple(_because(r) for r in group),
        )
        for (role, path), group in groups.items()
    )
    reasons = tuple(d.text for d in demands) + tuple(
        f"No approval needed ({_because(r)})" for r in free
    )
    return Requirement(
        demands=demands,
        rule_ids=tuple(r.id for r in applying),
        reasons=reasons or ("No approval rule applies to this draft",),
    )


# -- which approvals count -------------------------------------------------------------------


def holds_role(person: Actor, role: Role, unit: Place) -> bool:
    """Whether ``person`` holds ``role`` in ``unit`` or a unit above it (activity aside)."""
    return any(g.role is Role(role) and covers(g, unit.unit_path) for g in person.grants)


def eligible(person: Actor, demand: Demand, facts: ApprovalFacts) -> bool:
    """Whether an approval by ``person`` counts towards ``demand`` (version aside)."""
    return (
        person.active
        and person.person_id != facts.author_id
        and holds_role(person, demand.role, demand.unit)
    )


def evaluate(requirement: Requirement, reviews: Iterable[Review], facts: ApprovalFacts) -> Verdict:
    """Whether the draft's current version meets ``requirement`` with the stored decisions.

    Args:
        requirement: What the rules in force now ask (from :func:`required`).
        reviews: Every stored decision on the draft, any version, with each person as they are
            now (their roles and whether they are active).
        facts: The draft (its author and current version).

    Returns:
        Approved, or the shortfalls and blocking decisions in words, with every approval that
        does not count and why.
    """
    blocked: list[str] = []
    not_counted: list[str] = []
    current: dict[int, Actor] = {}  # person id -> person, approvals of this version
    for review in reviews:
        person = review.person
        if review.version != facts.version:
            if review.decision is Decision.APPROVED:
                not_counted.append(
                    f"{person.name}'s approval was for version {review.version}; "
                    f"the draft is at version {facts.version}"
                )
            continue
        if review.decision is not Decision.APPROVED:
            blocked.append(_blocking(review))
            continue
        if person.person_id in current:
            not_counted.append(f"{person.name} approved twice; one person is one approval")
            continue
        current[person.person_id] = person
    counting: list[int] = []
    for pid, person in current.items():
        why = _not_counting(person, requirement, facts)
        if why:
            not_counted.append(why)
        else:
            counting.append(pid)
    shortfalls = []
    for demand in requirement.demands:
        have = sum(1 for p in current.values() if eligible(p, demand, facts))
        if have < demand.count:
            shortfalls.append(Shortfall(demand, have))
    return Verdict(
        approved=not blocked and not shortfalls,
        approver_ids=tuple(counting),
        shortfalls=tuple(shortfalls),
        blocked_by=tuple(blocked),
        not_counted=tuple(not_counted),
    )


def verdict_for(rules: Iterable[Rule], reviews: Iterable[Review], facts: ApprovalFacts) -> Verdict:
    """:func:`evaluate` under the requirement of ``rules``: the check on submit and on publish."""
    return evaluate(required(rules, facts), reviews, facts)


def _blocking(review: Review) -> str:
    name, version = review.person.name, review.version
    if review.decision is Decision.REJECTED:
        return f"{name} rejected version {version}: {review.reason}"
    return f"{name} asked for changes to version {version}: {review.reason}"


def _not_counting(person: Actor, requirement: Requirement, facts: ApprovalFacts) -> str:
    """Why ``person``'s approval of the current version counts for no demand ("" if it does)."""
    if person.person_id == facts.author_id:
        return f"{person.name} wrote this draft, and nobody approves their own draft"
    if not person.active:
        return f"{person.name}'s approval no longer counts: {person.name} is deactivated"
    if not requirement.demands or any(eligible(person, d, facts) for d in requirement.demands):
        return ""
    return (
        f"{person.name}'s approval does not count: {person.name} is not "
        f"{_whom(requirement.demands)}"
    )


def _whom(demands: Sequence[Demand]) -> str:
    """The approvers the demands want, as one phrase ("a supervisor of Care or …")."""
    names = [d.who for d in demands]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return f"{listed} (or of a unit above)"


# -- who may decide --------------------------------------------------------------------------

_VERB: dict[Decision, str] = {
    Decision.APPROVED: "approve",
    Decision.REJECTED: "reject",
    Decision.CHANGES_REQUESTED: "ask for changes to",
}
_DONE: dict[Decision, str] = {
    Decision.APPROVED: "approved",
    Decision.REJECTED: "rejected",
    Decision.CHANGES_REQUESTED: "asked for changes to",
}


def may_decide(
    actor: Actor,
    decision: Decision,
    *,
    reason: str,
    version: int,
    state: DraftState,
    requirement: Requirement,
    facts: ApprovalFacts,
    reviews: Iterable[Review],
) -> permissions.Decision:
    """May ``actor`` give ``decision`` on ``version`` of the draft? With the reason when not.

    Args:
        actor: Who decides, as they are now.
        decision: Approve, reject or request changes.
        reason: Why (required, non-blank, for a rejection or a request for changes).
        version: The version they looked at.
        state: Where the draft is (decisions are taken while it is pending approval).
        requirement: What the rules in force now ask (from :func:`required`).
        facts: The draft (its author and current version).
        reviews: The decisions already stored on the draft.

    Returns:
        Allowed, or refused with a sentence naming what is missing (the role and unit, the
        version, the reason).
    """
    decision = Decision(decision)
    verb = _VERB[decision]
    if not actor.active:
        return _no(deactivated(actor.name))
    if actor.person_id == facts.author_id:
        return _no(f"Nobody can {verb} their own draft: {actor.name} wrote this one.")
    if DraftState(state) is not DraftState.PENDING_APPROVAL:
        return _no(
            f"Only a draft waiting for approval can be decided on; "
            f"this one is {STATE_LABELS[DraftState(state)]}."
        )
    if version != facts.version:
        return _no(
            f"Version {version} is no longer current: the draft was edited and is now at "
            f"version {facts.version}. Read the new version first."
        )
    if not requirement.demands:
        return _no("This draft needs no approval under the rules in force.")
    if not any(holds_role(actor, d.role, d.unit) for d in requirement.demands):
        return _no(
            f"Only {_whom(requirement.demands)} can {verb} this draft; "
            f"{actor.name} holds no such role."
        )
    for review in reviews:
        if review.person.person_id == actor.person_id and review.version == facts.version:
            return _no(
                f"{actor.name} has already {_DONE[review.decision]} version {facts.version}; "
                "one person gives one decision per version."
            )
    if decision is not Decision.APPROVED and not reason.strip():
        what = "A rejection" if decision is Decision.REJECTED else "A request for changes"
        return _no(f"{what} needs a reason: say what is wrong or what to change.")
    return permissions.Decision(True)


def _no(reason: str) -> permissions.Decision:
    return permissions.Decision(False, reason)


def _approvals(n: int) -> str:
    return f"{n} approval" if n == 1 else f"{n} approvals"
