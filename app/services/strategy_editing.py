"""One strategy editor over two sources: the workspace's strategy, or a strategy file.

The Strategy screen and the offline file editor are the same editor; what differs is where the
strategy lives. :class:`StrategySource` is what the editor asks of either:
:class:`WorkspaceSource` (here) goes through ``services.strategy``, so permissions, the audit log
and the funnel's rules hold; :class:`app.services.strategy_file_editing.FileSource` edits a
:class:`~app.domain.strategy_doc.StrategyDoc` in memory under the same funnel rules and writes
the file back with its comments.

Both speak in the same rows: items and policy lines by a text ``key`` (a workspace id as text,
or a file's uuid), units, owners and accounts by a text ``value`` of a :class:`Choice` (a
workspace id as text, or a file's unit path, e-mail and handle). Every refusal (not allowed,
not a whole item for the funnel, nothing by that key) is one :class:`Refused` in words. Every
method blocks: callers run them off the GUI thread.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Protocol

from app.domain.enums import StrategyItemType
from app.domain.strategy_funnel import FunnelError, ItemFields, horizon_end
from app.services.access import NotAllowed
from app.services.container import Services
from app.services.strategy_views import GoalServed, Missing
from app.storage.strategy import (
    ItemRecord,
    PolicyLineRecord,
    ServedDraftRow,
    TaggedConversationRow,
)

__all__ = [
    "GAP_SECTIONS",
    "Choice",
    "DependentRow",
    "EditFields",
    "EditorItem",
    "EditorNames",
    "GapEntry",
    "GapSection",
    "GoalServed",
    "PolicyEdit",
    "PolicyRow",
    "ProblemRow",
    "Refused",
    "ServedDraftRow",
    "StrategySource",
    "StrategyState",
    "TaggedConversationRow",
    "WorkspaceSource",
]

PAGE = 50

#: The "what is missing" sections, in the order the panel lists them.
GAP_SECTIONS: dict[str, str] = {
    "units": "Units without department goals",
    "goals": "Goals no social goal derives from",
    "kpi": "Social goals without a complete KPI",
    "tactic": "Social goals without a tactic",
    "horizon": "Tactics past their horizon",
}


class Refused(ValueError):  # noqa: N818 - reads as what happened
    """The change was not made; the message says why, in words a person can act on."""


@contextmanager
def refusals() -> Iterator[None]:
    """The service's refusals (not allowed, not a whole item, nothing by that id) as Refused."""
    try:
        yield
    except (NotAllowed, FunnelError) as e:
        raise Refused(str(e)) from e
    except KeyError as e:  # KeyError's str() quotes its message
        raise Refused(str(e.args[0]) if e.args else "It is not there any more.") from e


@dataclass(frozen=True, slots=True)
class Choice:
    """Something a picker offers: the ``value`` a source takes back, the ``label`` one reads."""

    value: str
    label: str


@dataclass(frozen=True, slots=True)
class EditorNames:
    """What the unit, owner and account pickers offer.

    ``free_text``: a file names units, people and accounts by text (a path, an e-mail, a
    handle), so any may be typed; the choices only complete it.
    """

    units: tuple[Choice, ...] = ()
    people: tuple[Choice, ...] = ()
    accounts: tuple[Choice, ...] = ()
    free_text: bool = False


@dataclass(frozen=True, slots=True)
class EditFields:
    """What a person edits on an item; ``unit`` and ``owner`` are :class:`Choice` values."""

    title: str
    body: str = ""
    unit: str | None = None
    owner: str | None = None
    kpi: str = ""
    kpi_target: float | None = None
    kpi_unit: str = ""
    baseline: float | None = None
    deadline: date | None = None
    channel: str = ""
    cadence: str = ""
    horizon: str | None = None


@dataclass(frozen=True, slots=True)
class EditorItem:
    """An item as the editor shows it: its fields, names, links, and a tactic's horizon."""

    key: str
    type: StrategyItemType
    fields: EditFields
    unit_label: str
    owner_label: str
    parents: tuple[str, ...]
    children: tuple[str, ...]
    position: int
    created: date | None  # when it was made (a tactic's horizon counts from it)
    horizon_end: date | None  # tactics: the day its horizon ends (None: not known)

    @property
    def title(self) -> str:
        return self.fields.title


