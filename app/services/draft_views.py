"""What the Compose and Approvals screens read of drafts: frozen rows built from the records.

:class:`DraftView` is one draft as its author and its reviewers see it (every version, every
target, every decision with the reviewer's name and reason, the requirement under the rules in
force and what is still missing); :class:`PendingRow` one line of a person's approvals queue;
:class:`PublishCheck` what :meth:`app.services.drafts.DraftsService.check_before_publish` tells
the publisher.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.approval import Verdict
from app.domain.drafts import STATE_LABELS, DraftEvent, allowed_events
from app.domain.enums import Decision, DraftKind, DraftState
from app.services.draft_checks import Assessment, TargetFindings
from app.services.draft_steps import when
from app.storage.draft_records import DecisionRecord, DraftRecord, VersionRecord


@dataclass(frozen=True, slots=True)
class VersionRow:
    version: int
    text: str
    author_name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TargetRow:
    """One account the draft goes out on, and how far it got there."""

    account_id: int
    account: str  # "@acme", the Page's name
    network: str
    state: str
    external_id: str | None
    error: str


@dataclass(frozen=True, slots=True)
class DecisionRow:
    """One reviewer's decision on one version, with their name and reason."""

    version: int
    reviewer_id: int
    reviewer_name: str
    decision: Decision
    reason: str
    at: datetime
    current: bool  # for the draft's current version (older ones no longer count)

    @property
    def text(self) -> str:
        """E.g. "Rachel Adams rejected version 2: off-brand"."""
        verb = {
            Decision.APPROVED: "approved",
            Decision.REJECTED: "rejected",
            Decision.CHANGES_REQUESTED: "asked for changes to",
        }[self.decision]
        said = f"{self.reviewer_name} {verb} version {self.version}"
        return f"{said}: {self.reason}" if self.reason else said


@dataclass(frozen=True, slots=True)
class DraftView:
    """A draft as its author and reviewers see it."""

    id: int
    kind: DraftKind
    state: DraftState
    unit_id: int
    unit_name: str
    author_id: int
    author_name: str
    conversation_id: int | None
    in_reply_to_message_id: int | None
    version: int
    text: str
    schedule_at: datetime | None
    social_goal_id: int | None
    failure_reason: str
    created_at: datetime
    updated_at: datetime
    versions: tuple[VersionRow, ...]
    targets: tuple[TargetRow, ...]
    decisions: tuple[DecisionRow, ...]
    requirement: tuple[str, ...]  # one line per demand, as the rules in force ask
    approved: bool  # the current version meets the requirement
    missing: tuple[str, ...]  # what stands between the current version and approval
    not_counted: tuple[str, ...]  # approvals that do not count, each with why
    findings: tuple[TargetFindings, ...]  # the policy on the current text, per target
    outcome: str  # the state and why, in one sentence for the author
    allowed_events: tuple[DraftEvent, ...]

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def requirement_summary(self) -> str:
        return "; ".join(self.requirement)


@dataclass(frozen=True, slots=True)
class PendingRow:
    """One draft in a person's approvals queue."""

    draft_id: int
    kind: DraftKind
    text: str
    version: int
    unit_id: int
    unit_name: str
    account_ids: tuple[int, ...]
    accounts: tuple[str, ...]
    author_id: int
    author_name: str
    created_at: datetime
    schedule_at: datetime | None
    conversation_id: int | None
    requirement: str  # what the rules in force ask, in one line
    missing: tuple[str, ...]  # what is still missing
    warnings: tuple[str, ...]  # the policy's warnings (risky terms, …)

    @property
    def key(self) -> tuple[datetime, int]:
        """Pass the last row's key as ``after`` for the next page."""
        return (self.created_at, self.draft_id)


@dataclass(frozen=True, slots=True)
class PublishCheck:
    """The check just before publishing, under the rules in force then."""

    draft_id: int
    state: DraftState  # after the events below
    approved: bool
    verdict: Verdict
    events: tuple[DraftEvent, ...]  # what the check fired (approval_lapsed, …)
    ready: bool  # it may start publishing now
    blocks: tuple[str, ...]  # the policy's blocking findings now, in words
    summary: str  # in one sentence


