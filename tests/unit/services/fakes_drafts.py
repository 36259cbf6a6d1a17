"""In-memory drafts for service tests (registered on ``FakeUnitOfWork.drafts`` in ``fakes.py``).

Drafts, versions, targets, decisions and approvers sit in ``FakeData.drafts``, so a rollback
drops them with the rest; so do the policy lines, the approval rules and what a check reads of
a conversation beyond :class:`tests.unit.services.fakes.FakeConversation` (its sentiment,
whether its author is new, its messages). Every ``get(lock=True)`` is noted in
``FakeStorage.draft_locks``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from app.domain.approval import Rule
from app.domain.enums import ApprovalCondition, DraftKind, DraftState, Role
from app.domain.permissions import Place
from app.domain.policy import PolicyLine
from app.storage.draft_records import (
    KEEP,
    AccountFacts,
    ConversationFacts,
    DecisionRecord,
    DraftRecord,
    Keep,
    NewDraft,
    PolicySource,
    TargetRecord,
    VersionRecord,
    account_label,
)

if TYPE_CHECKING:
    from tests.unit.services.fakes import FakeData


@dataclass
class FakeDraft:
    id: int
    kind: str
    state: str
    unit_id: int
    author_id: int
    created_at: datetime
    updated_at: datetime
    conversation_id: int | None = None
    in_reply_to_message_id: int | None = None
    current_version: int = 1
    schedule_at: datetime | None = None
    social_goal_id: int | None = None
    failure_reason: str = ""


@dataclass
class FakeTarget:
    draft_id: int
    account_id: int
    state: str = "pending"
    external_id: str | None = None
    error: str = ""


@dataclass
class FakeVersion:
    draft_id: int
    version: int
    text: str
    author_id: int
    created_at: datetime


@dataclass
class FakeApprovalRule:
    """An ``approval_rules`` row."""

    id: int
    unit_id: int | None = None
    account_id: int | None = None
    draft_kind: str | None = None
    condition: str = ApprovalCondition.ALWAYS
    required_approvals: int = 1
    approver_role: str = Role.SUPERVISOR
    approver_unit_id: int | None = None


@dataclass
class FakeDraftsData:
    drafts: dict[int, FakeDraft] = field(default_factory=dict)
    versions: list[FakeVersion] = field(default_factory=list)
    submitted: dict[tuple[int, int], datetime] = field(default_factory=dict)
    targets: list[FakeTarget] = field(default_factory=list)
    decisions: list[tuple[int, DecisionRecord]] = field(default_factory=list)  # draft id, …
    approvers: dict[int, set[tuple[str, str]]] = field(default_factory=dict)  # role, unit path
    policy: list[PolicyLine] = field(default_factory=list)
    rules: list[FakeApprovalRule] = field(default_factory=list)
    sentiments: dict[int, float] = field(default_factory=dict)  # by conversation id
    new_authors: set[int] = field(default_factory=set)  # conversations of a first-time author
    messages: dict[int, int] = field(default_factory=dict)  # message id -> conversation id
    social_goals: set[int] = field(default_factory=set)


class FakeDrafts:
    def __init__(self, data: FakeData, locks: list[int]) -> None:
        self._d = data
        self._x = data.drafts
        self._locks = locks

    # -- drafts ----------------------------------------------------------------------------

    def _person(self, person_id: int) -> str:
        return next((p.name for p in self._d.people if p.id == person_id), "")

    def _unit(self, unit_id: int) -> tuple[str, str]:
        e = next(e for e in self._d.units if e.unit.id == unit_id)
        return e.unit.path, e.unit.name

    def _record(self, d: FakeDraft) -> DraftRecord:
        path, name = self._unit(d.unit_id)
        text = next(
            (
                v.text
                for v in self._x.versions
                if v.draft_id == d.id and v.version == d.current_version
            ),
            "",
        )
        targets = []
        for t in self._x.targets:
            if t.draft_id != d.id:
                continue
            a = self._d.accounts[t.account_id]
            targets.append(
                TargetRecord(
                    a.id, a.network, a.handle, a.display_name, a.unit_id, t.state, t.external_id,
                    t.error,
                )
            )  # fmt: skip
        return DraftRecord(
            d.id, d.kind, d.state, d.unit_id, path, name, d.author_id, self._person(d.author_id),
            d.conversation_id, d.in_reply_to_message_id, d.current_version, text, d.schedule_at,
            d.social_goal_id, d.failure_reason, d.created_at, d.updated_at, tuple(targets),
        )  # fmt: skip

    def get(self, draft_id: int, *, lock: bool = False) -> DraftRecord | None:
        if lock:
            self._locks.append(draft_id)
        d = self._x.drafts.get(draft_id)
        return None if d is None else self._record(d)

    def add(self, draft: NewDraft) -> int:
        draft_id = max(self._x.drafts, default=0) + 1
        self._x.drafts[draft_id] = FakeDraft(
            draft_id, draft.kind, DraftState.DRAFT.value, draft.unit_id, draft.author_id,
            draft.at, draft.at, draft.conversation_id, draft.in_reply_to_message_id, 1,
            draft.schedule_at, draft.social_goal_id,
        )  # fmt: skip
        self._x.versions.append(FakeVersion(draft_id, 1, draft.text, draft.author_id, draft.at))
        self._x.targets.extend(FakeTarget(draft_id, a) for a in draft.account_ids)
        return draft_id

    def add_version(
        self, draft_id: int, version: int, text: str, person_id: int, at: datetime
    ) -> None:
        if any(v.draft_id == draft_id and v.version == version for v in self._x.versions):
            raise ValueError("UNIQUE constraint failed: draft_versions")  # as the database does
        self._x.versions.append(FakeVersion(draft_id, version, text, person_id, at))
        d = self._x.drafts[draft_id]
        d.current_version, d.updated_at = version, at

    def mark_submitted(self, draft_id: int, version: int, at: datetime) -> None:
        self._x.submitted.setdefault((draft_id, version), at)

    def was_submitted(self, draft_id: int, version: int) -> bool:
        return (draft_id, version) in self._x.submitted

    def rewrite(self, draft_id: int, version: int, text: str, at: datetime) -> None:
        for v in self._x.versions:
            if v.draft_id == draft_id and v.version == version:
                v.text, v.created_at = text, at
        self._x.drafts[draft_id].updated_at = at

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
        d = self._x.drafts.get(draft_id)
        if d is None or d.state != expected:
            return False
        d.state, d.updated_at = DraftState(state).value, at
        if not isinstance(schedule_at, Keep):
            d.schedule_at = schedule_at
        if failure_reason is not None:
            d.failure_reason = failure_reason
        if d.state != DraftState.PENDING_APPROVAL:
            self._x.approvers.pop(draft_id, None)  # as SqlDrafts: only while it waits
        return True

    def delete(self, draft_id: int) -> None:
        self._x.drafts.pop(draft_id, None)
        self._x.versions = [v for v in self._x.versions if v.draft_id != draft_id]
        self._x.targets = [t for t in self._x.targets if t.draft_id != draft_id]
        self._x.decisions = [(i, r) for i, r in self._x.decisions if i != draft_id]
        self._x.approvers.pop(draft_id, None)

    def versions(self, draft_id: int) -> list[VersionRecord]:
        return sorted(
            (
                VersionRecord(
                    v.version, v.text, v.author_id, self._person(v.author_id), v.created_at
                )
                for v in self._x.versions
                if v.draft_id == draft_id
            ),
            key=lambda v: v.version,
        )

    # -- decisions -------------------------------------------------------------------------

    def decisions(self, draft_id: int) -> list[DecisionRecord]:
        return self.decisions_of([draft_id]).get(draft_id, [])

    def decisions_of(self, draft_ids: Sequence[int]) -> dict[int, list[DecisionRecord]]:
        found: dict[int, list[DecisionRecord]] = {}
        for draft_id, record in self._x.decisions:
            if draft_id in draft_ids:
                found.setdefault(draft_id, []).append(record)
        return found

    def add_decision(
        self,
        draft_id: int,
        version: int,
        person_id: int,
        decision: str,
        reason: str,
        at: datetime,
    ) -> None:
        for i, r in self._x.decisions:
            if i == draft_id and r.version == version and r.person_id == person_id:
                raise ValueError("UNIQUE constraint failed: approvals")
        if decision != "approved" and not reason:
            raise ValueError("CHECK constraint failed: ck_approvals_reason")
        record = DecisionRecord(version, person_id, self._person(person_id), decision, reason, at)
        self._x.decisions.append((draft_id, record))
        self._x.drafts[draft_id].updated_at = at

    # -- the approvals queue ---------------------------------------------------------------

    def set_approvers(self, draft_id: int, approvers: Iterable[tuple[str, str]]) -> None:
        paths = {e.unit.path for e in self._d.units}
        self._x.approvers[draft_id] = {(Role(r).value, p) for r, p in approvers if p in paths}

    def pending(
        self,
        grants: Sequence[tuple[str, str]],
        person_id: int,
        *,
        after: tuple[datetime, int] | None = None,
        limit: int = 50,
    ) -> list[DraftRecord]:
        def decidable(d: FakeDraft) -> bool:
            keys = self._x.approvers.get(d.id, set())
            return any(r == gr and p.startswith(gp) for r, p in keys for gr, gp in grants)

        def decided(d: FakeDraft) -> bool:
            return any(
                i == d.id and r.version == d.current_version and r.person_id == person_id
                for i, r in self._x.decisions
            )

        found = sorted(
            (
                d
                for d in self._x.drafts.values()
                if d.state == DraftState.PENDING_APPROVAL
                and d.author_id != person_id
                and decidable(d)
                and not decided(d)
                and (after is None or (d.created_at, d.id) > after)
            ),
            key=lambda d: (d.created_at, d.id),
        )
        return [self._record(d) for d in found[: max(1, limit)]]

    def waiting(
        self, *, after: tuple[datetime, int] | None = None, limit: int = 500
    ) -> list[DraftRecord]:
        found = sorted(
            (
                d
                for d in self._x.drafts.values()
                if d.state == DraftState.PENDING_APPROVAL
                and (after is None or (d.created_at, d.id) > after)
            ),
            key=lambda d: (d.created_at, d.id),
        )
        return [self._record(d) for d in found[: max(1, limit)]]

    # -- what a check reads ----------------------------------------------------------------

    def accounts(self, account_ids: Sequence[int]) -> dict[int, AccountFacts]:
        return {
            a.id: AccountFacts(a.id, a.network, a.handle, a.display_name, a.unit_id)
            for a in self._d.accounts.values()
            if a.id in account_ids
        }

    def conversation(self, conversation_id: int) -> ConversationFacts | None:
        return self.conversations([conversation_id]).get(conversation_id)

    def conversations(self, conversation_ids: Sequence[int]) -> dict[int, ConversationFacts]:
        return {
            c.id: ConversationFacts(
                c.id,
                c.account_id,
                c.unit_id,
                c.thread_type,
                self._x.sentiments.get(c.id),
                c.id in self._x.new_authors,
            )
            for c in self._d.conversations
            if c.id in conversation_ids
        }

    def message_conversation(self, message_id: int) -> int | None:
        return self._x.messages.get(message_id)

    def is_social_goal(self, item_id: int) -> bool:
        return item_id in self._x.social_goals

    def policy(self) -> PolicySource:
        units = {e.unit.id: e.unit.name for e in self._d.units}
        accounts = {
            a.id: account_label(a.network, a.handle, a.display_name)
            for a in self._d.accounts.values()
        }
        return PolicySource(
            tuple(sorted(self._x.policy, key=lambda line: line.id)),
            MappingProxyType(units),
            MappingProxyType(accounts),
        )

    def approval_rules(self) -> list[Rule]:
        def place(unit_id: int | None) -> Place | None:
            if unit_id is None:
                return None
            path, name = self._unit(unit_id)
            return Place(path, name)

        rules = []
        for r in sorted(self._x.rules, key=lambda r: r.id):
            account = self._d.accounts.get(r.account_id) if r.account_id is not None else None
            rules.append(
                Rule(
                    id=r.id,
                    unit=place(r.unit_id),
                    account_id=r.account_id,
                    account_name=(
                        account_label(account.network, account.handle, account.display_name)
                        if account is not None
                        else ""
                    ),
                    draft_kind=DraftKind(r.draft_kind) if r.draft_kind else None,
                    condition=ApprovalCondition(r.condition),
                    required_approvals=r.required_approvals,
                    approver_role=Role(r.approver_role),
                    approver_unit=place(r.approver_unit_id),
                )
            )
        return rules
