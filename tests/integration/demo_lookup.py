"""Finding the demo company's people and units by the names the tests use."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Account, AuditEntry, StrategyItem
from app.services.container import Services

DOMAIN = "acme-mobility.example"


def person_id(s: Services, local: str) -> int:
    """The id of the demo person whose e-mail starts with ``local`` (``tom.becker``)."""
    person = s.directory.person_by_email(f"{local}@{DOMAIN}")
    assert person is not None
    return person.id


def unit_id(s: Services, name: str) -> int:
    """The id of the demo unit called ``name``."""
    return next(u.id for u in s.inbox.units() if u.name == name)


def social_goal(s: Services) -> int:
    """A social goal of the demo's strategy (a post names the goal it serves)."""
    with s.db.engine.connect() as conn:
        found = conn.scalar(
            select(StrategyItem.id)
            .where(StrategyItem.type == "social_goal")
            .order_by(StrategyItem.id)
            .limit(1)
        )
    assert found is not None
    return int(found)


def account_id(s: Services, handle: str) -> int:
    """The id of the demo account with this handle (``acme``)."""
    with s.db.engine.connect() as conn:
        found = conn.scalar(select(Account.id).where(Account.handle == handle))
    assert found is not None
    return int(found)


def draft_actions(s: Services, draft_id: int) -> list[str]:
    """The audit log's actions on a draft, oldest first."""
    with s.db.engine.connect() as conn:
        return list(
            conn.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.entity == "draft", AuditEntry.entity_id == draft_id)
                .order_by(AuditEntry.id)
            )
        )
