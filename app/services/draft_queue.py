"""The approvals queue: the pending drafts a person may decide, oldest first, keyset-paged.

The storage finds the candidates through ``draft_approvers`` (the demands worked out when each
draft's requirement last was: on submit, after a decision, when its approval lapsed);
:class:`ApprovalQueue` checks each candidate again with :func:`app.domain.approval.may_decide`
under the rules in force and lists only those the person may decide now. After the approval
rules change, :meth:`ApprovalQueue.refresh` works the demands out again for every pending
draft, so the new approvers see them.
"""

from __future__ import annotations

from datetime import datetime

from app.domain.approval import evaluate, may_decide
from app.domain.enums import Decision, DraftState
from app.services.access import active_actor
from app.services.draft_checks import (
    PolicyCache,
    Reviewers,
    approver_keys,
    assess_draft,
    compiled,
    conversation_of,
    conversations_of,
)
from app.services.draft_views import PendingRow, pending_row
from app.storage.ports import Storage


class ApprovalQueue:
    """The queue's reads and its index; safe from any thread (a unit of work per call)."""

    def __init__(self, db: Storage, policy: PolicyCache) -> None:
        self._db = db
        self._policy = policy

    def pending_for(
        self, operator: int, limit: int = 50, after: tuple[datetime, int] | None = None
    ) -> list[PendingRow]:
        """Pending drafts the operator may decide now, oldest first.

        Raises:
            NotAllowed: no such person, or deactivated.
        """
        limit = max(1, limit)
        with self._db.uow() as uow:
            actor = active_actor(uow, operator)
            grants = [(g.role.value, g.unit_path) for g in actor.grants]
            policy, rules = compiled(self._policy, uow), uow.drafts.approval_rules()
            reviewers = Reviewers(uow)
            rows: list[PendingRow] = []
            cursor = after
            while len(rows) < limit:
                chunk = uow.drafts.pending(grants, operator, after=cursor, limit=limit)
                if not chunk:
                    break
                decisions = uow.drafts.decisions_of([d.id for d in chunk])
                conversations = conversations_of(uow, chunk)
                for draft in chunk:
                    conversation = conversation_of(conversations, draft)
                    assessment = assess_draft(draft, conversation, policy, rules)
                    reviews = reviewers.reviews(decisions.get(draft.id, []))
                    allowed = may_decide(
                        actor,
                        Decision.APPROVED,
                        reason="",
                        version=draft.version,
                        state=DraftState(draft.state),
                        requirement=assessment.requirement,
                        facts=assessment.facts,
                        reviews=reviews,
                    )
                    if allowed.allowed:
                        verdict = evaluate(assessment.requirement, reviews, assessment.facts)
                        rows.append(pending_row(draft, assessment, verdict))
                        if len(rows) == limit:
                            break
                if len(chunk) < limit:
                    break
                cursor = chunk[-1].key  # the rest of this chunk was not for the operator
            return rows

    def refresh(self, *, chunk: int = 500) -> int:
        """Work out again who may decide each pending draft; how many were looked at."""
        done = 0
        after: tuple[datetime, int] | None = None
        while True:
            with self._db.uow() as uow:
                batch = uow.drafts.waiting(after=after, limit=chunk)
                if not batch:
                    return done
                policy, rules = compiled(self._policy, uow), uow.drafts.approval_rules()
                conversations = conversations_of(uow, batch)
                for draft in batch:
                    conversation = conversation_of(conversations, draft)
                    assessment = assess_draft(draft, conversation, policy, rules)
                    uow.drafts.set_approvers(draft.id, approver_keys(assessment.requirement))
                uow.commit()
            done += len(batch)
            if len(batch) < chunk:
                return done
            after = batch[-1].key
