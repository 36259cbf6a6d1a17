"""Saved views in the workspace, on both engines: the demo's views read, counted and edited."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.domain.rows import ASSIGNEE_ME, ASSIGNEE_NOBODY, FeedFilter
from app.models import AuditEntry, Conversation, SavedView
from app.services.container import Services
from app.services.views import NotAllowed, SavedViewError


def _person(services: Services, name: str) -> int:
    return next(p.id for p in services.directory.people() if p.name == name)


def test_the_demo_views_read_count_and_change(demo_services: Services) -> None:
    tom = _person(demo_services, "Tom Becker")
    marcus = _person(demo_services, "Marcus Kelly")
    views = demo_services.views
    mine = views.views(tom)
    assert [v.name for v in mine] == ["My open conversations", "Orders waiting on us"]
    assert all(v.filter is not None and not v.problem for v in mine)
    assert mine[0].filter == FeedFilter(assignee=ASSIGNEE_ME, statuses=("new", "open"))
    counts = views.counts(tom)
    with demo_services.db.engine.connect() as conn:
        expected = conn.execute(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.assignee_id == tom, Conversation.status.in_(["new", "open"]))
        ).scalar_one()
    assert counts[mine[0].id].n == expected
    assert [v.filter.assignee for v in views.views(marcus)][:1] == [ASSIGNEE_NOBODY]

    new_id = views.create(
        tom,
        "Negative German DMs",
        FeedFilter(kinds=("dm",), languages=("de",), sentiments=("negative",), sort="due"),
    )
    with pytest.raises(SavedViewError, match="already have a view"):
        views.create(tom, "negative german dms", FeedFilter())
    with pytest.raises(NotAllowed, match="Tom Becker's"):
        views.delete(marcus, new_id)
    views.reorder(tom, [new_id, mine[1].id, mine[0].id])
    views.rename(tom, new_id, "Angry Germans")
    assert views.views(tom)[0].name == "Angry Germans"
    views.delete(tom, new_id)
    with demo_services.db.engine.connect() as conn:
        assert conn.execute(select(SavedView.name).where(SavedView.id == new_id)).first() is None
        actions = (
            conn.execute(
                select(AuditEntry.action)
                .where(AuditEntry.entity == "saved_view")
                .order_by(AuditEntry.id)
            )
            .scalars()
            .all()
        )
    assert actions == [
        "saved_view.created",
        "saved_view.reordered",
        "saved_view.renamed",
        "saved_view.deleted",
    ]


def test_a_search_view_counts_what_the_list_shows(demo_services: Services) -> None:
    tom = _person(demo_services, "Tom Becker")
    f = FeedFilter(text="order")
    view_id = demo_services.views.create(tom, "Orders", f)
    count = demo_services.views.counts(tom)[view_id]
    pages = demo_services.inbox.page(f, limit=2000)
    assert count.n == len(pages) > 0
