"""People and their roles: add, edit, deactivate (never delete), grant and revoke, CSV import.

Who may do what (every refusal is :class:`NotAllowed` naming what is missing):

- granting or revoking a role in a unit needs ``MANAGE_PEOPLE`` there (an administrator of
  Customer Care grants roles in Customer Care and below, not in Marketing);
- adding a person, or editing one who holds no role, needs ``MANAGE_PEOPLE`` somewhere;
- editing, deactivating or reactivating someone who holds roles needs ``MANAGE_PEOPLE`` over
  every unit where they hold one (nobody changes the record of a person they do not fully
  administer);
- nobody deactivates themselves, and the last active administrator of the root unit can be
  neither deactivated nor lose that role;
- a deactivated person keeps their roles on record but may do nothing (the permission check
  refuses them everything), so they cannot act as the operator.

The CSV import (``app.domain.people_csv``) is all or nothing: :meth:`PeopleService.import_people`
re-reads the file inside its transaction, and any problem (of the file, or a role the operator
may not grant) refuses the whole file with nothing written. Every change is in the audit log;
an import writes one entry with its counts plus one per person added and per person renamed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.domain.enums import Role
from app.domain.people_csv import (
    ExistingPerson,
    ImportPreview,
    Problem,
    clean_email,
    clean_name,
    read_people_csv,
    unit_paths,
)
from app.domain.permissions import Action, Actor, Decision, Place, decide
from app.services.access import (
    NotAllowed,
    decide_anywhere_in,
    decide_in,
    require_anywhere_in,
    require_in,
)
from app.services.auditing import record_change
from app.storage.ports import (
    HeldRole,
    NewPerson,
    PersonRecord,
    Storage,
    StorageUnitOfWork,
)


class PersonError(ValueError):
    """What was entered cannot be saved (a bad email, one already taken); the message says why."""


class UnknownOperatorError(LookupError):
    """The CLI cannot tell who imports; the message says what to pass."""


class ImportRefused(Exception):  # noqa: N818 - reads as what happened
    """The file has problems: nothing was imported. ``preview`` lists them by line."""

    def __init__(self, preview: ImportPreview) -> None:
        super().__init__(f"{len(preview.problems)} problem(s) in the file; nothing was imported")
        self.preview = preview


@dataclass(frozen=True, slots=True)
class UnitChoice:
    id: int
    label: str  # the path of names from the root: "Acme Mobility/Customer Care"
    depth: int


@dataclass(frozen=True, slots=True)
class PersonSummary:
    """One line of the people list."""

    id: int
    name: str
    email: str
    title: str
    active: bool


@dataclass(frozen=True, slots=True)
class RoleHeld:
    unit_id: int
    unit_label: str
    role: str


@dataclass(frozen=True, slots=True)
class PersonDetail:
    id: int
    name: str
    email: str
    title: str
    active: bool
    roles: tuple[RoleHeld, ...]


@dataclass(frozen=True, slots=True)
class ImportResult:
    people_added: int
    roles_added: int
    people_renamed: int
    unchanged: int  # lines asking for a role already held

    def summary(self) -> str:
        return (
            f"{self.people_added} people added, {self.roles_added} roles granted, "
            f"{self.people_renamed} renamed, {self.unchanged} lines already true"
        )


@dataclass(frozen=True, slots=True)
class _Tree:
    """The unit tree as the checks need it: labels, materialised paths, the root."""

    labels: dict[int, str]  # id -> "Acme/Customer Care"
    paths: dict[int, str]  # id -> "/1/4/"
    names: dict[int, str]
    root: int | None

    @classmethod
    def of(cls, uow: StorageUnitOfWork) -> _Tree:
        entries = uow.directory.units()
        by_label = unit_paths((e.unit.id, e.unit.parent_id, e.unit.name) for e in entries)
        roots = sorted(
            (e for e in entries if e.unit.parent_id is None),
            key=lambda e: (e.sort_order, e.unit.id),
        )
        return cls(
            labels={uid: label for label, uid in by_label.items()},
            paths={e.unit.id: e.unit.path for e in entries},
            names={e.unit.id: e.unit.name for e in entries},
            root=roots[0].unit.id if roots else None,
        )

    def root_name(self) -> str:
        return self.names.get(self.root, "the workspace") if self.root else "the workspace"


MANAGE = Action.MANAGE_PEOPLE


class PeopleService:
    """Settings > People and roles and ``quiver people import``; safe from any thread."""

    def __init__(
        self, db: Storage, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._db = db
        self._clock = clock

    # -- reading ----------------------------------------------------------------------------

    def search(
        self,
        text: str = "",
        *,
        include_inactive: bool = True,
        after: tuple[str, int] | None = None,
        limit: int = 200,
    ) -> list[PersonSummary]:
        """People whose name or email holds every word of ``text``, by name (keyset paged)."""
        with self._db.uow() as uow:
            found = uow.people.search(
                text, include_inactive=include_inactive, after=after, limit=limit
            )
        return [PersonSummary(p.id, p.name, p.email, p.title, p.active) for p in found]

    def person(self, person_id: int) -> PersonDetail | None:
        with self._db.uow() as uow:
            p = uow.people.get(person_id)
            if p is None:
                return None
            tree = _Tree.of(uow)
            held = uow.people.roles_of(person_id)
        roles = sorted(
            (RoleHeld(r.unit_id, tree.labels.get(r.unit_id, "?"), r.role) for r in held),
            key=lambda r: (r.unit_label, r.role),
        )
        return PersonDetail(p.id, p.name, p.email, p.title, p.active, tuple(roles))

    def units(self) -> list[UnitChoice]:
        """Every unit, in tree order (by path of names)."""
        with self._db.uow() as uow:
            tree = _Tree.of(uow)
        return sorted(
            (UnitChoice(uid, label, label.count("/")) for uid, label in tree.labels.items()),
            key=lambda u: u.label.casefold(),
        )

    def may_manage(self, operator_id: int) -> Decision:
        """Whether the operator may manage people anywhere (and why not, for a person to read)."""
        with self._db.uow() as uow:
            return decide_anywhere_in(
                uow, operator_id, MANAGE, doing="change people and their roles"
            )

    def may_change(self, operator_id: int, person_id: int) -> Decision:
        """Whether the operator may edit, deactivate or reactivate this person (and why not)."""
        with self._db.uow() as uow:
            try:
                _require_over(uow, operator_id, person_id, "change its people")
            except NotAllowed as refused:
                return Decision(False, str(refused))
        return Decision(True)

    def manageable_units(self, operator_id: int) -> list[UnitChoice]:
        """The units where the operator may grant and revoke roles."""
        with self._db.uow() as uow:
            actor = uow.directory.actor(operator_id)
            tree = _Tree.of(uow)
        if actor is None:
            return []
        return [
            u
            for u in self.units()
            if decide(actor, MANAGE, Place(tree.paths.get(u.id, "?"), u.label)).allowed
        ]

    # -- changes ----------------------------------------------------------------------------

    def add_person(self, operator_id: int, name: str, email: str, title: str = "") -> int:
        """Add someone (with no role yet); returns their id.

        Raises:
            NotAllowed: the operator administers no unit.
            PersonError: the name or email is wrong, or the email is taken.
        """
        name, email, title = _checked(name, email, title)
        with self._db.uow() as uow:
            actor = require_anywhere_in(uow, operator_id, MANAGE, doing="add people")
            _email_free(uow, email, None)
            person_id = uow.people.add(NewPerson(name, email, title))
            self._audit(uow, actor, "person.added", person_id, None, _card(name, email, title))
            uow.commit()
        return person_id

    def edit_person(
        self, operator_id: int, person_id: int, *, name: str, email: str, title: str = ""
    ) -> None:
        """Change someone's name, email and title.

        Raises:
            NotAllowed: the operator does not administer every unit where the person has a role.
            PersonError: the name or email is wrong, or the email is someone else's.
        """
        name, email, title = _checked(name, email, title)
        with self._db.uow() as uow:
            person = _person(uow, person_id)
            actor = _require_over(uow, operator_id, person_id, "change the details of its people")
            _email_free(uow, email, person_id)
            before = _card(person.name, person.email, person.title)
            after = _card(name, email, title)
            if before == after:
                return
            uow.people.edit(person_id, name=name, email=email, title=title)
            self._audit(uow, actor, "person.edited", person_id, before, after)
            uow.commit()

    def deactivate(self, operator_id: int, person_id: int) -> None:
        """Deactivate someone: they keep their roles on record but may do nothing.

        Raises:
            NotAllowed: themselves, the last active administrator of the root, or the operator
                does not administer every unit where the person holds a role.
        """
        with self._db.uow() as uow:
            person = _person(uow, person_id)
            if operator_id == person_id:
                raise NotAllowed("Nobody can deactivate themselves: ask another administrator.")
            actor = _require_over(uow, operator_id, person_id, "deactivate its people")
            if not person.active:
                return
            tree = _Tree.of(uow)
            _keep_an_admin(uow, tree, person_id, "deactivated")
            uow.people.set_active(person_id, False, self._clock())
            self._audit(
                uow, actor, "person.deactivated", person_id, {"active": True}, {"active": False}
            )
            uow.commit()

    def reactivate(self, operator_id: int, person_id: int) -> None:
        """Let a deactivated person act again, with the roles they kept."""
        with self._db.uow() as uow:
            person = _person(uow, person_id)
            actor = _require_over(uow, operator_id, person_id, "reactivate its people")
            if person.active:
                return
            uow.people.set_active(person_id, True, None)
            self._audit(
                uow, actor, "person.reactivated", person_id, {"active": False}, {"active": True}
            )
            uow.commit()

    def grant_role(self, operator_id: int, person_id: int, unit_id: int, role: str) -> bool:
        """Give someone a role in a unit; ``False`` when they hold it already.

        Raises:
            NotAllowed: the operator may not manage people in that unit.
            PersonError: no such person, unit or role, or the person is deactivated.
        """
        role = _role(role)
        with self._db.uow() as uow:
            person = _person(uow, person_id)
            tree = _Tree.of(uow)
            if unit_id not in tree.labels:
                raise PersonError("That unit no longer exists.")
            actor = require_in(uow, operator_id, MANAGE, unit_id, doing="grant roles there")
            if not person.active:
                raise PersonError(f"{person.name} is deactivated: reactivate them first.")
            if not uow.people.grant(person_id, unit_id, role):
                return False
            self._audit(
                uow, actor, "role.granted", person_id, None, _role_card(tree, unit_id, role)
            )
            uow.commit()
        return True

    def revoke_role(self, operator_id: int, person_id: int, unit_id: int, role: str) -> bool:
        """Take a role away; ``False`` when the person did not hold it.

        Raises:
            NotAllowed: the operator may not manage people there, or it is the last active
                administrator of the root.
        """
        role = _role(role)
        with self._db.uow() as uow:
            person = _person(uow, person_id)
            tree = _Tree.of(uow)
            actor = require_in(uow, operator_id, MANAGE, unit_id, doing="revoke roles there")
            if role == Role.ADMIN and unit_id == tree.root and person.active:
                _keep_an_admin(uow, tree, person_id, "lose that role")
            if not uow.people.revoke(person_id, unit_id, role):
                return False
            self._audit(
                uow, actor, "role.revoked", person_id, _role_card(tree, unit_id, role), None
            )
            uow.commit()
        return True

    # -- the CSV import ---------------------------------------------------------------------

    def preview_import(self, data: bytes | str, operator_id: int | None = None) -> ImportPreview:
        """What importing the file would do, with every problem by line; changes nothing.

        With ``operator_id``, the roles that person may not grant are problems too.
        """
        with self._db.uow() as uow:
            return self._preview(uow, data, operator_id)

    def import_people(self, operator_id: int, data: bytes | str) -> ImportResult:
        """Import the file in one transaction, or nothing at all.

        Raises:
            ImportRefused: any problem in the file (its ``preview`` lists them by line).
        """
        with self._db.uow() as uow:
            preview = self._preview(uow, data, operator_id)
            if not preview.ok:
                raise ImportRefused(preview)
            actor = uow.directory.actor(operator_id)
            assert actor is not None  # no problem means the operator may
            plan = preview.plan
            ids = uow.people.add_many([NewPerson(p.name, p.email) for p in plan.add])
            grants = [HeldRole(ids[p.email], r.unit_id, r.role) for p in plan.add for r in p.roles]
            grants += [
                HeldRole(g.person_id, r.unit_id, r.role) for g in plan.grant for r in g.roles
            ]
            uow.people.grant_many(grants)
            uow.people.rename_many([(r.person_id, r.after) for r in plan.rename])
            for p in plan.add:
                roles = [{"unit": r.unit_path, "role": r.role} for r in p.roles]
                after = {**_card(p.name, p.email, ""), "roles": roles, "source": "csv import"}
                self._audit(uow, actor, "person.added", ids[p.email], None, after)
            for r in plan.rename:
                self._audit(
                    uow, actor, "person.edited", r.person_id, {"name": r.before}, {"name": r.after}
                )
            result = ImportResult(
                plan.people_added, plan.roles_added, len(plan.rename), plan.unchanged
            )
            self._audit(
                uow,
                actor,
                "people.imported",
                None,
                None,
                {
                    "lines": preview.lines,
                    "people_added": result.people_added,
                    "roles_added": result.roles_added,
                    "people_renamed": result.people_renamed,
                    "unchanged": result.unchanged,
                    "roles_for_existing_people": [
                        {"email": g.email, "unit": r.unit_path, "role": r.role}
                        for g in plan.grant
                        for r in g.roles
                    ],
                },
            )
            uow.commit()
        return result

    def import_operator(self, email: str | None) -> int:
        """Who runs a CLI import: the person with ``email``, or the only active root admin.

        Raises:
            UnknownOperatorError: nobody (or several people) fit; the message says what to pass.
        """
        with self._db.uow() as uow:
            if email:
                person = uow.people.find_email(email)
                if person is None:
                    raise UnknownOperatorError(
                        f"Nobody with the email {email} is in this workspace."
                    )
                if not person.active:
                    raise UnknownOperatorError(f"{person.name} is deactivated and cannot import.")
                return person.id
            tree = _Tree.of(uow)
            admins = (
                [p for p in uow.people.holders(tree.root, Role.ADMIN) if p.active]
                if tree.root is not None
                else []
            )
        if len(admins) == 1:
            return admins[0].id
        if not admins:
            raise UnknownOperatorError(
                f"Nobody is an active administrator of {tree.root_name()}: say who imports "
                "with --operator EMAIL."
            )
        names = ", ".join(f"{p.name} <{p.email}>" for p in admins[:5])
        raise UnknownOperatorError(
            f"{len(admins)} people administer {tree.root_name()} ({names}): say who imports "
            "with --operator EMAIL."
        )

    # -- helpers ----------------------------------------------------------------------------

    def _preview(
        self, uow: StorageUnitOfWork, data: bytes | str, operator_id: int | None
    ) -> ImportPreview:
        tree = _Tree.of(uow)
        roles: dict[int, set[tuple[int, str]]] = {}
        for r in uow.people.all_roles():
            roles.setdefault(r.person_id, set()).add((r.unit_id, r.role))
        people = [
            ExistingPerson(p.id, p.name, p.email, p.active, frozenset(roles.get(p.id, ())))
            for p in uow.people.everyone()
        ]
        preview = read_people_csv(data, {label: uid for uid, label in tree.labels.items()}, people)
        if operator_id is None or (preview.lines == 0 and not preview.ok):
            return preview
        return preview.with_problems(_permission_problems(uow, tree, preview, operator_id))

    def _audit(
        self,
        uow: StorageUnitOfWork,
        actor: Actor,
        action: str,
        person_id: int | None,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        record_change(
            uow,
            at=self._clock(),
            person_id=actor.person_id,
            person_name=actor.name,
            action=action,
            entity="person" if person_id is not None else "people",
            entity_id=person_id,
            before=before,
            after=after,
        )


# -- checks -----------------------------------------------------------------------------------


def _permission_problems(
    uow: StorageUnitOfWork, tree: _Tree, preview: ImportPreview, operator_id: int
) -> list[Problem]:
    decision = decide_anywhere_in(uow, operator_id, MANAGE, doing="import people")
    if not decision.allowed:
        return [Problem(0, decision.reason)]
    problems: list[Problem] = []
    verdicts: dict[int, Decision] = {}
    for r in preview.plan.role_lines():
        if r.unit_id not in verdicts:
            verdicts[r.unit_id] = decide_in(
                uow, operator_id, MANAGE, r.unit_id, doing="grant roles there"
            )
        if not verdicts[r.unit_id].allowed:
            problems.append(Problem(r.line, verdicts[r.unit_id].reason))
    for rename in preview.plan.rename:
        try:
            _require_over(uow, operator_id, rename.person_id, "rename its people")
        except NotAllowed as refused:
            problems.append(Problem(rename.line, f"renaming {rename.before}: {refused}"))
    return problems


def _require_over(uow: StorageUnitOfWork, operator_id: int, person_id: int, doing: str) -> Actor:
    """MANAGE_PEOPLE over every unit where the person holds a role (somewhere, if none)."""
    units = sorted({r.unit_id for r in uow.people.roles_of(person_id)})
    actor = require_anywhere_in(uow, operator_id, MANAGE, doing=doing.replace("its ", ""))
    for unit_id in units:
        require_in(uow, operator_id, MANAGE, unit_id, doing=doing)
    return actor


def _keep_an_admin(uow: StorageUnitOfWork, tree: _Tree, person_id: int, what: str) -> None:
    if tree.root is None:
        return
    admins = [p.id for p in uow.people.holders(tree.root, Role.ADMIN) if p.active]
    if admins == [person_id]:
        name = tree.root_name()
        raise NotAllowed(
            f"This is the last active administrator of {name}, who cannot be {what}: make "
            f"someone else an administrator of {name} first."
        )


def _person(uow: StorageUnitOfWork, person_id: int) -> PersonRecord:
    person = uow.people.get(person_id)
    if person is None:
        raise PersonError("That person is not in this workspace.")
    return person


def _email_free(uow: StorageUnitOfWork, email: str, person_id: int | None) -> None:
    taken = uow.people.find_email(email)
    if taken is not None and taken.id != person_id:
        state = "" if taken.active else " (deactivated)"
        raise PersonError(f"{email} already belongs to {taken.name}{state}.")


def _checked(name: str, email: str, title: str) -> tuple[str, str, str]:
    name, problem = clean_name(name)
    if problem:
        raise PersonError(problem[0].upper() + problem[1:] + ".")
    email, problem = clean_email(email)
    if problem:
        raise PersonError(problem[0].upper() + problem[1:] + ".")
    title, problem = clean_name(title)
    if problem and title:
        raise PersonError("The title " + problem.removeprefix("the name ") + ".")
    return name, email, title


def _role(role: str) -> str:
    try:
        return Role(role.strip().lower()).value
    except ValueError:
        raise PersonError(
            f"There is no role “{role}” (one of {', '.join(r.value for r in Role)})."
        ) from None


def _card(name: str, email: str, title: str) -> dict[str, Any]:
    return {"name": name, "email": email, "title": title}


def _role_card(tree: _Tree, unit_id: int, role: str) -> dict[str, Any]:
    return {"unit": tree.labels.get(unit_id, str(unit_id)), "unit_id": unit_id, "role": role}
