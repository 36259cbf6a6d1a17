"""The conversation list's model: pages from SQL, filters, and Qt's model contract."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt

from app.domain.rows import FeedFilter
from app.services.container import Services
from app.ui.inbox.feed_model import COL_FROM, COL_PREVIEW, ROW_ROLE, ConversationFeedModel
from tests.ui.feed import set_filter


def _all(services: Services, query: FeedFilter) -> list[int]:
    ids: list[int] = []
    after = None
    while True:
        page = services.inbox.page(query, after=after, limit=97)
        ids += [r.id for r in page]
        if len(page) < 97:
            return ids
        after = page[-1].key


def _ids(model: ConversationFeedModel) -> list[int]:
    return [model.row_at(i).id for i in range(model.rowCount())]


def test_rows_arrive_a_page_at_a_time(
    qtbot: Any, demo_services: Services, qtmodeltester: Any
) -> None:
    model = ConversationFeedModel(demo_services.inbox)
    set_filter(qtbot, model, FeedFilter())
    assert model.rowCount() == 200
    assert model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    assert model.rowCount() == 400
    ids = _ids(model)
    assert len(set(ids)) == len(ids)
    keys = [model.row_at(i).key for i in range(model.rowCount())]
    assert keys == sorted(keys, reverse=True)
    qtmodeltester.check(model)


def test_fetch_to_end_holds_exactly_the_filtered_conversations(
    qtbot: Any, demo_services: Services
) -> None:
    model = ConversationFeedModel(demo_services.inbox)
    query = FeedFilter(statuses=("resolved",))
    set_filter(qtbot, model, query)
    model.fetch_to_end()
    assert not model.canFetchMore(QModelIndex())
    assert _ids(model) == _all(demo_services, query)


def test_unit_filter_includes_sub_units(qtbot: Any, demo_services: Services) -> None:
    care = next(u for u in demo_services.inbox.units() if u.name == "Customer Care")
    model = ConversationFeedModel(demo_services.inbox)
    set_filter(qtbot, model, FeedFilter(unit_id=care.id))
    model.fetch_to_end()
    units = {model.row_at(i).unit_id for i in range(model.rowCount())}
    subtree = set(demo_services.inbox.subtree(care.id))
    assert len(subtree) == 3
    assert units <= subtree
    assert len(units) > 1  # the sub-units' conversations are there, not only Care's own
    assert model.rowCount() == len(_all(demo_services, FeedFilter(unit_id=care.id)))


def test_network_and_status_filters(qtbot: Any, demo_services: Services) -> None:
    model = ConversationFeedModel(demo_services.inbox)
    set_filter(qtbot, model, FeedFilter(networks=("x",), statuses=("new", "open")))
    model.fetch_to_end()
    assert model.rowCount() > 0
    for i in range(model.rowCount()):
        row = model.row_at(i)
        assert row.network == "x"
        assert row.status in ("new", "open")


def test_cells_show_plain_strings(qtbot: Any, demo_services: Services) -> None:
    model = ConversationFeedModel(demo_services.inbox)
    set_filter(qtbot, model, FeedFilter())
    row = model.data(model.index(0, 0), ROW_ROLE)
    assert model.data(model.index(0, COL_PREVIEW)) == row.preview.replace("\n", " ")
    assert row.author_name in model.data(model.index(0, COL_FROM))
    assert model.headerData(COL_PREVIEW, Qt.Orientation.Horizontal) == "Conversation"


def test_jumping_to_the_end_loads_rows_only_where_looked_at(
    qtbot: Any, demo_services: Services, qtmodeltester: Any
) -> None:
    model = ConversationFeedModel(demo_services.inbox)
    set_filter(qtbot, model, FeedFilter())
    model.fetch_to_end()
    total = len(_all(demo_services, FeedFilter()))
    assert model.rowCount() == total
    assert model._rows[-1] is None  # not read yet
    last = model.row_at(total - 1)
    assert last.id == _all(demo_services, FeedFilter())[-1]
    assert model._rows[-1] is not None
    assert model._rows[total - 1 - model.WINDOW] is None  # only a window was read
    qtmodeltester.check(model)


def test_a_row_deleted_meanwhile_reads_as_gone(qtbot: Any, demo_services: Services) -> None:
    from sqlalchemy import delete

    from app.models import Conversation

    model = ConversationFeedModel(demo_services.inbox)
    set_filter(qtbot, model, FeedFilter())
    model.fetch_to_end()
    victim = model._keys[-1][1]
    with demo_services.db.engine.begin() as conn:
        conn.execute(delete(Conversation).where(Conversation.id == victim))
    row = model.row_at(model.rowCount() - 1)
    assert (row.id, row.preview) == (victim, "(no longer available)")
