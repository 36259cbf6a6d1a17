"""Enumerations shared by every layer (stored as their string values)."""

from __future__ import annotations

from enum import StrEnum


class Network(StrEnum):
    X = "x"
    FACEBOOK = "facebook"
    SANDBOX = "sandbox"

    @property
    def label(self) -> str:
        return {"x": "X", "facebook": "Facebook", "sandbox": "Sandbox"}[self.value]


class MessageKind(StrEnum):
    MENTION = "mention"
    REPLY = "reply"
    COMMENT = "comment"
    DM = "dm"
    POST = "post"

    @property
    def label(self) -> str:
        return "DM" if self is MessageKind.DM else self.value.capitalize()


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class ThreadType(StrEnum):
    X_THREAD = "x_thread"
    X_DM = "x_dm"
    FB_POST = "fb_post"
    FB_MESSENGER = "fb_messenger"
    SANDBOX_THREAD = "sandbox_thread"
    SANDBOX_DM = "sandbox_dm"


class ConversationStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING = "waiting"
    RESOLVED = "resolved"
    SPAM = "spam"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @classmethod
    def backlog(cls) -> tuple[ConversationStatus, ...]:
        """Statuses that still need someone's attention."""
        return (cls.NEW, cls.OPEN, cls.WAITING)


class ConversationEventKind(StrEnum):
    """What a conversation's status history records (``conversation_events.kind``)."""

    CLAIMED = "claimed"
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    HANDED_OVER = "handed_over"
    STATUS = "status"
    PRIORITY = "priority"
    TAGGED = "tagged"
    UNTAGGED = "untagged"
    NOTE = "note"
    ROUTED = "routed"  # rules applied again by a person: the unit (and more) they chose
    SPAM_VERDICT = "spam_verdict"  # an agent said "Spam" or "Not spam" (teaches the filter)


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    STRATEGIST = "strategist"
    ADMIN = "admin"


class UnitKind(StrEnum):
    COMPANY = "company"
    DIVISION = "division"
    DEPARTMENT = "department"
    OFFICE = "office"
    QUEUE = "queue"


class AccountState(StrEnum):
    CONNECTED = "connected"
    NEEDS_RECONNECT = "needs_reconnect"
    RATE_LIMITED = "rate_limited"
    PAUSED = "paused"
    OFFLINE = "offline"

    @property
    def label(self) -> str:
        """How the state reads in the interface ("needs reconnect")."""
        return self.value.replace("_", " ")


class DraftKind(StrEnum):
    POST = "post"
    REPLY = "reply"
    DM = "dm"


class DraftState(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"
    FAILED = "failed"


class DraftTargetState(StrEnum):
    """How far a draft got on one of its target accounts."""

    PENDING = "pending"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"


class Decision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"


class PolicyKind(StrEnum):
    BANNED_TERM = "banned_term"
    RISKY_TERM = "risky_term"
    DISCLAIMER = "disclaimer"
    LINK_DOMAIN = "link_domain"
    LENGTH_LIMIT = "length_limit"


class ApprovalCondition(StrEnum):
    ALWAYS = "always"
    POSTS_ONLY = "posts_only"
    HAS_LINKS = "has_links"
    POLICY_WARNS = "policy_warns"
    NEGATIVE_SENTIMENT = "negative_sentiment"
    NEW_AUTHOR = "new_author"


class StrategyItemType(StrEnum):
    BUSINESS_GOAL = "business_goal"
    DEPARTMENT_GOAL = "department_goal"
    AUDIENCE_INSIGHT = "audience_insight"
    SOCIAL_GOAL = "social_goal"
    TACTIC = "tactic"


class Horizon(StrEnum):
    SHORT = "short"
    MEDIUM = "medium"
    LONG = "long"
