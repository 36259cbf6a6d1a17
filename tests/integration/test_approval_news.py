"""The notifications' source on real databases (SQLite and PostgreSQL): what started waiting on a
person since a moment, and the decisions on their own drafts, from the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.enums import DraftState
from app.services.approval_news import NewsKind
from app.services.container import Services
from tests.integration.demo_lookup import account_id, person_id, social_goal, unit_id


def _post(s: Services, author: int, unit: str, text: str) -> int:
    draft_id = s.drafts.create(
        author,
        "post",
        unit_id(s, unit),
        text,
        [account_id(s, "acme")],
        social_goal_id=social_goal(s),
    )
    s.drafts.submit(author, draft_id)
    return draft_id


def test_a_submitted_draft_is_news_for_its_approvers_only(demo_services: Services) -> None:
    s = demo_services
    jamal, emma, tom = (person_id(s, p) for p in ("jamal.carter", "emma.laurent", "tom.becker"))
    since = datetime.now(UTC) - timedelta(seconds=1)
    draft_id = _post(s, jamal, "Marketing", "Spring rides are back! Book yours today.")
    news = s.drafts.news_for(emma, since)
    (item,) = news.waiting
    assert (item.draft_id, item.kind, item.version) == (draft_id, NewsKind.WAITING, 1)
    assert item.title == "Jamal Carter asks for your approval"
    assert item.body == "Post for Marketing on @acme: “Spring rides are back! Book yours today.”"
    assert news.decided == ()
    assert news.checked_at >= since
    assert s.drafts.news_for(tom, since).items == ()  # an agent decides nothing
    assert s.drafts.news_for(jamal, since).items == ()  # nobody approves their own draft
    assert s.drafts.news_for(emma, news.checked_at + timedelta(seconds=1)).items == ()


def test_decisions_are_news_for_the_author_with_the_reason(demo_services: Services) -> None:
    s = demo_services
    jamal, emma = person_id(s, "jamal.carter"), person_id(s, "emma.laurent")
    since = datetime.now(UTC) - timedelta(seconds=1)
    rejected = _post(s, jamal, "Marketing", "Our rides are the best in town")
    changed = _post(s, jamal, "Marketing", "New colours for spring")
    approved = _post(s, jamal, "Marketing", "Helmets on, everyone")
    s.drafts.reject(emma, rejected, "Off-brand: no superlatives.", version=1)
    s.drafts.request_changes(emma, changed, "Name the colours.", version=1)
    assert s.drafts.approve(emma, approved, version=1) == DraftState.APPROVED
    news = s.drafts.news_for(jamal, since)
    assert [(i.draft_id, i.kind) for i in news.items] == [
        (rejected, NewsKind.REJECTED),
        (changed, NewsKind.CHANGES_REQUESTED),
        (approved, NewsKind.APPROVED),
    ]
    assert news.items[0].title == "Emma Laurent rejected your post"
    assert (
        news.items[0].body == "“Our rides are the best in town” Reason: Off-brand: no superlatives."
    )
    assert news.items[1].title == "Emma Laurent asked for changes to your post"
    assert news.items[1].body.endswith("Changes: Name the colours.")
    assert news.items[2].body.endswith("It is approved and goes out when the outbox runs.")
    assert len({i.key for i in news.items}) == 3  # one audit entry each
    # Decided: none of them waits on Emma any more.
    assert s.drafts.news_for(emma, since).items == ()


def test_a_draft_needing_two_approvals_waits_on_the_second_approver_only(
    demo_services: Services,
) -> None:
    s = demo_services
    daniel, grace, omar = (person_id(s, p) for p in ("daniel.novak", "grace.kim", "omar.haddad"))
    since = datetime.now(UTC) - timedelta(seconds=1)
    draft_id = _post(s, daniel, "Public Relations", "A statement on the recall.")
    assert [i.draft_id for i in s.drafts.news_for(grace, since).waiting] == [draft_id]
    assert s.drafts.approve(grace, draft_id, version=1) == DraftState.PENDING_APPROVAL
    assert s.drafts.news_for(grace, since).waiting == ()  # she decided this version
    assert [i.draft_id for i in s.drafts.news_for(omar, since).waiting] == [draft_id]
    (told,) = s.drafts.news_for(daniel, since).decided
    assert told.title == "Grace Kim approved your post"
    assert "Still needed: 1 more approval" in told.body


def test_a_resubmitted_draft_is_told_once_for_its_new_version(demo_services: Services) -> None:
    s = demo_services
    jamal, emma = person_id(s, "jamal.carter"), person_id(s, "emma.laurent")
    since = datetime.now(UTC) - timedelta(seconds=1)
    draft_id = _post(s, jamal, "Marketing", "Rides from 5 euros")
    s.drafts.request_changes(emma, draft_id, "Say until when.", version=1)
    s.drafts.edit(jamal, draft_id, "Rides from 5 euros until Sunday")
    s.drafts.submit(jamal, draft_id)
    (item,) = s.drafts.news_for(emma, since).waiting
    assert (item.draft_id, item.version) == (draft_id, 2)
    assert "until Sunday" in item.body


def test_the_outbox_tells_the_author_what_became_of_their_drafts(demo_services: Services) -> None:
    """Not approved 5 minutes before its time: not published, and the author is told; a draft
    the outbox published is news too."""
    s = demo_services
    jamal, emma = person_id(s, "jamal.carter"), person_id(s, "emma.laurent")
    since = datetime.now(UTC) - timedelta(seconds=1)
    at = datetime.now(UTC) + timedelta(minutes=30)
    late = s.drafts.create(
        jamal,
        "post",
        unit_id(s, "Marketing"),
        "Live Q&A at noon",
        [account_id(s, "acme")],
        schedule_at=at,
        social_goal_id=social_goal(s),
    )
    assert s.drafts.submit(jamal, late) is DraftState.PENDING_APPROVAL
    check = s.drafts.check_before_publish(late, at - timedelta(minutes=4))
    assert check.state is DraftState.DRAFT
    out = _post(s, jamal, "Marketing", "Helmets on, everyone")
    s.drafts.approve(emma, out, version=1)
    report = s.publisher.run_once()
    assert (out, "published") in report.finished
    news = {i.draft_id: i for i in s.drafts.news_for(jamal, since).decided}
    assert news[late].kind is NewsKind.NOT_SENT
    assert news[late].title == "Your post did not go out: not approved in time"
    assert news[late].body.startswith("“Live Q&A at noon” Not approved 5 minutes before ")
    assert news[late].body.endswith("so it was not published: pick a new time and submit it again.")
    assert news[out].kind is NewsKind.PUBLISHED
    assert news[out].title == "Your post is published"
    assert all(i.draft_id != late for i in s.drafts.news_for(emma, since).items)
