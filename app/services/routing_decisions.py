"""One new conversation's routing decision: the compiled context and the pure steps on it.

:class:`RoutingContext` is what :class:`app.services.routing.RoutingService` compiles from the
stored rules, units and settings; :func:`decide` turns a first message into the
:class:`app.storage.ingest.NewThread` storage writes (rules, assignee check, spam filter, SLA).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain.enums import ConversationStatus, MessageKind, Network
from app.domain.hours import HoursError
from app.domain.items import InboundItem
from app.domain.routing import LanguageIn, RoutingDecision, RoutingInput, Rule, RuleError, RuleSet
from app.domain.rule_codec import rule_from_json
from app.domain.sla import BusinessCalendar, NoOpenHoursError
from app.domain.spam import Sighting, SpamConfig, SpamInput, SpamVerdict
from app.domain.spam import score as spam_score
from app.domain.text_signals import LanguageDetector, signals
from app.models.base import to_epoch_ms
from app.storage.ingest import NewThread
from app.storage.rules import Assignable, RoutingSetup, RoutingUnit, RuleRecord

log = logging.getLogger("quiver.services.routing")

DEFAULT_LANGUAGES = ("de", "en", "es", "fr", "it", "nl", "pt")


@dataclass(frozen=True)
class RoutingContext:
    """Everything compiled for one version of the rules, units and settings (shared, read-only)."""

    key: tuple[str, str, str]
    rules: RuleSet
    units: dict[int, RoutingUnit]
    triage_unit_id: int
    detector: LanguageDetector
    spam: SpamConfig
    calendars: dict[int, BusinessCalendar | None]
    people: dict[int, Assignable]
    skipped: tuple[str, ...] = ()  # the refused rules' messages

    def calendar(self, unit_id: int) -> BusinessCalendar | None:
        return self.calendars.get(unit_id)


@dataclass(frozen=True)
class FirstMessage:
    """A new conversation's first message, as routing and the spam filter see it."""

    account_id: int
    network: str
    kind: str
    direction: str
    text: str
    created_at: datetime
    author_external_id: str
    author_handle: str
    followers: int | None
    first_seen: bool
    known_spam_author: bool
    language: str | None = None  # None: detect it; else the network's own tag (X's ``lang``)
    sentiment: float | None = None
    signals_known: bool = False  # language and sentiment given (demo, applying rules again)
    normalized: str | None = None  # the spam filter's normalized text, when already made
    folded: str | None = None  # the spam filter's folded text, when already made


# -- one conversation's decision ----------------------------------------------------------------


def spam_verdict(
    context: RoutingContext, first: FirstMessage, sightings: Sequence[Sighting] = ()
) -> SpamVerdict | None:
    """The spam filter's verdict on an inbound first message (``None`` for our own)."""
    if first.direction != "in":
        return None
    return spam_score(
        SpamInput(
            text=first.text,
            author=f"{first.network}:{first.author_external_id}",
            at=first.created_at,
            seen=tuple(sightings),
            known_spam_author=first.known_spam_author,
            normalized=first.normalized,
            folded=first.folded,
        ),
        context.spam,
    )


_UNSCORED: Any = object()  # decide()'s "work the spam verdict out here"


