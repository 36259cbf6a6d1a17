"""Finding the demo company's people and units by the names the tests use."""

from __future__ import annotations

from sqlalchemy import select

from app.models import StrategyItem
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
