"""The list repaints a conversation changed by a triage action in place: no reset, one row."""

from __future__ import annotations

from typing import Any

from app.domain.rows import FeedFilter
from app.services.container import Services
from app.ui.inbox.feed_model import COL_STATUS, ConversationFeedModel
from tests.ui.feed import set_filter


def test_refresh_rows_repaints_only_the_changed_row(
    qtbot: Any, demo_services: Services, qtmodeltester: Any
) -> None:
    s = demo_services
    model = ConversationFeedModel(s.inbox)
    set_filter(qtbot, model, FeedFilter(statuses=("new", "open", "waiting")))
    target = model.row_at(3)
    ingrid = s.directory.person_by_email("ingrid.solberg@acme-mobility.example")
    assert ingrid is not None
    s.triage.resolve(ingrid.id, target.id)
    changed: list[tuple[int, int, int, int]] = []
    resets: list[int] = []
    model.dataChanged.connect(
        lambda a, b, _roles=(): changed.append((a.row(), a.column(), b.row(), b.column()))
    )
    model.modelReset.connect(lambda: resets.append(1))
    before = model.rowCount()

    assert model.refresh_rows([target.id, 999_999]) == 1  # one listed, one not in the list
    assert changed == [(3, 0, 3, model.columnCount() - 1)]  # the whole row, every column
    assert resets == []
    assert model.rowCount() == before  # kept in its place until the list is read again
    assert model.row_at(3).status == "resolved"
    assert model.index(3, COL_STATUS).data() == "Resolved"
    assert model.refresh_rows([]) == 0
    qtmodeltester.check(model)
