"""Routing on ingest: rules, language, sentiment and the spam filter decide a new conversation.

They decide its unit, assignee, priority, tags, status and first-response due time.

How a batch is routed (:meth:`RoutingService.plan`, called by the ingest service *before* its
write transaction, so nothing here runs under SQLite's write lock):

1. One read: the rules' fingerprint (their rows decoded and compiled into a
   :class:`app.domain.routing.RuleSet` only when it changed), the organization and units, which
   of the batch's threads exist, the authors we know, recent spam sightings of the batch's texts.
2. For the first item of every thread not stored yet (follow-ups never re-route): its language
   (among the organization's languages), its sentiment (English only), whether the author is new,
   their follower count (the newest payload's, else the stored one), then the rules.
3. The spam filter scores inbound first messages only: a follow-up in a known conversation does
   not change its status (an agent's "Spam" does), so it is not scored. At or above the
   workspace's threshold, or when a rule marks it, the conversation is ``spam``.
4. The first-response due time comes from the unit's target in business hours (the unit's own
   hours, else the organization's; its holidays and zone); none for spam, and none for a
   conversation our own account started.

Languages: those the units list (``units.languages``, "de,en"), those the rules ask about, and
English; with fewer than two, :data:`DEFAULT_LANGUAGES` (detection restricted to one language
would call every text that language).

A rule row the codec refuses is skipped with a warning naming it; ingest never stops for it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from app.domain.enums import ConversationStatus
from app.domain.items import InboundItem
from app.domain.permissions import Actor
from app.domain.routing import (
    Assign,
    Rule,
    RuleError,
)
from app.domain.spam import (
    Sighting,
    SpamConfig,
    SpamVerdict,
    fingerprint_of,
    fold,
    normalize_folded,
)
from app.domain.text_signals import LanguageDetector, given_language
from app.services.access import NOBODY, NotAllowed
from app.services.routing_again import (
    LIMIT,
    AgainOutcome,
    RerouteRow,
    RoutingAgainError,
    candidates,
    check_may,
    fitted,
    record_move,
)
from app.services.routing_decisions import (
    DEFAULT_LANGUAGES,
    FirstMessage,
    RoutingContext,
    calendar_of,
    compile_rules,
    decide,
    due_in,
    evaluate,
    first_items,
    languages_of,
    rule_of,
    spam_verdict,
    unit_name,
    zone_or_utc,
)
from app.services.signals import InlineSignals, PendingSignals, SignalSource
from app.storage.ingest import NewThread, Router
from app.storage.ports import BatchFacts, BatchOwner, NewSighting, Storage, StorageUnitOfWork
from app.storage.rerouting import RerouteCandidate
from app.storage.rules import RoutingSetup

__all__ = [
    "AgainOutcome",
    "FirstMessage",
    "NotAllowed",
    "RerouteRow",
    "RoutingAgainError",
    "RoutingService",
    "decide",
    "evaluate",
    "owner_route",
]

log = logging.getLogger("quiver.services.routing")

PRUNE_EVERY = timedelta(hours=1)  # how often old spam sightings are forgotten
FRESH = timedelta(hours=1)
ENOUGH = 8  # recent sightings of one text beyond which more are not stored


@dataclass
class BatchPlan:
    """The decisions for one batch's new threads, made before its write transaction."""

    owner: BatchOwner
    decisions: dict[tuple[str, str], NewThread]
    sightings: list[NewSighting] = field(default_factory=list)
    # stored threads of our own posts this batch brings the first outside message to: due time
    first_due: dict[tuple[str, str], int] = field(default_factory=dict)
    prune_before: datetime | None = None

    def router(self, owner: BatchOwner) -> Router:
        """The storage router: the planned decision, else (a thread nobody planned) the owner."""
        fallback = owner_route(owner.unit_id, owner.unit_name)
        decisions = self.decisions

        def route(item: InboundItem) -> NewThread:
            return decisions.get((item.thread_type, item.thread_external_id)) or fallback(item)

        return route


def owner_route(unit_id: int, unit_name: str) -> Router:
    """Every new conversation to the account owner's unit (no routing service)."""
    decision = NewThread(
        unit_id=unit_id,
        reason=f"No rule routed it: the account owner's unit ({unit_name})",
    )

    def route(_item: InboundItem) -> NewThread:
        return decision

    return route


