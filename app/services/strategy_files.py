"""The strategy in and out of files: export a revision, import a file through the merge.

A file names units by their path ("Acme Mobility/Marketing"), people by e-mail and accounts by
handle (:mod:`app.domain.strategy_doc`); the workspace by ids. :class:`StrategyNames` maps the
two. An export keeps the strategy as a new revision (its snapshot is the merge's base later) and
writes that revision as the file. An import merges the file (theirs) into the workspace now
(ours) against the revision it was exported from (base), item by item and field by field
(:func:`app.domain.strategy_merge.merge`):

- :meth:`StrategyFiles.plan_import` says what it would do and changes nothing (a dry run, the
  import dialog);
- :meth:`StrategyFiles.apply_import` applies it in one transaction with one audit entry, or
  refuses with nothing changed: conflicts no person decided (:class:`ImportConflicts`), or
  refusals (:class:`ImportRefused`): the result breaks the funnel, the file names a unit, person
  or account the workspace lacks, or the operator may not change a part the import changes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from app.domain.enums import StrategyItemType
from app.domain.people_csv import unit_paths
from app.domain.strategy_doc import PolicyLineDoc, StrategyDoc, StrategyItemDoc
from app.domain.strategy_funnel import TYPE_NAMES, FunnelError, ItemFields
from app.domain.strategy_merge import Change, MergeResult, Section, merge, resolve
from app.services.access import NotAllowed
from app.services.auditing import record_change
from app.services.files import write_atomically
from app.services.strategy import check_item_fields, new_revision
from app.services.strategy_access import actor_of, require_item, require_sponsor
from app.services.strategy_views import snapshot_of
from app.storage.ports import Storage, StorageUnitOfWork
from app.storage.strategy import DeletionRecord, ItemRecord, PolicyLineRecord

__all__ = [
    "ExportedStrategy",
    "ImportConflicts",
    "ImportPlan",
    "ImportRefused",
    "StrategyFiles",
    "StrategyNames",
]

T = StrategyItemType
Resolutions = Mapping[tuple[str | None, str], Any]
#: An import's audit entry lists at most this many changes (the counts are always whole).
AUDIT_CHANGES = 500


@dataclass(frozen=True, slots=True)
class StrategyNames:
    """The workspace's names for what a file refers to: unit paths, e-mails, account handles."""

    unit_paths: Mapping[int, str]
    people: Mapping[int, tuple[str, str]]  # id -> (e-mail, name)
    accounts: Mapping[int, tuple[str, str]]  # id -> (network, handle)
    _units_by_path: dict[str, int] = field(default_factory=dict, repr=False)
    _people_by_email: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._units_by_path.update({p: i for i, p in self.unit_paths.items()})
        self._people_by_email.update({e.lower(): i for i, (e, _n) in self.people.items()})

    def path(self, unit_id: int | None) -> str | None:
        return None if unit_id is None else self.unit_paths.get(unit_id)

    def email(self, person_id: int | None) -> str | None:
        return None if person_id is None else self.people.get(person_id, ("", ""))[0] or None

    def handle(self, account_id: int | None) -> str | None:
        return None if account_id is None else self.accounts.get(account_id, ("", ""))[1] or None

    def unit_id(self, path: str | None) -> int | None:
        """The unit at ``path`` (None for no path). Raises KeyError: no such unit."""
        if path is None or not path.strip():
            return None
        clean = "/".join(part.strip() for part in path.split("/"))
        if clean not in self._units_by_path:
            raise KeyError(f"there is no unit {path!r} in this workspace")
        return self._units_by_path[clean]

    def person_id(self, email: str | None) -> int | None:
        """The person with ``email`` (None for none). Raises KeyError: nobody has it."""
        if email is None or not email.strip():
            return None
        found = self._people_by_email.get(email.strip().lower())
        if found is None:
            raise KeyError(f"nobody with the e-mail {email!r} is in this workspace")
        return found

    def account_id(self, handle: str | None, network: str | None) -> int | None:
        """The account with ``handle`` (on ``network`` when given). Raises KeyError."""
        if handle is None or not handle.strip():
            return None
        wanted = handle.strip().lstrip("@").lower()
        found = [
            i
            for i, (net, h) in self.accounts.items()
            if h.lstrip("@").lower() == wanted and (network is None or net == network)
        ]
        if len(found) != 1:
            what = "no" if not found else "more than one"
            raise KeyError(f"{what} account {handle!r} is in this workspace")
        return found[0]


