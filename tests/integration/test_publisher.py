"""The publisher on real databases (SQLite and PostgreSQL), with real connectors.

The Sandbox network keeps what it received in its own file; X and Facebook are the real
connectors with their HTTP intercepted (``responses``), payloads as in connectors.md.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses
from sqlalchemy import select, update

from app.bootstrap import sandbox_network_for
from app.connectors.base import Connector, PublishResult
from app.domain.enums import DraftState
from app.domain.items import InboundItem
from app.domain.outbox import claim_token
from app.models import (
    Account,
    ApprovalRule,
    Conversation,
    Draft,
    DraftTarget,
    Message,
)
from app.services.container import Services
from app.services.drafts import DraftError, NotAllowed
from app.services.publisher import Publisher
from tests.integration.connectors.test_facebook import FEED, PAGE
from tests.integration.connectors.test_facebook import connector as fb_connector
from tests.integration.connectors.test_reconcile import X_TIMELINE, own_tweet
from tests.integration.connectors.test_writes import TWEETS, graph_error, refused
from tests.integration.connectors.test_x import ME
from tests.integration.connectors.test_x import connector as x_connector
from tests.integration.demo_lookup import account_id, draft_actions, person_id, social_goal, unit_id


class Clock:
    """The time the services see; tests move it."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def http() -> Iterator[Any]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _no_approvals(s: Services) -> None:
    """No rule asks for an approval (a submitted draft is approved at once), no demo draft."""
    with s.db.engine.begin() as conn:
        conn.execute(ApprovalRule.__table__.delete())
        conn.execute(Draft.__table__.delete())


def _approved_post(s: Services, text: str, handles: tuple[str, ...] = ("acme",)) -> int:
    jamal = person_id(s, "jamal.carter")
    draft_id = s.drafts.create(
        jamal,
        "post",
        unit_id(s, "Marketing"),
        text,
        [account_id(s, h) for h in handles],
        social_goal_id=social_goal(s),
    )
    assert s.drafts.submit(jamal, draft_id) is DraftState.APPROVED
    return draft_id


def _publisher(s: Services, clock: Clock, connector_for: Any = None, **kw: Any) -> Publisher:
    return Publisher(
        s.db, s.drafts, connector_for or s.polling.connector_for_account, clock=clock, **kw
    )


def _received(s: Services) -> list[Any]:
    return list(sandbox_network_for(s.db).received())


def _targets(s: Services, draft_id: int) -> list[Any]:
    with s.db.engine.connect() as conn:
        return list(
            conn.execute(
                select(DraftTarget).where(DraftTarget.draft_id == draft_id).order_by(DraftTarget.id)
            )
        )


def _draft(s: Services, draft_id: int) -> Any:
    with s.db.engine.connect() as conn:
        return conn.execute(select(Draft).where(Draft.id == draft_id)).one()


def test_an_approved_post_goes_out_once_with_its_message_stored(demo_services: Services) -> None:
    s = demo_services
    _no_approvals(s)
    clock = Clock()
    draft_id = _approved_post(s, "Our spring fleet is here: 40 new e-bikes in Lyon.")
    publisher = _publisher(s, clock)
    report = publisher.run_once()
    assert report.started == (draft_id,)
    assert [(o.draft_id, o.result) for o in report.outcomes] == [(draft_id, "published")]
    assert report.finished == ((draft_id, "published"),)
    (target,) = _targets(s, draft_id)
    assert target.state == "published"
    assert target.external_id.startswith("sbx-out-acme-")
    assert _draft(s, draft_id).state == "published"
    received = [w for w in _received(s) if w.text.startswith("Our spring fleet")]
    assert [(w.account, w.kind, w.result.external_id) for w in received] == [
        ("acme", "post", target.external_id)
    ]
    with s.db.engine.connect() as conn:
        message = conn.execute(
            select(Message).where(Message.external_id == target.external_id)
        ).one()
        conversation = conn.execute(
            select(Conversation).where(Conversation.id == message.conversation_id)
        ).one()
    assert (message.direction, message.kind, message.sent_by_id, message.sent_for_unit_id) == (
        "out",
        "post",
        person_id(s, "jamal.carter"),
        unit_id(s, "Marketing"),
    )
    assert (conversation.unit_id, conversation.status) == (unit_id(s, "Marketing"), "resolved")
    assert report.conversations == (conversation.id,)
    assert draft_actions(s, draft_id)[-3:] == [
        "draft.start_publishing",
        "draft.target_published",
        "draft.published",
    ]
    # nothing more to do: the next round sends nothing again
    again = publisher.run_once()
    assert not again.busy
    assert len([w for w in _received(s) if w.text.startswith("Our spring fleet")]) == 1
    # the next poll that sees the same write stores nothing twice
    outcome = s.ingest.store(
        target.account_id,
        [
            InboundItem(
                network="sandbox",
                external_id=target.external_id,
                kind="post",
                direction="out",
                text=message.text,
                created_at=clock.now,
                author_external_id=None,
                author_handle="acme",
                author_name=None,
                thread_external_id=conversation.external_thread_id,
                thread_type=conversation.thread_type,
                in_reply_to=None,
                permalink=None,
                raw={},
            )
        ],
        None,
    )
    assert (outcome.new_messages, outcome.duplicates) == (0, 1)


