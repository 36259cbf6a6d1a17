"""The publisher: approved drafts out through their accounts' connectors, each exactly once.

One round (:meth:`Publisher.run_once`), as the window's worker and ``quiver publish`` run it:

1. **Unsure targets first.** A target in ``publishing`` that nobody works on (its publisher
   crashed or was killed, or the network answered "it may have been published") is asked about
   with ``find_published`` before anything is sent again: found, it is recorded as published;
   not found, it is sent. When the network cannot tell (the question itself is refused, or fails
   :data:`~app.domain.outbox.MAX_RECONCILES` times) the target is flagged for a person, who says
   whether it went out (:meth:`Publisher.resolve`). At start-up (:meth:`Publisher.reconcile`)
   every such target is asked about at once, whatever its next attempt time.
2. **Drafts due** go through :meth:`app.services.drafts.DraftsService.start_publishing`: the
   policy and the approvals are checked again under the rules in force, and a draft that passes
   goes to ``publishing`` in the same transaction (one that does not is moved as the check says:
   back to pending, or to draft when it missed its approval).
3. **Each pending target** of a publishing draft is claimed with a conditional update (so two
   publishers, in two windows or a window and ``quiver publish``, never send the same one),
   then sent; what the network answered is stored under the same claim:

   - published: the target gets the network's id; the outbound message is stored in its
     conversation under that id (the next poll finds it there and does not store it twice),
     with who sent it and for which unit, and it is the conversation's first response when it
     is the first; a reply makes a new or open conversation wait for the customer;
   - ``RateLimited``: tried again when the network says; ``TransientError`` (nothing left this
     machine): tried again with backoff, and failed after :data:`~app.domain.outbox.MAX_ATTEMPTS`;
   - ``MaybePublished`` (or any error that may come after sending): left in ``publishing``,
     asked about :data:`~app.domain.outbox.RECONCILE_DELAY` later (step 1), never resent blind;
   - ``PublishRejected``, ``AuthExpired``, ``PermissionDenied``: the target fails with the
     network's own message and what to do; Facebook's policy block (368) also pauses the account,
     so nothing else is sent from it until a person resumes it.

   When none of a draft's targets is on its way any more the draft is ``published`` (every
   target is) or ``failed`` (its reason names each account that failed and why); targets that
   were published stay so when the draft is retried.

Every step writes one audit entry in the outbox's name, naming the author and unit it sent for.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.connectors.base import (
    AuthExpired,
    Connector,
    ConnectorError,
    MaybePublished,
    PermissionDenied,
    PublishRejected,
    PublishResult,
    RateLimited,
    TransientError,
)
from app.domain.drafts import APPROVAL_LEAD, DraftEvent, transition
from app.domain.enums import ConversationStatus, DraftKind, DraftState, DraftTargetState, Network
from app.domain.items import InboundItem
from app.domain.outbox import (
    MAX_ATTEMPTS,
    MAX_RECONCILES,
    RECONCILE_DELAY,
    backoff,
    claim_abandoned,
    claim_token,
    draft_outcome,
)
from app.services.auditing import record_change
from app.services.draft_outbox import OUTBOX
from app.services.draft_steps import DraftError, author_or_admin, clip, load
from app.services.drafts import DraftsService
from app.storage.ingest import NewThread
from app.storage.outbox import OutboxTarget
from app.storage.ports import Storage, StorageUnitOfWork

log = logging.getLogger("quiver.services.publisher")

ConnectorFor = Callable[[int], Connector | None]

#: How many drafts and targets one round takes on at most.
ROUND = 50
#: Facebook's "temporarily blocked for policy violations".
FACEBOOK_POLICY_BLOCK = 368
#: The thread a new post opens, per network (as each connector names its threads).
_POST_THREADS = {
    Network.X.value: "x_thread",
    Network.FACEBOOK.value: "fb_post",
    Network.SANDBOX.value: "sandbox_thread",
}


@dataclass(frozen=True, slots=True)
class TargetOutcome:
    """What happened to one target in a round."""

    draft_id: int
    account_id: int
    account: str  # "@acme"
    result: str  # published | retry | unsure | failed | flagged | left
    detail: str
    external_id: str | None = None
    conversation_id: int | None = None


@dataclass(frozen=True, slots=True)
class RoundReport:
    """One round: each target's outcome, and the drafts the check moved or started."""

    outcomes: tuple[TargetOutcome, ...] = ()
    started: tuple[int, ...] = ()  # drafts that went to publishing
    held: tuple[tuple[int, str], ...] = ()  # drafts due that the check held back, with why
    finished: tuple[tuple[int, str], ...] = ()  # drafts that ended: (id, published | failed)
    conversations: tuple[int, ...] = field(default=())  # conversations that got a message

    @property
    def busy(self) -> bool:
        """Whether the round did anything (``--once`` goes on until a round does nothing)."""
        return bool(self.started or self.finished or any(o.result != "left" for o in self.outcomes))


