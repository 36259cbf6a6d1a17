"""Drafts made through DraftsService, and outcomes the publisher would write, for the tests.

Until the publisher exists, :func:`mark_sent` writes what it would: the draft's state through
the drafts repository (compare-and-set, as the service moves drafts) and each target's outcome
(state, the network's id, when, the network's message) through the unit of work's session.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app.domain.enums import DraftState
from app.models import Account, DraftTarget
from app.services.container import Services
from tests.integration.demo_lookup import person_id, social_goal, unit_id


def account(s: Services, handle: str) -> int:
    with s.db.uow() as uow:
        found = uow.session.scalar(select(Account.id).where(Account.handle == handle))
    assert found is not None, handle
    return int(found)


def approved_post(
    s: Services,
    text: str,
    handles: tuple[str, ...] = ("acme",),
    *,
    at: datetime | None = None,
    author: str = "jamal.carter",
    approver: str = "emma.laurent",
    unit: str = "Marketing",
) -> int:
    """A Marketing post by Jamal, approved by Emma; scheduled when ``at`` is given."""
    writer = person_id(s, author)
    draft_id = s.drafts.create(
        writer,
        "post",
        unit_id(s, unit),
        text,
        [account(s, h) for h in handles],
        schedule_at=at,
        social_goal_id=social_goal(s),
    )
    state = s.drafts.submit(writer, draft_id)
    if state is DraftState.PENDING_APPROVAL:
        state = s.drafts.approve(person_id(s, approver), draft_id, version=1)
    assert state is (DraftState.SCHEDULED if at else DraftState.APPROVED), state
    return draft_id


def pending_post(s: Services, text: str, *, at: datetime | None = None) -> int:
    writer = person_id(s, "jamal.carter")
    draft_id = s.drafts.create(
        writer,
        "post",
        unit_id(s, "Marketing"),
        text,
        [account(s, "acme")],
        schedule_at=at,
        social_goal_id=social_goal(s),
    )
    assert s.drafts.submit(writer, draft_id) is DraftState.PENDING_APPROVAL
    return draft_id


def mark_sent(
    s: Services,
    draft_id: int,
    state: DraftState,
    outcomes: Mapping[int, tuple[str, str | None, str]],
    *,
    at: datetime | None = None,
    failure_reason: str | None = None,
) -> None:
    """What the publisher writes: the draft ``state`` and, per account id, its target's
    ``(state, external id, error)``, all at ``at`` (now by default)."""
    at = at or datetime.now(UTC)
    with s.db.uow() as uow:
        draft = uow.drafts.get(draft_id, lock=True)
        assert draft is not None
        assert uow.drafts.set_state(
            draft_id,
            expected=draft.state,
            state=state.value,
            at=at,
            failure_reason=failure_reason,
        )
        for account_id, (target_state, external_id, error) in outcomes.items():
            uow.session.execute(
                update(DraftTarget)
                .where(DraftTarget.draft_id == draft_id, DraftTarget.account_id == account_id)
                .values(
                    state=target_state,
                    external_id=external_id,
                    error=error,
                    published_at=at if target_state == "published" else None,
                )
            )
        uow.commit()


def soon(hours: float = 48) -> datetime:
    """A time ``hours`` ahead, on the minute."""
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)
