"""Drafts and their approval: the use cases from writing one to the check before publishing.

Write, edit, submit, approve, reject, ask for changes, schedule, withdraw, delete; the approvals
queue; the check before publishing.

Every call that changes a draft takes the operator (a person id) first, reads the draft locked
(:meth:`app.storage.drafts.SqlDrafts.get`), moves it only through
:func:`app.domain.drafts.transition`, and writes its change and one audit entry (``draft.create``,
``draft.edit``, ``draft.submit``, ``draft.approve``, ``draft.reject``, ``draft.request_changes``,
``draft.schedule``, ``draft.unschedule``, ``draft.withdraw``, ``draft.delete``, ``draft.retry``;
the outbox's ``draft.approval_lapsed``, ``draft.missed_approval``, ``draft.policy_blocked``,
``draft.approved``) in one transaction. A refusal raises :class:`NotAllowed` (who may not) or
:class:`DraftError` (what cannot be done as asked), each with a sentence naming what is missing.

Who may do what:

- **Writing** (create, edit, submit): a person who may work in the draft's unit (an agent,
  supervisor or administrator there or above); a reply or direct message also needs the right
  in its conversation's unit. Only the author edits and submits their draft.
- **Deciding** (approve, reject, request changes): whoever
  :func:`app.domain.approval.may_decide` allows under the rules in force now; its refusal is
  :class:`NotAllowed` with its sentence. A rejection or request for changes needs a reason.
- **Scheduling, withdrawing, deleting**: the author (still able to work in the unit) or an
  administrator of the draft's unit or above; never while publishing or once published (nor
  deleting a draft published on some of its accounts).

Decisions:

- **Autosave is an edit.** :meth:`DraftsService.save_text` stores what is typed: in ``draft`` a
  version never submitted is rewritten in place; anywhere else it is editable it makes a new
  version (voiding the old one's approvals) and the draft goes back to ``draft``
  (:func:`app.domain.drafts.edit_makes_new_version`). The same text again writes nothing.
- **Submitting** refuses an empty text, a time that has passed, a blocking policy finding
  (:class:`PolicyBlocked`, with the findings' messages) and a time less than
  :data:`app.domain.drafts.APPROVAL_LEAD` away when approvals are still needed; then the draft is
  ``pending_approval`` and goes on at once as far as the outbox would take it
  (:func:`app.domain.drafts.outbox_event`): approved when the requirement is met already
  (0 approvals needed, or approvals kept through a withdrawal), scheduled when it has a time.
- **After each decision** the verdict is worked out again with the rules in force: enough
  approvals make it approved (or scheduled); a rejection makes it rejected, a request for
  changes changes requested.
- **The approvals queue** (:meth:`DraftsService.pending_for`) offers a person the pending drafts
  whose demands they could meet (the role the rules ask, in the unit they ask or above; the
  ``draft_approvers`` rows written with each requirement), oldest first, and checks each again
  with :func:`~app.domain.approval.may_decide` under the rules in force before listing it.
- **Before publishing** (:meth:`DraftsService.check_before_publish`) the policy and the
  requirement are worked out again with the rules in force then: approvals that no longer meet
  it fire ``approval_lapsed`` (back to pending, offered to the approvers the new rules ask), a
  pending draft the new rules no longer hold back is approved, one not approved
  :data:`~app.domain.drafts.APPROVAL_LEAD` before its time goes back to ``draft`` with the reason,
  and one the policy now blocks is taken back to ``draft`` with the findings as its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from app.domain.approval import evaluate, may_decide
from app.domain.drafts import APPROVAL_LEAD, DraftEvent, edit_makes_new_version
from app.domain.enums import Decision, DraftKind, DraftState, DraftTargetState
from app.domain.permissions import Action
from app.models.base import utcnow
from app.services.access import NOBODY, NotAllowed, require_in
from app.services.approval_news import ApprovalNews, ApprovalNewsReader
from app.services.draft_checks import (
    PolicyCache,
    Reviewers,
    TargetFindings,
    accounts_in_order,
    approver_keys,
    assess_stored,
    check,
    compiled,
    targets_for_new,
)
from app.services.draft_compose import ComposeCheck, ComposeContext, ComposeReads
from app.services.draft_outbox import PublishGate
from app.services.draft_queue import ApprovalQueue
from app.services.draft_steps import (
    DraftError,
    PolicyBlocked,
    audit,
    author,
    author_or_admin,
    checked_text,
    future,
    iso,
    kind_of,
    load,
    minutes,
    missed_reason,
    move,
    not_frozen,
    settle,
    step,
    walk,
    when,
)
from app.services.draft_views import DraftView, PendingRow, PublishCheck, draft_view
from app.storage.draft_records import NewDraft
from app.storage.ports import Storage

__all__ = [
    "ComposeCheck",
    "ComposeContext",
    "DraftError",
    "DraftView",
    "DraftsService",
    "NotAllowed",
    "PendingRow",
    "PolicyBlocked",
    "PublishCheck",
    "TargetFindings",
]

MAX_REASON = 2_000


class DraftsService:
    """The drafts use cases; safe from any thread (a unit of work per call)."""

    def __init__(self, db: Storage, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock
        self._policy = PolicyCache()
        self._queue = ApprovalQueue(db, self._policy)
        self._gate = PublishGate(db, self._policy, clock)
        self._news = ApprovalNewsReader(db, self._policy, clock)
        self._compose = ComposeReads(db, self._policy, clock)

    # -- writing ---------------------------------------------------------------------------

    def create(
        self,
        operator: int,
        kind: str,
        unit_id: int,
        text: str,
        account_ids: Sequence[int] = (),
        conversation_id: int | None = None,
        in_reply_to_message_id: int | None = None,
        schedule_at: datetime | None = None,
        social_goal_id: int | None = None,
    ) -> int:
        """A new draft (state ``draft``, version 1); returns its id.

        Args:
            operator: Who writes it (its author).
            kind: ``post``, ``reply`` or ``dm``.
            unit_id: The unit it is written for.
            text: What it says so far (may be empty until it is submitted).
            account_ids: A post's accounts (one or more); a reply or direct message goes out
                from its conversation's account (give it or nothing).
            conversation_id: The conversation a reply or direct message answers.
            in_reply_to_message_id: The message of that conversation it answers.
            schedule_at: When it should go out (``None``: once approved).
            social_goal_id: The social goal it serves.

        Raises:
            NotAllowed: the operator may not work in the unit (or the conversation's unit).
            DraftError: a kind, unit, account, conversation, message, goal or time that does
                not fit, or a text too long.
        """
        kind = kind_of(kind)
        text = checked_text(text)
        now = self._clock()
        if schedule_at is not None:
            future(schedule_at, now)
        with self._db.uow() as uow:
            if uow.directory.place(unit_id) is None:
                raise DraftError("That unit does not exist (any more).")
            actor = require_in(
                uow, operator, Action.WORK_CONVERSATIONS, unit_id, doing="write drafts for it"
            )
            targets = targets_for_new(
                uow, operator, kind, account_ids, conversation_id, in_reply_to_message_id
            )
            if social_goal_id is not None and not uow.drafts.is_social_goal(social_goal_id):
                raise DraftError("That social goal does not exist (any more).")
            draft_id = uow.drafts.add(
                NewDraft(
                    kind=kind.value,
                    unit_id=unit_id,
                    author_id=operator,
                    text=text,
                    account_ids=targets,
                    at=now,
                    conversation_id=conversation_id,
                    in_reply_to_message_id=in_reply_to_message_id,
                    schedule_at=schedule_at,
                    social_goal_id=social_goal_id,
                )
            )
            audit(
                uow,
                actor,
                now,
                "draft.create",
                draft_id,
                unit_id,
                None,
                {
                    "kind": kind.value,
                    "account_ids": list(targets),
                    "conversation_id": conversation_id,
                    "state": DraftState.DRAFT.value,
                    "version": 1,
                    "schedule_at": schedule_at.isoformat() if schedule_at else None,
                },
            )
            uow.commit()
        return draft_id

    def save_text(self, operator: int, draft_id: int, text: str) -> int:
        """Store what the author typed (autosave); returns the draft's current version.

        In ``draft`` a version nobody decided is rewritten in place; in any other editable
        state (and for a decided version) the text becomes a new version, which voids the
        approvals of the old one, and the draft goes back to ``draft``.

        Raises:
            NotAllowed: the operator is not the author, or may no longer work in its unit.
            DraftError: no such draft; it cannot be edited now (publishing, published); the text
                is too long.
        """
        text = checked_text(text)
        now = self._clock()
        with self._db.uow() as uow:
            draft = load(uow, draft_id)
            actor = author(uow, operator, draft, "edit it")
            if text == draft.text:
                return draft.version
            state = DraftState(draft.state)
            after = step(state, DraftEvent.EDIT)
            decided = any(d.version == draft.version for d in uow.drafts.decisions(draft.id))
            submitted = uow.drafts.was_submitted(draft.id, draft.version)
            new = edit_makes_new_version(
                state, version_decided=decided, version_submitted=submitted
            )
            version = draft.version + 1 if new else draft.version
            if new:
                uow.drafts.add_version(draft.id, version, text, operator, now)
            else:
                uow.drafts.rewrite(draft.id, version, text, now)
            move(uow, draft, after, now)
            audit(
                uow,
                actor,
                now,
                "draft.edit",
                draft.id,
                draft.unit_id,
                {"state": state.value, "version": draft.version},
                {"state": after.value, "version": version, "new_version": new, "length": len(text)},
            )
            uow.commit()
        return version

    def edit(self, operator: int, draft_id: int, text: str) -> int:
        """:meth:`save_text`: an edit and an autosave are the same change."""
        return self.save_text(operator, draft_id, text)

    # -- submitting ------------------------------------------------------------------------

    def submit(self, operator: int, draft_id: int) -> DraftState:
        """Check the draft against the policy and send it for approval; returns its new state.

        ``pending_approval``, or at once ``approved`` (``scheduled`` with a time) when the
        rules in force ask for no approval or the version kept its approvals.

        Raises:
            NotAllowed: the operator is not the author, or may no longer work in its unit.
            PolicyBlocked: a blocking finding (banned term, missing disclaimer, link domain,
                length), with every finding's message.
            DraftError: no such draft; not in ``draft``; empty; a post without the social goal
                it serves; its time has passed, or is too close to be approved in time.
        """
        now = self._clock()
        with self._db.uow() as uow:
            draft = load(uow, draft_id)
            actor = author(uow, operator, draft, "submit it")
            state = DraftState(draft.state)
            pending = step(state, DraftEvent.SUBMIT)
            if not draft.text.strip():
                raise DraftError("The draft is empty: write something first.")
            if draft.kind == DraftKind.POST and draft.social_goal_id is None:
                raise DraftError(
                    "A post needs the social goal it serves: choose one, then submit it."
                )
            if draft.schedule_at is not None and draft.schedule_at <= now:
                raise DraftError(
                    f"Its time, {when(draft.schedule_at)}, has passed: pick a new time or clear it."
                )
            assessment = assess_stored(uow, self._policy, draft)
            if assessment.blocked:
                raise PolicyBlocked(assessment.blocks, assessment.findings)
            reviews = Reviewers(uow).reviews(uow.drafts.decisions(draft.id))
            verdict = evaluate(assessment.requirement, reviews, assessment.facts)
            events = [
                DraftEvent.SUBMIT,
                *settle(pending, verdict.approved, draft.schedule_at, now),
            ]
            if DraftEvent.MISSED_APPROVAL in events:
                assert draft.schedule_at is not None  # missed only with a time
                raise DraftError(
                    f"It is due at {when(draft.schedule_at)} and needs approval at least "
                    f"{minutes(APPROVAL_LEAD)} before: pick a later time."
                )
            final = walk(state, events)
            move(uow, draft, final, now, failure_reason="")
            uow.drafts.mark_submitted(draft.id, draft.version, now)
            if final is DraftState.PENDING_APPROVAL:
                uow.drafts.set_approvers(draft.id, approver_keys(assessment.requirement))
            audit(
                uow,
                actor,
                now,
                "draft.submit",
                draft.id,
                draft.unit_id,
                {"state": state.value, "version": draft.version},
                {
                    "state": final.value,
                    "version": draft.version,
                    "events": [e.value for e in events],
                    "requirement": assessment.requirement.summary,
                    "rule_ids": list(assessment.requirement.rule_ids),
                },
            )
            uow.commit()
        return final

    def set_accounts(self, operator: int, draft_id: int, account_ids: Sequence[int]) -> None:
        """A post goes out on ``account_ids`` from now on (the compose pane's checkboxes).

        Only while it is a ``draft``: a draft waiting for approval, approved or decided keeps
        the accounts its reviewers saw (edit its text first: that makes it a draft again).

        Raises:
            NotAllowed: the operator is not the author, or may no longer work in its unit.
            DraftError: no such draft; not a post; not in ``draft``; no account, or an unknown
                one.
        """
        now = self._clock()
        with self._db.uow() as uow:
            draft = load(uow, draft_id)
            actor = author(uow, operator, draft, "change its accounts")
            if draft.kind != DraftKind.POST:
                raise DraftError(
                    "A reply or direct message goes out from its conversation's account."
                )
            if draft.state != DraftState.DRAFT:
                raise DraftError(
                    f"It is {DraftState(draft.state).value.replace('_', ' ')}: its reviewers "
                    "decide on the accounts they saw. Withdraw it or edit its text first."
                )
            targets = targets_for_new(uow, operator, DraftKind.POST, account_ids, None, None)
            before = [t.account_id for t in draft.targets]
            if list(targets) == before:
                return
            uow.compose.set_targets(draft.id, targets, now)
            audit(
                uow,
                actor,
                now,
                "draft.accounts",
                draft.id,
                draft.unit_id,
                {"account_ids": before},
                {"account_ids": list(targets)},
            )
            uow.commit()

    def set_social_goal(self, operator: int, draft_id: int, social_goal_id: int | None) -> None:
        """The social goal the draft serves (``None``: none); not part of what is approved.

        Raises:
            NotAllowed: neither its author nor an administrator of its unit.
            DraftError: no such draft, or no such social goal; publishing or published.
        """
        now = self._clock()
        with self._db.uow() as uow:
            draft = load(uow, draft_id)
            actor = author_or_admin(uow, operator, draft, "change its social goal")
            not_frozen(DraftState(draft.state), "changed")
            if draft.social_goal_id == social_goal_id:
                return
            if social_goal_id is not None and not uow.drafts.is_social_goal(social_goal_id):
                raise DraftError("That social goal does not exist (any more).")
            uow.compose.set_social_goal(draft.id, social_goal_id, now)
            audit(
                uow,
                actor,
                now,
                "draft.social_goal",
                draft.id,
                draft.unit_id,
                {"social_goal_id": draft.social_goal_id},
                {"social_goal_id": social_goal_id},
            )
            uow.commit()

    # -- composing -------------------------------------------------------------------------

    def compose_context(
        self,
        operator: int,
        kind: str,
        unit_id: int | None = None,
        conversation_id: int | None = None,
    ) -> ComposeContext:
        """What the compose pane checks against as the person types (read it off the GUI thread).

        Its :meth:`~app.services.draft_compose.ComposeContext.check` gives, for a text and a
        post's accounts, the findings per account, the counters, the ranges to underline and
        the approvals the draft will need and from whom, under the policy and rules read now.

        Args:
            operator: Who writes.
            kind: ``post``, ``reply`` or ``dm``.
            unit_id: The unit the draft is for (a post: the first unit the operator works in
                when ``None``; a reply: its conversation's unit when ``None``).
            conversation_id: The conversation a reply or direct message answers.

        Raises:
            NotAllowed: the operator may not work in the unit, or is nobody.
            DraftError: no such unit or conversation; the policy cannot be read.
        """
        return self._compose.context(operator, kind, unit_id, conversation_id)

    def preview_requirement(
        self,
        operator: int,
        kind: str,
        text: str,
        *,
        unit_id: int | None = None,
        account_ids: Sequence[int] = (),
        conversation_id: int | None = None,
    ) -> tuple[str, ...]:
        """The approvals a draft saying ``text`` will need and from whom, one line each.

        Raises:
            NotAllowed: as :meth:`compose_context`.
            DraftError: as :meth:`compose_context`.
        """
        context = self.compose_context(operator, kind, unit_id, conversation_id)
        return context.check(text, account_ids).approval

    def posting_warnings(
        self,
        operator: int,
        kind: str,
        text: str,
        *,
        account_ids: Sequence[int] = (),
        conversation_id: int | None = None,
        schedule_at: datetime | None = None,
        draft_id: int | None = None,
    ) -> tuple[str, ...]:
        """Warnings about when and where it goes out (:mod:`app.domain.compose_warnings`).

        The same text on one of its accounts within 24 hours, a second post on one within the
        hour, Messenger's closed reply window; ``draft_id`` (the draft being written) is not
        compared with itself. One query: call it off the GUI thread.

        Raises:
            NotAllowed: no such person.
            DraftError: no such conversation.
        """
        return self._compose.warnings(
            operator, kind, text, account_ids, conversation_id, schedule_at, draft_id
        )

    def open_draft(
        self, operator: int, kind: str, conversation_id: int | None = None
    ) -> DraftView | None:
        """The operator's draft to open again: in a conversation, or a post being written.

        A reply's or direct message's newest draft in the conversation that has not gone out;
        a post's newest one still being written (draft, changes requested, rejected).
        """
        draft_id = self._compose.open_draft(operator, kind, conversation_id)
        return None if draft_id is None else self.draft_view(draft_id)

    # -- deciding --------------------------------------------------------------------------

    def approve(self, operator: int, draft_id: int, *, version: int) -> DraftState:
        """Approve ``version`` (the one the reviewer read); returns the draft's new state.

        Raises:
            NotAllowed: :func:`app.domain.approval.may_decide` refuses (own draft, no such role
                in the unit the rules ask, a version no longer current, not pending, decided
                already, deactivated), with its sentence.
            DraftError: no such draft.
        """
        return self._decide(operator, draft_id, Decision.APPROVED, "", version)

    def reject(self, operator: int, draft_id: int, reason: str, *, version: int) -> DraftState:
        """Reject ``version`` with a reason; the draft becomes ``rejected``.

        Raises:
            NotAllowed: as for :meth:`approve`.
            DraftError: no such draft; no reason, or one too long.
        """
        return self._decide(operator, draft_id, Decision.REJECTED, reason, version)

    def request_changes(
        self, operator: int, draft_id: int, reason: str, *, version: int
    ) -> DraftState:
        """Ask for changes to ``version``, saying which; the draft becomes ``changes_requested``.

        Raises:
            NotAllowed: as for :meth:`approve`.
            DraftError: no such draft; no reason, or one too long.
        """
        return self._decide(operator, draft_id, Decision.CHANGES_REQUESTED, reason, version)

    def _decide(
        self, operator: int, draft_id: int, decision: Decision, reason: str, version: int
    ) -> DraftState:
        reason = reason.strip()
        if decision is not Decision.APPROVED and not reason:
            what = "A rejection" if decision is Decision.REJECTED else "A request for changes"
            raise DraftError(f"{what} needs a reason: say what is wrong or what to change.")
        if len(reason) > MAX_REASON:
            raise DraftError(f"The reason is longer than {MAX_REASON:,} characters.")
        now = self._clock()
        with self._db.uow() as uow:
            draft = load(uow, draft_id)
            actor = uow.directory.actor(operator)
            if actor is None:
                raise NotAllowed(NOBODY)
            assessment = assess_stored(uow, self._policy, draft)
            reviewers = Reviewers(uow)
            reviews = reviewers.reviews(uow.drafts.decisions(draft.id))
            allowed = may_decide(
                actor,
                decision,
                reason=reason,
                version=version,
                state=DraftState(draft.state),
                requirement=assessment.requirement,
                facts=assessment.facts,
                reviews=reviews,
            )
            if not allowed.allowed:
                raise NotAllowed(allowed.reason)
            uow.drafts.add_decision(draft.id, draft.version, operator, decision, reason, now)
            reviews = reviewers.reviews(uow.drafts.decisions(draft.id))
            verdict = evaluate(assessment.requirement, reviews, assessment.facts)
            state = DraftState(draft.state)
            if decision is Decision.REJECTED:
                events = [DraftEvent.REJECT]
            elif decision is Decision.CHANGES_REQUESTED:
                events = [DraftEvent.REQUEST_CHANGES]
            else:
                events = settle(state, verdict.approved, draft.schedule_at, now)
            final = walk(state, events)
            failure = missed_reason(draft) if DraftEvent.MISSED_APPROVAL in events else None
            move(uow, draft, final, now, failure_reason=failure)
            if final is DraftState.PENDING_APPROVAL:
                uow.drafts.set_approvers(draft.id, approver_keys(assessment.requirement))
            action = {
                Decision.APPROVED: "draft.approve",
                Decision.REJECTED: "draft.reject",
                Decision.CHANGES_REQUESTED: "draft.request_changes",
            }[decision]
            audit(
                uow,
                actor,
                now,
                action,
                draft.id,
                draft.unit_id,
                {"state": state.value, "version": draft.version},
                {
                    "state": final.value,
                    "version": draft.version,
                    "decision": decision.value,
                    "reason": reason,
                    "events": [e.value for e in events],
                    "missing": list(verdict.missing),
                },
            )
            uow.commit()
        return final

    # -- scheduling, withdrawing, deleting -------------------------------------------------

    def schedule(self, operator: int, draft_id: int, at: datetime) -> DraftState:
        """Give the draft a time (or move it); an approved draft becomes ``scheduled``.

        A draft not approved yet keeps the time for when it is; the time is not part of what
        was approved, so moving it keeps the approvals. A waiting draft's approvals are checked
        again under the rules in force (as the outbox would): approvals that no longer suffice
        send it back to ``pending_approval``, and a time too close for the approvals still
        needed is refused.

        Raises:
            NotAllowed: neither its author nor an administrator of its unit.
            DraftError: no such draft; publishing or published; a time without a zone or not
                in the future; a time less than :data:`~app.domain.drafts.APPROVAL_LEAD` away
                while approvals are missing.
        """
        now = self._clock()
        future(at, now)
        with self._db.uow() as uow:
            draft = load(uow, draft_id)
            actor = author_or_admin(uow, operator, draft, "schedule it")
            state = DraftState(draft.state)
            not_frozen(state, "rescheduled")
            events: list[DraftEvent] = []
            missing: tuple[str, ...] = ()
            assessment = None
            if state in (DraftState.PENDING_APPROVAL, DraftState.APPROVED, DraftState.SCHEDULED):
                assessment = assess_stored(uow, self._policy, draft)
                reviews = Reviewers(uow).reviews(uow.drafts.decisions(draft.id))
                verdict = evaluate(assessment.requirement, reviews, assessment.facts)
                missing = verdict.missing
                events = settle(state, verdict.approved, at, now)
                if DraftEvent.MISSED_APPROVAL in events:
                    raise DraftError(
                        f"{when(at)} is too close: it needs approval at least "
                        f"{minutes(APPROVAL_LEAD)} before and is not approved "
                        f"({'; '.join(missing) or 'approvals missing'}). Pick a later time."
                    )
            after = walk(state, events)
            move(uow, draft, after, now, schedule_at=at)
            if after is DraftState.PENDING_APPROVAL and assessment is not None:
                uow.drafts.set_approvers(draft.id, approver_keys(assessment.requirement))
            audit(
                uow,
                actor,
                now,
                "draft.schedule",
                draft.id,
                draft.unit_id,
                {"state": state.value, "schedule_at": iso(draft.schedule_at)},
                {
                    "state": after.value,
                    "schedule_at": iso(at),
                    "events": [e.value for e in events],
                    "missing": list(missing),
                },
            )
            uow.commit()
        return after

    def unschedule(self, operator: int, draft_id: int) -> DraftState:
        """Clear the draft's time; a scheduled draft becomes ``approved`` (out at once).

        Raises:
            NotAllowed: neither its author nor an administrator of its unit.
            DraftError: no such draft; publishing or published.
        """
        now = self._clock()
        with self._db.uow() as uow:
            draft = load(uow, draft_id)
            actor = author_or_admin(uow, operator, draft, "change its time")
            state = DraftState(draft.state)
            not_frozen(state, "unscheduled")
            if draft.schedule_at is None:
                return state
            after = step(state, DraftEvent.UNSCHEDULE) if state is DraftState.SCHEDULED else state
            move(uow, draft, after, now, schedule_at=None)
            audit(
                uow,
                actor,
                now,
                "draft.unschedule",
                draft.id,
                draft.unit_id,
                {"state": state.value, "schedule_at": iso(draft.schedule_at)},
                {"state": after.value, "schedule_at": None},
            )
            uow.commit()
        return after

    def withdraw(self, operator: int, draft_id: int) -> DraftState:
        """Take a pending, approved or scheduled draft back to ``draft``.

        The version stays, and the approvals given for it stay valid.

        Raises:
            NotAllowed: neither its author nor an administrator of its unit.
            DraftError: no such draft; not pending, approved or scheduled.
        """
        now = self._clock()
        with self._db.uow() as uow:
            draft = load(uow, draft_id)
            actor = author_or_admin(uow, operator, draft, "withdraw it")
            state = DraftState(draft.state)
            after = step(state, DraftEvent.WITHDRAW)
            move(uow, draft, after, now)
            audit(
                uow,
                actor,
                now,
                "draft.withdraw",
                draft.id,
                draft.unit_id,
                {"state": state.value, "version": draft.version},
                {"state": after.value, "version": draft.version},
            )
            uow.commit()
        return after

    def delete(self, operator: int, draft_id: int) -> None:
        """Delete the draft with its versions and decisions (the audit log keeps the record).

        Raises:
            NotAllowed: neither its author nor an administrator of its unit.
            DraftError: no such draft; publishing, published, or published on some accounts.
        """
        now = self._clock()
        with self._db.uow() as uow:
            draft = load(uow, draft_id)
            actor = author_or_admin(uow, operator, draft, "delete it")
            state = DraftState(draft.state)
            not_frozen(state, "deleted")
            out = [t.label for t in draft.targets if t.state == DraftTargetState.PUBLISHED]
            if out:
                raise DraftError(
                    f"It is published on {', '.join(out)} already, so it stays on record: "
                    "edit it for the other accounts, or leave it."
                )
            uow.drafts.delete(draft.id)
            audit(
                uow,
                actor,
                now,
                "draft.delete",
                draft.id,
                draft.unit_id,
                {
                    "state": state.value,
                    "kind": draft.kind,
                    "author_id": draft.author_id,
                    "version": draft.version,
                    "text": draft.text,
                },
                None,
            )
            uow.commit()

    # -- the outbox's check and the queue's index ------------------------------------------

    def check_before_publish(self, draft_id: int, now: datetime | None = None) -> PublishCheck:
        """The policy and the approvals of the draft under the rules in force at ``now``.

        Fires what is due short of publishing (``approval_lapsed``, ``approve``, ``schedule``,
        ``missed_approval``; a draft the policy now blocks goes back to ``draft``); ``ready``
        says whether it may start publishing now (:mod:`app.services.draft_outbox`).

        Raises:
            DraftError: no such draft.
        """
        return self._gate.check(draft_id, now)

    def start_publishing(self, draft_id: int, now: datetime | None = None) -> PublishCheck:
        """:meth:`check_before_publish`, then ``publishing`` when ready, in one transaction.

        The publisher's first step (:mod:`app.services.publisher`).

        Raises:
            DraftError: no such draft.
        """
        return self._gate.start(draft_id, now)

    def refresh_queue(self, *, chunk: int = 500) -> int:
        """Work out again who may decide each pending draft, under the rules in force now.

        For after the approval rules change, and for pending drafts written without this
        service (the demo's): the approvals queue offers a draft to the approvers its last
        worked-out requirement named. Changes no draft and writes no audit entry.

        Returns:
            How many pending drafts were looked at.
        """
        return self._queue.refresh(chunk=chunk)

    # -- reading ---------------------------------------------------------------------------

    def draft_view(self, draft_id: int) -> DraftView:
        """The draft with its versions, targets, decisions and requirement.

        What its author and its reviewers read; no check (as the inbox reads).

        Raises:
            DraftError: no such draft.
        """
        with self._db.uow() as uow:
            draft = load(uow, draft_id, lock=False)
            assessment = assess_stored(uow, self._policy, draft)
            decisions = uow.drafts.decisions(draft.id)
            verdict = evaluate(
                assessment.requirement, Reviewers(uow).reviews(decisions), assessment.facts
            )
            return draft_view(draft, uow.drafts.versions(draft.id), decisions, assessment, verdict)

    def check_text(
        self,
        kind: str,
        unit_id: int,
        text: str,
        account_ids: Sequence[int] = (),
        conversation_id: int | None = None,
    ) -> tuple[TargetFindings, ...]:
        """The policy's findings on a text being written, per target.

        The compose pane's live check; submit checks the same way.

        Raises:
            DraftError: no such unit or conversation; the policy cannot be read.
        """
        kind = kind_of(kind)
        with self._db.uow() as uow:
            place = uow.directory.place(unit_id)
            if place is None:
                raise DraftError("That unit does not exist (any more).")
            ids = tuple(account_ids)
            if kind is not DraftKind.POST and conversation_id is not None:
                conversation = uow.drafts.conversation(conversation_id)
                if conversation is None:
                    raise DraftError("That conversation does not exist (any more).")
                ids = (conversation.account_id,)
            accounts = accounts_in_order(uow.drafts.accounts(ids), ids)
            return check(compiled(self._policy, uow), text, kind, place, accounts)

    def pending_for(
        self, operator: int, limit: int = 50, after: tuple[datetime, int] | None = None
    ) -> list[PendingRow]:
        """The approvals queue: pending drafts the operator may decide now, oldest first.

        Args:
            operator: Who looks.
            limit: At most this many rows.
            after: The last row's :attr:`PendingRow.key` of the previous page.

        Raises:
            NotAllowed: no such person, or deactivated.
        """
        return self._queue.pending_for(operator, limit, after)

    # -- the outbox: trying a failed draft again -----------------------------------------------

    def retry(self, operator: int, draft_id: int) -> DraftState:
        """Put a failed draft back into the outbox (``approved``; ``scheduled`` with a time).

        Only its accounts not published yet are sent again (the publisher resends nothing that
        is out); the check before publishing runs again on its way.

        Raises:
            NotAllowed: neither its author nor an administrator of its unit.
            DraftError: no such draft; not failed.
        """
        now = self._clock()
        with self._db.uow() as uow:
            draft = load(uow, draft_id)
            actor = author_or_admin(uow, operator, draft, "retry it")
            state = DraftState(draft.state)
            events = [DraftEvent.RETRY]
            if draft.schedule_at is not None and draft.schedule_at > now:
                events.append(DraftEvent.SCHEDULE)  # its time is still ahead: wait for it
            after = walk(state, events)
            move(uow, draft, after, now, failure_reason="")
            uow.outbox.reset_failed(draft.id)  # its failed accounts wait again; published stay
            audit(
                uow,
                actor,
                now,
                "draft.retry",
                draft.id,
                draft.unit_id,
                {"state": state.value, "failure_reason": draft.failure_reason},
                {"state": after.value, "events": [e.value for e in events]},
            )
            uow.commit()
        return after

    def news_for(self, operator: int, since: datetime) -> ApprovalNews:
        """What started waiting on the operator since ``since``, and the decisions on theirs.

        The drafts submitted (or whose approvals lapsed) since then that the operator may
        decide now, and every approval, rejection or request for changes on the drafts they
        wrote (:mod:`app.services.approval_news`); each item keyed by its audit entry.

        Raises:
            NotAllowed: no such person, or deactivated.
        """
        return self._news.news_for(operator, since)
