"""No sequence of actions publishes a draft the rules in force at publishing time do not allow.

A ``hypothesis.stateful`` machine on a real workspace (a copy of the small demo, its own
Sandbox network file) drives the drafts service and the publisher as people and the outbox
would: an agent writes, edits, submits, withdraws and schedules posts; supervisors (and people
who may not) approve, reject and ask for changes; an administrator adds and removes approval
rules and deactivates an approver; time passes; the outbox runs rounds. Refusals are part of the
game. After every round, each draft the round published is checked against a model of the rules
the test keeps itself, read at that moment: enough approvals, for the version that went out, from
distinct active supervisors of the unit or above who did not write it; and nothing went out twice.
"""

from __future__ import annotations

import contextlib
import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, insert, select, update

from app.bootstrap import demo_connectors, sandbox_network_for
from app.models import Account, Approval, ApprovalRule, Draft, DraftVersion, Person
from app.services.drafts import DraftError, DraftsService, NotAllowed
from app.services.publisher import Publisher
from app.storage.workspace import Database, open_database

AUTHOR = "jamal.carter"  # an agent of Marketing
ELIGIBLE = ("emma.laurent", "omar.haddad")  # supervisors of Marketing, and of the company
OTHERS = ("tom.becker", "priya.raman", AUTHOR)  # an agent elsewhere, another unit's supervisor
TEXTS = (
    "Spring rides are back in Lyon.",
    "Meet the team behind the Glide 3.",
    "Our winter checklist: tyres, lights, layers.",
    "Share your ride with #AcmeRiders.",
    "New routes along the Rhône this weekend.",
    "Ask us anything about the Volt S.",
    "Guaranteed the best ride of your life.",  # a banned term: never submitted
)
REFUSED = (NotAllowed, DraftError)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)

    def __call__(self) -> datetime:
        return self.now


