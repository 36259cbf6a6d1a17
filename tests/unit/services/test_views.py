"""Saved views on a fake unit of work: owners only, names unique per person, audited, counted."""

from __future__ import annotations

import pytest

from app.domain.enums import ConversationStatus, Network
from app.domain.rows import ASSIGNEE_ME, FeedFilter
from app.services.inbox import InboxService
from app.services.views import NotAllowed, SavedViewError, SavedViewsService, ViewCount
from app.storage.ports import PersonEntry
from app.storage.views import SavedViewRecord
from tests.unit.services.fakes import FakeAccount, FakeConversation, FakeData, FakeStorage

TOM, ANA = 1, 2


@pytest.fixture
def storage() -> FakeStorage:
    data = FakeData()
    data.add_unit(1, None, "Company")
    data.add_unit(2, 1, "Care")
    data.people += [
        PersonEntry(TOM, "Tom Becker", "t@x", ""),
        PersonEntry(ANA, "Ana Ruiz", "a@x", ""),
    ]
    data.accounts[1] = FakeAccount(id=1, network=Network.X, handle="acme", display_name="Acme")
    for n, (unit, status) in enumerate(
        [(2, ConversationStatus.NEW), (2, ConversationStatus.OPEN), (1, ConversationStatus.NEW)],
        start=1,
    ):
        data.conversations.append(
            FakeConversation(
                id=n, account_id=1, unit_id=unit, external_thread_id=f"t{n}", status=status
            )
        )
    return FakeStorage(data)


def _service(storage: FakeStorage) -> SavedViewsService:
    return SavedViewsService(storage, InboxService(storage))


def test_a_view_keeps_its_filter_and_is_audited(storage: FakeStorage) -> None:
    views = _service(storage)
    f = FeedFilter(unit_id=2, statuses=("new",), assignee=ASSIGNEE_ME, text="refund")
    view_id = views.create(TOM, "  My   new ", f)
    [row] = views.views(TOM)
    assert (row.id, row.name, row.filter, row.problem) == (view_id, "My new", f, "")
    entry = storage.data.audit[-1]
    assert (entry.action, entry.entity, entry.entity_id, entry.person_name) == (
        "saved_view.created",
        "saved_view",
        view_id,
        "Tom Becker",
    )
    assert entry.after == {
        "name": "My new",
        "filters": {"unit_id": 2, "statuses": ["new"], "assignee": "me", "text": "refund"},
    }


def test_only_the_owner_sees_and_changes_a_view(storage: FakeStorage) -> None:
    views = _service(storage)
    view_id = views.create(TOM, "Mine", FeedFilter())
    assert views.views(ANA) == []
    with pytest.raises(
        NotAllowed, match="Only the owner of a saved view can rename it: 'Mine' is Tom Becker's"
    ):
        views.rename(ANA, view_id, "Hers")
    with pytest.raises(NotAllowed, match="can delete it"):
        views.delete(ANA, view_id)
    with pytest.raises(SavedViewError, match="each of your saved views exactly once"):
        views.reorder(ANA, [view_id])
    assert [v.name for v in views.views(TOM)] == ["Mine"]


def test_names_are_unique_per_person_whatever_the_case(storage: FakeStorage) -> None:
    views = _service(storage)
    views.create(TOM, "My open", FeedFilter())
    with pytest.raises(SavedViewError, match="You already have a view named 'MY OPEN'"):
        views.create(TOM, "MY OPEN", FeedFilter())
    views.create(ANA, "My open", FeedFilter())  # someone else may use the name
    other = views.create(TOM, "Other", FeedFilter())
    with pytest.raises(SavedViewError, match="already have a view named 'my open'"):
        views.rename(TOM, other, "my open")
    with pytest.raises(SavedViewError, match="needs a name"):
        views.create(TOM, "   ", FeedFilter())
    with pytest.raises(SavedViewError, match="at most 100 characters"):
        views.create(TOM, "x" * 101, FeedFilter())


def test_nobody_cannot_save(storage: FakeStorage) -> None:
    with pytest.raises(NotAllowed, match="Nobody with that id"):
        _service(storage).create(99, "Mine", FeedFilter())


def test_rename_delete_and_reorder(storage: FakeStorage) -> None:
    views = _service(storage)
    a, b, c = (views.create(TOM, name, FeedFilter()) for name in ("A", "B", "C"))
    views.reorder(TOM, [c, a, b])
    assert [v.name for v in views.views(TOM)] == ["C", "A", "B"]
    assert storage.data.audit[-1].action == "saved_view.reordered"
    views.rename(TOM, a, "Alpha")
    views.delete(TOM, b)
    assert [v.name for v in views.views(TOM)] == ["C", "Alpha"]
    assert [e.action for e in storage.data.audit[-2:]] == [
        "saved_view.renamed",
        "saved_view.deleted",
    ]
    with pytest.raises(SavedViewError, match="no longer exists"):
        views.delete(TOM, b)
    d = views.create(TOM, "D", FeedFilter())
    assert [v.id for v in views.views(TOM)][-1] == d  # new views go last


def test_counts_follow_the_filter_and_me(storage: FakeStorage) -> None:
    views = _service(storage)
    care_new = views.create(TOM, "Care new", FeedFilter(unit_id=2, statuses=("new",)))
    everything = views.create(TOM, "All", FeedFilter())
    mine = views.create(TOM, "Mine", FeedFilter(assignee=ASSIGNEE_ME))
    counts = views.counts(TOM)
    assert counts[care_new] == ViewCount(1)
    assert counts[everything] == ViewCount(3)
    assert storage.feed_calls[-1]["assignee_ids"] == (TOM,)
    assert mine in counts
    assert ViewCount(500, at_least=True).text() == "500+"


def test_an_unreadable_stored_view_is_listed_not_lost(storage: FakeStorage) -> None:
    storage.data.saved_views.append(SavedViewRecord(7, TOM, "Old", {"colour": "red"}, 0))
    views = _service(storage)
    [row] = views.views(TOM)
    assert row.filter is None
    assert "Unknown filter key 'colour'" in row.problem
    assert 7 not in views.counts(TOM)
    views.delete(TOM, 7)  # still removable
    assert views.views(TOM) == []
