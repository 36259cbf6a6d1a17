"""Permissions enforced by the services, on the stored roles, on both engines."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, update

from app.domain.permissions import Action
from app.models import Account, AuditEntry, Person, RoleAssignment, Unit
from app.services.access import NotAllowed
from app.services.container import Services


def _person(services: Services, email: str) -> int:
    person = services.directory.person_by_email(email)
    assert person is not None
    return person.id


def _unit(services: Services, name: str) -> int:
    return next(u.id for u in services.inbox.units() if u.name == name)


def _account_of(services: Services, unit_id: int) -> int:
    with services.db.engine.begin() as conn:
        account = conn.execute(select(Account.id).order_by(Account.id).limit(1)).scalar_one()
        conn.execute(update(Account).where(Account.id == account).values(unit_id=unit_id))
    return int(account)


def _interval(services: Services, account_id: int) -> int:
    with services.db.engine.connect() as conn:
        return int(
            conn.execute(
                select(Account.poll_interval_s).where(Account.id == account_id)
            ).scalar_one()
        )


def test_an_admin_of_a_unit_acts_on_its_sub_units_and_nowhere_else(
    demo_services: Services,
) -> None:
    s = demo_services
    care, orders, marketing = (
        _unit(s, n) for n in ("Customer Care", "Orders & Delivery", "Marketing")
    )
    kim = _person(s, "tom.becker@acme-mobility.example")  # an agent
    with s.db.engine.begin() as conn:
        conn.execute(insert(RoleAssignment).values(person_id=kim, unit_id=care, role="admin"))
    account = _account_of(s, orders)
    s.accounts.set_poll_interval(kim, account, 600)  # Orders & Delivery is below Care
    assert _interval(s, account) == 600

    elsewhere = _account_of(s, marketing)
    before = _interval(s, elsewhere)
    with pytest.raises(
        NotAllowed,
        match=r"^Only an administrator of Marketing can change its accounts' poll interval\.$",
    ):
        s.accounts.set_poll_interval(kim, elsewhere, 900)
    assert _interval(s, elsewhere) == before
    assert s.access.may(kim, Action.MANAGE_ACCOUNTS, orders)
    assert not s.access.may(kim, Action.MANAGE_ACCOUNTS, marketing)
    assert not s.access.may(kim, Action.MANAGE_WORKSPACE)  # the workspace is the root's


def test_a_deactivated_administrator_is_refused_and_nothing_is_written(
    demo_services: Services,
) -> None:
    s = demo_services
    ingrid = _person(s, "ingrid.solberg@acme-mobility.example")
    account = _account_of(s, _unit(s, "Marketing"))
    with s.db.engine.begin() as conn:
        audited = conn.execute(select(AuditEntry.id)).all()
        conn.execute(update(Person).where(Person.id == ingrid).values(active=False))
    with pytest.raises(NotAllowed, match="Ingrid Solberg is deactivated"):
        s.accounts.set_poll_interval(ingrid, account, 600)
    with pytest.raises(NotAllowed, match="deactivated"):
        s.accounts.set_x_client_id(ingrid, "abc")
    with s.db.engine.connect() as conn:
        assert conn.execute(select(AuditEntry.id)).all() == audited


def test_the_workspace_settings_belong_to_an_administrator_of_the_root(
    demo_services: Services,
) -> None:
    s = demo_services
    root = next(u for u in s.inbox.units() if u.parent_id is None)
    marcus = _person(s, "marcus.kelly@acme-mobility.example")  # supervisor of Care
    with pytest.raises(
        NotAllowed, match=f"Only an administrator of {root.name} can change the workspace"
    ):
        s.accounts.set_x_client_id(marcus, "client")
    ingrid = _person(s, "ingrid.solberg@acme-mobility.example")
    s.accounts.set_x_client_id(ingrid, "client")
    assert s.accounts.x_client_id() == "client"
    with s.db.engine.connect() as conn:
        assert conn.execute(select(Unit.id).where(Unit.parent_id.is_(None))).scalar() == root.id
