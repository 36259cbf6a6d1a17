"""The persistence model: SQLAlchemy 2.0 typed ORM classes (no engine, no session, no Qt)."""

from app.models.base import Base, UtcDateTime
from app.models.drafts import (
    Approval,
    Draft,
    DraftApprover,
    DraftTarget,
    DraftVersion,
    SavedReply,
)
from app.models.org import Organization, Person, RoleAssignment, Unit
from app.models.rules import ApprovalRule, PolicyRule, RoutingRule
from app.models.social import (
    Account,
    Author,
    Conversation,
    ConversationEvent,
    ConversationTag,
    Message,
    Note,
    SavedView,
    Tag,
    TextSighting,
)
from app.models.strategy import (
    AuditEntry,
    MetaEntry,
    StrategyDeletion,
    StrategyItem,
    StrategyLink,
    StrategyRevision,
)

__all__ = [
    "Account",
    "Approval",
    "ApprovalRule",
    "AuditEntry",
    "Author",
    "Base",
    "Conversation",
    "ConversationEvent",
    "ConversationTag",
    "Draft",
    "DraftApprover",
    "DraftTarget",
    "DraftVersion",
    "Message",
    "MetaEntry",
    "Note",
    "Organization",
    "Person",
    "PolicyRule",
    "RoleAssignment",
    "RoutingRule",
    "SavedReply",
    "SavedView",
    "StrategyDeletion",
    "StrategyItem",
    "StrategyLink",
    "StrategyRevision",
    "Tag",
    "TextSighting",
    "Unit",
    "UtcDateTime",
]