def names_of(uow: StorageUnitOfWork) -> StrategyNames:
    by_path = unit_paths((u.id, u.parent_id, u.name) for u in uow.units.all())
    return StrategyNames(
        unit_paths={uid: path for path, uid in by_path.items()},
        people={p.id: (p.email, p.name) for p in uow.people.everyone()},
        accounts={a.id: (a.network, a.handle) for a in uow.directory.accounts()},
    )


# -- the workspace as a doc ------------------------------------------------------------------


def _day(text: Any) -> date | None:
    return date.fromisoformat(text) if isinstance(text, str) and text else None


def _item_doc(uuid: str, data: Mapping[str, Any], names: StrategyNames) -> StrategyItemDoc:
    """An item of a revision's snapshot (ids) as a doc item (names)."""
    return StrategyItemDoc(
        id=uuid,
        type=T(data["type"]),
        title=data.get("title") or "",
        body=data.get("body") or "",
        unit=names.path(data.get("unit_id")),
        owner=names.email(data.get("owner_id")),
        kpi=data.get("kpi") or "",
        kpi_target=data.get("kpi_target"),
        kpi_unit=data.get("kpi_unit") or "",
        baseline=data.get("baseline"),
        deadline=_day(data.get("deadline")),
        channel=data.get("channel") or "",
        cadence=data.get("cadence") or "",
        horizon=data.get("horizon"),
        parents=tuple(data.get("parents") or ()),
        position=int(data.get("position") or 0),
        created=_day(data.get("created")),
    )


def _line_doc(uuid: str, data: Mapping[str, Any], names: StrategyNames) -> PolicyLineDoc:
    return PolicyLineDoc(
        id=uuid,
        kind=data["kind"],
        value=data.get("value") or "",
        network=data.get("network"),
        unit=names.path(data.get("unit_id")),
        account=names.handle(data.get("account_id")),
        note=data.get("note") or "",
    )


def doc_of_snapshot(
    snapshot: Mapping[str, Any], names: StrategyNames, deleted: Mapping[str, int | None]
) -> StrategyDoc:
    """A revision's snapshot (or the workspace now, as one) as a doc in the file's names."""
    items = {u: _item_doc(u, d, names) for u, d in snapshot["items"].items()}
    policy = {u: _line_doc(u, d, names) for u, d in snapshot["policy"].items()}
    return StrategyDoc(
        mission=snapshot.get("mission") or "",
        items=items,
        policy=policy,
        deleted={k: v for k, v in deleted.items() if k not in items and k not in policy},
    )


def _deleted(uow: StorageUnitOfWork) -> dict[str, int | None]:
    return {d.uuid: d.after_revision for d in uow.strategy.deletions()}


def _created(snapshot: dict[str, Any], items: Iterable[ItemRecord]) -> dict[str, Any]:
    """An older snapshot without creation days gets them from the items still there."""
    days = {r.uuid: r.created_at.date().isoformat() for r in items}
    for uuid, data in snapshot["items"].items():
        if not data.get("created") and uuid in days:
            data["created"] = days[uuid]
    return snapshot


# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportedStrategy:
    revision: int
    doc: StrategyDoc
    text: str


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What an import does: the merge (conflicts, changes, funnel problems) and refusals."""

    result: MergeResult
    refusals: tuple[str, ...] = ()

    @property
    def conflicts(self) -> tuple[Any, ...]:
        return self.result.conflicts

    @property
    def changes(self) -> tuple[Change, ...]:
        return self.result.changes

    @property
    def refused(self) -> bool:
        return bool(self.refusals)

    def counts(self) -> dict[str, int]:
        """How many records it adds, changes and deletes (the mission counts as changed)."""
        counts = {"added": 0, "changed": 0, "deleted": 0}
        for change in self.changes:
            counts[change.action] += 1
        return counts

    @property
    def nothing_to_do(self) -> bool:
        return self.result.nothing_to_do and not self.refusals


class ImportConflicts(Exception):  # noqa: N818 - reads as what was found
    """Both sides changed the same fields differently and nobody decided; nothing changed."""

    def __init__(self, plan: ImportPlan) -> None:
        n = len(plan.conflicts)
        super().__init__(f"{n} conflict{'s' if n != 1 else ''} to decide; nothing was changed.")
        self.plan = plan


class ImportRefused(Exception):  # noqa: N818 - reads as what happened
    """The import cannot be applied; ``plan.refusals`` says why. Nothing changed."""

    def __init__(self, plan: ImportPlan) -> None:
        super().__init__("; ".join(plan.refusals[:3]) + ("…" if len(plan.refusals) > 3 else ""))
        self.plan = plan


# -- the service -----------------------------------------------------------------------------


class StrategyFiles:
    """Export and import of strategy files; one unit of work per call (any thread)."""

    def __init__(
        self, db: Storage, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._db = db
        self._clock = clock

    def names(self, operator: int) -> StrategyNames:
        with self._db.uow() as uow:
            actor_of(uow, operator)
            return names_of(uow)

    def workspace_doc(self, operator: int) -> StrategyDoc:
        """The strategy as it is now, as a doc (no revision is kept)."""
        with self._db.uow() as uow:
            actor_of(uow, operator)
            return self._ours(uow, names_of(uow))

    def export(self, operator: int, note: str = "") -> ExportedStrategy:
        """Keep the strategy as a new revision and give it as a file's doc and text.

        Raises:
            NotAllowed: the operator may edit no part of the strategy.
        """
        from app.domain.strategy_file import dump_strategy

        with self._db.uow() as uow:
            revision = new_revision(uow, operator, note, self._clock())
            doc = replace(
                doc_of_snapshot(revision.snapshot, names_of(uow), _deleted(uow)),
                base_revision=revision.number,
                exported_at=revision.created_at,
            )
            uow.commit()
        return ExportedStrategy(revision.number, doc, dump_strategy(doc))

    def export_file(
        self, operator: int, path: str | os.PathLike[str], note: str = ""
    ) -> ExportedStrategy:
        """:meth:`export`, written to ``path`` atomically (a whole file or none).

        Raises:
            NotAllowed: the operator may edit no part of the strategy.
            OSError: the file cannot be written (the revision is kept all the same).
        """
        exported = self.export(operator, note)
        write_atomically(Path(path), exported.text)
        return exported

    def plan_import(
        self, operator: int, theirs: StrategyDoc, resolutions: Resolutions | None = None
    ) -> ImportPlan:
        """What importing ``theirs`` would do (with the person's ``resolutions``); no change."""
        with self._db.uow() as uow:
            return self._plan(uow, operator, theirs, resolutions or {})[0]

    def apply_import(
        self, operator: int, theirs: StrategyDoc, resolutions: Resolutions | None = None
    ) -> ImportPlan:
        """Import ``theirs`` in one transaction with one audit entry.

        Returns:
            The plan applied (``nothing_to_do``: nothing was written).

        Raises:
            ImportConflicts: conflicts remain undecided; nothing changed.
            ImportRefused: the plan has refusals; nothing changed.
            KeyError: a resolution names no conflict.
        """
        with self._db.uow() as uow:
            plan, names = self._plan(uow, operator, theirs, resolutions or {})
            if plan.refusals:
                raise ImportRefused(plan)
            if plan.conflicts:
                raise ImportConflicts(plan)
            if plan.result.nothing_to_do:
                return plan
            _Apply(uow, names, self._clock(), operator).run(plan.result)
            record_change(
                uow,
                at=self._clock(),
                person_id=operator,
                action="strategy.imported",
                entity="strategy",
                entity_id=theirs.base_revision,
                after=_audit_after(plan, theirs, resolutions or {}),
            )
            uow.commit()
        return plan

    # -- helpers ----------------------------------------------------------------------------

    def _ours(self, uow: StorageUnitOfWork, names: StrategyNames) -> StrategyDoc:
        snapshot = snapshot_of(uow, 0)
        return doc_of_snapshot(snapshot, names, _deleted(uow))

    def _plan(
        self,
        uow: StorageUnitOfWork,
        operator: int,
        theirs: StrategyDoc,
        resolutions: Resolutions,
    ) -> tuple[ImportPlan, StrategyNames]:
        actor = actor_of(uow, operator)
        names = names_of(uow)
        ours = self._ours(uow, names)
        refusals: list[str] = []
        base = StrategyDoc()
        if theirs.base_revision is not None:
            revision = uow.strategy.revision(theirs.base_revision)
            if revision is None:
                refusals.append(
                    f"the file was exported from revision {theirs.base_revision}, which this "
                    "workspace does not have: it comes from another workspace"
                )
            else:
                snapshot = _created(revision.snapshot, uow.strategy.items())
                base = doc_of_snapshot(snapshot, names, {})
        result = merge(base, ours, theirs)
        if resolutions:
            result = resolve(result, resolutions)
        refusals += [str(p) for p in result.problems]
        if not refusals:
            refusals += _Checks(uow, actor, names).of(result)
        return ImportPlan(result, tuple(refusals)), names


def _audit_after(plan: ImportPlan, theirs: StrategyDoc, resolutions: Resolutions) -> dict[str, Any]:
    counts: dict[str, int] = {}
    listed: list[dict[str, Any]] = []
    for change in plan.changes:
        key = f"{change.section.value}_{change.action}"
        counts[key] = counts.get(key, 0) + 1
        if len(listed) < AUDIT_CHANGES:
            listed.append(
                {
                    "section": change.section.value,
                    "id": change.item_id,
                    "action": change.action,
                    "fields": list(change.fields) if change.action == "changed" else [],
                }
            )
    return {
        "base_revision": theirs.base_revision,
        "counts": counts,
        "decided": [
            {"id": k[0], "field": k[1], "took": v if isinstance(v, str) else "own value"}
            for k, v in resolutions.items()
        ],
        "changes": listed,
    }


def _fields_of(item: StrategyItemDoc, names: StrategyNames) -> ItemFields:
    return ItemFields(
        title=item.title,
        body=item.body,
        unit_id=names.unit_id(item.unit),
        owner_id=names.person_id(item.owner),
        kpi=item.kpi,
        kpi_target=item.kpi_target,
        kpi_unit=item.kpi_unit,
        baseline=item.baseline,
        deadline=item.deadline,
        channel=item.channel,
        cadence=item.cadence,
        horizon=item.horizon.value if item.horizon is not None else None,
    )


class _Checks:
    """Every refusal the merged changes meet: unknown names, the service's rules, permissions."""

    def __init__(self, uow: StorageUnitOfWork, actor: Any, names: StrategyNames) -> None:
        self.uow, self.actor, self.names = uow, actor, names
        self.out: list[str] = []
        self.allowed: set[tuple[Any, ...]] = set()

    def of(self, result: MergeResult) -> list[str]:
        for change in result.changes:
            if change.section is Section.DOCUMENT:
                self._may(("sponsor", "edit the mission"))
            elif change.section is Section.POLICY:
                self._may(("sponsor", "edit the social media policy"))
                if change.after is not None:
                    self._line(change.after)
            else:
                self._item(change)
        return self.out

    def _may(self, what: tuple[Any, ...]) -> None:
        if what in self.allowed:
            return
        try:
            if what[0] == "sponsor":
                require_sponsor(self.uow, self.actor, what[1])
            else:
                require_item(self.uow, self.actor, what[1], what[2])
            self.allowed.add(what)
        except NotAllowed as exc:
            if str(exc) not in self.out:
                self.out.append(str(exc))
        except KeyError as exc:
            self.out.append(str(exc.args[0]) if exc.args else str(exc))

    def _item(self, change: Change) -> None:
        after: StrategyItemDoc | None = change.after
        fields = None
        if after is not None:
            try:
                fields = _fields_of(after, self.names)
            except KeyError as exc:
                self.out.append(f"item {after.id}: {exc.args[0]}")
                return
            self._may(("item", after.type, fields.unit_id))
        before: StrategyItemDoc | None = change.before
        if before is not None:  # the workspace's own: its names are known
            self._may(("item", before.type, self.names.unit_id(before.unit)))
        if after is None or fields is None:
            return
        try:
            check_item_fields(self.uow, after.type, fields)
        except (KeyError, FunnelError) as exc:
            text = exc.args[0] if exc.args else str(exc)
            what = TYPE_NAMES.get(after.type, "item")
            self.out.append(f"item {after.id} ({what} {after.title!r}): {text}")

    def _line(self, line: PolicyLineDoc) -> None:
        try:
            if line.unit is not None:
                self.names.unit_id(line.unit)
            self.names.account_id(line.account, line.network)
        except KeyError as exc:
            self.out.append(f"policy line {line.id}: {exc.args[0]}")


class _Apply:
    """Writes a merge's changes into the workspace (inside the caller's unit of work)."""

    def __init__(
        self, uow: StorageUnitOfWork, names: StrategyNames, now: datetime, operator: int
    ) -> None:
        self.uow, self.names, self.now, self.operator = uow, names, now, operator
        self.ids = {r.uuid: r.id for r in uow.strategy.items()}
        self.lines = {line.uuid: line.id for line in uow.strategy.policy_lines()}

    def run(self, result: MergeResult) -> None:
        doc = result.doc
        items = [c for c in result.changes if c.section is Section.ITEMS]
        gone = [c.before for c in items if c.after is None]
        for change in items:
            after = change.after
            if after is None:
                continue
            fields = _fields_of(after, self.names)
            if change.before is None:
                made = after.created
                at = datetime.combine(made, time(), UTC) if made is not None else self.now
                self.ids[after.id] = self.uow.strategy.add(
                    after.type, after.id, fields, position=after.position, at=at
                )
            else:
                self.uow.strategy.update(self.ids[after.id], fields, self.now)
        for change in items:
            after = change.after
            if after is None:
                continue
            if change.before is None or change.before.parents != after.parents:
                parents = [self.ids[p] for p in after.parents]
                self.uow.strategy.set_parents(self.ids[after.id], parents)
            if change.before is not None and change.before.position != after.position:
                self.uow.strategy.set_positions({self.ids[after.id]: after.position})
        if gone:
            self._delete(gone)
        for change in result.changes:
            if change.section is Section.POLICY:
                self._policy(change)
            elif change.section is Section.DOCUMENT:
                self.uow.strategy.set_mission(doc.mission.strip())

    def _delete(self, gone: list[StrategyItemDoc]) -> None:
        revision = self.uow.strategy.last_revision()
        who = self.uow.directory.person_name(self.operator) or ""
        self.uow.strategy.record_deletions(
            [
                DeletionRecord(g.id, g.type.value, g.title, self.now, revision, self.operator, who)
                for g in gone
            ]
        )
        self.uow.strategy.delete([self.ids[g.id] for g in gone])

    def _policy(self, change: Change) -> None:
        after: PolicyLineDoc | None = change.after
        if after is None:
            before: PolicyLineDoc = change.before
            who = self.uow.directory.person_name(self.operator) or ""
            self.uow.strategy.record_deletions(
                [
                    DeletionRecord(
                        before.id,
                        "policy_line",
                        f"{before.kind}: {before.value}"[:300],
                        self.now,
                        self.uow.strategy.last_revision(),
                        self.operator,
                        who,
                    )
                ]
            )
            self.uow.strategy.delete_policy_line(self.lines[before.id])
            return
        record = PolicyLineRecord(
            id=self.lines.get(after.id, 0),
            uuid=after.id,
            kind=str(after.kind),
            value=after.value.strip(),
            network=str(after.network) if after.network is not None else None,
            unit_id=self.names.unit_id(after.unit),
            account_id=self.names.account_id(after.account, after.network),
            note=after.note,
        )
        if change.before is None:
            self.lines[after.id] = self.uow.strategy.add_policy_line(record)
        else:
            self.uow.strategy.update_policy_line(record)
