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

Shared state: the sample and the saved rules' verdicts on it, cached and guarded by a lock;
the service is used from the GUI thread and from the preview's worker thread at once.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from app.domain.permissions import Action, Decision
from app.domain.routing import (
    AccountIn,
    Assign,
    RouteTo,
    Rule,
    RuleError,
    RuleSet,
)
from app.domain.rule_codec import actions_to_json, conditions_to_json, rule_from_json
from app.domain.text_signals import LanguageDetector
from app.services.access import NotAllowed, decide_in, require_in
from app.services.auditing import record_change
from app.services.routing_decisions import DEFAULT_LANGUAGES, rule_of
from app.services.rule_views import (
    PreviewMatch,
    RulePreview,
    Sample,
    describe,
    match_row,
    placed,
    routing_inputs,
)
from app.storage.ports import Storage, StorageUnitOfWork
from app.storage.rule_store import NewRule
from app.storage.rules import RuleRecord

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
_GONE = "Routing rule #{rule_id} no longer exists: someone deleted it. Nothing was changed."
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
class _Baseline:
    key: str
    saved: list[Rule]  # the saved rules but the edited one, in evaluation order
    units: tuple[int, ...]  # where the saved rules send each sample message


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
        self._sample: Sample | None = None
        self._base: _Baseline | None = None

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
                rule = rule_of(record)
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
                renamed = f" (now '{before.name}')" if before.name != expected.name else ""
                raise RuleChanged(
                    f"Someone else changed the rule '{expected.name}'{renamed} since you opened "
                    "it. Revert to see their version, then make your change again."
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
                raise KeyError(_GONE.format(rule_id=rule_id))
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
        sample = self._sample_for(ctx.languages, sample_size)
        stored = next((r for r in ctx.records if r.id == rule_id), None)
        base = self._baseline(ctx, sample, stored)
        edited_id = stored.id if stored is not None else _NEW_RULE_ID
        name = draft.name.strip() or ("this rule" if stored else "the new rule")
        try:
            edited = _draft_rule(replace(draft, name=name, enabled=True), edited_id, 0)
            rules = placed(base.saved, edited, stored, position)
            ruleset, alone = (self._compile(ctx, chosen) for chosen in (rules, [edited]))
        except RuleError as exc:
            return RulePreview(0, 0, (), 0, 0, problem=str(exc))
        matches: list[PreviewMatch] = []
        moves = kept = by_edit = alone_matched = 0
        rule_names = {r.id: r.name for r in rules}
        order = {r.id: i for i, r in enumerate(rules)}
        mine_at = order[edited_id]
        for (message, routing), unit_before in zip(sample.rows, base.units, strict=True):
            owner = message.owner_unit_id
            decision = ruleset.evaluate(routing, owner_unit_id=owner)
            would_move = decision.unit_id != message.unit_id
            if message.handed_over:
                kept += would_move
                would_move = False
            else:
                moves += would_move
                by_edit += decision.unit_id != unit_before
            mine = next((m for m in decision.matches if m.rule_id == edited_id), None)
            if mine is None:
                # Not reached only if a rule above it stopped evaluation: then ask it alone.
                last = decision.matches[-1] if decision.matches else None
                if last is not None and last.stopped and order[last.rule_id] < mine_at:
                    alone_matched += bool(alone.evaluate(routing, owner_unit_id=owner).matches)
                continue
            alone_matched += 1
            matches.append(
                match_row(message, decision, mine, ctx.units, rule_names, would_move=would_move)
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

    def _compile(self, ctx: _Context, rules: Sequence[Rule]) -> RuleSet:
        return RuleSet.compile(
            rules,
            ctx.units,
            triage_unit_id=ctx.triage_id,
            time_zone=ctx.time_zone,
            person_names=ctx.people,
        )

    def _baseline(self, ctx: _Context, sample: Sample, stored: RuleRecord | None) -> _Baseline:
        """The saved rules (without the edited one) and where they send each sample message.

        Neither changes while a person types, so both are kept until the saved rules, the
        units, the edited rule or the sample change.
        """
        key = repr(
            (
                sample.loaded_at,
                stored.id if stored else None,
                [(r.id, r.position, *_content(r)) for r in ctx.records],
                sorted(ctx.units.items()),
                ctx.triage_id,
                ctx.time_zone,
            )
        )
        with self._lock:
            if self._base is not None and self._base.key == key:
                return self._base
        saved: list[Rule] = []
        for record in ctx.records:
            if stored is not None and record.id == stored.id:
                continue
            try:
                saved.append(rule_of(record))
            except RuleError:
                continue  # the engine skips it too; the list says why
        before = saved
        if stored is not None:
            # A stored version that cannot run: the saved rules route without it.
            with contextlib.suppress(RuleError):
                before = placed(saved, rule_of(stored), stored, None)
        was = self._compile(ctx, before)
        units = tuple(
            was.evaluate(routing, owner_unit_id=m.owner_unit_id).unit_id
            for m, routing in sample.rows
        )
        fresh = _Baseline(key, saved, units)
        with self._lock:
            self._base = fresh
        return fresh

    def forget_sample(self) -> None:
        """Read the sample again at the next preview (new messages arrived, units changed)."""
        with self._lock:
            self._sample = None

    def _sample_for(self, languages: tuple[str, ...], size: int) -> Sample:
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
        detector = LanguageDetector(languages, fallback=DEFAULT_LANGUAGES)
        rows = tuple(zip(messages, routing_inputs(messages, detector), strict=True))
        fresh = Sample(self._monotonic(), size, rows)
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
            raise KeyError(_GONE.format(rule_id=rule_id))
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
