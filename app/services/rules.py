"""Routing rules in Settings: the ordered list, checked, permitted and audited; a live preview.

Who edits the rules: administrators of the whole workspace (``product.md``: administrators
set up routing rules). A rule routes conversations of every unit, so a role in one unit is not
enough: the check is :attr:`Action.MANAGE_WORKSPACE` at the root, and the refusal says "Only an
administrator of Acme can change the routing rules." Everyone may read them.

A rule is saved only when the routing engine can run it: the codec builds it
(``app.domain.rule_codec``; a regular expression RE2 cannot run is refused with RE2's reason),
the unit it routes to, the person it assigns and the accounts it names must exist (and the
person be active). What is stored is the codec's canonical JSON. Every change leaves one audit
entry (``entity = 'routing_rule'``) with the rule before and after.

The preview runs the edited rule in its place among the saved ones over the first message of
each of the newest 1,000 conversations: which of them it matches, what it would do there, and
how many conversations the whole rule set would move to another unit (a conversation a person
handed over is never moved, and never counted). The sample and its language and sentiment are
computed once and kept for a minute, so the preview costs one rule-set compile and 1,000
evaluations per keystroke (figures in the commit that measured them).

Shared state: the sample cache, guarded by a lock; the service is used from the GUI thread and
from the preview's worker thread at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from app.domain.enums import MessageKind, Network
from app.domain.permissions import Action, Decision
from app.domain.routing import (
    AccountIn,
    AddTags,
    Assign,
    AuthorIn,
    Condition,
    FirstSeenAuthor,
    KindIn,
    LanguageIn,
    LocalTime,
    MarkSpam,
    MinFollowers,
    NetworkIn,
    Regex,
    RouteTo,
    RoutingDecision,
    RoutingInput,
    Rule,
    RuleError,
    RuleMatch,
    RuleSet,
    SentimentAbove,
    SentimentBelow,
    SetPriority,
    Words,
)
from app.domain.rule_codec import actions_to_json, conditions_to_json, rule_from_json
from app.domain.text_signals import LanguageDetector, signals
from app.services.access import NotAllowed, decide_in, require_in
from app.services.auditing import record_change
from app.storage.ports import Storage, StorageUnitOfWork
from app.storage.rule_store import NewRule, RuleRecord, SampleMessage

__all__ = [
    "NotAllowed",
    "PreviewMatch",
    "RuleChanged",
    "RuleDraft",
    "RuleError",
    "RulePreview",
    "RuleView",
    "RulesService",
]

DOING = "change the routing rules"
PREVIEW_SAMPLE = 1000
SAMPLE_TTL_S = 60.0
MAX_NAME = 200
_NEW_RULE_ID = -1  # the id an unsaved rule has in the preview (stored ids are positive)


class RuleChanged(Exception):  # noqa: N818 - reads as what happened
    """Someone else changed the rule since the editor read it; nothing was saved."""


@dataclass(frozen=True, slots=True)
class RuleDraft:
    """A rule as the editor holds it: its name, flags and the two JSON objects."""

    name: str
    conditions: Mapping[str, Any]
    actions: Mapping[str, Any]
    enabled: bool = True
    stop: bool = False


@dataclass(frozen=True, slots=True)
class RuleView:
    """A stored rule with what it does in words, or why the engine cannot use it."""

    record: RuleRecord
    summary: str
    problem: str = ""


@dataclass(frozen=True, slots=True)
class PreviewMatch:
    """A sample message the edited rule matches, and what would become of it."""

    conversation_id: int
    text: str
    author: str
    lands_in: str  # the unit the whole rule set sends it to
    routed_by: str  # the rule that routed it, or where it falls back to
    does: str  # what the edited rule does there
    moves: bool  # the conversation would change unit
    reason: str


@dataclass(frozen=True, slots=True)
class RulePreview:
    """The preview of an edited rule over the sample."""

    sample_size: int
    matched: int
    matches: tuple[PreviewMatch, ...]
    unit_changes: int  # conversations the edited rule set would move (hand-overs left out)
    handed_over_kept: int  # conversations a person handed over that rules would have moved
    edit_changes: int = 0  # conversations whose unit differs from the saved rules' choice
    alone_matched: int = 0  # messages the rule matches on its own, whatever comes before it
    problem: str = ""  # why the rule cannot run as typed (nothing was evaluated)
    note: str = ""
    elapsed_ms: float = 0.0

    @property
    def summary(self) -> str:
        """The line the preview pane shows: "Matches 37 of the last 1,000 messages. …"."""
        if self.problem:
            return self.problem
        if not self.sample_size:
            return "There are no messages yet to test the rule against."
        line = f"Matches {self.matched:,} of the last {self.sample_size:,} messages. "
        line += f"{_conversations(self.unit_changes)} would change unit"
        if self.edit_changes:
            line += f" ({self.edit_changes:,} because of this edit)"
        if self.handed_over_kept:
            line += f"; {self.handed_over_kept:,} handed over by a person stay where they are"
        return line + "."

    @property
    def shadowed(self) -> int:
        """Messages the rule would match on its own that rules above it stop before it."""
        return max(0, self.alone_matched - self.matched)


def _conversations(n: int) -> str:
    return f"{n:,} conversation{'' if n == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class _Sample:
    loaded_at: float
    size: int
    rows: tuple[tuple[SampleMessage, RoutingInput], ...]


@dataclass(frozen=True, slots=True)
class _Context:
    records: list[RuleRecord]
    units: dict[int, str]
    people: dict[int, str]
    accounts: dict[int, str]
    triage_id: int
    time_zone: str
    languages: tuple[str, ...]


class RulesService:
    """The rules editor's use cases; safe from any thread (a unit of work per call)."""

    def __init__(
        self,
        db: Storage,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._clock = clock
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._sample: _Sample | None = None

    # -- reading ----------------------------------------------------------------------------

    def decision(self, operator_id: int) -> Decision:
        """Whether the person may change the rules, and why not."""
        with self._db.uow() as uow:
            return decide_in(uow, operator_id, Action.MANAGE_WORKSPACE, None, doing=DOING)

    def rules(self) -> list[RuleView]:
        """Every rule in evaluation order, each said in words."""
        with self._db.uow() as uow:
            ctx = self._context(uow)
        views = []
        for record in ctx.records:
            try:
                rule = _rule(record)
            except RuleError as exc:
                views.append(RuleView(record, "", f"The engine skips this rule: {exc}"))
                continue
            views.append(RuleView(record, describe(rule, ctx.units, ctx.people, ctx.accounts)))
        return views

    def get(self, rule_id: int) -> RuleRecord:
        """The stored rule.

        Raises:
            KeyError: there is no such rule (someone deleted it).
        """
        with self._db.uow() as uow:
            return self._stored(uow, rule_id)

    @staticmethod
    def problem(draft: RuleDraft) -> str:
        """Why the engine could not run the rule as typed ('' when it could); no database."""
        try:
            _draft_rule(draft, _NEW_RULE_ID, 0)
        except RuleError as exc:
            return str(exc)
        return ""

    # -- changing ---------------------------------------------------------------------------

    def add(self, operator_id: int, draft: RuleDraft, *, position: int | None = None) -> int:
        """Save a new rule, last or at ``position`` (0 first); returns its id.

        Raises:
            NotAllowed: the operator may not change the rules.
            RuleError: the rule cannot be used as written (the message says why).
        """
        with self._db.uow() as uow:
            require_in(uow, operator_id, Action.MANAGE_WORKSPACE, None, doing=DOING)
            store = uow.rule_store
            store.lock_order()
            new = self._checked(uow, draft)
            rule_id = store.add(new, self._clock())
            if position is not None:
                order = [r.id for r in store.all() if r.id != rule_id]
                order.insert(max(0, min(position, len(order))), rule_id)
                store.set_order(order)
            after = self._stored(uow, rule_id).snapshot()
            self._audit(uow, operator_id, "routing_rule.added", rule_id, None, after)
            uow.commit()
        return rule_id

    def update(
        self,
        operator_id: int,
        rule_id: int,
        draft: RuleDraft,
        *,
        expected: RuleRecord | None = None,
    ) -> RuleRecord:
        """Save the rule's new name, conditions, actions and flags; the stored rule.

        ``expected`` is the rule as the editor read it: when someone changed it since, nothing
        is saved (its position may have changed meanwhile: that is not a conflict).

        Raises:
            NotAllowed: the operator may not change the rules.
            RuleError: the rule cannot be used as written.
            RuleChanged: someone else changed it since ``expected`` was read.
            KeyError: there is no such rule any more.
        """
        with self._db.uow() as uow:
            require_in(uow, operator_id, Action.MANAGE_WORKSPACE, None, doing=DOING)
            uow.rule_store.lock_order()
            before = self._stored(uow, rule_id)
            if expected is not None and replace(expected, position=0) != replace(
                before, position=0
            ):
                raise RuleChanged(
                    f"Someone else changed the rule '{before.name}' since you opened it. "
                    "Revert to see their version, then make your change again."
                )
            new = self._checked(uow, draft)
            if _content(before) == (new.name, new.enabled, new.conditions, new.actions, new.stop):
                return before
            uow.rule_store.update(rule_id, new)
            after = self._stored(uow, rule_id)
            self._audit(
                uow,
                operator_id,
                "routing_rule.changed",
                rule_id,
                before.snapshot(),
                after.snapshot(),
            )
            uow.commit()
        return after

    def set_enabled(self, operator_id: int, rule_id: int, enabled: bool) -> None:
        """Switch the rule on or off.

        Raises:
            NotAllowed: the operator may not change the rules.
            KeyError: there is no such rule any more.
        """
        with self._db.uow() as uow:
            require_in(uow, operator_id, Action.MANAGE_WORKSPACE, None, doing=DOING)
            before = self._stored(uow, rule_id)
            if before.enabled == enabled:
                return
            uow.rule_store.set_enabled(rule_id, enabled)
            action = "routing_rule.enabled" if enabled else "routing_rule.disabled"
            self._audit(
                uow,
                operator_id,
                action,
                rule_id,
                {"name": before.name, "enabled": before.enabled},
                {"name": before.name, "enabled": enabled},
            )
            uow.commit()

    def move(self, operator_id: int, rule_id: int, index: int) -> list[RuleRecord]:
        """Put the rule at ``index`` (0: evaluated first) of the order as stored now.

        Returns:
            Every rule in its new order.

        Raises:
            NotAllowed: the operator may not change the rules.
            KeyError: there is no such rule any more.
        """
        with self._db.uow() as uow:
            require_in(uow, operator_id, Action.MANAGE_WORKSPACE, None, doing=DOING)
            store = uow.rule_store
            store.lock_order()
            records = store.all()  # re-read under the lock: another workstation may have moved
            rule = next((r for r in records if r.id == rule_id), None)
            if rule is None:
                raise KeyError(f"no routing rule {rule_id}")
            order = [r.id for r in records if r.id != rule_id]
            at = max(0, min(index, len(order)))
            old = [r.id for r in records].index(rule_id)
            order.insert(at, rule_id)
            if order == [r.id for r in records] and all(
                r.position == i for i, r in enumerate(records, start=1)
            ):
                return records
            store.set_order(order)
            self._audit(
                uow,
                operator_id,
                "routing_rule.moved",
                rule_id,
                {"name": rule.name, "position": old + 1},
                {"name": rule.name, "position": at + 1},
            )
            moved = store.all()
            uow.commit()
        return moved

    def delete(self, operator_id: int, rule_id: int) -> None:
        """Delete the rule; the rules after it move up one place.

        Conversations it routed keep their routing reason in words.

        Raises:
            NotAllowed: the operator may not change the rules.
            KeyError: there is no such rule any more.
        """
        with self._db.uow() as uow:
            require_in(uow, operator_id, Action.MANAGE_WORKSPACE, None, doing=DOING)
            store = uow.rule_store
            store.lock_order()
            before = self._stored(uow, rule_id)
            store.delete(rule_id)
            store.set_order([r.id for r in store.all()])
            self._audit(uow, operator_id, "routing_rule.deleted", rule_id, before.snapshot(), None)
            uow.commit()

    # -- the preview ------------------------------------------------------------------------

    def preview(
        self,
        draft: RuleDraft,
        *,
        rule_id: int | None = None,
        position: int | None = None,
        sample_size: int = PREVIEW_SAMPLE,
    ) -> RulePreview:
        """What the rule as edited would do among the saved ones (call it off the GUI thread).

        Args:
            draft: The rule as typed; it is tested as if enabled.
            rule_id: The stored rule it replaces (None: a new rule).
            position: Where a new rule goes (0 first; None: last).
            sample_size: How many of the newest conversations to test against.
        """
        started = time.perf_counter()
        with self._db.uow() as uow:
            ctx = self._context(uow)
        saved: list[Rule] = []
        for record in ctx.records:
            if record.id == rule_id:
                continue
            try:
                saved.append(_rule(record))
            except RuleError:
                continue  # the engine skips it too; the list says why
        stored = next((r for r in ctx.records if r.id == rule_id), None)
        edited_id = rule_id if stored is not None and rule_id is not None else _NEW_RULE_ID
        try:
            edited = _draft_rule(replace(draft, enabled=True), edited_id, 0)
        except RuleError as exc:
            return RulePreview(0, 0, (), 0, 0, problem=str(exc))
        rules = _placed(saved, edited, stored, position)
        before = list(saved) if stored is None else _placed(saved, _rule(stored), stored, None)
        try:
            ruleset, was, alone = (
                RuleSet.compile(
                    chosen,
                    ctx.units,
                    triage_unit_id=ctx.triage_id,
                    time_zone=ctx.time_zone,
                    person_names=ctx.people,
                )
                for chosen in (rules, before, [edited])
            )
        except RuleError as exc:
            return RulePreview(0, 0, (), 0, 0, problem=str(exc))
        sample = self._sample_for(ctx.languages, sample_size)
        matches: list[PreviewMatch] = []
        moves = kept = by_edit = alone_matched = 0
        rule_names = {r.id: r.name for r in rules}
        for message, routing in sample.rows:
            owner = message.owner_unit_id
            decision = ruleset.evaluate(routing, owner_unit_id=owner)
            would_move = decision.unit_id != message.unit_id
            if message.handed_over:
                kept += would_move
                would_move = False
            else:
                moves += would_move
                by_edit += decision.unit_id != was.evaluate(routing, owner_unit_id=owner).unit_id
            mine = next((m for m in decision.matches if m.rule_id == edited_id), None)
            if mine is None:
                alone_matched += bool(alone.evaluate(routing, owner_unit_id=owner).matches)
                continue
            alone_matched += 1
            matches.append(
                _match(message, decision, mine, ctx.units, rule_names, would_move=would_move)
            )
        note = ""
        if not draft.enabled:
            note = (
                "This rule is switched off: saved so, it matches nothing. The preview shows "
                "what it would do once switched on."
            )
        return RulePreview(
            sample_size=len(sample.rows),
            matched=len(matches),
            matches=tuple(matches),
            unit_changes=moves,
            handed_over_kept=kept,
            edit_changes=by_edit,
            alone_matched=alone_matched,
            note=note,
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )

    def forget_sample(self) -> None:
        """Read the sample again at the next preview (new messages arrived, units changed)."""
        with self._lock:
            self._sample = None

    def _sample_for(self, languages: tuple[str, ...], size: int) -> _Sample:
        with self._lock:
            cached = self._sample
            if (
                cached is not None
                and cached.size == size
                and self._monotonic() - cached.loaded_at < SAMPLE_TTL_S
            ):
                return cached
        with self._db.uow() as uow:
            messages = uow.rule_store.sample(size)
        detector = LanguageDetector(languages)
        rows = tuple((m, _routing_input(m, detector)) for m in messages)
        fresh = _Sample(self._monotonic(), size, rows)
        with self._lock:
            self._sample = fresh
        return fresh

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _context(uow: StorageUnitOfWork) -> _Context:
        units = uow.units.all()
        org = uow.organization.get()
        triage = next((u.id for u in units if u.is_triage), units[0].id if units else 0)
        languages = {"en"}
        for u in units:
            languages.update(x.strip().lower() for x in u.languages.split(",") if x.strip())
        return _Context(
            records=uow.rule_store.all(),
            units={u.id: u.name for u in units},
            people={p.id: p.name for p in uow.people.everyone()},
            accounts={a.id: f"@{a.handle}" for a in uow.directory.accounts()},
            triage_id=triage,
            time_zone=org.time_zone if org is not None else "UTC",
            languages=tuple(sorted(languages)),
        )

    @staticmethod
    def _stored(uow: StorageUnitOfWork, rule_id: int) -> RuleRecord:
        record = uow.rule_store.get(rule_id)
        if record is None:
            raise KeyError(f"no routing rule {rule_id}")
        return record

    @staticmethod
    def _checked(uow: StorageUnitOfWork, draft: RuleDraft) -> NewRule:
        """The rule as the engine will read it, or a :class:`RuleError` saying what is wrong."""
        name = " ".join(draft.name.split())
        if not name:
            raise RuleError("(no name)", "a rule needs a name, so a routing reason can say it")
        if len(name) > MAX_NAME:
            raise RuleError(name[:40] + "…", f"a rule's name has at most {MAX_NAME} characters")
        rule = _draft_rule(replace(draft, name=name), _NEW_RULE_ID, 0)
        for action in rule.actions:
            if isinstance(action, RouteTo) and uow.units.get(action.unit_id) is None:
                raise RuleError(
                    name, f"there is no unit #{action.unit_id} to route to: choose another unit"
                )
            if isinstance(action, Assign):
                person = uow.people.get(action.person_id)
                if person is None:
                    raise RuleError(
                        name, f"nobody with id {action.person_id} works here: choose who to assign"
                    )
                if not person.active:
                    raise RuleError(
                        name, f"{person.name} is deactivated and cannot be assigned conversations"
                    )
        known = {a.id for a in uow.directory.accounts()}
        for cond in rule.conditions:
            if isinstance(cond, AccountIn):
                missing = sorted(cond.account_ids - known)
                if missing:
                    ids = ", ".join(f"#{i}" for i in missing)
                    raise RuleError(name, f"there is no account {ids}: choose the accounts again")
        return NewRule(
            name=name,
            enabled=draft.enabled,
            conditions=conditions_to_json(rule.conditions),
            actions=actions_to_json(rule.actions),
            stop=draft.stop,
        )

    def _audit(
        self,
        uow: StorageUnitOfWork,
        operator_id: int,
        action: str,
        rule_id: int,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        record_change(
            uow,
            at=self._clock(),
            person_id=operator_id,
            action=action,
            entity="routing_rule",
            entity_id=rule_id,
            before=before,
            after=after,
        )


# -- pure helpers -----------------------------------------------------------------------------


def _rule(record: RuleRecord) -> Rule:
    return rule_from_json(
        rule_id=record.id,
        name=record.name,
        position=record.position,
        enabled=record.enabled,
        conditions=record.conditions,
        actions=record.actions,
        stop=record.stop,
    )


def _draft_rule(draft: RuleDraft, rule_id: int, position: int) -> Rule:
    return rule_from_json(
        rule_id=rule_id,
        name=draft.name,
        position=position,
        enabled=draft.enabled,
        conditions=dict(draft.conditions),
        actions=dict(draft.actions),
        stop=draft.stop,
    )


def _content(r: RuleRecord) -> tuple[Any, ...]:
    return (r.name, r.enabled, r.conditions, r.actions, r.stop)


def _placed(
    saved: Sequence[Rule], edited: Rule, stored: RuleRecord | None, position: int | None
) -> list[Rule]:
    """The saved rules with the edited one in its place, positions renumbered 1 … n."""
    order = list(saved)  # in evaluation order already
    if stored is not None:
        at = sum(1 for r in order if (r.position, r.id) < (stored.position, stored.id))
    else:
        at = len(order) if position is None else max(0, min(position, len(order)))
    order.insert(at, edited)
    return [replace(r, position=i) for i, r in enumerate(order, start=1)]


def _match(
    message: SampleMessage,
    decision: RoutingDecision,
    mine: RuleMatch,
    units: Mapping[int, str],
    rule_names: Mapping[int, str],
    *,
    would_move: bool,
) -> PreviewMatch:
    does = "; ".join(e.description for e in mine.effects) or "matches; does nothing"
    if mine.stopped:
        does += "; stops here"
    if decision.rule_id is not None:
        routed_by = f"rule '{rule_names.get(decision.rule_id, decision.rule_id)}'"
    elif decision.source == "triage":
        routed_by = "no rule: Triage"
    else:
        routed_by = "no rule: the account owner's unit"
    return PreviewMatch(
        conversation_id=message.conversation_id,
        text=message.text,
        author=f"@{message.author_handle}" if message.author_handle else "unknown",
        lands_in=units.get(decision.unit_id, f"unit #{decision.unit_id}"),
        routed_by=routed_by,
        does=does,
        moves=would_move,
        reason=decision.reason,
    )


def _routing_input(m: SampleMessage, detector: LanguageDetector) -> RoutingInput:
    try:
        language, score = signals(m.text, detector)
    except ValueError:  # a unit language py3langid does not know: no language, no sentiment
        language, score = None, None
    return RoutingInput(
        account_id=m.account_id,
        network=Network(m.network),
        kind=MessageKind(m.kind),
        text=m.text,
        language=language,
        sentiment=score,
        author_external_id=m.author_external_id,
        author_handle=m.author_handle,
        author_followers=m.author_followers,
        author_first_seen=m.author_first_seen,
        created_at=m.created_at,
    )


# -- a rule in words --------------------------------------------------------------------------

_DAY_NAMES = {
    "mon": "Mon",
    "tue": "Tue",
    "wed": "Wed",
    "thu": "Thu",
    "fri": "Fri",
    "sat": "Sat",
    "sun": "Sun",
}


def _quoted(values: Sequence[str]) -> str:
    return ", ".join(f"“{v}”" for v in values)


def _condition_words(cond: Condition, units: Mapping[int, str], accounts: Mapping[int, str]) -> str:
    if isinstance(cond, AccountIn):
        return "on " + ", ".join(accounts.get(a, f"account #{a}") for a in sorted(cond.account_ids))
    if isinstance(cond, NetworkIn):
        return "on " + ", ".join(sorted(n.label for n in cond.networks))
    if isinstance(cond, KindIn):
        return "a " + " or ".join(sorted(k.label.lower() for k in cond.kinds))
    if isinstance(cond, Words):
        return f"the text has {cond.mode} of {_quoted(cond.terms)}"
    if isinstance(cond, Regex):
        case = " (case-sensitive)" if cond.case_sensitive else ""
        return f"the text matches /{cond.pattern}/{case}"
    if isinstance(cond, LanguageIn):
        return "in " + ", ".join(sorted(cond.languages))
    if isinstance(cond, SentimentBelow):
        return f"sentiment below {cond.threshold:+.2f}"
    if isinstance(cond, SentimentAbove):
        return f"sentiment above {cond.threshold:+.2f}"
    if isinstance(cond, AuthorIn):
        return "by " + ", ".join(sorted(cond.authors))
    if isinstance(cond, MinFollowers):
        return f"by an author with {cond.count:,}+ followers"
    if isinstance(cond, FirstSeenAuthor):
        return "by a first-time author"
    assert isinstance(cond, LocalTime)
    days = [d for d in _DAY_NAMES if d in cond.weekdays]
    text = "every day" if len(days) == 7 else "on " + ", ".join(_DAY_NAMES[d] for d in days)
    if cond.start is not None and cond.end is not None:
        text += f" {cond.start:%H:%M}-{cond.end:%H:%M}"
    return text


def describe(
    rule: Rule,
    units: Mapping[int, str],
    people: Mapping[int, str],
    accounts: Mapping[int, str],
) -> str:
    """The rule in one line: "When the text has any of “refund”: route to Care; stop"."""
    conds = [_condition_words(c, units, accounts) for c in rule.conditions]
    when = "Every message" if not conds else "When " + " and ".join(conds)
    does: list[str] = []
    for action in rule.actions:
        if isinstance(action, RouteTo):
            does.append("route to " + units.get(action.unit_id, f"unit #{action.unit_id}"))
        elif isinstance(action, Assign):
            does.append("assign " + people.get(action.person_id, f"person #{action.person_id}"))
        elif isinstance(action, SetPriority):
            does.append(f"priority {action.priority}")
        elif isinstance(action, AddTags):
            does.append("tag " + _quoted(action.tags))
        elif isinstance(action, MarkSpam):
            does.append("mark as spam")
    text = f"{when}: {', '.join(does) if does else 'nothing (only recorded)'}"
    return text + ("; then stop" if rule.stop else "")