def decide(
    context: RoutingContext,
    first: FirstMessage,
    owner_unit_id: int | None,
    sightings: Sequence[Sighting] = (),
    verdict: SpamVerdict | None = _UNSCORED,
) -> NewThread:
    """Where a new conversation goes, with every reason, from its first message.

    ``verdict`` is :func:`spam_verdict`'s when the caller has it already.
    """
    decision, language, feeling = evaluate(context, first, owner_unit_id)
    parts = [decision.reason]
    unit_id = decision.unit_id
    if unit_id not in context.units:  # a rule's unit was deleted meanwhile
        fallback = owner_unit_id if owner_unit_id in context.units else context.triage_unit_id
        parts.append(f"unit #{unit_id} no longer exists: {unit_name(context, fallback)}")
        unit_id = fallback
    assignee = decision.assignee_id
    if assignee is not None:
        problem = _not_assignable(context, assignee, unit_id)
        if problem:
            parts.append(problem)
            assignee = None
    if verdict is _UNSCORED:
        verdict = spam_verdict(context, first, sightings)
    if verdict is not None and verdict.is_spam:
        parts.append(f"spam by the spam filter (score {verdict.score:.2f})")
    is_spam = decision.spam or bool(verdict and verdict.is_spam)
    due = (
        due_in(context, unit_id, first.created_at)
        if not is_spam and first.direction == "in"
        else None
    )
    return NewThread(
        unit_id=unit_id,
        rule_id=decision.rule_id,
        reason="; ".join(parts),
        priority=str(decision.priority) if decision.priority else "normal",
        status=ConversationStatus.SPAM if is_spam else ConversationStatus.NEW,
        spam_score=verdict.score if verdict else None,
        spam_reasons="\n".join(verdict.reasons) if verdict else "",
        assignee_id=assignee,
        language=language or "",
        sentiment=feeling,
        sla_due_at=due,
        tags=decision.tags,
    )


def evaluate(
    context: RoutingContext, first: FirstMessage, owner_unit_id: int | None
) -> tuple[RoutingDecision, str | None, float | None]:
    """The rules' decision on ``first``, with the language and sentiment it was given."""
    if first.signals_known:
        language, feeling = first.language, first.sentiment
    else:
        language, feeling = signals(first.text, context.detector, given=first.language)
    decision = context.rules.evaluate(
        routing_input(
            account_id=first.account_id,
            network=first.network,
            kind=first.kind,
            text=first.text,
            language=language,
            sentiment=feeling,
            author_external_id=first.author_external_id,
            author_handle=first.author_handle,
            followers=first.followers,
            first_seen=first.first_seen,
            created_at=first.created_at,
        ),
        owner_unit_id,
    )
    return decision, language, feeling


def routing_input(
    *,
    account_id: int,
    network: str,
    kind: str,
    text: str,
    language: str | None,
    sentiment: float | None,
    author_external_id: str,
    author_handle: str,
    followers: int | None,
    first_seen: bool,
    created_at: datetime,
) -> RoutingInput:
    """What the rules read of a message, as ingest and the rules editor's preview build it.

    A network or kind this version does not know reads as Sandbox / mention.
    """
    return RoutingInput(
        account_id=account_id,
        network=_network(network),
        kind=_kind(kind),
        text=text,
        language=language,
        sentiment=sentiment,
        author_external_id=author_external_id,
        author_handle=author_handle,
        author_followers=followers,
        author_first_seen=first_seen,
        created_at=created_at,
    )


def due_in(context: RoutingContext, unit_id: int, since: datetime) -> int | None:
    """When ``unit_id`` owes the first answer to a message of ``since`` (epoch ms).

    By the unit's target in its business hours; ``None`` when it has no target or no usable
    hours.
    """
    at = _due_by(context.units.get(unit_id), context.calendar(unit_id), since)
    return to_epoch_ms(at) if at is not None else None


def _due_by(
    unit: RoutingUnit | None, calendar: BusinessCalendar | None, since: datetime
) -> datetime | None:
    """``since`` plus the unit's first-response target in its calendar's business hours."""
    if unit is None or unit.first_response_target_h is None or calendar is None:
        return None
    try:
        return calendar.due_at(since, unit.first_response_target_h)
    except (NoOpenHoursError, ValueError):
        return None


def _not_assignable(context: RoutingContext, person_id: int, unit_id: int) -> str:
    """Why a rule's assignee cannot take the conversation, or "" when they can."""
    person = context.people.get(person_id)
    unit = context.units.get(unit_id)
    if person is None:
        return f"not assigned: person #{person_id} no longer exists"
    if not person.active:
        return f"not assigned to {person.name}: deactivated"
    if unit is not None and not any(unit.path.startswith(p) for p in person.unit_paths):
        return f"not assigned to {person.name}: holds no role in {unit.name}"
    return ""