@dataclass(frozen=True, slots=True)
class PolicyEdit:
    """A policy line as a person edits it; ``unit`` and ``account`` are :class:`Choice` values."""

    kind: str
    value: str
    network: str | None = None
    unit: str | None = None
    account: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class PolicyRow:
    """A line of the social media policy, with its stable id and the names of its scope."""

    key: str
    uuid: str
    line: PolicyEdit
    unit_label: str
    account_label: str


@dataclass(frozen=True, slots=True)
class GapEntry:
    """One thing missing: an item (by key) or, for units, a unit (by its Choice value)."""

    key: str
    title: str
    is_unit: bool = False


@dataclass(frozen=True, slots=True)
class GapSection:
    key: str  # a key of GAP_SECTIONS
    name: str
    entries: tuple[GapEntry, ...]
    note: str = ""  # why the section cannot be told here, when it cannot


@dataclass(frozen=True, slots=True)
class ProblemRow:
    """What breaks the funnel in a file, and the item it is about (None: the file)."""

    key: str | None
    message: str


@dataclass(frozen=True, slots=True)
class DependentRow:
    """An item that depends on one to be deleted: deleted with it, or only unlinked."""

    key: str
    type: StrategyItemType
    title: str
    deleted: bool


@dataclass(frozen=True, slots=True)
class StrategyState:
    """Everything the editor shows, read at once."""

    mission: str
    items: tuple[EditorItem, ...]  # the outline's order: funnel order, then position
    policy: tuple[PolicyRow, ...]
    missing: tuple[GapSection, ...]
    problems: tuple[ProblemRow, ...]
    names: EditorNames
    today: date
    by_key: dict[str, EditorItem] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.by_key.update((i.key, i) for i in self.items)

    def item(self, key: str) -> EditorItem | None:
        return self.by_key.get(key)


class StrategySource(Protocol):
    """What the editor asks of a strategy, wherever it lives. Every call may block.

    Raises (every method that changes something):
        Refused: in words: not allowed, not a whole item for the funnel, no such item.
    """

    @property
    def has_served(self) -> bool:
        """Whether posts, replies and conversations can be shown per social goal."""

    @property
    def has_units(self) -> bool:
        """Whether the source knows every unit (so which lack department goals)."""

    @property
    def writes_through(self) -> bool:
        """Whether a change is stored as it is made (a file waits for Save)."""

    def load(self) -> StrategyState: ...

    def create(
        self,
        kind: str,
        fields: EditFields,
        parents: Sequence[str],
        position: int | None = None,
    ) -> str: ...

    def update(self, key: str, fields: EditFields, parents: Sequence[str]) -> None: ...

    def move(self, key: str, position: int) -> None: ...

    def dependents(self, key: str) -> tuple[DependentRow, ...]: ...

    def delete(self, key: str) -> None:
        """Delete the item and what cannot exist without it (the caller has asked)."""

    def set_mission(self, text: str) -> None: ...

    def add_policy_line(self, line: PolicyEdit) -> str: ...

    def edit_policy_line(self, key: str, line: PolicyEdit) -> None: ...

    def delete_policy_line(self, key: str) -> None: ...

    def served(self, key: str) -> GoalServed: ...

    def served_drafts(
        self, key: str, after: tuple[datetime, int] | None = None
    ) -> list[ServedDraftRow]: ...

    def served_conversations(
        self, key: str, after: tuple[datetime, int] | None = None
    ) -> list[TaggedConversationRow]: ...