class RoutingService:
    """Routes new conversations; shared by every ingest thread.

    The compiled context is replaced whole under a lock (readers take the reference they find);
    it is rebuilt only when the rules' fingerprint, the settings or the units changed.
    """

    def __init__(
        self,
        db: Storage,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        signals: SignalSource | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._signals: SignalSource = signals if signals is not None else InlineSignals()
        self._lock = threading.Lock()
        self._context: RoutingContext | None = None
        self._detectors: dict[tuple[str, ...], LanguageDetector] = {}
        self._last_prune: datetime | None = None

    # -- the compiled rules ------------------------------------------------------------------

    def context(self, uow: StorageUnitOfWork) -> RoutingContext:
        """The compiled rules and settings, rebuilt only when what they were built from changed.

        The language model is not loaded here: only when a text needs detecting in this process
        (callers that know each text's language, as the demo generator does, never load it).
        """
        setup = uow.rules.setup()
        fingerprint_ = uow.rules.fingerprint()
        current = self._context
        if current is not None and current.key[:2] == (fingerprint_, repr(setup)):
            people_ids = sorted(current.people)
            if not people_ids:
                return current
            people = uow.rules.assignable(people_ids)
            if repr(people) == current.key[2]:
                return current
        context = self._compile(uow, fingerprint_, setup)
        with self._lock:
            self._context = context
        return context

    def _compile(self, uow: StorageUnitOfWork, fp: str, setup: RoutingSetup) -> RoutingContext:
        rules: list[Rule] = []
        skipped: list[str] = []
        for row in uow.rules.enabled():
            try:
                rules.append(rule_of(row))
            except (RuleError, ValueError, TypeError) as exc:
                log.warning("routing rule %s (%r) skipped: %s", row.id, row.name, exc)
                skipped.append(str(exc))
        units = {u.id: u for u in setup.units}
        assigned = sorted({a.person_id for r in rules for a in r.actions if isinstance(a, Assign)})
        people = {p.id: p for p in uow.rules.assignable(assigned)}
        zone = zone_or_utc(setup.time_zone)
        triage = next((u.id for u in setup.units if u.is_triage), None)
        if triage is None:
            triage = min(units) if units else 0
        ruleset = compile_rules(rules, units, people, triage, zone, skipped)
        languages = languages_of(setup.units, ruleset.rules)
        try:
            spam = SpamConfig(threshold=setup.spam_threshold, keywords=setup.spam_keywords)
        except ValueError as exc:
            log.warning("spam settings unusable (%s): the defaults are used", exc)
            spam = SpamConfig(keywords=setup.spam_keywords)
        return RoutingContext(
            key=(fp, repr(setup), repr(sorted(people.values(), key=lambda p: p.id))),
            rules=ruleset,
            units=units,
            triage_unit_id=triage,
            detector=self._detector(languages),
            spam=spam,
            calendars={u.id: calendar_of(u, setup, zone) for u in setup.units},
            people=people,
            skipped=tuple(skipped),
        )

    def _detector(self, languages: tuple[str, ...]) -> LanguageDetector:
        """One detector per language list (each keeps its restricted model once loaded).

        A list the model does not know is detected among :data:`DEFAULT_LANGUAGES` instead.
        """
        with self._lock:
            found = self._detectors.get(languages)
            if found is None:
                found = LanguageDetector(languages, fallback=DEFAULT_LANGUAGES)
                self._detectors[languages] = found
            return found

    # -- applying the rules again (see app.services.routing_again) ----------------------------

    def preview_again(
        self,
        operator: int,
        unit_id: int | None = None,
        conversation_ids: Sequence[int] = (),
        *,
        include_closed: bool = False,
    ) -> AgainOutcome:
        """What applying the rules again would move; changes nothing.

        Raises:
            NotAllowed: the operator supervises no unit the request looks at (the reason says
                which and what role is missing).
            RoutingAgainError: no unit and no conversations, or an unknown unit.
        """
        with self._db.uow() as uow:
            outcome, _moves, _actor = self._again(
                uow, operator, unit_id, conversation_ids, include_closed
            )
            return outcome

    def apply_again(
        self,
        operator: int,
        unit_id: int | None = None,
        conversation_ids: Sequence[int] = (),
        *,
        include_closed: bool = False,
    ) -> AgainOutcome:
        """Move what :meth:`preview_again` lists, in one transaction, each move audited.

        A conversation that moved meanwhile (another person's hand-over) is left alone.

        Raises:
            NotAllowed: the operator does not supervise a unit a conversation is in or would
                go to; nothing is moved.
            RoutingAgainError: as :meth:`preview_again`.
        """
        with self._db.uow() as uow:
            outcome, moves, actor = self._again(
                uow, operator, unit_id, conversation_ids, include_closed
            )
            check_may(uow, actor, [row.to_unit_id for _c, row in moves], {})
            at = self._clock()
            moved: list[RerouteRow] = []
            for candidate, row in moves:
                if uow.rerouting.move(
                    candidate.conversation_id,
                    from_unit=candidate.unit_id,
                    to_unit=row.to_unit_id,
                    rule_id=row.rule_id,
                    reason=row.reason,
                ):
                    record_move(uow, actor, candidate, row, at)
                    moved.append(row)
            uow.commit()
        return AgainOutcome(
            tuple(moved), outcome.looked_at, outcome.kept_hand_overs, outcome.truncated
        )

    def _again(
        self,
        uow: StorageUnitOfWork,
        operator: int,
        unit_id: int | None,
        conversation_ids: Sequence[int],
        include_closed: bool,
    ) -> tuple[AgainOutcome, list[tuple[RerouteCandidate, RerouteRow]], Actor]:
        actor = uow.directory.actor(operator)
        if actor is None:
            raise NotAllowed(NOBODY)
        found = candidates(uow, unit_id, conversation_ids, include_closed)
        truncated = len(found) > LIMIT
        found = found[:LIMIT]
        looked = [c.unit_id for c in found] or ([unit_id] if unit_id is not None else [])
        check_may(uow, actor, looked, {})
        context = self.context(uow)
        moves: list[tuple[RerouteCandidate, RerouteRow]] = []
        kept = 0
        for c in found:
            if c.handed_over:
                kept += 1
                continue
            decision, _language, _feeling = evaluate(
                context,
                FirstMessage(
                    account_id=c.account_id,
                    network=c.network,
                    kind=c.kind,
                    direction=c.direction,
                    text=c.text,
                    created_at=c.created_at,
                    author_external_id=c.author_external_id,
                    author_handle=c.author_handle,
                    followers=c.followers,
                    first_seen=c.first_seen,
                    known_spam_author=c.known_spam_author,
                    language=c.language,
                    sentiment=c.sentiment,
                    signals_known=True,
                ),
                c.owner_unit_id,
            )
            to = decision.unit_id
            if to not in context.units or to == c.unit_id:
                continue
            moves.append(
                (
                    c,
                    RerouteRow(
                        conversation_id=c.conversation_id,
                        preview=c.preview,
                        from_unit_id=c.unit_id,
                        from_unit=unit_name(context, c.unit_id),
                        to_unit_id=to,
                        to_unit=unit_name(context, to),
                        rule_id=decision.rule_id,
                        reason=fitted(decision.reason),
                    ),
                )
            )
        outcome = AgainOutcome(tuple(r for _c, r in moves), len(found), kept, truncated)
        return outcome, moves, actor

    # -- a batch ------------------------------------------------------------------------------

    def plan(self, account_id: int, items: Sequence[InboundItem]) -> BatchPlan | None:
        """Decide every new thread of ``items`` (one account's batch); ``None``: no account.

        Reads in its own unit of work and writes nothing: the caller's write transaction stores
        the plan (:meth:`BatchPlan.router`, its sightings, the pruning). The new threads'
        language and sentiment are worked out by the signal source (in the app, a worker
        process) while this thread reads the spam sightings and scores spam.
        """
        firsts = first_items(items)
        written_in = _inbound_times(items)
        with self._db.uow() as uow:
            facts = uow.batches.facts(
                account_id,
                list(firsts),
                sorted({i.author_external_id for i in items if i.author_external_id}),
                inbound=sorted(written_in),
            )
            if facts.owner is None:
                return None
            context = self.context(uow)
            fresh = sorted(
                ((k, i) for k, i in firsts.items() if k not in facts.known_threads),
                key=lambda kv: kv[1].created_at,
            )
            pending = self._signals.submit(
                [item.text for _key, item in fresh],
                context.detector,
                [given_language(item.language) for _key, item in fresh],
            )
            # Each inbound text is folded once for every spam signal; only texts long enough
            # for the duplicate signal are looked up and remembered (the raw length bounds
            # the normalized one from above).
            inbound = [i for _key, i in fresh if i.direction == "in"]
            folded = {i.external_id: fold(i.text) for i in inbound}
            normalized = {
                i.external_id: normalize_folded(folded[i.external_id])
                for i in inbound
                if len(i.text) >= context.spam.duplicate_min_chars
            }
            fps = {ext: fingerprint_of(text) for ext, text in normalized.items()}
            seen: dict[str, list[Sighting]] = {}
            if fps:
                since = min(i.created_at for _k, i in fresh) - context.spam.duplicate_window
                seen = uow.batches.sightings(sorted(set(fps.values())), since)
        prepared = _Prepared(fresh, fps, seen, normalized, folded, written_in)
        return self._decide(context, facts, account_id, items, prepared, pending)

    def _decide(
        self,
        context: RoutingContext,
        facts: BatchFacts,
        account_id: int,
        items: Sequence[InboundItem],
        prepared: _Prepared,
        pending: PendingSignals,
    ) -> BatchPlan:
        owner = facts.owner
        assert owner is not None
        newest: dict[str, int] = {}
        earliest: dict[str, str] = {}
        for item in sorted(items, key=lambda i: i.created_at):
            ext = item.author_external_id
            if ext:
                earliest.setdefault(ext, item.external_id)
                if item.author_followers is not None:
                    newest[ext] = item.author_followers
        plan = BatchPlan(owner, {})
        written_in = prepared.written_in
        for key, unit_id in facts.awaiting.items():
            if key in written_in:
                due = due_in(context, unit_id, written_in[key])
                if due is not None:
                    plan.first_due[key] = due
        seen = prepared.seen
        # First what needs no language: each first message, its spam verdict, the sightings.
        scored: list[tuple[FirstMessage, SpamVerdict | None]] = []
        for _key, item in prepared.fresh:
            ext = item.author_external_id or ""
            known = facts.authors.get(ext)
            first = FirstMessage(
                account_id=account_id,
                network=item.network or owner.network,
                kind=item.kind,
                direction=item.direction,
                text=item.text,
                created_at=item.created_at,
                author_external_id=ext,
                author_handle=item.author_handle or "",
                followers=newest.get(ext, known.followers_count if known else None),
                first_seen=bool(ext) and known is None and earliest.get(ext) == item.external_id,
                known_spam_author=bool(known and known.is_spammer),
                signals_known=True,
                normalized=prepared.normalized.get(item.external_id),
                folded=prepared.folded.get(item.external_id),
            )
            sightings: tuple[Sighting, ...] = ()
            fp = prepared.fps.get(item.external_id)
            author = f"{first.network}:{ext}"
            if fp is not None:
                sightings = tuple(seen.get(fp, ()))
            scored.append((first, spam_verdict(context, first, sightings)))
            if fp is not None and ext and _worth_remembering(sightings, author, item.created_at):
                seen.setdefault(fp, []).append(Sighting(author, item.created_at))
                plan.sightings.append(NewSighting(fp, author, item.created_at))
        # Then the rules, with the language and sentiment the signal source worked out.
        for (key, item), (first, verdict), (language, feeling) in zip(
            prepared.fresh, scored, pending.result(), strict=True
        ):
            first = replace(first, language=language, sentiment=feeling)
            decision = decide(context, first, owner.unit_id, verdict=verdict)
            if item.direction == "out" and key not in written_in:
                # Our own account started it (a Page's post) and nobody has written in it yet:
                # it needs no answer. Resolved, it waits for no one and is not in anyone's
                # backlog; the first message someone else writes reopens it (storage's reopen)
                # and starts its first-response clock (``first_due``).
                decision = replace(decision, status=ConversationStatus.RESOLVED)
            elif item.direction == "out" and decision.status is not ConversationStatus.SPAM:
                # Our post and, in the same batch, the first message from outside: the clock
                # runs from that message.
                due = due_in(context, decision.unit_id, written_in[key])
                decision = replace(decision, sla_due_at=due)
            plan.decisions[key] = decision
        now = self._clock()
        with self._lock:
            if self._last_prune is None or now - self._last_prune >= PRUNE_EVERY:
                self._last_prune = now
                plan.prune_before = now - context.spam.duplicate_window
        return plan


@dataclass(frozen=True)
class _Prepared:
    """What :meth:`RoutingService.plan` read and worked out for a batch's new threads."""

    fresh: list[tuple[tuple[str, str], InboundItem]]  # in time order
    fps: dict[str, str]  # external id -> fingerprint (texts long enough to compare)
    seen: dict[str, list[Sighting]]  # fingerprint -> recent sightings (grows while deciding)
    normalized: dict[str, str]
    folded: dict[str, str]
    written_in: dict[tuple[str, str], datetime]  # thread -> its earliest message from outside


def _inbound_times(items: Sequence[InboundItem]) -> dict[tuple[str, str], datetime]:
    """Each thread the batch brings a message from outside to, with the earliest such time."""
    found: dict[tuple[str, str], datetime] = {}
    for item in items:
        if item.direction == "in":
            key = (item.thread_type, item.thread_external_id)
            if key not in found or item.created_at < found[key]:
                found[key] = item.created_at
    return found


def _worth_remembering(seen: Sequence[Sighting], author: str, at: datetime) -> bool:
    """Whether this sighting adds anything the duplicate signal needs.

    Not when the same author was seen with this text in the last :data:`FRESH`, nor when
    :data:`ENOUGH` sightings that recent exist already: a campaign from thousands of authors
    then adds a few rows per text and hour, not one per message.
    """
    recent = [s for s in seen if abs(at - s.at) <= FRESH]
    return len(recent) < ENOUGH and all(s.author != author for s in recent)
