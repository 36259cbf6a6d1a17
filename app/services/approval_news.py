"""What a person should hear about: what started waiting on them, and decisions on their drafts.

The notifications' source (``app/ui/approvals/notifications.py``), read since a moment.

- **Waiting on you**: a draft submitted (or whose approvals lapsed) since then, still pending,
  that :func:`app.domain.approval.may_decide` lets the person approve under the rules in force
  now: the same check the approvals queue makes before it lists a draft. A draft that started
  waiting twice since then is told once, for its latest entry.
- **Decided**: every approval, rejection or request for changes on a draft the person wrote,
  with the reviewer's name and reason, and what the draft became.

Each item carries the audit entry's id as its key, so a caller that asks again from a moment a
little earlier (clocks of two workstations differ; a transaction commits after its entry's
time) can drop what it told already.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.domain.approval import may_decide
from app.domain.enums import Decision, DraftKind, DraftState
from app.models.base import utcnow
from app.services.access import active_actor
from app.services.draft_checks import (
    PolicyCache,
    Reviewers,
    assess_draft,
    compiled,
    conversation_of,
    conversations_of,
)
from app.storage.approval_news import DraftEntry
from app.storage.draft_records import DraftRecord
from app.storage.ports import Storage

#: At most this many items of each kind per call (the oldest first).
MAX_ITEMS = 50
PREVIEW = 80  # characters of the draft's text in a notification

KIND_WORDS = {DraftKind.POST: "post", DraftKind.REPLY: "reply", DraftKind.DM: "direct message"}


class NewsKind(StrEnum):
    WAITING = "waiting"  # a draft started waiting on the person
    APPROVED = "approved"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"
    NOT_SENT = "not_sent"  # the outbox held it back (missed its approval, blocked by the policy)
    PUBLISHED = "published"
    FAILED = "failed"


_DECISION_NEWS = {
    Decision.APPROVED.value: NewsKind.APPROVED,
    Decision.REJECTED.value: NewsKind.REJECTED,
    Decision.CHANGES_REQUESTED.value: NewsKind.CHANGES_REQUESTED,
}


@dataclass(frozen=True, slots=True)
class NewsItem:
    """One thing to tell the person, in words (plain text)."""

    key: int  # the audit entry's id: the same news is told once
    at: datetime
    kind: NewsKind
    draft_id: int
    version: int
    who: str  # who submitted it, or who decided
    title: str  # "Jamal Carter asks for your approval"
    body: str  # what the draft says, the reason, what happens next


@dataclass(frozen=True, slots=True)
class ApprovalNews:
    """What happened since the moment asked for, oldest first."""

    items: tuple[NewsItem, ...]
    checked_at: datetime  # when this was read: the next call's ``since`` (a little before)

    @property
    def waiting(self) -> tuple[NewsItem, ...]:
        return tuple(i for i in self.items if i.kind is NewsKind.WAITING)

    @property
    def decided(self) -> tuple[NewsItem, ...]:
        return tuple(i for i in self.items if i.kind is not NewsKind.WAITING)


def preview(text: str, limit: int = PREVIEW) -> str:
    """The text on one line, cut at ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


