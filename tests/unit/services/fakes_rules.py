"""In-memory routing rules and preview sample for service tests (``FakeUnitOfWork.rule_store``).

Rules sit in ``FakeData.rule_store`` and the sample in ``FakeData.rule_store.sample``, so a
rollback drops uncommitted rule changes with the rest. ``lock_order`` counts its calls, so a test can
check that every change of the order took the lock; ``samples_read`` counts sample reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from app.storage.rule_store import NewRule, SampleMessage
from app.storage.rules import RuleRecord

if TYPE_CHECKING:
    from tests.unit.services.fakes import FakeData


class Counter:
    """A count that a unit of work's private copy shares (reads are never rolled back)."""

    def __init__(self) -> None:
        self.n = 0

    def __deepcopy__(self, memo: dict[int, object]) -> Counter:
        return self


@dataclass
class FakeRulesData:
    rules: list[RuleRecord] = field(default_factory=list)
    sample: list[SampleMessage] = field(default_factory=list)
    locks: int = 0
    samples_read: Counter = field(default_factory=Counter, compare=False)  # sample() calls


class FakeRuleStore:
    def __init__(self, data: FakeData) -> None:
        self._r = data.rule_store

    def lock_order(self) -> None:
        self._r.locks += 1

    def all(self) -> list[RuleRecord]:
        return sorted(self._r.rules, key=lambda r: (r.position, r.id))

    def get(self, rule_id: int) -> RuleRecord | None:
        return next((r for r in self._r.rules if r.id == rule_id), None)

    def add(self, rule: NewRule, at: datetime) -> int:
        rule_id = max((r.id for r in self._r.rules), default=0) + 1
        last = max((r.position for r in self._r.rules), default=0)
        self._r.rules.append(
            RuleRecord(
                rule_id,
                last + 1,
                rule.name,
                rule.enabled,
                dict(rule.conditions),
                dict(rule.actions),
                rule.stop,
            )
        )
        return rule_id

    def _replace(self, rule_id: int, **changes: object) -> None:
        i = next(i for i, r in enumerate(self._r.rules) if r.id == rule_id)
        self._r.rules[i] = replace(self._r.rules[i], **changes)  # type: ignore[arg-type]

    def update(self, rule_id: int, rule: NewRule) -> None:
        self._replace(
            rule_id,
            name=rule.name,
            enabled=rule.enabled,
            conditions=dict(rule.conditions),
            actions=dict(rule.actions),
            stop=rule.stop,
        )

    def set_enabled(self, rule_id: int, enabled: bool) -> None:
        self._replace(rule_id, enabled=enabled)

    def delete(self, rule_id: int) -> None:
        self._r.rules = [r for r in self._r.rules if r.id != rule_id]

    def set_order(self, rule_ids: list[int]) -> None:
        for position, rule_id in enumerate(rule_ids, start=1):
            self._replace(rule_id, position=position)

    def sample(self, conversations: int) -> list[SampleMessage]:
        self._r.samples_read.n += 1
        return list(self._r.sample[:conversations])