def sentence(text: str) -> str:
    """A message as a sentence: a capital first letter and a full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


# -- the workspace ---------------------------------------------------------------------------


def _number(value: str | None, what: str) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise Refused(f"Choose the {what} from the list ({value!r} is not one of them).") from None


def _key(key: str) -> int:
    try:
        return int(key)
    except ValueError:
        raise Refused(f"There is no strategy item {key} in this workspace.") from None


class WorkspaceSource:
    """The workspace's strategy, edited as ``operator_id`` through ``services.strategy``."""

    has_served = True
    has_units = True
    writes_through = True

    def __init__(self, services: Services, operator_id: int) -> None:
        self._services = services
        self.operator_id = operator_id  # the GUI sets it when the operator switches

    def act_as(self, operator_id: int) -> None:
        self.operator_id = operator_id

    # -- reads ------------------------------------------------------------------------------

    def load(self) -> StrategyState:
        me = self.operator_id
        strategy = self._services.strategy
        today = datetime.now(UTC).date()
        with refusals():
            outline = strategy.outline(me)
            missing = strategy.missing(me, today)
            lines = strategy.policy_lines(me)
        names = self.names()
        units = {c.value: c.label for c in names.units}
        accounts = {c.value: c.label for c in names.accounts}
        return StrategyState(
            mission=outline.mission,
            items=tuple(_editor_item(o.item, o.parents, o.children) for o in outline.items),
            policy=tuple(_policy_row(line, units, accounts) for line in lines),
            missing=_sections(missing),
            problems=(),
            names=names,
            today=today,
        )

    def names(self) -> EditorNames:
        """Units (as paths, in tree order), the people who may own an item, the accounts."""
        with refusals():
            known = self._services.strategy_files.names(self.operator_id)
        units = self._services.inbox.units()
        people = self._services.directory.people()
        return EditorNames(
            units=tuple(Choice(str(u.id), known.path(u.id) or u.name) for u in units),
            people=tuple(Choice(str(p.id), f"{p.name} <{p.email}>") for p in people),
            accounts=tuple(
                Choice(str(i), f"@{handle} ({network})")
                for i, (network, handle) in known.accounts.items()
            ),
        )

    def file_hints(self) -> EditorNames:
        """The names as a file writes them (paths, e-mails, handles), to complete typing with.

        A file window opened from this workspace offers them.
        """
        with refusals():
            known = self._services.strategy_files.names(self.operator_id)
        people = self._services.directory.people()
        return EditorNames(
            units=tuple(Choice(p, p) for p in sorted(known.unit_paths.values(), key=str.casefold)),
            people=tuple(Choice(p.email, f"{p.name} <{p.email}>") for p in people),
            accounts=tuple(
                Choice(handle, f"@{handle}") for _network, handle in known.accounts.values()
            ),
            free_text=True,
        )

    def served(self, key: str) -> GoalServed:
        with refusals():
            return self._services.strategy.goal_served(self.operator_id, _key(key))

    def served_drafts(
        self, key: str, after: tuple[datetime, int] | None = None
    ) -> list[ServedDraftRow]:
        with refusals():
            return self._services.strategy.goal_drafts(
                self.operator_id, _key(key), after=after, limit=PAGE
            )

    def served_conversations(
        self, key: str, after: tuple[datetime, int] | None = None
    ) -> list[TaggedConversationRow]:
        with refusals():
            return self._services.strategy.goal_conversations(
                self.operator_id, _key(key), after=after, limit=PAGE
            )

    def dependents(self, key: str) -> tuple[DependentRow, ...]:
        with refusals():
            found = self._services.strategy.dependents(self.operator_id, _key(key))
        return tuple(DependentRow(str(d.id), d.type, d.title, d.deleted) for d in found)

    # -- changes ----------------------------------------------------------------------------

    def create(
        self,
        kind: str,
        fields: EditFields,
        parents: Sequence[str],
        position: int | None = None,
    ) -> str:
        with refusals():
            new = self._services.strategy.create(
                self.operator_id,
                kind,
                _item_fields(fields),
                parents=[_key(p) for p in parents],
                position=position,
            )
        return str(new)

    def update(self, key: str, fields: EditFields, parents: Sequence[str]) -> None:
        """The item's fields, then its parents (the service changes neither if it is the same)."""
        strategy, me, item_id = self._services.strategy, self.operator_id, _key(key)
        with refusals():
            strategy.edit(me, item_id, _item_fields(fields))
            strategy.set_parents(me, item_id, sorted(_key(p) for p in set(parents)))

    def move(self, key: str, position: int) -> None:
        with refusals():
            self._services.strategy.move(self.operator_id, _key(key), position)

    def delete(self, key: str) -> None:
        with refusals():
            self._services.strategy.delete(self.operator_id, _key(key), with_dependents=True)

    def set_mission(self, text: str) -> None:
        with refusals():
            self._services.strategy.set_mission(self.operator_id, text)

    def add_policy_line(self, line: PolicyEdit) -> str:
        with refusals():
            added = self._services.strategy.add_policy_line(
                self.operator_id,
                line.kind,
                line.value,
                network=line.network or None,
                unit_id=_number(line.unit, "unit"),
                account_id=_number(line.account, "account"),
                note=line.note,
            )
        return str(added.id)

    def edit_policy_line(self, key: str, line: PolicyEdit) -> None:
        with refusals():
            self._services.strategy.edit_policy_line(
                self.operator_id,
                _key(key),
                kind=line.kind,
                value=line.value,
                network=line.network or None,
                unit_id=_number(line.unit, "unit"),
                account_id=_number(line.account, "account"),
                note=line.note,
            )

    def delete_policy_line(self, key: str) -> None:
        with refusals():
            self._services.strategy.delete_policy_line(self.operator_id, _key(key))