def unit_name(context: RoutingContext, unit_id: int) -> str:
    unit = context.units.get(unit_id)
    return unit.name if unit else f"unit #{unit_id}"


def _network(value: str) -> Network:
    try:
        return Network(value)
    except ValueError:
        return Network.SANDBOX


def _kind(value: str) -> MessageKind:
    try:
        return MessageKind(value)
    except ValueError:
        return MessageKind.MENTION


def rule_of(record: RuleRecord) -> Rule:
    """The domain rule of a stored one (ingest and the rules editor read rules alike).

    Raises:
        RuleError: the stored row cannot be used (the message names the rule and why).
    """
    return rule_from_json(
        rule_id=record.id,
        name=record.name,
        position=record.position,
        enabled=record.enabled,
        conditions=record.conditions,
        actions=record.actions,
        stop=record.stop,
    )


def first_items(items: Iterable[InboundItem]) -> dict[tuple[str, str], InboundItem]:
    """The earliest item of each thread (as storage picks it: distinct ids, time order)."""
    unique: dict[str, InboundItem] = {}
    for item in items:
        unique.setdefault(item.external_id, item)
    firsts: dict[tuple[str, str], InboundItem] = {}
    for item in sorted(unique.values(), key=lambda i: i.created_at):
        firsts.setdefault((item.thread_type, item.thread_external_id), item)
    return firsts


def zone_or_utc(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("time zone %r unknown: routing uses UTC", name)
        return "UTC"
    return name


def compile_rules(
    rules: list[Rule],
    units: dict[int, RoutingUnit],
    people: dict[int, Assignable],
    triage: int,
    zone: str,
    skipped: list[str],
) -> RuleSet:
    names = {u.id: u.name for u in units.values()}
    persons = {p.id: p.name for p in people.values()}
    while True:
        try:
            return RuleSet.compile(
                rules, names, triage_unit_id=triage, time_zone=zone, person_names=persons
            )
        except RuleError as exc:  # e.g. two rows with one id: drop the one named, keep going
            bad = next((r for r in rules if r.name == exc.rule_name), None)
            log.warning("routing rule %r skipped: %s", exc.rule_name, exc)
            skipped.append(str(exc))
            if bad is None:
                return RuleSet.compile(
                    [], names, triage_unit_id=triage, time_zone=zone, person_names=persons
                )
            rules = [r for r in rules if r is not bad]


def languages_of(units: Iterable[RoutingUnit], rules: Iterable[Rule]) -> tuple[str, ...]:
    found = {"en"}
    for unit in units:
        found.update(p.strip().lower() for p in unit.languages.split(",") if p.strip())
    for rule in rules:
        for cond in rule.conditions:
            if isinstance(cond, LanguageIn):
                found.update(cond.languages)
    usable = {lang for lang in found if len(lang) in (2, 3) and lang.isalpha()}
    return tuple(sorted(usable)) if len(usable) >= 2 else DEFAULT_LANGUAGES


def first_response_due(setup: RoutingSetup, unit_id: int, since: datetime) -> datetime | None:
    """When ``unit_id`` owes the first answer to a message of ``since``, in its business hours.

    ``None``: the unit has no first-response target (or no usable hours), or no longer exists.
    """
    unit = next((u for u in setup.units if u.id == unit_id), None)
    if unit is None or unit.first_response_target_h is None:
        return None
    return _due_by(unit, calendar_of(unit, setup, zone_or_utc(setup.time_zone)), since)


def calendar_of(unit: RoutingUnit, setup: RoutingSetup, zone: str) -> BusinessCalendar | None:
    if unit.first_response_target_h is None:
        return None
    try:
        return BusinessCalendar.of(
            unit.business_hours or setup.business_hours, zone, setup.holidays
        )
    except HoursError as exc:
        log.warning("unit %s: business hours unusable (%s): no first-response clock", unit.id, exc)
        return None