def decision_rows(decisions: list[DecisionRecord], version: int) -> tuple[DecisionRow, ...]:
    return tuple(
        DecisionRow(
            d.version,
            d.person_id,
            d.person_name,
            Decision(d.decision),
            d.reason,
            d.at,
            d.version == version,
        )
        for d in decisions
    )


def outcome(
    draft: DraftRecord, verdict: Verdict, decisions: tuple[DecisionRow, ...], names: dict[int, str]
) -> str:
    """The state and why, for the author ("Rejected by Rachel Adams: off-brand")."""
    state = DraftState(draft.state)
    last = next((d for d in reversed(decisions) if d.current), None)
    if state is DraftState.REJECTED and last is not None:
        return f"Rejected by {last.reviewer_name}: {last.reason}"
    if state is DraftState.CHANGES_REQUESTED and last is not None:
        return f"{last.reviewer_name} asked for changes: {last.reason}"
    if state is DraftState.PENDING_APPROVAL:
        missing = "; ".join(verdict.missing) or "nothing; it goes on at the next check"
        return f"Waiting for approval: {missing}"
    approvers = ", ".join(names.get(p, f"person {p}") for p in verdict.approver_ids)
    by = f" by {approvers}" if approvers else ""
    if state is DraftState.APPROVED:
        return f"Approved{by}; it goes out as soon as the outbox runs."
    if state is DraftState.SCHEDULED and draft.schedule_at is not None:
        return f"Approved{by}; it goes out at {when(draft.schedule_at)}."
    if state is DraftState.PUBLISHING:
        return "Being published."
    if state is DraftState.PUBLISHED:
        return "Published."
    if state is DraftState.FAILED:
        return f"Publishing failed: {draft.failure_reason or 'no reason given'}"
    if draft.failure_reason:
        return draft.failure_reason
    return "A draft: submit it for approval when it is ready."


def draft_view(
    draft: DraftRecord,
    versions: list[VersionRecord],
    decisions: list[DecisionRecord],
    assessment: Assessment,
    verdict: Verdict,
) -> DraftView:
    rows = decision_rows(decisions, draft.version)
    names = {d.person_id: d.person_name for d in decisions}
    state = DraftState(draft.state)
    return DraftView(
        id=draft.id,
        kind=DraftKind(draft.kind),
        state=state,
        unit_id=draft.unit_id,
        unit_name=draft.unit_name,
        author_id=draft.author_id,
        author_name=draft.author_name,
        conversation_id=draft.conversation_id,
        in_reply_to_message_id=draft.in_reply_to_message_id,
        version=draft.version,
        text=draft.text,
        schedule_at=draft.schedule_at,
        social_goal_id=draft.social_goal_id,
        failure_reason=draft.failure_reason,
        created_at=draft.created_at,
        updated_at=draft.updated_at,
        versions=tuple(
            VersionRow(v.version, v.text, v.author_name, v.created_at) for v in versions
        ),
        targets=tuple(
            TargetRow(t.account_id, t.label, t.network, t.state, t.external_id, t.error)
            for t in draft.targets
        ),
        decisions=rows,
        requirement=assessment.requirement.reasons,
        approved=verdict.approved,
        missing=verdict.missing,
        not_counted=verdict.not_counted,
        findings=assessment.findings,
        outcome=outcome(draft, verdict, rows, names),
        allowed_events=allowed_events(state),
    )


def pending_row(draft: DraftRecord, assessment: Assessment, verdict: Verdict) -> PendingRow:
    return PendingRow(
        draft_id=draft.id,
        kind=DraftKind(draft.kind),
        text=draft.text,
        version=draft.version,
        unit_id=draft.unit_id,
        unit_name=draft.unit_name,
        account_ids=tuple(t.account_id for t in draft.targets),
        accounts=tuple(t.label for t in draft.targets),
        author_id=draft.author_id,
        author_name=draft.author_name,
        created_at=draft.created_at,
        schedule_at=draft.schedule_at,
        conversation_id=draft.conversation_id,
        requirement=assessment.requirement.summary,
        missing=verdict.missing,
        warnings=assessment.warnings,
    )
