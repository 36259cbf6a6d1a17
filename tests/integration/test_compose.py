"""What the compose pane asks of the services, on both engines with the demo workspace: the
live check's context (counters, findings, the approvals needed), a post's social goal and
accounts, the warnings about duplicates, posts close together and Messenger's window, the
draft to open again, and saved replies with their permissions and placeholders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.domain.enums import DraftState
from app.domain.policy import Severity
from app.models import Account, AuditEntry, Conversation, DraftTarget, StrategyItem
from app.services.container import Services
from app.services.drafts import DraftError, NotAllowed
from app.services.saved_replies import SavedReplyError
from tests.integration.demo_lookup import person_id, unit_id


def _account(s: Services, handle: str) -> int:
    with s.db.engine.connect() as conn:
        return int(conn.scalar(select(Account.id).where(Account.handle == handle)) or 0)


def _page(s: Services) -> int:
    with s.db.engine.connect() as conn:
        found = conn.scalar(select(Account.id).where(Account.network == "facebook"))
    assert found is not None
    return int(found)


def _goal(s: Services) -> int:
    with s.db.engine.connect() as conn:
        found = conn.scalar(select(StrategyItem.id).where(StrategyItem.type == "social_goal"))
    assert found is not None
    return int(found)


def _actions(s: Services, entity: str, entity_id: int) -> list[str]:
    with s.db.engine.connect() as conn:
        return list(
            conn.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
                .order_by(AuditEntry.id)
            )
        )


def _conversation(s: Services, unit: int, thread_types: tuple[str, ...]) -> int:
    with s.db.engine.begin() as conn:
        cid = conn.scalar(
            select(Conversation.id)
            .where(Conversation.thread_type.in_(thread_types))
            .order_by(Conversation.id)
            .limit(1)
        )
        assert cid is not None
        conn.execute(update(Conversation).where(Conversation.id == cid).values(unit_id=unit))
    return int(cid)


# -- a post's social goal and accounts -------------------------------------------------------


def test_a_post_without_a_social_goal_is_refused_on_submit(demo_services: Services) -> None:
    s = demo_services
    jamal, marketing = person_id(s, "jamal.carter"), unit_id(s, "Marketing")
    draft_id = s.drafts.create(jamal, "post", marketing, "Spring rides!", [_account(s, "acme")])
    with pytest.raises(DraftError, match="A post needs the social goal it serves"):
        s.drafts.submit(jamal, draft_id)
    assert s.drafts.draft_view(draft_id).state is DraftState.DRAFT
    s.drafts.set_social_goal(jamal, draft_id, _goal(s))
    assert s.drafts.draft_view(draft_id).social_goal_id == _goal(s)
    assert s.drafts.submit(jamal, draft_id) is DraftState.PENDING_APPROVAL
    assert _actions(s, "draft", draft_id) == ["draft.create", "draft.social_goal", "draft.submit"]


def test_a_reply_needs_no_social_goal(demo_services: Services) -> None:
    s = demo_services
    tom, orders = person_id(s, "tom.becker"), unit_id(s, "Orders & Delivery")
    cid = _conversation(s, orders, ("sandbox_thread",))
    draft_id = s.drafts.create(tom, "reply", orders, "We are on it.", conversation_id=cid)
    assert s.drafts.submit(tom, draft_id) in (DraftState.APPROVED, DraftState.PENDING_APPROVAL)


def test_an_unknown_social_goal_is_refused(demo_services: Services) -> None:
    s = demo_services
    jamal, marketing = person_id(s, "jamal.carter"), unit_id(s, "Marketing")
    draft_id = s.drafts.create(jamal, "post", marketing, "Hi", [_account(s, "acme")])
    with pytest.raises(DraftError, match="social goal does not exist"):
        s.drafts.set_social_goal(jamal, draft_id, 999_999)
    with pytest.raises(NotAllowed, match="Only Jamal Carter, who wrote this draft"):
        s.drafts.set_social_goal(person_id(s, "tom.becker"), draft_id, _goal(s))


def test_a_posts_accounts_change_while_it_is_a_draft_only(demo_services: Services) -> None:
    s = demo_services
    jamal, marketing = person_id(s, "jamal.carter"), unit_id(s, "Marketing")
    acme, page = _account(s, "acme"), _page(s)
    draft_id = s.drafts.create(jamal, "post", marketing, "Spring!", [acme], social_goal_id=_goal(s))
    s.drafts.set_accounts(jamal, draft_id, [acme, page])
    with s.db.engine.connect() as conn:
        stored = set(
            conn.scalars(select(DraftTarget.account_id).where(DraftTarget.draft_id == draft_id))
        )
    assert stored == {acme, page}
    with pytest.raises(DraftError, match="at least one account"):
        s.drafts.set_accounts(jamal, draft_id, [])
    s.drafts.submit(jamal, draft_id)
    with pytest.raises(DraftError, match="Withdraw it or edit its text first"):
        s.drafts.set_accounts(jamal, draft_id, [acme])
    assert "draft.accounts" in _actions(s, "draft", draft_id)


# -- the live check --------------------------------------------------------------------------


def test_the_context_checks_counters_findings_and_the_approval_needed(
    demo_services: Services,
) -> None:
    s = demo_services
    jamal, marketing = person_id(s, "jamal.carter"), unit_id(s, "Marketing")
    acme, page = _account(s, "acme"), _page(s)
    context = s.drafts.compose_context(jamal, "post", marketing)
    assert {acme, page} <= {a.id for a in context.accounts}
    assert context.accounts[0].unit_id == marketing  # the unit's own accounts first
    assert "Marketing" in [u.name for u in context.units]
    assert context.goals
    text = "Guaranteed the best ride, and a refund if not! " + "x" * 250
    check = context.check(text, [acme, page])
    counters = {c.account_id: c for c in check.counters}
    assert counters[acme].limit == 280
    assert counters[acme].over
    assert counters[page].limit == 2_000  # the demo policy's Facebook line (for Messenger)
    assert not counters[page].over
    banned = next(m for m in check.marks if m.severity is Severity.BLOCK and m.start == 0)
    assert text[banned.start : banned.end] == "Guaranteed"
    assert set(banned.accounts) == {"@acme", "Acme Mobility"}
    risky = next(m for m in check.marks if m.severity is Severity.WARN)
    assert text[risky.start : risky.end] == "refund"
    assert check.blocked
    assert check.approval[0].startswith("1 approval from a supervisor of Marketing")
    # Only the accounts chosen count; an unknown one is skipped.
    only_page = context.check("Hello", [page, 999_999])
    assert [c.account_id for c in only_page.counters] == [page]


def test_the_preview_says_whom_a_reply_with_a_risky_term_needs(demo_services: Services) -> None:
    s = demo_services
    tom, orders = person_id(s, "tom.becker"), unit_id(s, "Orders & Delivery")
    cid = _conversation(s, orders, ("sandbox_thread",))
    plain = s.drafts.preview_requirement(tom, "reply", "Thanks!", conversation_id=cid)
    risky = s.drafts.preview_requirement(
        tom, "reply", "A refund is on its way", conversation_id=cid
    )
    assert risky != plain
    assert any("supervisor of Orders & Delivery" in line for line in risky)
    context = s.drafts.compose_context(tom, "reply", conversation_id=cid)
    assert context.unit_id == orders
    assert [a.id for a in context.accounts] == list(context.default_accounts())
    assert context.my_first_name == "Tom"


def test_someone_who_works_nowhere_has_no_context(demo_services: Services) -> None:
    s = demo_services
    with pytest.raises(NotAllowed):
        s.drafts.compose_context(person_id(s, "tom.becker"), "post", unit_id(s, "Marketing"))


# -- warnings --------------------------------------------------------------------------------


def test_the_same_text_again_and_a_second_post_within_the_hour_warn(
    demo_services: Services,
) -> None:
    s = demo_services
    jamal, emma = person_id(s, "jamal.carter"), person_id(s, "emma.laurent")
    marketing, acme = unit_id(s, "Marketing"), _account(s, "acme")
    first = s.drafts.create(
        jamal, "post", marketing, "Spring rides are back!", [acme], social_goal_id=_goal(s)
    )
    s.drafts.submit(jamal, first)
    s.drafts.approve(emma, first, version=1)
    mine = f"(draft {first})"
    same = s.drafts.posting_warnings(jamal, "post", "spring rides are  back!", account_ids=[acme])
    duplicate = [w for w in same if mine in w and w.startswith("The same text goes out on @acme")]
    assert len(duplicate) == 1
    assert not [w for w in same if mine in w and w.startswith("Another post")]  # said once
    other = s.drafts.posting_warnings(jamal, "post", "Something else", account_ids=[acme])
    assert any(w.startswith("Another post goes out on @acme") for w in other)
    assert not [w for w in other if w.startswith("The same text")]
    later = datetime.now(UTC) + timedelta(hours=3)
    assert not [
        w
        for w in s.drafts.posting_warnings(
            jamal, "post", "Something else", account_ids=[acme], schedule_at=later
        )
        if w.startswith("Another post")
    ]
    # The draft being written is not compared with itself.
    itself = s.drafts.posting_warnings(
        jamal, "post", "Spring rides are back!", account_ids=[acme], draft_id=first
    )
    assert not [w for w in itself if mine in w]
    # A reply is never "another post".
    replying = s.drafts.posting_warnings(jamal, "reply", "Something else", account_ids=[acme])
    assert not [w for w in replying if w.startswith("Another post")]


def test_messenger_warns_once_the_reply_window_has_closed(demo_services: Services) -> None:
    s = demo_services
    admin = person_id(s, "sam.taylor")
    with s.db.engine.begin() as conn:
        cid = conn.scalar(
            select(Conversation.id).where(Conversation.thread_type == "fb_messenger").limit(1)
        )
        assert cid is not None
        conn.execute(
            update(Conversation)
            .where(Conversation.id == cid)
            .values(last_inbound_at=datetime.now(UTC) - timedelta(hours=30))
        )
    closed = s.drafts.posting_warnings(admin, "dm", "Hello", conversation_id=cid)
    assert len(closed) == 1
    assert closed[0].startswith("Messenger's 24-hour reply window closed at")
    with s.db.engine.begin() as conn:
        conn.execute(
            update(Conversation)
            .where(Conversation.id == cid)
            .values(last_inbound_at=datetime.now(UTC) - timedelta(hours=2))
        )
    assert s.drafts.posting_warnings(admin, "dm", "Hello", conversation_id=cid) == ()


# -- the draft to open again -----------------------------------------------------------------


def test_the_draft_of_a_conversation_and_the_post_being_written_open_again(
    demo_services: Services,
) -> None:
    s = demo_services
    tom, orders = person_id(s, "tom.becker"), unit_id(s, "Orders & Delivery")
    jamal, marketing = person_id(s, "jamal.carter"), unit_id(s, "Marketing")
    cid = _conversation(s, orders, ("sandbox_thread",))
    assert s.drafts.open_draft(tom, "reply", cid) is None
    reply = s.drafts.create(tom, "reply", orders, "Half a tho", conversation_id=cid)
    s.drafts.save_text(tom, reply, "Half a thought")
    found = s.drafts.open_draft(tom, "reply", cid)
    assert found is not None
    assert (found.id, found.text) == (reply, "Half a thought")
    assert s.drafts.open_draft(person_id(s, "aisha.bello"), "reply", cid) is None  # Tom's own
    post = s.drafts.create(jamal, "post", marketing, "Soon…", [_account(s, "acme")])
    opened = s.drafts.open_draft(jamal, "post")
    assert opened is not None
    assert opened.id == post


# -- saved replies ---------------------------------------------------------------------------


def test_supervisors_keep_saved_replies_and_agents_use_them(demo_services: Services) -> None:
    s = demo_services
    marcus, priya, tom = (
        person_id(s, "marcus.kelly"),
        person_id(s, "priya.raman"),
        person_id(s, "tom.becker"),
    )
    care, orders = unit_id(s, "Customer Care"), unit_id(s, "Orders & Delivery")
    greeting = s.saved_replies.create(
        marcus, care, "Welcome back", "Hi {author_name}, {my_first_name} from Acme here."
    )
    mine = s.saved_replies.create(priya, orders, "Tracking", "Your parcel is on its way.")
    with pytest.raises(NotAllowed, match="Only a supervisor or an administrator of Orders"):
        s.saved_replies.create(tom, orders, "Mine", "Text")
    with pytest.raises(NotAllowed, match="of Customer Care"):
        s.saved_replies.create(priya, care, "Above me", "Text")  # Priya supervises Orders only
    offered = {r.title: r.unit_name for r in s.saved_replies.for_unit(tom, orders)}
    assert offered["Welcome back"] == "Customer Care"  # from the unit above
    assert offered["Tracking"] == "Orders & Delivery"
    assert "Restart first" not in offered  # Technical Support's, a sibling
    assert s.saved_replies.may_manage(priya, orders)
    assert not s.saved_replies.may_manage(tom, orders)
    with pytest.raises(NotAllowed):
        s.saved_replies.for_unit(tom, unit_id(s, "Marketing"))
    cid = _conversation(s, orders, ("sandbox_thread",))
    filled = s.saved_replies.expand(tom, greeting, orders, cid)
    with pytest.raises(SavedReplyError, match="not offered in Customer Care"):
        s.saved_replies.expand(marcus, mine, care)
    assert filled.text.endswith(", Tom from Acme here.")
    assert filled.text.startswith("Hi ")
    assert "{" not in filled.text
    s.saved_replies.edit(priya, mine, "Tracking", "Your parcel arrives tomorrow.")
    assert [r.body for r in s.saved_replies.for_unit(tom, orders) if r.id == mine] == [
        "Your parcel arrives tomorrow."
    ]
    s.saved_replies.delete(priya, mine)
    left = [r.id for r in s.saved_replies.for_unit(tom, orders)]
    assert greeting in left
    assert mine not in left
    assert _actions(s, "saved_reply", mine) == [
        "saved_reply.create",
        "saved_reply.edit",
        "saved_reply.delete",
    ]


def test_saved_replies_refuse_unknown_placeholders_and_taken_titles(
    demo_services: Services,
) -> None:
    s = demo_services
    priya, orders = person_id(s, "priya.raman"), unit_id(s, "Orders & Delivery")
    with pytest.raises(SavedReplyError, match=r"\{order_id\} is not a placeholder"):
        s.saved_replies.create(priya, orders, "Order", "Order {order_id} is late")
    s.saved_replies.create(priya, orders, "Late", "Sorry it is late.")
    with pytest.raises(SavedReplyError, match="called “Late” already"):
        s.saved_replies.create(priya, orders, "late", "Again")
    with pytest.raises(SavedReplyError, match="needs a title"):
        s.saved_replies.create(priya, orders, "  ", "Text")