class PublishingRules(RuleBasedStateMachine):
    template: ClassVar[Path]
    workdir: ClassVar[Path]
    runs: ClassVar[int] = 0
    went_out: ClassVar[int] = 0  # drafts published over all runs

    drafts_made = Bundle("drafts")

    def __init__(self) -> None:
        super().__init__()
        PublishingRules.runs += 1
        path = self.workdir / f"run-{self.runs}.sqlite"
        shutil.copyfile(self.template, path)
        self.db: Database = open_database(str(path))
        self.clock = Clock()
        self.drafts = DraftsService(self.db, clock=self.clock)
        self.publisher = Publisher(self.db, self.drafts, demo_connectors(self.db), clock=self.clock)
        with self.db.engine.begin() as conn:
            conn.execute(delete(ApprovalRule))
            conn.execute(delete(Draft))
            people = conn.execute(select(Person.email, Person.id)).all()
            self.acme = int(conn.scalar(select(Account.id).where(Account.handle == "acme")) or 0)
        self.people = {email.split("@")[0]: pid for email, pid in people}
        self.units = {u.name: u.id for u in _units(self.db)}
        self.goal = _goal(self.db)
        self.counter = 0
        self.published: set[int] = set()

    def teardown(self) -> None:
        self.db.close()

    # -- people writing ----------------------------------------------------------------------

    @rule(target=drafts_made, text=st.sampled_from(TEXTS))
    def write(self, text: str) -> int:
        self.counter += 1
        return self.drafts.create(
            self.people[AUTHOR],
            "post",
            self.units["Marketing"],
            f"{text} ({self.counter})",
            [self.acme],
            social_goal_id=self.goal,
        )

    @rule(target=drafts_made, text=st.sampled_from(TEXTS))
    def write_and_submit(self, text: str) -> int:
        draft_id = self.write(text)
        _try(self.drafts.submit, self.people[AUTHOR], draft_id)
        return draft_id

    @rule(draft=drafts_made, text=st.sampled_from(TEXTS))
    def edit(self, draft: int, text: str) -> None:
        self.counter += 1
        _try(self.drafts.save_text, self.people[AUTHOR], draft, f"{text} ({self.counter})")

    @rule(draft=drafts_made)
    def submit(self, draft: int) -> None:
        _try(self.drafts.submit, self.people[AUTHOR], draft)

    @rule(draft=drafts_made)
    def withdraw(self, draft: int) -> None:
        _try(self.drafts.withdraw, self.people[AUTHOR], draft)

    @rule(draft=drafts_made, minutes=st.sampled_from((3, 10, 60)))
    def schedule(self, draft: int, minutes: int) -> None:
        _try(
            self.drafts.schedule,
            self.people[AUTHOR],
            draft,
            self.clock.now + timedelta(minutes=minutes),
        )

    # -- people deciding ----------------------------------------------------------------------

    @rule(
        draft=drafts_made,
        who=st.sampled_from(ELIGIBLE + OTHERS),
        decision=st.sampled_from(("approve", "reject", "request_changes")),
        stale=st.booleans(),
    )
    def decide(self, draft: int, who: str, decision: str, stale: bool) -> None:
        try:
            version = self.drafts.draft_view(draft).version
        except DraftError:
            return
        version = max(1, version - 1) if stale else version
        operator = self.people[who]
        if decision == "approve":
            _try(self.drafts.approve, operator, draft, version=version)
        elif decision == "reject":
            _try(self.drafts.reject, operator, draft, "Not like this.", version=version)
        else:
            _try(self.drafts.request_changes, operator, draft, "Say it plainer.", version=version)

    # -- the rules change ---------------------------------------------------------------------

    @rule(
        unit=st.sampled_from(("Marketing", "Acme Mobility")),
        required=st.integers(min_value=0, max_value=2),
        posts_only=st.booleans(),
    )
    def add_rule(self, unit: str, required: int, posts_only: bool) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(
                insert(ApprovalRule).values(
                    unit_id=self.units[unit],
                    draft_kind="post" if posts_only else None,
                    condition="posts_only" if posts_only else "always",
                    required_approvals=required,
                    approver_role="supervisor",
                )
            )
        self.drafts.refresh_queue()

    @rule()
    def drop_a_rule(self) -> None:
        with self.db.engine.begin() as conn:
            first = conn.scalar(select(ApprovalRule.id).order_by(ApprovalRule.id).limit(1))
            if first is not None:
                conn.execute(delete(ApprovalRule).where(ApprovalRule.id == first))

    @rule(who=st.sampled_from(ELIGIBLE), active=st.booleans())
    def set_active(self, who: str, active: bool) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(update(Person).where(Person.id == self.people[who]).values(active=active))

    # -- time and the outbox ------------------------------------------------------------------

    @rule(minutes=st.sampled_from((1, 4, 15, 90)))
    def time_passes(self, minutes: int) -> None:
        self.clock.now += timedelta(minutes=minutes)

    @rule()
    def outbox_round(self) -> None:
        self._round()

    @rule(minutes=st.sampled_from((1, 10)))
    def later_the_outbox(self, minutes: int) -> None:
        self.clock.now += timedelta(minutes=minutes)
        self._round()

    def _round(self) -> None:
        before = self._published_ids()
        self.publisher.run_once()
        for draft_id in self._published_ids() - before:
            self._check_allowed(draft_id)
            PublishingRules.went_out += 1
        self.published = self._published_ids()

    @invariant()
    def nothing_went_out_twice(self) -> None:
        writes = Counter(w.text for w in sandbox_network_for(self.db).received("acme"))
        assert all(n == 1 for n in writes.values()), writes
        assert len(writes) == len(self.published)

    # -- the model --------------------------------------------------------------------------

    def _published_ids(self) -> set[int]:
        with self.db.engine.connect() as conn:
            return set(conn.scalars(select(Draft.id).where(Draft.state == "published")))

    def _check_allowed(self, draft_id: int) -> None:
        """The rules in force now (nothing changed since the round) allow what went out."""
        with self.db.engine.connect() as conn:
            draft = conn.execute(select(Draft).where(Draft.id == draft_id)).one()
            text = conn.scalar(
                select(DraftVersion.text).where(
                    DraftVersion.draft_id == draft_id,
                    DraftVersion.version == draft.current_version,
                )
            )
            required = max(
                [
                    r.required_approvals
                    for r in conn.execute(select(ApprovalRule))
                    if r.unit_id in (self.units["Marketing"], self.units["Acme Mobility"])
                ],
                default=0,
            )
            eligible = {
                self.people[p]
                for p in ELIGIBLE
                if conn.scalar(select(Person.active).where(Person.id == self.people[p]))
            }
            approvers = set(
                conn.scalars(
                    select(Approval.person_id).where(
                        Approval.draft_id == draft_id,
                        Approval.version == draft.current_version,
                        Approval.decision == "approved",
                    )
                )
            )
        counted = (approvers & eligible) - {draft.created_by_id}
        assert len(counted) >= required, (draft_id, required, counted)
        assert "Guaranteed" not in (text or "")
        sent = [w.text for w in sandbox_network_for(self.db).received("acme")]
        assert text in sent  # the version approved is the version that went out


def _try(call: Any, *args: Any, **kwargs: Any) -> None:
    with contextlib.suppress(*REFUSED):  # refused with a sentence: what a person would read
        call(*args, **kwargs)


def _units(db: Database) -> list[Any]:
    from app.models import Unit

    with db.engine.connect() as conn:
        return list(conn.execute(select(Unit.id, Unit.name)))


def _goal(db: Database) -> int:
    from app.models import StrategyItem

    with db.engine.connect() as conn:
        goal = conn.scalar(select(StrategyItem.id).where(StrategyItem.type == "social_goal"))
    assert goal is not None
    return int(goal)


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_no_sequence_publishes_what_the_rules_in_force_do_not_allow(
    demo_template: Path, tmp_path: Path, engine_name: str
) -> None:
    PublishingRules.template = demo_template
    PublishingRules.workdir = tmp_path
    run_state_machine_as_test(
        PublishingRules,
        settings=settings(
            max_examples=60,
            stateful_step_count=60,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )
    assert PublishingRules.runs >= 60
    print(f"{PublishingRules.went_out} drafts published over {PublishingRules.runs} runs")
    assert PublishingRules.went_out >= 10  # the machine reaches publishing, often
