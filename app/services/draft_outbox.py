"""The check just before publishing, under the rules in force then (for the publisher).

:meth:`PublishGate.check` works a draft's policy findings and requirement out again and fires
what is due short of publishing (:func:`app.services.draft_steps.settle`):

- ``approval_lapsed`` when its approvals no longer meet the requirement (a rule added, an
  approver who lost the role or was deactivated): back to ``pending_approval``, offered to the
  approvers the rules in force ask for;
- ``approve`` (then ``schedule``) for a pending draft the rules no longer hold back;
- ``missed_approval`` for one not approved :data:`app.domain.drafts.APPROVAL_LEAD` before its
  time: back to ``draft``, same version, with the reason in ``failure_reason``;
- a draft the policy now blocks (a term banned since) is taken back to ``draft`` (``withdraw``)
  with the findings as its reason: approving it again would not change its text.

Each of those is one audit entry in the outbox's name. ``ready`` says whether the publisher may
start publishing it now; :meth:`PublishGate.start` does the check and ``start_publishing`` in one
transaction, putting the targets that failed before (a retry) back in the outbox; targets
published already stay published.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from app.domain.approval import evaluate
from app.domain.drafts import DraftEvent, outbox_event
from app.domain.enums import DraftState
from app.services.auditing import record_change
from app.services.draft_checks import PolicyCache, Reviewers, approver_keys, assess_stored
from app.services.draft_steps import clip, load, missed_reason, move, settle, walk
from app.services.draft_views import PublishCheck
from app.storage.ports import Storage

OUTBOX = "Outbox"  # who the audit log names for the outbox's own steps
_WAITING = (DraftState.PENDING_APPROVAL, DraftState.APPROVED, DraftState.SCHEDULED)


class PublishGate:
    """The check before publishing; safe from any thread (a unit of work per call)."""

    def __init__(self, db: Storage, policy: PolicyCache, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._policy = policy
        self._clock = clock

    def check(self, draft_id: int, now: datetime | None = None) -> PublishCheck:
        """See the module.

        Raises:
            app.services.draft_steps.DraftError: no such draft.
        """
        return self._check(draft_id, now or self._clock(), start=False)

    def start(self, draft_id: int, now: datetime | None = None) -> PublishCheck:
        """The check, then ``start_publishing`` when it is ready, in the same transaction.

        The draft stays locked from its check to ``publishing``: no edit, withdrawal or rule
        read in between can slip past the check. The answer's ``state`` is ``publishing``
        when it started.

        Raises:
            app.services.draft_steps.DraftError: no such draft.
        """
        return self._check(draft_id, now or self._clock(), start=True)

    def _check(self, draft_id: int, now: datetime, *, start: bool) -> PublishCheck:
        with self._db.uow() as uow:
            draft = load(uow, draft_id)
            state = DraftState(draft.state)
            assessment = assess_stored(uow, self._policy, draft)
            reviews = Reviewers(uow).reviews(uow.drafts.decisions(draft.id))
            verdict = evaluate(assessment.requirement, reviews, assessment.facts)
            events: list[DraftEvent] = []
            failure: str | None = None
            action = ""
            if state in _WAITING and assessment.blocked:
                events = [DraftEvent.WITHDRAW]
                failure = clip(
                    "The policy no longer lets it go out: "
                    + "; ".join(assessment.blocks).rstrip(".")
                    + ". Edit it and submit it again."
                )
                action = "draft.policy_blocked"
            elif state in _WAITING:
                events = list(settle(state, verdict.approved, draft.schedule_at, now))
                if DraftEvent.MISSED_APPROVAL in events:
                    failure, action = missed_reason(draft), "draft.missed_approval"
                elif DraftEvent.APPROVAL_LAPSED in events:
                    action = "draft.approval_lapsed"
                elif events:
                    action = "draft.approved" if DraftEvent.APPROVE in events else "draft.schedule"
            final = walk(state, events)
            approved = verdict.approved and not assessment.blocked
            ready = (
                final in (DraftState.APPROVED, DraftState.SCHEDULED)
                and outbox_event(final, approved=approved, schedule_at=draft.schedule_at, now=now)
                is DraftEvent.START_PUBLISHING
            )
            if start and ready:
                events.append(DraftEvent.START_PUBLISHING)
                final = walk(final, [DraftEvent.START_PUBLISHING])
                action = action or "draft.start_publishing"
                failure = "" if failure is None else failure
            if events:
                move(uow, draft, final, now, failure_reason=failure)
                if final is DraftState.PUBLISHING:
                    uow.outbox.reset_failed(draft.id)
                if final is DraftState.PENDING_APPROVAL:
                    uow.drafts.set_approvers(draft.id, approver_keys(assessment.requirement))
                record_change(
                    uow,
                    at=now,
                    person_id=None,
                    person_name=OUTBOX,
                    action=action,
                    entity="draft",
                    entity_id=draft.id,
                    before={
                        "unit_id": draft.unit_id,
                        "state": state.value,
                        "version": draft.version,
                    },
                    after={
                        "unit_id": draft.unit_id,
                        "state": final.value,
                        "version": draft.version,
                        "events": [e.value for e in events],
                        "missing": list(verdict.missing),
                        "reason": failure or "",
                    },
                )
                uow.commit()
        if assessment.blocked:
            summary = "Not published: " + "; ".join(assessment.blocks)
        else:
            summary = failure or verdict.summary
        return PublishCheck(
            draft_id=draft.id,
            state=final,
            approved=approved,
            verdict=verdict,
            events=tuple(events),
            ready=ready,
            blocks=assessment.blocks,
            summary=summary,
        )