class ApprovalNewsReader:
    """Reads a person's news; safe from any thread (a unit of work per call)."""

    def __init__(
        self, db: Storage, policy: PolicyCache, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._db = db
        self._policy = policy
        self._clock = clock

    def news_for(self, operator: int, since: datetime) -> ApprovalNews:
        """What started waiting on ``operator`` and what was decided on their drafts since then.

        Raises:
            NotAllowed: no such person, or deactivated.
        """
        checked_at = self._clock()
        with self._db.uow() as uow:
            actor = active_actor(uow, operator)
            latest: dict[int, DraftEntry] = {}
            for entry in uow.approval_news.started_waiting(since, limit=4 * MAX_ITEMS):
                latest[entry.draft_id] = entry  # oldest first: the last one stays
            waiting = sorted(latest.values(), key=lambda e: (e.at, e.entry_id))
            drafts = {
                d.id: d for d in (uow.drafts.get(e.draft_id) for e in waiting) if d is not None
            }
            items: list[NewsItem] = []
            if drafts:
                policy, rules = compiled(self._policy, uow), uow.drafts.approval_rules()
                conversations = conversations_of(uow, list(drafts.values()))
                decisions = uow.drafts.decisions_of(list(drafts))
                reviewers = Reviewers(uow)
                for entry in waiting:
                    draft = drafts.get(entry.draft_id)
                    if draft is None or draft.state != DraftState.PENDING_APPROVAL:
                        continue
                    assessment = assess_draft(
                        draft, conversation_of(conversations, draft), policy, rules
                    )
                    allowed = may_decide(
                        actor,
                        Decision.APPROVED,
                        reason="",
                        version=draft.version,
                        state=DraftState(draft.state),
                        requirement=assessment.requirement,
                        facts=assessment.facts,
                        reviews=reviewers.reviews(decisions.get(draft.id, [])),
                    )
                    if allowed.allowed:
                        items.append(_waiting_item(entry, draft))
                    if len(items) == MAX_ITEMS:
                        break
            for entry in uow.approval_news.decided(operator, since, limit=MAX_ITEMS):
                if entry.person_id == operator:
                    continue  # never a decision of one's own (nobody decides their own draft)
                draft = uow.drafts.get(entry.draft_id)
                if draft is not None:
                    items.append(_decided_item(entry, draft))
        items.sort(key=lambda i: (i.at, i.key))
        return ApprovalNews(tuple(items), checked_at)


def _kind(draft: DraftRecord) -> str:
    return KIND_WORDS.get(DraftKind(draft.kind), draft.kind)


def _waiting_item(entry: DraftEntry, draft: DraftRecord) -> NewsItem:
    kind = _kind(draft)
    if entry.action == "draft.approval_lapsed":
        title = f"A {kind} by {draft.author_name} needs your approval again"
        why = "The rules changed after it was approved."
    else:
        title = f"{draft.author_name} asks for your approval"
        why = ""
    accounts = ", ".join(t.label for t in draft.targets)
    where = f"{kind.capitalize()} for {draft.unit_name}" + (f" on {accounts}" if accounts else "")
    body = f"{where}: “{preview(draft.text)}”"
    return NewsItem(
        key=entry.entry_id,
        at=entry.at,
        kind=NewsKind.WAITING,
        draft_id=draft.id,
        version=draft.version,
        who=draft.author_name,
        title=title,
        body=f"{body} {why}".strip(),
    )


_OUTBOX_NEWS = {
    "draft.missed_approval": (
        NewsKind.NOT_SENT,
        "Your {kind} did not go out: not approved in time",
    ),
    "draft.policy_blocked": (NewsKind.NOT_SENT, "Your {kind} did not go out: the policy blocks it"),
    "draft.published": (NewsKind.PUBLISHED, "Your {kind} is published"),
    "draft.failed": (NewsKind.FAILED, "Your {kind} could not be published everywhere"),
}


def _outbox_item(entry: DraftEntry, draft: DraftRecord) -> NewsItem:
    news, title = _OUTBOX_NEWS[entry.action]
    reason = str(entry.after.get("reason", "") or "")
    said = f"“{preview(draft.text, 60)}”"
    return NewsItem(
        key=entry.entry_id,
        at=entry.at,
        kind=news,
        draft_id=draft.id,
        version=int(entry.after.get("version", draft.version)),
        who=entry.person_name or "Outbox",
        title=title.format(kind=_kind(draft)),
        body=f"{said} {reason}".strip(),
    )


def _decided_item(entry: DraftEntry, draft: DraftRecord) -> NewsItem:
    if entry.action in _OUTBOX_NEWS:
        return _outbox_item(entry, draft)
    kind = _kind(draft)
    decision = str(entry.after.get("decision", ""))
    news = _DECISION_NEWS.get(decision, NewsKind.APPROVED)
    version = int(entry.after.get("version", draft.version))
    reason = str(entry.after.get("reason", "") or "")
    who = entry.person_name or "A reviewer"
    said = f"“{preview(draft.text, 60)}”"
    if news is NewsKind.REJECTED:
        title = f"{who} rejected your {kind}"
        body = f"{said} Reason: {reason}"
    elif news is NewsKind.CHANGES_REQUESTED:
        title = f"{who} asked for changes to your {kind}"
        body = f"{said} Changes: {reason}"
    else:
        title = f"{who} approved your {kind}"
        state = str(entry.after.get("state", ""))
        missing = [str(m) for m in entry.after.get("missing", []) or []]
        if state == DraftState.PENDING_APPROVAL and missing:
            body = f"{said} Still needed: {'; '.join(missing)}"
        elif state == DraftState.SCHEDULED:
            body = f"{said} It is approved and goes out at its time."
        else:
            body = f"{said} It is approved and goes out when the outbox runs."
    return NewsItem(
        key=entry.entry_id,
        at=entry.at,
        kind=news,
        draft_id=draft.id,
        version=version,
        who=who,
        title=title,
        body=body,
    )