def test_a_reply_answers_its_conversation_and_is_its_first_response(
    demo_services: Services,
) -> None:
    s = demo_services
    _no_approvals(s)
    clock = Clock()
    care = unit_id(s, "Orders & Delivery")
    with s.db.engine.begin() as conn:
        cid = conn.scalar(
            select(Conversation.id)
            .join(Account, Account.id == Conversation.account_id)
            .where(
                Account.handle == "acmecare",
                Conversation.thread_type == "sandbox_thread",
                Conversation.first_response_at.is_(None),
            )
            .order_by(Conversation.id)
            .limit(1)
        )
        assert cid is not None
        conn.execute(
            update(Conversation)
            .where(Conversation.id == cid)
            .values(unit_id=care, status="open", sentiment=0.3)
        )
    agent = person_id(s, "tom.becker")
    draft_id = s.drafts.create(agent, "reply", care, "Hi! We have sent you a new code.", [], cid)
    assert s.drafts.submit(agent, draft_id) is DraftState.APPROVED
    report = _publisher(s, clock).run_once()
    assert [o.result for o in report.outcomes] == ["published"]
    assert report.conversations == (cid,)
    with s.db.engine.connect() as conn:
        conversation = conn.execute(select(Conversation).where(Conversation.id == cid)).one()
        out = conn.execute(
            select(Message).where(Message.conversation_id == cid, Message.direction == "out")
        ).all()
    assert [(m.text, m.sent_by_id, m.sent_for_unit_id) for m in out] == [
        ("Hi! We have sent you a new code.", agent, care)
    ]
    assert conversation.first_response_at is not None
    assert conversation.status == "waiting"
    write = next(w for w in _received(s) if w.text == "Hi! We have sent you a new code.")
    assert (write.kind, write.thread_external_id) == ("reply", conversation.external_thread_id)
    assert write.in_reply_to is not None


def test_a_scheduled_draft_waits_for_its_time(demo_services: Services) -> None:
    s = demo_services
    _no_approvals(s)
    clock = Clock()
    jamal = person_id(s, "jamal.carter")
    at = clock.now + timedelta(hours=2)
    draft_id = s.drafts.create(
        jamal,
        "post",
        unit_id(s, "Marketing"),
        "Join our ride at noon.",
        [account_id(s, "acme")],
        schedule_at=at,
        social_goal_id=social_goal(s),
    )
    s.drafts.submit(jamal, draft_id)
    publisher = _publisher(s, clock)
    assert not publisher.run_once().busy
    assert _draft(s, draft_id).state == "scheduled"
    clock.now = at + timedelta(seconds=1)
    assert [o.result for o in publisher.run_once().outcomes] == ["published"]


def test_a_rule_added_after_approval_holds_the_draft_back(demo_services: Services) -> None:
    s = demo_services
    _no_approvals(s)
    clock = Clock()
    draft_id = _approved_post(s, "A post approved under no rule.")
    marketing = unit_id(s, "Marketing")
    with s.db.engine.begin() as conn:  # the rule changes between approval and publishing
        conn.execute(
            ApprovalRule.__table__.insert().values(
                unit_id=marketing,
                draft_kind="post",
                required_approvals=1,
                approver_role="supervisor",
                approver_unit_id=marketing,
                condition="always",
            )
        )
    s.drafts.refresh_queue()
    report = _publisher(s, clock).run_once()
    assert report.outcomes == ()
    assert report.started == ()
    assert [d for d, _ in report.held] == [draft_id]
    assert _draft(s, draft_id).state == "pending_approval"
    assert not [w for w in _received(s) if w.text == "A post approved under no rule."]


