"""The routing service on fakes: rules compiled once, recompiled on change, decisions per thread."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.domain.enums import Network
from app.services.ingest import IngestService
from app.services.routing import RoutingService
from app.services.routing_decisions import DEFAULT_LANGUAGES, languages_of
from app.storage.rules import RoutingUnit, RuleRecord
from tests.unit.services.fakes import Clock, FakeAccount, FakeData, FakeStorage, item


@pytest.fixture
def storage() -> FakeStorage:
    data = FakeData()
    data.add_unit(1, None, "Company")
    data.add_unit(2, 1, "Care")
    data.accounts[7] = FakeAccount(id=7, network=Network.X, handle="AcmeHelp", unit_id=1)
    data.rules = [
        RuleRecord(1, 1, "refunds", True, {"words": ["refund"]}, {"route_to_unit": 2}, False)
    ]
    return FakeStorage(data)


def test_rules_are_decoded_once_and_again_only_when_they_change(storage: FakeStorage) -> None:
    svc = IngestService(storage, clock=Clock())
    svc.store(7, [item("1", "t1", text="refund please")], None)
    svc.store(7, [item("2", "t2", text="another refund")], None)
    assert storage.rule_calls == ["enabled"]  # the second batch reused the compiled rules

    rule = storage.data.rules[0]
    storage.data.rules = [replace(rule, conditions={"words": ["money"]})]
    svc.store(7, [item("3", "t3", text="refund or money")], None)

    assert storage.rule_calls == ["enabled", "enabled"]
    assert [storage.data.routed[c].unit_id for c in (1, 2, 3)] == [2, 2, 2]
    assert "'refunds'" in storage.data.routed[3].reason


def test_follow_ups_are_not_routed_again(storage: FakeStorage) -> None:
    svc = IngestService(storage, clock=Clock())
    svc.store(7, [item("1", "t1", text="hello")], None)
    plan = svc.routing.plan(7, [item("2", "t1", text="refund"), item("3", "t2", text="refund")])

    assert plan is not None
    assert list(plan.decisions) == [("x_thread", "t2")]


def test_a_batch_for_an_account_that_is_gone_plans_nothing(storage: FakeStorage) -> None:
    assert RoutingService(storage).plan(99, [item("1", "t1")]) is None


def test_languages_come_from_units_and_rules_with_a_sensible_fallback() -> None:
    def unit(langs: str) -> RoutingUnit:
        return RoutingUnit(1, "U", "/1/", langs, False, None, None)

    assert languages_of([unit("de, EN"), unit("es")], []) == ("de", "en", "es")
    assert languages_of([unit("")], []) == DEFAULT_LANGUAGES  # English alone would be a guess
    assert languages_of([unit("en,klingon")], []) == DEFAULT_LANGUAGES