class Publisher:
    """Sends what is due. One per process; safe to run from one worker thread at a time."""

    def __init__(
        self,
        db: Storage,
        drafts: DraftsService,
        connector_for: ConnectorFor,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
        host: str | None = None,
        alive: Callable[[int], bool] | None = None,
    ) -> None:
        self._db = db
        self._drafts = drafts
        self._connector_for = connector_for
        self._clock = clock
        self._rng = rng or random.Random()
        self._host = host or socket.gethostname()
        self._alive = alive or _process_alive
        self.name = claim_token(self._host, os.getpid(), uuid.uuid4().hex[:12])
        self._connectors: dict[int, Connector] = {}

    # -- rounds --------------------------------------------------------------------------------

    def reconcile(self) -> RoundReport:
        """At start-up: every unsure target asked about, whatever its next attempt time."""
        return self._round(startup=True)

    def run_once(self) -> RoundReport:
        """One round: unsure targets, drafts due, pending targets (see the module)."""
        return self._round(startup=False)

    def _round(self, *, startup: bool) -> RoundReport:
        now = self._clock()
        outcomes: list[TargetOutcome] = []
        finished: list[tuple[int, str]] = []
        finished += self._settle_publishing()
        with self._db.uow() as uow:
            unsure = uow.outbox.unsure(None if startup else now, ROUND)
        for target in unsure:
            if not claim_abandoned(
                target.claimed_by,
                target.claimed_at,
                now,
                host=self._host,
                alive=self._alive,
            ):
                continue  # another publisher is sending it right now
            outcome = self._reconcile(target)
            outcomes.append(outcome)
            finished += self._settle(target.draft_id)
        started: list[int] = []
        held: list[tuple[int, str]] = []
        with self._db.uow() as uow:
            due = uow.outbox.due_drafts(now, now + APPROVAL_LEAD, ROUND)
        for draft_id in due:
            try:
                check = self._drafts.start_publishing(draft_id, now)
            except DraftError as exc:  # deleted or changed meanwhile: next round sees it
                held.append((draft_id, str(exc)))
                continue
            if check.state is DraftState.PUBLISHING:
                started.append(draft_id)
            elif check.events or not check.ready:
                held.append((draft_id, check.summary))
        with self._db.uow() as uow:
            sendable = uow.outbox.sendable(self._clock(), ROUND)
        for target in sendable:
            if not self._claim(target):
                continue  # another publisher claimed it first
            outcomes.append(self._send(target))
            finished += self._settle(target.draft_id)
        conversations = tuple(
            sorted({o.conversation_id for o in outcomes if o.conversation_id is not None})
        )
        return RoundReport(
            outcomes=tuple(outcomes),
            started=tuple(started),
            held=tuple(held),
            finished=tuple(finished),
            conversations=conversations,
        )

    def waiting(self) -> int:
        """How many targets are still to go out (the status bar's outbox size)."""
        with self._db.uow() as uow:
            return uow.outbox.waiting_count()

    # -- one target ----------------------------------------------------------------------------

    def _claim(self, target: OutboxTarget) -> bool:
        with self._db.uow() as uow:
            taken = uow.outbox.claim(
                target.target_id,
                by=self.name,
                at=self._clock(),
                state=target.state,
                claimed_by=target.claimed_by,
                claimed_at=target.claimed_at,
            )
            uow.commit()
        return taken

    def _reconcile(self, target: OutboxTarget) -> TargetOutcome:
        """Ask the network whether an unsure target went out; send it when it did not."""
        if not self._claim(target):
            return _outcome(target, "left", "another publisher took it")
        kind = target.kind
        try:
            connector = self._connector(target.account_id)
            found = connector.find_published(
                target.text,
                since=target.draft_created_at,
                in_reply_to=target.in_reply_to if kind == DraftKind.REPLY else None,
                thread_external_id=target.thread_external_id if kind != DraftKind.POST else None,
                kind=kind,
            )
        except RateLimited as exc:
            return self._release(
                target,
                "unsure",
                f"Could not ask {target.account} yet whether it went out: {exc}",
                state=DraftTargetState.PUBLISHING,
                next_at=exc.until,
            )
        except TransientError as exc:
            tries = target.attempts + 1
            if tries >= MAX_RECONCILES:
                return self._flag(target, f"{exc}", tries)
            return self._release(
                target,
                "unsure",
                f"Could not ask {target.account} whether it went out ({exc}); asking again "
                "later. Nothing is sent again before the network answers.",
                state=DraftTargetState.PUBLISHING,
                next_at=self._clock() + backoff(tries, self._rng),
                attempts=tries,
            )
        except (AuthExpired, PermissionDenied, ConnectorError, ValueError) as exc:
            return self._flag(target, str(exc), target.attempts)
        if found is not None:
            return self._published(target, found, "it had gone out: found on the network")
        return self._send(target)

    def _send(self, target: OutboxTarget) -> TargetOutcome:
        """Send a claimed target and store what the network answered, under the claim."""
        try:
            connector = self._connector(target.account_id)
            result = _write(connector, target)
        except RateLimited as exc:
            return self._release(
                target,
                "retry",
                f"{target.account} is rate limited: it goes out after {exc.until:%H:%M} UTC.",
                next_at=exc.until,
            )
        except TransientError as exc:
            tries = target.attempts + 1
            if tries >= MAX_ATTEMPTS:
                return self._fail(
                    target,
                    f"{target.account} could not be reached {tries} times ({exc}). Check the "
                    "connection, then retry the draft.",
                )
            return self._release(
                target,
                "retry",
                f"Could not reach {target.account} ({exc}); trying again.",
                next_at=self._clock() + backoff(tries, self._rng),
                attempts=tries,
            )
        except PublishRejected as exc:
            return self._rejected(target, exc)
        except AuthExpired as exc:
            self._connectors.pop(target.account_id, None)
            return self._fail(
                target,
                f"{target.account} refused our sign-in ({exc}). Reconnect it in Settings > "
                "Accounts, then retry the draft.",
            )
        except PermissionDenied as exc:
            return self._fail(
                target,
                f"{target.account} may not publish this ({exc}). Give the account the "
                "permission to write, reconnect it, then retry the draft.",
            )
        except (MaybePublished, ConnectorError) as exc:
            return self._unsure(target, str(exc))
        except Exception as exc:  # a connector's bug after it may have sent: never resend blind
            log.exception("publishing draft %s to %s failed", target.draft_id, target.account)
            return self._unsure(target, f"{exc.__class__.__name__}: {exc}")
        return self._published(target, result, "published")

    def _unsure(self, target: OutboxTarget, reason: str) -> TargetOutcome:
        return self._release(
            target,
            "unsure",
            f"It may have gone out to {target.account} ({reason}); Quiver asks the network "
            "before sending anything again.",
            state=DraftTargetState.PUBLISHING,
            next_at=self._clock() + RECONCILE_DELAY,
        )

    def _rejected(self, target: OutboxTarget, exc: PublishRejected) -> TargetOutcome:
        if target.network == Network.FACEBOOK and exc.code == FACEBOOK_POLICY_BLOCK:
            detail = (
                "Facebook blocked publishing for policy violations (368): nothing is sent from "
                "this Page until you resume it in Settings > Accounts once the block is lifted."
            )
            with self._db.uow() as uow:
                uow.outbox.pause_account(target.account_id, detail)
                uow.commit()
            return self._fail(target, f"{target.account}: {exc}. {detail}")
        return self._fail(
            target,
            f"{target.account} refused it: {exc}. Edit the draft (or fix what the network "
            "names) and submit it again.",
        )

    def _release(
        self,
        target: OutboxTarget,
        result: str,
        detail: str,
        *,
        state: DraftTargetState = DraftTargetState.PENDING,
        next_at: datetime | None = None,
        attempts: int | None = None,
        needs_person: bool = False,
        audit: tuple[str, dict[str, object]] | None = None,
    ) -> TargetOutcome:
        """Give the claim up, leaving the target in ``state``; ``audit``: (action, after)."""
        with self._db.uow() as uow:
            uow.outbox.release(
                target.target_id,
                by=self.name,
                state=state.value,
                error=clip(detail),
                next_attempt_at=next_at,
                attempts=attempts,
                needs_person=needs_person,
            )
            if audit is not None:
                self._audit(uow, target, *audit)
            uow.commit()
        return _outcome(target, result, detail)

    def _flag(self, target: OutboxTarget, reason: str, attempts: int) -> TargetOutcome:
        detail = (
            f"{target.account} cannot tell whether it went out ({reason}). Look on the account, "
            "then say in Publishing whether it is there; nothing is sent again until then."
        )
        return self._release(
            target,
            "flagged",
            detail,
            state=DraftTargetState.PUBLISHING,
            attempts=attempts,
            needs_person=True,
            audit=("draft.target_unknown", {"reason": reason}),
        )

    def _fail(self, target: OutboxTarget, detail: str) -> TargetOutcome:
        return self._release(
            target,
            "failed",
            detail,
            state=DraftTargetState.FAILED,
            audit=("draft.target_failed", {"error": clip(detail)}),
        )

    def _published(self, target: OutboxTarget, result: PublishResult, how: str) -> TargetOutcome:
        now = self._clock()
        with self._db.uow() as uow:
            if not uow.outbox.mark_published(
                target.target_id, by=self.name, external_id=result.external_id, at=now
            ):
                # Our claim went meanwhile (taken over as abandoned): whoever holds it now
                # finds the write on the network and records it.
                log.warning("draft %s: claim on %s lost", target.draft_id, target.account)
                return _outcome(target, "left", "claim lost")
            conversation = self._store_message(uow, target, result, now)
            self._audit(
                uow,
                target,
                "draft.target_published",
                {"external_id": result.external_id, "how": how, "conversation_id": conversation},
            )
            uow.commit()
        return _outcome(target, "published", how, result.external_id, conversation)

    def _store_message(
        self, uow: StorageUnitOfWork, target: OutboxTarget, result: PublishResult, now: datetime
    ) -> int | None:
        """The outbound message in its conversation (a post opens its own), under its id."""
        if target.kind == DraftKind.POST:
            thread = result.thread_external_id or result.external_id
            thread_type = _POST_THREADS.get(target.network, f"{target.network}_thread")
            in_reply_to = None
        else:
            thread = target.thread_external_id or result.thread_external_id or ""
            thread_type = target.thread_type or ""
            in_reply_to = target.in_reply_to
        item = InboundItem(
            network=target.network,
            external_id=result.external_id,
            kind=target.kind,
            direction="out",
            text=target.text,
            created_at=now,
            author_external_id=None,
            author_handle=target.handle,
            author_name=None,
            thread_external_id=thread,
            thread_type=thread_type,
            in_reply_to=in_reply_to,
            permalink=result.permalink,
            raw={"id": result.external_id, "draft_id": target.draft_id, "sent_by": "quiver"},
        )
        # A post opens its own conversation: it needs no answer (resolved, as ingest stores
        # our own posts) until someone else writes in it, which reopens it.
        decision = NewThread(
            unit_id=target.unit_id,
            reason=f"Our own post, written for {target.unit_name}",
            status=ConversationStatus.RESOLVED.value,
        )
        uow.batches.store(target.account_id, target.network, [item], lambda _i: decision)
        conversation = uow.outbox.mark_sent(
            target.account_id,
            target.network,
            result.external_id,
            sent_by=target.author_id,
            unit_id=target.unit_id,
        )
        if conversation is not None and target.kind != DraftKind.POST:
            uow.outbox.answered(conversation)
        return conversation

    # -- drafts --------------------------------------------------------------------------------

    def _settle_publishing(self) -> list[tuple[int, str]]:
        with self._db.uow() as uow:
            ids = uow.outbox.finished_publishing(ROUND)
        done: list[tuple[int, str]] = []
        for draft_id in ids:
            done += self._settle(draft_id)
        return done

    def _settle(self, draft_id: int) -> list[tuple[int, str]]:
        """A publishing draft none of whose targets is on its way: published or failed."""
        with self._db.uow() as uow:  # a read first: most drafts are still on their way
            if draft_outcome(uow.outbox.target_states(draft_id)) is DraftState.PUBLISHING:
                return []
        now = self._clock()
        with self._db.uow() as uow:
            draft = uow.drafts.get(draft_id, lock=True)
            if draft is None or draft.state != DraftState.PUBLISHING:
                return []
            outcome = draft_outcome(uow.outbox.target_states(draft_id))
            if outcome is DraftState.PUBLISHING:
                return []
            event = DraftEvent.PUBLISHED if outcome is DraftState.PUBLISHED else DraftEvent.FAILED
            final = transition(DraftState.PUBLISHING, event)
            reason = ""
            if final is DraftState.FAILED:
                reason = clip(
                    "Not published on "
                    + "; ".join(f"{a}: {e}" for a, e in uow.outbox.failures(draft_id))
                )
            if not uow.drafts.set_state(
                draft_id,
                expected=DraftState.PUBLISHING.value,
                state=final.value,
                at=now,
                failure_reason=reason,
            ):
                return []
            record_change(
                uow,
                at=now,
                person_id=None,
                person_name=OUTBOX,
                action=f"draft.{final.value}",
                entity="draft",
                entity_id=draft_id,
                before={"unit_id": draft.unit_id, "state": DraftState.PUBLISHING.value},
                after={
                    "unit_id": draft.unit_id,
                    "state": final.value,
                    "version": draft.version,
                    "reason": reason,
                },
            )
            uow.commit()
        return [(draft_id, final.value)]

    # -- a person's answer ---------------------------------------------------------------------

    def resolve(
        self,
        operator: int,
        draft_id: int,
        account_id: int,
        *,
        published: bool,
        external_id: str | None = None,
    ) -> None:
        """A person says whether a flagged target went out (it is there, or send it again).

        Raises:
            NotAllowed: the operator is neither the author nor an administrator of the unit.
            DraftError: no such draft, or that target does not wait for a person.
        """
        now = self._clock()
        with self._db.uow() as uow:
            draft = load(uow, draft_id)
            actor = author_or_admin(uow, operator, draft, "say whether it went out")
            found = self._flagged(uow, draft_id, account_id)
            if found is None:
                raise DraftError("That account of the draft does not wait for anyone's answer.")
            if published and not (external_id or "").strip():
                external_id = f"confirmed-by-hand-{found.target_id}"
            if not uow.outbox.resolve_by_person(
                found.target_id, published=published, external_id=external_id, at=now
            ):
                raise DraftError("Someone answered for it meanwhile: look again.")
            record_change(
                uow,
                at=now,
                person_id=actor.person_id,
                person_name=actor.name,
                action="draft.publish_resolved",
                entity="draft",
                entity_id=draft_id,
                before={"unit_id": draft.unit_id, "account_id": account_id, "unsure": True},
                after={
                    "unit_id": draft.unit_id,
                    "account_id": account_id,
                    "published": published,
                    "external_id": external_id if published else None,
                },
            )
            uow.commit()
        self._settle(draft_id)

    @staticmethod
    def _flagged(uow: StorageUnitOfWork, draft_id: int, account_id: int) -> OutboxTarget | None:
        for target in uow.outbox.flagged(draft_id):
            if target.account_id == account_id:
                return target
        return None

    # -- helpers -------------------------------------------------------------------------------

    def _connector(self, account_id: int) -> Connector:
        connector = self._connectors.get(account_id)
        if connector is None:
            built = self._connector_for(account_id)
            if built is None:
                raise PermissionDenied("the account is no longer in this workspace")
            connector = self._connectors[account_id] = built
        return connector

    def _audit(
        self, uow: StorageUnitOfWork, target: OutboxTarget, action: str, after: dict[str, object]
    ) -> None:
        record_change(
            uow,
            at=self._clock(),
            person_id=None,
            person_name=OUTBOX,
            action=action,
            entity="draft",
            entity_id=target.draft_id,
            before={"unit_id": target.unit_id, "account_id": target.account_id},
            after={
                "unit_id": target.unit_id,
                "account_id": target.account_id,
                "account": target.account,
                "version": target.version,
                "sent_for": target.author_name,
                "unit": target.unit_name,
                **after,
            },
        )