def test_two_publishers_at_once_send_each_target_once(demo_services: Services) -> None:
    s = demo_services
    _no_approvals(s)
    clock = Clock()
    ids = [_approved_post(s, f"Race post {n}", ("acme", "acme_de")) for n in range(6)]
    sends: list[str] = []
    lock = threading.Lock()

    class Slow:
        """The real Sandbox connector, slowed so the two publishers overlap."""

        def __init__(self, inner: Connector) -> None:
            self._inner = inner

        def publish(self, text: str) -> PublishResult:
            time.sleep(0.02)
            with lock:
                sends.append(text)
            return self._inner.publish(text)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

    def connector_for(account_id: int) -> Any:
        inner = s.polling.connector_for_account(account_id)
        assert inner is not None
        return Slow(inner)

    publishers = [_publisher(s, clock, connector_for) for _ in range(2)]
    errors: list[BaseException] = []

    def run(p: Publisher) -> None:
        try:
            for _ in range(4):
                p.run_once()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(p,)) for p in publishers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sorted(sends) == sorted(f"Race post {n}" for n in range(6) for _ in range(2))
    received = [w for w in _received(s) if w.text.startswith("Race post")]
    assert len(received) == 12
    assert len({(w.account, w.text) for w in received}) == 12
    assert all(_draft(s, d).state == "published" for d in ids)


def test_an_abandoned_claim_is_reconciled_before_anything_is_sent(
    demo_services: Services,
) -> None:
    """A publisher killed after the network took the write: found, never sent twice."""
    s = demo_services
    _no_approvals(s)
    clock = Clock()
    draft_id = _approved_post(s, "Sent just before the crash.")
    assert s.drafts.start_publishing(draft_id, clock.now).state is DraftState.PUBLISHING
    network = s.polling.connector_for_account(account_id(s, "acme"))
    assert network is not None
    network.publish("Sent just before the crash.")  # the write went out …
    dead = claim_token("this-host", 999_999, "gone")  # … and its publisher died
    with s.db.engine.begin() as conn:
        conn.execute(
            update(DraftTarget)
            .where(DraftTarget.draft_id == draft_id)
            .values(state="publishing", claimed_by=dead, claimed_at=clock.now)
        )
    publisher = _publisher(s, clock, host="this-host", alive=lambda pid: pid != 999_999)
    report = publisher.reconcile()
    assert [(o.result, o.detail) for o in report.outcomes] == [
        ("published", "it had gone out: found on the network")
    ]
    assert len([w for w in _received(s) if w.text == "Sent just before the crash."]) == 1
    assert _draft(s, draft_id).state == "published"


def test_an_abandoned_claim_whose_write_never_left_is_sent(demo_services: Services) -> None:
    s = demo_services
    _no_approvals(s)
    clock = Clock()
    draft_id = _approved_post(s, "Claimed, then the crash, nothing sent.")
    s.drafts.start_publishing(draft_id, clock.now)
    with s.db.engine.begin() as conn:
        conn.execute(
            update(DraftTarget)
            .where(DraftTarget.draft_id == draft_id)
            .values(
                state="publishing",
                claimed_by=claim_token("this-host", 999_998, "gone"),
                claimed_at=clock.now,
            )
        )
    live = _publisher(s, clock, host="this-host", alive=lambda pid: True)
    assert live.reconcile().outcomes == ()  # its publisher still runs: left alone
    publisher = _publisher(s, clock, host="this-host", alive=lambda pid: False)
    assert [o.result for o in publisher.reconcile().outcomes] == ["published"]
    assert len([w for w in _received(s) if w.text.startswith("Claimed, then the crash")]) == 1


# -- X and Facebook: the real connectors over intercepted HTTP --------------------------------


def _on_x(s: Services) -> int:
    """The demo's X account, connected as the test connector's user."""
    x = account_id(s, "AcmeMobility")
    with s.db.engine.begin() as conn:
        conn.execute(
            update(Account).where(Account.id == x).values(state="connected", external_user_id=ME)
        )
    return x


def test_x_transient_failure_retries_with_backoff_then_publishes(
    demo_services: Services, http: Any
) -> None:
    s = demo_services
    _no_approvals(s)
    clock = Clock()
    x = _on_x(s)
    draft_id = _approved_post(s, "New routes for spring", ("AcmeMobility",))
    publisher = _publisher(s, clock, lambda aid: x_connector() if aid == x else None)
    http.post(TWEETS, body=refused(TWEETS))
    report = publisher.run_once()
    assert [o.result for o in report.outcomes] == ["retry"]
    (target,) = _targets(s, draft_id)
    assert (target.state, target.attempts) == ("pending", 1)
    assert clock.now + timedelta(seconds=29) < target.next_attempt_at
    assert "Could not reach @AcmeMobility" in target.error
    assert not publisher.run_once().outcomes  # not before its time
    http.replace(
        responses.POST,
        TWEETS,
        status=201,
        json={"data": {"id": "1850000000000000009", "text": "New routes for spring"}},
    )
    clock.now = target.next_attempt_at + timedelta(seconds=1)
    assert [o.result for o in publisher.run_once().outcomes] == ["published"]
    assert _targets(s, draft_id)[0].external_id == "1850000000000000009"
    assert _draft(s, draft_id).state == "published"


