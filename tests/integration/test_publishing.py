"""The outbox's queue and calendar, moving and retrying drafts, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, insert, select

from app.domain.enums import DraftState, DraftTargetState
from app.models import ApprovalRule, AuditEntry, Draft, Message
from app.services.container import Services
from app.services.drafts import DraftError, NotAllowed
from app.storage.outbox_views import SqlOutboxViews
from tests.integration.demo_lookup import person_id, unit_id
from tests.outbox_fakes import account, approved_post, mark_sent, pending_post, soon

FAR = datetime(2000, 1, 1, tzinfo=UTC)


def _ids(rows: list) -> list[int]:
    return [r.draft_id for r in rows]


def _stored(s: Services, draft_id: int) -> tuple[str, datetime | None]:
    with s.db.uow() as uow:
        row = uow.session.execute(
            select(Draft.state, Draft.schedule_at).where(Draft.id == draft_id)
        ).one()
    return row.state, row.schedule_at


def test_the_queue_lists_the_outbox_in_due_order_with_each_targets_outcome(
    demo_services: Services,
) -> None:
    s = demo_services
    jamal = person_id(s, "jamal.carter")
    acme, page = account(s, "acme"), account(s, "acmemobility")
    later = approved_post(s, "Later this week", at=soon(72))
    sooner = approved_post(s, "Tomorrow morning", at=soon(20))
    now_ = approved_post(s, "Out at once")  # approved, no time: due when it was approved
    split = approved_post(s, "Spring launch on both", ("acme", "acmemobility"))
    mark_sent(
        s,
        split,
        DraftState.FAILED,
        {
            acme: ("published", "sbx-777", ""),
            page: ("failed", None, "(#368) Blocked <b>for policy</b>"),
        },
        failure_reason="Failed on Acme Mobility",
    )
    old = approved_post(s, "Published last month")
    mark_sent(
        s,
        old,
        DraftState.PUBLISHED,
        {acme: ("published", "sbx-1", "")},
        at=datetime.now(UTC) - timedelta(days=30),
    )
    waiting = pending_post(s, "Still waiting for Emma")

    rows = s.publishing.queue(jamal, limit=200)
    ids = _ids(rows)
    assert waiting not in ids
    assert old not in ids
    mine = [i for i in ids if i in {later, sooner, now_, split}]
    assert mine == [now_, split, sooner, later]  # due order: approval/failure time, then times
    assert [r.due for r in rows] == sorted(r.due for r in rows)
    row = next(r for r in rows if r.draft_id == split)
    assert row.state is DraftState.FAILED
    assert [(t.account, t.state, t.external_id) for t in row.targets] == [
        ("@acme", DraftTargetState.PUBLISHED, "sbx-777"),
        ("Acme Mobility", DraftTargetState.FAILED, None),
    ]
    assert row.targets[0].published_at is not None
    assert row.targets[1].error == "(#368) Blocked <b>for policy</b>"  # as the network said it
    assert row.targets[1].text == "Acme Mobility: failed: (#368) Blocked <b>for policy</b>"
    assert row.outcome == "Failed on 1 of 2, published on 1: Failed on Acme Mobility."
    assert row.may_retry
    assert not row.may_move
    scheduled = next(r for r in rows if r.draft_id == sooner)
    assert scheduled.state is DraftState.SCHEDULED
    assert scheduled.may_unschedule
    assert scheduled.targets[0].state is DraftTargetState.PENDING
    # Published two days ago or less: still listed.
    recent = approved_post(s, "Published an hour ago")
    mark_sent(s, recent, DraftState.PUBLISHED, {acme: ("published", "sbx-2", "")})
    assert recent in _ids(s.publishing.queue(jamal, limit=200))


def test_the_queue_pages_by_key_without_repeating_or_dropping(demo_services: Services) -> None:
    s = demo_services
    jamal = person_id(s, "jamal.carter")
    made = {approved_post(s, f"Post {i}", at=soon(10 + i)) for i in range(7)}
    whole = _ids(s.publishing.queue(jamal, limit=500))
    paged: list[int] = []
    after = None
    while True:
        page = s.publishing.queue(jamal, limit=3, after=after)
        paged.extend(_ids(page))
        if len(page) < 3:
            break
        after = page[-1].key
    assert paged == whole
    assert made <= set(paged)


def test_each_person_sees_the_outbox_of_the_units_they_work_in(demo_services: Services) -> None:
    s = demo_services
    post = approved_post(s, "Marketing only", at=soon())
    sales = approved_post(
        s,
        "Fleet offer. Offer subject to availability. Terms: acme-mobility.example/terms",
        author="victor.ortiz",
        approver="rachel.adams",
        unit="Sales & E-commerce",
        at=soon(30),
    )
    seen = {
        who: set(_ids(s.publishing.queue(person_id(s, who), limit=500)))
        for who in ("jamal.carter", "emma.laurent", "victor.ortiz", "ingrid.solberg")
    }
    assert post in seen["jamal.carter"]
    assert sales not in seen["jamal.carter"]
    assert post in seen["emma.laurent"]
    assert sales not in seen["emma.laurent"]
    assert sales in seen["victor.ortiz"]
    assert post not in seen["victor.ortiz"]
    assert {post, sales} <= seen["ingrid.solberg"]  # the company's administrator
    with pytest.raises(NotAllowed, match="Helena Marsh holds no such role"):
        s.publishing.queue(person_id(s, "helena.marsh"))  # a strategist works in no unit
    start = datetime.now(UTC)
    calendar = s.publishing.calendar(person_id(s, "victor.ortiz"), start, start + timedelta(7))
    assert _ids(calendar) == [sales]


def test_the_calendar_shows_timed_and_sent_posts_in_its_range(demo_services: Services) -> None:
    s = demo_services
    jamal = person_id(s, "jamal.carter")
    acme = account(s, "acme")
    monday = (datetime.now(UTC) + timedelta(days=7)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    inside = approved_post(s, "Inside the week", at=monday + timedelta(days=2, hours=9))
    waiting = pending_post(s, "Waiting, but planned", at=monday + timedelta(days=3, hours=15))
    outside = approved_post(s, "The week after", at=monday + timedelta(days=8))
    week = s.publishing.calendar(jamal, monday, monday + timedelta(days=7))
    assert _ids(week) == [inside, waiting]
    assert week[0].due == monday + timedelta(days=2, hours=9)
    assert week[1].state is DraftState.PENDING_APPROVAL
    assert outside in _ids(s.publishing.calendar(jamal, monday, monday + timedelta(days=31)))

    sent = approved_post(s, "Out at once and published")
    when = datetime.now(UTC).replace(microsecond=0)
    mark_sent(s, sent, DraftState.PUBLISHED, {acme: ("published", "sbx-9", "")}, at=when)
    today = when.replace(hour=0, minute=0, second=0)
    day = s.publishing.calendar(jamal, today, today + timedelta(days=1))
    row = next(r for r in day if r.draft_id == sent)
    assert row.due == when
    assert row.state is DraftState.PUBLISHED
    assert row.published_on[0].external_id == "sbx-9"
    # One unit's sub-tree only; and no more than two months at once.
    assert (
        s.publishing.calendar(
            jamal, monday, monday + timedelta(7), unit_id(s, "Sales & E-commerce")
        )
        == []
    )
    with pytest.raises(ValueError, match="up to 62 days"):
        s.publishing.calendar(jamal, monday, monday + timedelta(days=90))


def test_a_published_target_links_to_the_stored_message(demo_services: Services) -> None:
    s = demo_services
    acme = account(s, "acme")
    with s.db.uow() as uow:
        message = uow.session.execute(
            select(Message.external_id, Message.permalink)
            .where(Message.account_id == acme, Message.permalink.is_not(None))
            .limit(1)
        ).one()
    draft = approved_post(s, "Linked")
    mark_sent(s, draft, DraftState.PUBLISHED, {acme: ("published", message.external_id, "")})
    rows = s.publishing.queue(person_id(s, "jamal.carter"), limit=500)
    target = next(r for r in rows if r.draft_id == draft).targets[0]
    assert target.permalink == message.permalink


def test_moving_a_scheduled_post_keeps_its_approval_and_stores_the_time(
    demo_services: Services,
) -> None:
    s = demo_services
    jamal = person_id(s, "jamal.carter")
    draft = approved_post(s, "Move me", at=soon(24))
    new = soon(50)
    assert s.drafts.schedule(jamal, draft, new) is DraftState.SCHEDULED
    assert _stored(s, draft) == ("scheduled", new)


def test_moving_a_post_too_close_without_its_approvals_is_refused(demo_services: Services) -> None:
    s = demo_services
    jamal = person_id(s, "jamal.carter")
    planned = soon(24)
    draft = pending_post(s, "Not approved yet", at=planned)
    close = datetime.now(UTC) + timedelta(minutes=3)
    with pytest.raises(DraftError, match="too close: it needs approval at least 5 minutes"):
        s.drafts.schedule(jamal, draft, close)
    assert _stored(s, draft) == ("pending_approval", planned)


def test_moving_a_scheduled_post_checks_the_rules_in_force_again(demo_services: Services) -> None:
    s = demo_services
    jamal = person_id(s, "jamal.carter")
    draft = approved_post(s, "Approved by one", at=soon(24))
    with s.db.uow() as uow:  # the rules changed since: Marketing's posts now need two
        uow.session.execute(
            insert(ApprovalRule).values(
                unit_id=unit_id(s, "Marketing"),
                condition="always",
                draft_kind="post",
                required_approvals=2,
                approver_role="supervisor",
            )
        )
        uow.commit()
    with pytest.raises(DraftError, match="too close"):
        s.drafts.schedule(jamal, draft, datetime.now(UTC) + timedelta(minutes=2))
    assert _stored(s, draft)[0] == "scheduled"
    new = soon(30)
    assert s.drafts.schedule(jamal, draft, new) is DraftState.PENDING_APPROVAL
    assert _stored(s, draft) == ("pending_approval", new)
    emma = person_id(s, "emma.laurent")
    assert draft in [r.draft_id for r in s.drafts.pending_for(person_id(s, "omar.haddad"), 500)]
    assert draft not in [r.draft_id for r in s.drafts.pending_for(emma, 500)]  # decided already


def test_retry_puts_a_failed_draft_back_into_the_outbox(demo_services: Services) -> None:
    s = demo_services
    jamal, tom = person_id(s, "jamal.carter"), person_id(s, "tom.becker")
    acme = account(s, "acme")
    draft = approved_post(s, "Try again")
    mark_sent(s, draft, DraftState.FAILED, {acme: ("failed", None, "503")}, failure_reason="503")
    with pytest.raises(NotAllowed, match="Only Jamal Carter"):
        s.drafts.retry(tom, draft)
    assert s.drafts.retry(jamal, draft) is DraftState.APPROVED
    assert _stored(s, draft)[0] == "approved"
    with pytest.raises(DraftError, match="cannot take 'retry'"):
        s.drafts.retry(jamal, draft)
    timed = approved_post(s, "Try again at its time", at=soon(5))
    mark_sent(s, timed, DraftState.FAILED, {acme: ("failed", None, "503")})
    assert s.drafts.retry(jamal, timed) is DraftState.SCHEDULED
    with s.db.uow() as uow:
        actions = uow.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity == "draft", AuditEntry.entity_id == draft)
            .order_by(AuditEntry.id)
        ).all()
    assert actions[-1] == "draft.retry"


def test_the_calendar_and_the_queue_read_their_indexes(demo_services: Services) -> None:
    s = demo_services
    if s.db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans a table this small with a scan")
    start = datetime.now(UTC)
    seen: list[tuple[str, object]] = []

    def capture(_c: object, _cur: object, sql: str, params: object, *_rest: object) -> None:
        if "FROM drafts" in sql:
            seen.append((sql, params))

    with s.db.uow() as uow:
        conn = uow.session.connection()
        event.listen(conn, "before_cursor_execute", capture)
        views = SqlOutboxViews(uow.session)
        views.calendar(start, start + timedelta(days=7))
        views.queue(since=start - timedelta(days=2))
        event.remove(conn, "before_cursor_execute", capture)
        plans = [
            " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", p))
            for sql, p in seen
        ]
    calendar, queue = plans
    assert "ix_drafts_schedule_at_id" in calendar
    assert "ix_drafts_state_kind_updated_at_id" in calendar
    assert "ix_drafts_state_kind_updated_at_id (state=? AND kind=? AND updated_at>?)" in queue