def _item_fields(fields: EditFields) -> ItemFields:
    return ItemFields(
        title=fields.title,
        body=fields.body,
        unit_id=_number(fields.unit, "unit"),
        owner_id=_number(fields.owner, "owner"),
        kpi=fields.kpi,
        kpi_target=fields.kpi_target,
        kpi_unit=fields.kpi_unit,
        baseline=fields.baseline,
        deadline=fields.deadline,
        channel=fields.channel,
        cadence=fields.cadence,
        horizon=fields.horizon or None,
    )


def _editor_item(
    record: ItemRecord, parents: tuple[int, ...], children: tuple[int, ...]
) -> EditorItem:
    f = record.fields
    return EditorItem(
        key=str(record.id),
        type=record.type,
        fields=EditFields(
            title=f.title,
            body=f.body,
            unit=None if f.unit_id is None else str(f.unit_id),
            owner=None if f.owner_id is None else str(f.owner_id),
            kpi=f.kpi,
            kpi_target=f.kpi_target,
            kpi_unit=f.kpi_unit,
            baseline=f.baseline,
            deadline=f.deadline,
            channel=f.channel,
            cadence=f.cadence,
            horizon=f.horizon,
        ),
        unit_label=record.unit_name or "",
        owner_label=record.owner_name or "",
        parents=tuple(str(p) for p in sorted(parents)),
        children=tuple(str(c) for c in children),
        position=record.position,
        created=record.created_at.date(),
        horizon_end=horizon_end(record.created_at, f.horizon),
    )


def _policy_row(
    line: PolicyLineRecord, units: dict[str, str], accounts: dict[str, str]
) -> PolicyRow:
    unit = None if line.unit_id is None else str(line.unit_id)
    account = None if line.account_id is None else str(line.account_id)
    return PolicyRow(
        key=str(line.id),
        uuid=line.uuid,
        line=PolicyEdit(line.kind, line.value, line.network, unit, account, line.note),
        unit_label="" if unit is None else units.get(unit, f"unit {unit}"),
        account_label="" if account is None else accounts.get(account, f"account {account}"),
    )


def _sections(missing: Missing) -> tuple[GapSection, ...]:
    lists = {
        "units": missing.units_without_goals,
        "goals": missing.goals_without_social_goals,
        "kpi": missing.social_goals_without_kpi,
        "tactic": missing.social_goals_without_tactic,
        "horizon": missing.tactics_past_horizon,
    }
    return tuple(
        GapSection(
            key,
            name,
            tuple(GapEntry(str(g.id), g.title, is_unit=key == "units") for g in lists[key]),
        )
        for key, name in GAP_SECTIONS.items()
    )