def test_x_server_error_is_reconciled_not_resent(demo_services: Services, http: Any) -> None:
    s = demo_services
    _no_approvals(s)
    clock = Clock()
    x = _on_x(s)
    draft_id = _approved_post(s, "Maybe it went out", ("AcmeMobility",))
    publisher = _publisher(s, clock, lambda aid: x_connector() if aid == x else None)
    http.post(TWEETS, status=503, json={"title": "Service Unavailable"})
    assert [o.result for o in publisher.run_once().outcomes] == ["unsure"]
    (target,) = _targets(s, draft_id)
    assert target.state == "publishing"
    assert target.claimed_by is None
    created = _draft(s, draft_id).created_at
    http.get(
        X_TIMELINE,
        json={
            "data": [
                own_tweet(
                    "1850000000000000010",
                    "Maybe it went out",
                    created_at=(created + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                )
            ],
            "meta": {"result_count": 1},
        },
    )
    clock.now += timedelta(minutes=1)
    report = publisher.run_once()
    assert [(o.result, o.external_id) for o in report.outcomes] == [
        ("published", "1850000000000000010")
    ]
    assert [c.request.method for c in http.calls].count("POST") == 1  # never sent twice


def test_x_cannot_tell_flags_the_target_for_a_person(demo_services: Services, http: Any) -> None:
    s = demo_services
    _no_approvals(s)
    clock = Clock()
    x = _on_x(s)
    draft_id = _approved_post(s, "Did this go out?", ("AcmeMobility",))
    publisher = _publisher(s, clock, lambda aid: x_connector() if aid == x else None)
    http.post(TWEETS, status=503, json={"title": "Service Unavailable"})
    publisher.run_once()
    http.get(X_TIMELINE, status=403, json={"title": "Forbidden", "detail": "no access"})
    clock.now += timedelta(minutes=1)
    assert [o.result for o in publisher.run_once().outcomes] == ["flagged"]
    (target,) = _targets(s, draft_id)
    assert target.needs_person
    assert target.state == "publishing"
    assert "cannot tell whether it went out" in target.error
    clock.now += timedelta(hours=1)
    assert not publisher.run_once().outcomes  # nothing more until a person says
    tom = person_id(s, "tom.becker")
    with pytest.raises(NotAllowed):
        publisher.resolve(tom, draft_id, x, published=True)
    jamal = person_id(s, "jamal.carter")
    publisher.resolve(jamal, draft_id, x, published=True, external_id="1850000000000000011")
    assert _draft(s, draft_id).state == "published"
    assert _targets(s, draft_id)[0].external_id == "1850000000000000011"
    with pytest.raises(DraftError):
        publisher.resolve(jamal, draft_id, x, published=False)
    assert "draft.publish_resolved" in draft_actions(s, draft_id)


def test_facebook_policy_block_fails_the_target_and_pauses_the_page(
    demo_services: Services, http: Any
) -> None:
    s = demo_services
    _no_approvals(s)
    clock = Clock()
    fb = next(a.id for a in s.directory.accounts() if a.network == "facebook")
    with s.db.engine.begin() as conn:
        conn.execute(
            update(Account).where(Account.id == fb).values(state="connected", external_user_id=PAGE)
        )
    handle = next(a.handle for a in s.directory.accounts() if a.id == fb)
    draft_id = _approved_post(s, "Two accounts, one blocked", ("acme", handle))
    http.post(
        FEED,
        status=400,
        json=graph_error(368, "You've been temporarily blocked from using it.", 1390008),
    )

    def connector_for(aid: int) -> Any:
        return fb_connector() if aid == fb else s.polling.connector_for_account(aid)

    report = _publisher(s, clock, connector_for).run_once()
    assert sorted(o.result for o in report.outcomes) == ["failed", "published"]
    draft = _draft(s, draft_id)
    assert draft.state == "failed"
    assert "temporarily blocked" in draft.failure_reason
    states = {t.account_id: (t.state, t.error) for t in _targets(s, draft_id)}
    assert states[account_id(s, "acme")][0] == "published"
    assert states[fb][0] == "failed"
    assert "Settings > Accounts" in states[fb][1]
    with s.db.engine.connect() as conn:
        assert conn.scalar(select(Account.state).where(Account.id == fb)) == "paused"
