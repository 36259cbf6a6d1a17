"""The organization: the first-run set-up in one transaction, and its settings afterwards."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from app.domain.enums import Role
from app.domain.hours import HoursError, check_schedule, check_time_zone
from app.domain.permissions import Action
from app.domain.rows import PersonRow, UnitRow
from app.domain.setup import (
    OrganizationRow,
    OrganizationSetup,
    SetupError,
    clean_name,
    plan_setup,
)
from app.domain.spam import clean_settings
from app.services.access import require_in
from app.services.auditing import record_change
from app.storage.ports import Storage, StorageUnitOfWork

log = logging.getLogger("quiver.services.organization")
ADMIN_TITLE = "Administrator"


class AlreadySetUp(SetupError):  # noqa: N818 - reads as what happened
    """The workspace has an organization already; nothing was written."""


class _Keep(enum.Enum):
    KEEP = "keep"


KEEP: Literal[_Keep.KEEP] = _Keep.KEEP  # "leave this as it is" in update_organization


@dataclass(frozen=True, slots=True)
class SetupDone:
    """What :meth:`OrganizationService.set_up` made."""

    organization: OrganizationRow
    administrator: PersonRow
    units: tuple[UnitRow, ...]  # the company first, then its units in order, Triage last


class OrganizationService:
    """Sets a new workspace up, reads the organization back, and changes its settings.

    Safe from any thread: a unit of work per call.
    """

    def __init__(
        self, db: Storage, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._db = db
        self._clock = clock

    def is_set_up(self) -> bool:
        """Whether the workspace has its organization (a new one has not: run the set-up)."""
        return self.organization() is not None

    def organization(self) -> OrganizationRow | None:
        with self._db.uow() as uow:
            return uow.organization.get()

    def set_up(self, setup: OrganizationSetup) -> SetupDone:
        """Create the organization, its first administrator and unit tree, in one transaction.

        The company unit carries the organization's name; the administrator holds the admin
        role there (so everywhere) and is the executive sponsor until another is named. Every
        row written has its audit entry, naming the administrator.

        Raises:
            AlreadySetUp: the workspace has an organization (or units) already.
            SetupError: what was entered is not usable (the message says what to fix).
        """
        plan = plan_setup(setup)  # before anything is opened: bad input writes nothing
        with self._db.uow() as uow:
            org = uow.organization
            org.lock_for_setup()
            existing = org.get()
            if existing is not None:
                raise AlreadySetUp(
                    f"This workspace is already set up for {existing.name}; nothing was changed."
                )
            if uow.directory.units():
                raise AlreadySetUp(
                    "This workspace already holds units, so it was set up some other way; "
                    "nothing was changed."
                )
            if org.person_by_email(plan.admin_email) is not None:
                raise SetupError(
                    f"Someone with the email {plan.admin_email} is already in this workspace."
                )
            org_id = org.create(
                name=plan.name,
                mission=plan.mission,
                time_zone=plan.time_zone,
                business_hours=plan.business_hours,
            )
            admin_id = org.add_person(
                name=plan.admin_name, email=plan.admin_email, title=ADMIN_TITLE
            )
            root = org.add_unit(None, plan.root)
            units = [root, *(org.add_unit(root.id, unit) for unit in plan.children)]
            org.grant(admin_id, root.id, Role.ADMIN.value)
            created = org.get()
            assert created is not None  # written just above
            created = replace(created, executive_sponsor_id=admin_id)
            org.save(created)

            def audit(action: str, entity: str, entity_id: int, after: dict[str, Any]) -> None:
                _record(
                    uow,
                    self._clock(),
                    admin_id,
                    plan.admin_name,
                    action,
                    entity,
                    entity_id,
                    None,
                    after,
                )

            audit(
                "organization.created",
                "organization",
                org_id,
                {
                    "name": plan.name,
                    "mission": plan.mission,
                    "time_zone": plan.time_zone,
                    "business_hours": plan.business_hours,
                    "executive_sponsor_id": admin_id,
                },
            )
            audit(
                "person.created",
                "person",
                admin_id,
                {"name": plan.admin_name, "email": plan.admin_email, "title": ADMIN_TITLE},
            )
            for unit in units:
                audit(
                    "unit.created",
                    "unit",
                    unit.id,
                    {
                        "name": unit.name,
                        "parent_id": unit.parent_id,
                        "kind": unit.kind,
                        "is_triage": unit.is_triage,
                    },
                )
            audit("role.granted", "person", admin_id, {"role": "admin", "unit_id": root.id})
            done = uow.organization.get()
            assert done is not None
            uow.commit()
        log.info("set up %s with %d units", plan.name, len(units))
        admin = PersonRow(
            admin_id, plan.admin_name, plan.admin_email, ADMIN_TITLE, (("admin", root.name),)
        )
        return SetupDone(done, admin, tuple(units))

    def update_spam_settings(
        self,
        operator_id: int,
        *,
        threshold: float | None = None,
        keywords: Iterable[str] | None = None,
    ) -> OrganizationRow:
        """Change the spam filter's threshold or keyword list (administrators of the workspace).

        New conversations are scored with them from the next ingest batch on; conversations
        already stored keep their verdict. ``None`` keeps a value as it is.

        Raises:
            NotAllowed: the operator may not change the workspace's settings.
            SpamSettingsError: a value is not usable (nothing is changed).
            SetupError: the workspace is not set up yet.
        """
        with self._db.uow() as uow:
            require_in(uow, operator_id, Action.MANAGE_WORKSPACE, doing="change the spam filter")
            current = uow.organization.get()
            if current is None:
                raise SetupError("This workspace is not set up yet: run the set-up first.")
            new = _spam_settings(current, threshold, keywords)
            fields = ("spam_threshold", "spam_keywords")
            changed = [f for f in fields if getattr(new, f) != getattr(current, f)]
            if not changed:
                return current
            uow.organization.save(new)
            _record(
                uow,
                self._clock(),
                operator_id,
                uow.directory.person_name(operator_id) or "",
                "organization.spam_settings",
                "organization",
                current.id,
                {f: _plain(getattr(current, f)) for f in changed},
                {f: _plain(getattr(new, f)) for f in changed},
            )
            saved = uow.organization.get()
            assert saved is not None
            uow.commit()
            return saved

    def update_organization(
        self,
        operator_id: int,
        *,
        name: str | _Keep = KEEP,
        mission: str | _Keep = KEEP,
        executive_sponsor_id: int | _Keep | None = KEEP,
        time_zone: str | _Keep = KEEP,
        business_hours: Mapping[str, Any] | _Keep = KEEP,
    ) -> OrganizationRow:
        """Change the organization's name, mission, sponsor, time zone or hours (admins only).

        Renaming the organization renames the company unit too while it still carries the old
        name. What is left as ``KEEP`` stays; the audit entry holds what changed, before and
        after.

        Raises:
            NotAllowed: the operator may not change the workspace's settings.
            SetupError: a value is not usable, or the workspace is not set up yet.
        """
        with self._db.uow() as uow:
            require_in(
                uow,
                operator_id,
                Action.MANAGE_WORKSPACE,
                doing="change the organization's name, mission, sponsor or hours",
            )
            current = uow.organization.get()
            if current is None:
                raise SetupError("This workspace is not set up yet: run the set-up first.")
            new = current
            if not isinstance(name, _Keep):
                new = replace(new, name=clean_name(name, "organization's name"))
            if not isinstance(mission, _Keep):
                new = replace(new, mission=mission.strip())
            try:
                if not isinstance(time_zone, _Keep):
                    new = replace(new, time_zone=check_time_zone(time_zone.strip()))
                if not isinstance(business_hours, _Keep):
                    new = replace(new, business_hours=check_schedule(business_hours))
            except HoursError as exc:
                raise SetupError(str(exc)) from exc
            if not isinstance(executive_sponsor_id, _Keep):
                if executive_sponsor_id is not None:
                    sponsor = uow.directory.actor(executive_sponsor_id)
                    if sponsor is None or not sponsor.active:
                        raise SetupError(
                            "The executive sponsor must be an active person of this workspace."
                        )
                new = replace(new, executive_sponsor_id=executive_sponsor_id)
            fields = ("name", "mission", "executive_sponsor_id", "time_zone", "business_hours")
            changed = [f for f in fields if getattr(new, f) != getattr(current, f)]
            if not changed:
                return current
            uow.organization.save(new)
            if "name" in changed:
                root = next(
                    (e.unit for e in uow.directory.units() if e.unit.parent_id is None), None
                )
                if root is not None and root.name == current.name:
                    uow.organization.rename_unit(root.id, new.name)
            _record(
                uow,
                self._clock(),
                operator_id,
                uow.directory.person_name(operator_id) or "",
                "organization.updated",
                "organization",
                current.id,
                {f: getattr(current, f) for f in changed},
                {f: getattr(new, f) for f in changed},
            )
            saved = uow.organization.get()
            assert saved is not None
            uow.commit()
            return saved


def _spam_settings(
    current: OrganizationRow, threshold: float | None, keywords: Iterable[str] | None
) -> OrganizationRow:
    value, words = clean_settings(
        current.spam_threshold if threshold is None else threshold,
        current.spam_keywords if keywords is None else keywords,
    )
    return replace(current, spam_threshold=value, spam_keywords=words)


def _plain(value: Any) -> Any:
    """A value as JSON keeps it (tuples as lists)."""
    return list(value) if isinstance(value, tuple) else value


def _record(
    uow: StorageUnitOfWork,
    at: datetime,
    person_id: int,
    person_name: str,
    action: str,
    entity: str,
    entity_id: int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    record_change(
        uow,
        at=at,
        person_id=person_id,
        person_name=person_name,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
    )
