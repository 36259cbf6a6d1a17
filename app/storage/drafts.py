"""Drafts in SQL: versions, targets, decisions, the approvals queue, what a check reads.

What the drafts service reads to check a draft: the policy, the approval rules, the
conversation.

A use case that changes a draft reads it with ``lock=True`` first: PostgreSQL locks the row
(``SELECT … FOR UPDATE``), SQLite takes the database's write lock with a no-op update, so two
decisions on one draft (two supervisors approving at once) run one after the other and the
second sees the first's approval. State changes are also a compare-and-set on the state read.

The approvals queue (:meth:`SqlDrafts.pending`) lists the pending drafts, oldest first, with a
``draft_approvers`` row the person's roles cover (a role in the row's unit or a unit above it),
that they did not write and have not decided yet in this version. Approver rows exist only
while a draft waits. When fewer than :data:`QUEUE_PROBE` rows match the person's roles (none
for an agent), those drafts are read by id and sorted; otherwise the queue walks
``ix_drafts_state_created_at_id`` :data:`QUEUE_CHUNK` drafts at a time and checks just those.
One query with the checks inside let PostgreSQL join and sort every pending draft first
(35 ms at 10,000, growing with the queue); see ``tests/integration/test_drafts.py`` for the
times at 10,000.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    insert,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.orm import Session, aliased

from app.domain.approval import Rule
from app.domain.enums import (
    ApprovalCondition,
    Decision,
    DraftKind,
    DraftState,
    Network,
    PolicyKind,
    Role,
    StrategyItemType,
)
from app.domain.permissions import Place
from app.domain.policy import PolicyLine, Scope
from app.models import (
    Account,
    Approval,
    ApprovalRule,
    Conversation,
    Draft,
    DraftApprover,
    DraftTarget,
    DraftVersion,
    Message,
    Person,
    PolicyRule,
    StrategyItem,
    Unit,
)
from app.models.base import to_epoch_ms
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

#: How many pending drafts the queue looks at per step (one index walk, then their checks).
QUEUE_CHUNK = 500
#: Fewer approver rows than this for a person's roles: the queue checks just those drafts.
QUEUE_PROBE = 1000


# -- the repository --------------------------------------------------------------------------

_DRAFT_COLUMNS = (
    Draft.id,
    Draft.kind,
    Draft.state,
    Draft.unit_id,
    Unit.path,
    Unit.name,
    Draft.created_by_id,
    Person.name.label("author_name"),
    Draft.conversation_id,
    Draft.in_reply_to_message_id,
    Draft.current_version,
    DraftVersion.text,
    Draft.schedule_at,
    Draft.social_goal_id,
    Draft.failure_reason,
    Draft.created_at,
    Draft.updated_at,
)


def _draft_query() -> Select[Any]:
    return (
        select(*_DRAFT_COLUMNS)
        .join(Unit, Unit.id == Draft.unit_id)
        .join(Person, Person.id == Draft.created_by_id)
        .outerjoin(
            DraftVersion,
            and_(DraftVersion.draft_id == Draft.id, DraftVersion.version == Draft.current_version),
        )
    )


def _after_key() -> Any:
    """``(created_at, id) > (:after_ms, :after_id)``: the next keyset page."""
    return tuple_(Draft.created_at, Draft.id) > tuple_(
        bindparam("after_ms", type_=BigInteger), bindparam("after_id")
    )


class SqlDrafts:
    """:class:`app.storage.ports.DraftsRepository` on a session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    @property
    def _postgresql(self) -> bool:
        return self._s.get_bind().dialect.name == "postgresql"

    # -- drafts ----------------------------------------------------------------------------

    def get(self, draft_id: int, *, lock: bool = False) -> DraftRecord | None:
        """The draft (None: there is none).

        ``lock`` holds off other changes of it until the unit of work ends.
        """
        query = _draft_query().where(Draft.id == draft_id)
        if lock:
            if self._postgresql:
                query = query.with_for_update(of=Draft)
            else:
                # A write statement takes SQLite's write lock now, before the draft is read.
                self._s.execute(text("UPDATE drafts SET id = id WHERE id = :id"), {"id": draft_id})
        row = self._s.execute(query).one_or_none()
        if row is None:
            return None
        return self._records([row])[0]

    def _records(self, rows: Sequence[Any]) -> list[DraftRecord]:
        targets = self._targets([r[0] for r in rows])
        return [
            DraftRecord(
                id=r.id,
                kind=r.kind,
                state=r.state,
                unit_id=r.unit_id,
                unit_path=r.path,
                unit_name=r.name,
                author_id=r.created_by_id,
                author_name=r.author_name,
                conversation_id=r.conversation_id,
                in_reply_to_message_id=r.in_reply_to_message_id,
                version=r.current_version,
                text=r.text or "",
                schedule_at=r.schedule_at,
                social_goal_id=r.social_goal_id,
                failure_reason=r.failure_reason,
                created_at=r.created_at,
                updated_at=r.updated_at,
                targets=tuple(targets.get(r.id, ())),
            )
            for r in rows
        ]

    def _targets(self, draft_ids: Sequence[int]) -> dict[int, list[TargetRecord]]:
        found: dict[int, list[TargetRecord]] = {}
        if not draft_ids:
            return found
        rows = self._s.execute(
            select(
                DraftTarget.draft_id,
                DraftTarget.account_id,
                Account.network,
                Account.handle,
                Account.display_name,
                Account.unit_id,
                DraftTarget.state,
                DraftTarget.external_id,
                DraftTarget.error,
            )
            .join(Account, Account.id == DraftTarget.account_id)
            .where(DraftTarget.draft_id.in_(draft_ids))
            .order_by(DraftTarget.draft_id, DraftTarget.id)
        )
        for r in rows:
            found.setdefault(r[0], []).append(TargetRecord(*r[1:]))
        return found

    def add(self, draft: NewDraft) -> int:
        """Store a new draft in ``draft`` with its first version and its targets; its id."""
        draft_id = int(
            self._s.execute(
                insert(Draft)
                .values(
                    kind=draft.kind,
                    state=DraftState.DRAFT.value,
                    unit_id=draft.unit_id,
                    created_by_id=draft.author_id,
                    conversation_id=draft.conversation_id,
                    in_reply_to_message_id=draft.in_reply_to_message_id,
                    current_version=1,
                    schedule_at=draft.schedule_at,
                    social_goal_id=draft.social_goal_id,
                    failure_reason="",
                    created_at=draft.at,
                    updated_at=draft.at,
                )
                .returning(Draft.id)
            ).scalar_one()
        )
        self.add_version(draft_id, 1, draft.text, draft.author_id, draft.at)
        self._s.execute(
            insert(DraftTarget),
            [
                {"draft_id": draft_id, "account_id": a, "state": "pending", "error": ""}
                for a in draft.account_ids
            ],
        )
        return draft_id

    def add_version(
        self, draft_id: int, version: int, text: str, person_id: int, at: datetime
    ) -> None:
        """Store ``version`` of the text and make it the draft's current one."""
        self._s.execute(
            insert(DraftVersion).values(
                draft_id=draft_id,
                version=version,
                text=text,
                created_by_id=person_id,
                created_at=at,
            )
        )
        self._s.execute(
            update(Draft)
            .where(Draft.id == draft_id)
            .values(current_version=version, updated_at=at)
            .execution_options(synchronize_session=False)
        )

    def rewrite(self, draft_id: int, version: int, text: str, at: datetime) -> None:
        """Replace the text of ``version`` (a never-decided version edited in ``draft``)."""
        self._s.execute(
            update(DraftVersion)
            .where(DraftVersion.draft_id == draft_id, DraftVersion.version == version)
            .values(text=text, created_at=at)
            .execution_options(synchronize_session=False)
        )
        self._touch(draft_id, at)

    def mark_submitted(self, draft_id: int, version: int, at: datetime) -> None:
        """``version`` was submitted at ``at`` (its first submission is kept)."""
        self._s.execute(
            update(DraftVersion)
            .where(
                DraftVersion.draft_id == draft_id,
                DraftVersion.version == version,
                DraftVersion.submitted_at.is_(None),
            )
            .values(submitted_at=at)
            .execution_options(synchronize_session=False)
        )

    def was_submitted(self, draft_id: int, version: int) -> bool:
        found = self._s.scalar(
            select(DraftVersion.submitted_at).where(
                DraftVersion.draft_id == draft_id, DraftVersion.version == version
            )
        )
        return found is not None

    def _touch(self, draft_id: int, at: datetime) -> None:
        self._s.execute(
            update(Draft)
            .where(Draft.id == draft_id)
            .values(updated_at=at)
            .execution_options(synchronize_session=False)
        )

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
        """Move the draft to ``state`` if it is still in ``expected``; False otherwise.

        ``schedule_at`` and ``failure_reason`` change only when given.
        """
        values: dict[str, Any] = {"state": state, "updated_at": at}
        if not isinstance(schedule_at, Keep):
            values["schedule_at"] = schedule_at
        if failure_reason is not None:
            values["failure_reason"] = failure_reason
        result = self._s.execute(
            update(Draft)
            .where(Draft.id == draft_id, Draft.state == expected)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        moved = bool(getattr(result, "rowcount", 0))
        if moved and state != DraftState.PENDING_APPROVAL:
            # Approver rows exist only while the draft waits (the queue reads nothing else).
            self._s.execute(delete(DraftApprover).where(DraftApprover.draft_id == draft_id))
        return moved

    def delete(self, draft_id: int) -> None:
        """Delete the draft with its versions, targets, decisions and approvers (cascade)."""
        self._s.execute(delete(Draft).where(Draft.id == draft_id))

    def versions(self, draft_id: int) -> list[VersionRecord]:
        rows = self._s.execute(
            select(
                DraftVersion.version,
                DraftVersion.text,
                DraftVersion.created_by_id,
                Person.name,
                DraftVersion.created_at,
            )
            .join(Person, Person.id == DraftVersion.created_by_id)
            .where(DraftVersion.draft_id == draft_id)
            .order_by(DraftVersion.version)
        )
        return [VersionRecord(*r) for r in rows]

    # -- decisions -------------------------------------------------------------------------

    def decisions(self, draft_id: int) -> list[DecisionRecord]:
        """Every decision on the draft, any version, in the order given."""
        return self.decisions_of([draft_id]).get(draft_id, [])

    def decisions_of(self, draft_ids: Sequence[int]) -> dict[int, list[DecisionRecord]]:
        found: dict[int, list[DecisionRecord]] = {}
        if not draft_ids:
            return found
        rows = self._s.execute(
            select(
                Approval.draft_id,
                Approval.version,
                Approval.person_id,
                Person.name,
                Approval.decision,
                Approval.reason,
                Approval.created_at,
            )
            .join(Person, Person.id == Approval.person_id)
            .where(Approval.draft_id.in_(draft_ids))
            .order_by(Approval.draft_id, Approval.created_at, Approval.id)
        )
        for r in rows:
            found.setdefault(r[0], []).append(DecisionRecord(*r[1:]))
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
        self._s.execute(
            insert(Approval).values(
                draft_id=draft_id,
                version=version,
                person_id=person_id,
                decision=Decision(decision).value,
                reason=reason,
                created_at=at,
            )
        )
        self._touch(draft_id, at)

    # -- the approvals queue ---------------------------------------------------------------

    def set_approvers(self, draft_id: int, approvers: Iterable[tuple[str, str]]) -> None:
        """Who may decide the draft now: ``(role, unit path)`` pairs, replacing the old ones."""
        self._s.execute(delete(DraftApprover).where(DraftApprover.draft_id == draft_id))
        wanted = sorted(set(approvers))
        if not wanted:
            return
        paths = {p for _r, p in wanted}
        units: dict[str, int] = {
            path: unit_id
            for path, unit_id in self._s.execute(
                select(Unit.path, Unit.id).where(Unit.path.in_(paths))
            )
        }
        rows = [
            {"draft_id": draft_id, "role": Role(role).value, "unit_id": units[path]}
            for role, path in wanted
            if path in units
        ]
        if rows:
            self._s.execute(insert(DraftApprover), rows)

    def pending(
        self,
        grants: Sequence[tuple[str, str]],
        person_id: int,
        *,
        after: tuple[datetime, int] | None = None,
        limit: int = 50,
    ) -> list[DraftRecord]:
        """Pending drafts someone with ``grants`` may decide, oldest first, after ``after``.

        Args:
            grants: The person's ``(role, unit path)`` pairs.
            person_id: The person (their own drafts and those they decided are left out).
            after: The key ``(created_at, id)`` of the last draft of the previous page.
            limit: At most this many.
        """
        limit = max(1, limit)
        covered: dict[str, set[int]] = {}
        units = self._s.execute(select(Unit.id, Unit.path)).all()
        for role, path in set(grants):
            below = {unit_id for unit_id, unit_path in units if unit_path.startswith(path)}
            if below:
                covered.setdefault(Role(role).value, set()).update(below)
        if not covered:
            return []
        x = aliased(DraftApprover)

        def decidable_where(x: Any) -> tuple[Any, ...]:
            return (
                or_(
                    *(
                        and_(x.role == role, x.unit_id.in_(sorted(ids)))
                        for role, ids in sorted(covered.items())
                    )
                ),
            )

        decidable = exists().where(x.draft_id == Draft.id, *decidable_where(x))
        decided = exists().where(
            Approval.draft_id == Draft.id,
            Approval.version == Draft.current_version,
            Approval.person_id == person_id,
        )
        candidates = list(
            self._s.scalars(select(x.draft_id).where(*decidable_where(x)).limit(QUEUE_PROBE))
        )
        if len(candidates) < QUEUE_PROBE:
            # Few drafts wait for these roles at all: check just those (none, for an agent).
            if not candidates:
                return []
            query = _draft_query().where(
                Draft.id.in_(sorted(set(candidates))),
                Draft.state == DraftState.PENDING_APPROVAL.value,
                Draft.created_by_id != person_id,
                ~decided,
            )
            params: dict[str, Any] = {}
            if after is not None:
                query = query.where(_after_key())
                params = {"after_ms": to_epoch_ms(after[0]), "after_id": after[1]}
            rows = self._s.execute(
                query.order_by(Draft.created_at, Draft.id).limit(limit), params
            ).all()
            return self._records(rows)
        found: list[Any] = []
        key: tuple[datetime, int] | None = after
        while len(found) < limit:
            # An index walk over the next pending drafts, then the checks on just those: the
            # work per page stays bounded and no plan sorts every pending draft.
            walk = select(Draft.id, Draft.created_at).where(
                Draft.state == DraftState.PENDING_APPROVAL.value
            )
            params = {}
            if key is not None:
                walk = walk.where(_after_key())
                params = {"after_ms": to_epoch_ms(key[0]), "after_id": key[1]}
            chunk = self._s.execute(
                walk.order_by(Draft.created_at, Draft.id).limit(QUEUE_CHUNK), params
            ).all()
            if not chunk:
                break
            found.extend(
                self._s.execute(
                    _draft_query()
                    .where(
                        Draft.id.in_([r.id for r in chunk]),
                        Draft.created_by_id != person_id,
                        decidable,
                        ~decided,
                    )
                    .order_by(Draft.created_at, Draft.id)
                    .limit(limit - len(found))
                ).all()
            )
            if len(chunk) < QUEUE_CHUNK:
                break
            key = (chunk[-1].created_at, chunk[-1].id)
        return self._records(found)

    def waiting(
        self, *, after: tuple[datetime, int] | None = None, limit: int = 500
    ) -> list[DraftRecord]:
        """Every pending draft, by ``(created_at, id)`` after ``after``, at most ``limit``."""
        query = _draft_query().where(Draft.state == DraftState.PENDING_APPROVAL.value)
        params: dict[str, Any] = {}
        if after is not None:
            query = query.where(_after_key())
            params = {"after_ms": to_epoch_ms(after[0]), "after_id": after[1]}
        query = query.order_by(Draft.created_at, Draft.id).limit(max(1, limit))
        return self._records(self._s.execute(query, params).all())

    # -- what a check reads ----------------------------------------------------------------

    def accounts(self, account_ids: Sequence[int]) -> dict[int, AccountFacts]:
        if not account_ids:
            return {}
        rows = self._s.execute(
            select(
                Account.id, Account.network, Account.handle, Account.display_name, Account.unit_id
            ).where(Account.id.in_(account_ids))
        )
        return {r[0]: AccountFacts(*r) for r in rows}

    def conversation(self, conversation_id: int) -> ConversationFacts | None:
        return self.conversations([conversation_id]).get(conversation_id)

    def conversations(self, conversation_ids: Sequence[int]) -> dict[int, ConversationFacts]:
        if not conversation_ids:
            return {}
        c = Conversation
        earlier = aliased(Conversation)
        seen_before = exists().where(
            earlier.author_id == c.author_id,
            earlier.id != c.id,
            earlier.first_inbound_at < c.first_inbound_at,
        )
        rows = self._s.execute(
            select(
                c.id,
                c.account_id,
                c.unit_id,
                c.thread_type,
                c.sentiment,
                c.author_id,
                c.first_inbound_at,
                seen_before.label("seen_before"),
            ).where(c.id.in_(conversation_ids))
        )
        return {
            r.id: ConversationFacts(
                r.id,
                r.account_id,
                r.unit_id,
                r.thread_type,
                r.sentiment,
                r.author_id is not None and r.first_inbound_at is not None and not r.seen_before,
            )
            for r in rows
        }

    def message_conversation(self, message_id: int) -> int | None:
        """The conversation a message belongs to (None: no such message)."""
        return self._s.scalar(select(Message.conversation_id).where(Message.id == message_id))

    def is_social_goal(self, item_id: int) -> bool:
        found = self._s.scalar(
            select(StrategyItem.id).where(
                StrategyItem.id == item_id,
                StrategyItem.type == StrategyItemType.SOCIAL_GOAL.value,
            )
        )
        return found is not None

    def policy(self) -> PolicySource:
        """Every policy line, with unit and account names for the findings' messages."""
        lines = tuple(
            PolicyLine(
                r.id,
                PolicyKind(r.kind),
                r.value,
                Scope(
                    Network(r.network) if r.network else None,
                    r.unit_id,
                    r.account_id,
                ),
                r.note or "",
            )
            for r in self._s.execute(
                select(
                    PolicyRule.id,
                    PolicyRule.kind,
                    PolicyRule.value,
                    PolicyRule.network,
                    PolicyRule.unit_id,
                    PolicyRule.account_id,
                    PolicyRule.note,
                ).order_by(PolicyRule.id)
            )
        )
        units: dict[int, str] = {
            unit_id: name for unit_id, name in self._s.execute(select(Unit.id, Unit.name))
        }
        accounts = {
            r.id: account_label(r.network, r.handle, r.display_name)
            for r in self._s.execute(
                select(Account.id, Account.network, Account.handle, Account.display_name)
            )
        }
        return PolicySource(lines, MappingProxyType(units), MappingProxyType(accounts))

    def approval_rules(self) -> list[Rule]:
        """Every approval rule, with its units as places and its account's name."""
        unit = aliased(Unit)
        approver = aliased(Unit)
        rows = self._s.execute(
            select(
                ApprovalRule.id,
                unit.path,
                unit.name,
                ApprovalRule.account_id,
                Account.network,
                Account.handle,
                Account.display_name,
                ApprovalRule.draft_kind,
                ApprovalRule.condition,
                ApprovalRule.required_approvals,
                ApprovalRule.approver_role,
                approver.path,
                approver.name,
            )
            .outerjoin(unit, unit.id == ApprovalRule.unit_id)
            .outerjoin(approver, approver.id == ApprovalRule.approver_unit_id)
            .outerjoin(Account, Account.id == ApprovalRule.account_id)
            .order_by(ApprovalRule.id)
        )
        return [
            Rule(
                id=r[0],
                unit=Place(r[1], r[2]) if r[1] is not None else None,
                account_id=r[3],
                account_name=account_label(r[4], r[5], r[6]) if r[4] is not None else "",
                draft_kind=DraftKind(r[7]) if r[7] else None,
                condition=ApprovalCondition(r[8]),
                required_approvals=r[9],
                approver_role=Role(r[10]),
                approver_unit=Place(r[11], r[12]) if r[11] is not None else None,
            )
            for r in rows
        ]
