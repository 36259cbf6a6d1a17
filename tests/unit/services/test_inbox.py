"""The inbox service on a fake unit of work: the unit tree, counts rolled up, sub-tree filters."""

from __future__ import annotations

import pytest

from app.domain.enums import ConversationStatus, Network
from app.domain.rows import FeedFilter, UnitCount
from app.services.inbox import InboxService
from tests.unit.services.fakes import FakeAccount, FakeConversation, FakeData, FakeStorage

NEW, OPEN, WAITING = ConversationStatus.NEW, ConversationStatus.OPEN, ConversationStatus.WAITING
RESOLVED, SPAM = ConversationStatus.RESOLVED, ConversationStatus.SPAM


@pytest.fixture
def storage() -> FakeStorage:
    """Company (1) > Sales (2) > EMEA (4); Company > Support (3), listed before Sales."""
    data = FakeData()
    data.add_unit(1, None, "Company")
    data.add_unit(2, 1, "Sales", sort_order=2)
    data.add_unit(4, 2, "EMEA")
    data.add_unit(3, 1, "Support", sort_order=1)
    data.accounts[1] = FakeAccount(id=1, network=Network.X, handle="acme", display_name="Acme")
    placed = [(4, NEW), (4, NEW), (4, WAITING), (2, OPEN), (2, RESOLVED), (3, RESOLVED), (1, SPAM)]
    for n, (unit, status) in enumerate(placed, start=1):
        data.conversations.append(
            FakeConversation(
                id=n, account_id=1, unit_id=unit, external_thread_id=f"t{n}", status=status
            )
        )
    return FakeStorage(data)


def test_units_come_in_tree_order(storage: FakeStorage) -> None:
    assert [u.name for u in InboxService(storage).units()] == [
        "Company",
        "Support",
        "Sales",
        "EMEA",
    ]


def test_unit_counts_include_every_sub_unit(storage: FakeStorage) -> None:
    counts = InboxService(storage).unit_counts()

    assert counts == {
        1: UnitCount(backlog=4, new=2, total=7),
        2: UnitCount(backlog=4, new=2, total=5),
        3: UnitCount(backlog=0, new=0, total=1),
        4: UnitCount(backlog=3, new=2, total=3),
    }


def test_a_unit_filter_covers_its_sub_tree(storage: FakeStorage) -> None:
    inbox = InboxService(storage)

    rows = inbox.page(FeedFilter(unit_id=2))

    assert storage.feed_calls[-1]["unit_ids"] == (2, 4)
    assert sorted(r.id for r in rows) == [1, 2, 3, 4, 5]
    assert inbox.subtree(3) == (3,)
    with pytest.raises(KeyError):
        inbox.subtree(99)


def test_the_root_unit_reads_the_whole_tree_unfiltered(storage: FakeStorage) -> None:
    inbox = InboxService(storage)

    inbox.page(FeedFilter(unit_id=1))
    inbox.keys(FeedFilter())
    inbox.newer(FeedFilter(unit_id=1, statuses=(NEW,)), than=(0, 0))

    # None: the unfiltered index, not an IN list of every unit.
    assert [c["unit_ids"] for c in storage.feed_calls] == [None, None, None]
    assert storage.feed_calls[-1]["statuses"] == (NEW,)


def test_the_unit_tree_is_read_once_until_forgotten(storage: FakeStorage) -> None:
    inbox = InboxService(storage)
    assert len(inbox.units()) == 4
    storage.data.add_unit(5, 3, "Returns")

    assert len(inbox.units()) == 4  # cached
    inbox.forget_units()
    assert [u.name for u in inbox.units()] == ["Company", "Support", "Returns", "Sales", "EMEA"]
    assert [r.id for r in inbox.page(FeedFilter(unit_id=3))] == [6]
    assert storage.feed_calls[-1]["unit_ids"] == (3, 5)


def test_a_thread_shows_where_it_was_routed(storage: FakeStorage) -> None:
    inbox = InboxService(storage)

    view = inbox.thread(3)

    assert view is not None
    assert (view.unit_name, view.account_name) == ("EMEA", "Acme (@acme)")
    assert inbox.thread(99) is None
