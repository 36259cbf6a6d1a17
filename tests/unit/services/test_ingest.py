"""The ingest service on a fake unit of work: batches, the cursor with the last one, repairs."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.enums import Network
from app.services.ingest import BATCH, IngestService
from tests.unit.services.fakes import NOW, Clock, FakeAccount, FakeData, FakeStorage, item


@pytest.fixture
def storage() -> FakeStorage:
    data = FakeData()
    data.add_unit(1, None, "Company")
    data.add_unit(2, 1, "Care")
    data.accounts[7] = FakeAccount(
        id=7, network=Network.X, handle="AcmeHelp", unit_id=2, cursor={"seq": 1}
    )
    return FakeStorage(data)


def test_large_fetches_are_stored_in_batches_of_a_thousand(storage: FakeStorage) -> None:
    items = [item(str(n), f"t{n % 40}") for n in range(2 * BATCH + 500)]

    outcome = IngestService(storage).store(7, items, {"seq": 2})

    assert BATCH == 1000
    assert storage.chunks == [1000, 1000, 500]
    assert len(storage.history) == 3  # one transaction per batch
    assert outcome.new_messages == 2500
    assert len(outcome.new_conversation_ids) == 40
    assert len(storage.data.messages) == 2500


def test_the_cursor_goes_only_with_the_last_batch(storage: FakeStorage) -> None:
    items = [item(str(n)) for n in range(2 * BATCH + 1)]

    IngestService(storage).store(7, items, {"seq": 2})

    cursors = [snapshot.accounts[7].cursor for snapshot in storage.history]
    stored = [len(snapshot.messages) for snapshot in storage.history]
    assert stored == [1000, 2000, 2001]
    # A crash after the first or second batch repeats work (deduplicated), never skips any.
    assert cursors == [{"seq": 1}, {"seq": 1}, {"seq": 2}]


def test_a_derived_cursor_is_computed_from_the_stored_one_in_the_last_batch(
    storage: FakeStorage,
) -> None:
    seen: list[dict[str, Any]] = []

    def update(cursor: dict[str, Any]) -> dict[str, Any]:
        seen.append(dict(cursor))
        return {**cursor, "threads": {"t1": 5}}

    IngestService(storage).store(7, [item(str(n)) for n in range(1500)], None, update_cursor=update)

    assert seen == [{"seq": 1}]  # called once, on the last batch, with what was stored
    assert [s.accounts[7].cursor for s in storage.history] == [
        {"seq": 1},
        {"seq": 1, "threads": {"t1": 5}},
    ]


def test_an_empty_fetch_still_stores_its_cursor(storage: FakeStorage) -> None:
    clock = Clock()

    outcome = IngestService(storage, clock=clock).store(7, [], {"seq": 3}, skipped=2)

    assert (outcome.new_messages, outcome.skipped) == (0, 2)
    assert storage.chunks == [0]
    assert storage.data.accounts[7].cursor == {"seq": 3}
    assert storage.data.accounts[7].last_sync_at == NOW


def test_lone_surrogates_are_repaired_and_the_batch_stored_once(storage: FakeStorage) -> None:
    items = [item("1", text="fine"), item("2", text="half a pair \ud83d here")]

    outcome = IngestService(storage).store(7, items, {"seq": 2})

    assert storage.chunks == [2, 2]  # the first try failed and was rolled back
    assert len(storage.history) == 1
    assert outcome.new_messages == 2
    assert storage.data.messages[(7, "2")].text == "half a pair \ufffd here"
    assert storage.data.messages[(7, "1")].text == "fine"
    assert storage.data.accounts[7].cursor == {"seq": 2}


def test_new_conversations_go_to_the_account_owners_unit(storage: FakeStorage) -> None:
    IngestService(storage).store(7, [item("1", "t1")], None)

    [conversation] = storage.data.conversations
    assert conversation.unit_id == 2


def test_an_unknown_account_stores_nothing(storage: FakeStorage) -> None:
    with pytest.raises(KeyError, match="no account 8"):
        IngestService(storage).store(8, [item("1")], {"seq": 9})
    assert storage.history == []
    assert storage.data.messages == {}


def test_duplicates_are_counted_not_stored_twice(storage: FakeStorage) -> None:
    service = IngestService(storage)
    service.store(7, [item("1"), item("2")], None)

    again = service.store(7, [item("2"), item("3")], None)

    assert (again.new_messages, again.duplicates) == (1, 1)
    assert len(storage.data.messages) == 3