def _write(connector: Connector, target: OutboxTarget) -> PublishResult:
    if target.kind == DraftKind.POST:
        return connector.publish(target.text)
    if not target.thread_external_id:
        raise PublishRejected("its conversation is no longer in the workspace")
    if target.kind == DraftKind.REPLY:
        if not target.in_reply_to:
            raise PublishRejected("the message it answers is no longer in the workspace")
        return connector.reply(
            target.text,
            in_reply_to=target.in_reply_to,
            thread_external_id=target.thread_external_id,
        )
    if not target.recipient_id:
        raise PublishRejected("the conversation has no one to send a direct message to")
    return connector.send_dm(
        target.text, thread_external_id=target.thread_external_id, recipient_id=target.recipient_id
    )


def _outcome(
    target: OutboxTarget,
    result: str,
    detail: str,
    external_id: str | None = None,
    conversation_id: int | None = None,
) -> TargetOutcome:
    return TargetOutcome(
        draft_id=target.draft_id,
        account_id=target.account_id,
        account=target.account,
        result=result,
        detail=detail,
        external_id=external_id,
        conversation_id=conversation_id,
    )


def _process_alive(pid: int) -> bool:
    """Whether a process with this number runs on this computer."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it runs, as someone else
    except OSError:
        return True
    return True
