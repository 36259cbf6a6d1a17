"""The first-run set-up: the suggested unit tree and the checks on what a person entered.

A new workspace gets an organization, its first administrator and its first units in one go.
:func:`plan_setup` turns what was entered (:class:`OrganizationSetup`) into a checked
:class:`SetupPlan` or refuses it with a :class:`SetupError` that says what to fix; storing the
plan is the organization service's job.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.domain.enums import UnitKind
from app.domain.hours import HoursError, Schedule, check_schedule, check_time_zone, standard_week

#: The departments a new organization starts with (each renamable or removable before Finish).
SUGGESTED_UNITS: tuple[str, ...] = (
    "Customer Care",
    "Marketing",
    "Public Relations",
    "Sales & E-commerce",
    "Legal & Compliance",
)
#: The queue that takes every conversation no rule claims; always there, never deleted.
TRIAGE = "Triage"
TRIAGE_COLOUR = "#757575"
COMPANY_COLOUR = "#37474f"
#: Colours given to the first units in turn (the unit editor can change them).
UNIT_COLOURS: tuple[str, ...] = (
    "#1e88e5",
    "#8e24aa",
    "#f4511e",
    "#43a047",
    "#6d4c41",
    "#00897b",
    "#c0ca33",
    "#d81b60",
    "#3949ab",
    "#fb8c00",
)
MAX_NAME = 200  # the width of the name columns
MAX_EMAIL = 320
MAX_UNITS = 100  # a first tree; more are added in Settings > Units
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


class SetupError(ValueError):
    """What a person entered cannot be set up; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class OrganizationSetup:
    """What the assistant (or ``quiver init``) collected."""

    name: str
    admin_name: str
    admin_email: str
    mission: str = ""
    time_zone: str = "UTC"
    business_hours: Mapping[str, Any] = field(default_factory=standard_week)
    units: Sequence[str] = SUGGESTED_UNITS  # the departments below the company, besides Triage


@dataclass(frozen=True, slots=True)
class PlannedUnit:
    name: str
    kind: UnitKind
    colour: str
    is_triage: bool
    sort_order: int


@dataclass(frozen=True, slots=True)
class SetupPlan:
    """A checked set-up: the company unit is named after the organization, Triage is last."""

    name: str
    mission: str
    time_zone: str
    business_hours: Schedule
    admin_name: str
    admin_email: str
    root: PlannedUnit
    children: tuple[PlannedUnit, ...]


@dataclass(frozen=True, slots=True)
class OrganizationRow:
    """The organization as screens and commands show it."""

    id: int
    name: str
    mission: str
    executive_sponsor_id: int | None
    executive_sponsor_name: str | None
    time_zone: str
    business_hours: Schedule
    holidays: tuple[str, ...]
    spam_threshold: float = 0.6  # app.domain.spam: at or above it a conversation is spam
    spam_keywords: tuple[str, ...] = ()


def clean_name(value: str, what: str) -> str:
    """``value`` with outer and repeated spaces removed, checked as the name of ``what``.

    Raises:
        SetupError: empty, too long, with control characters, or with a "/" (which separates
            units in paths such as ``Acme/Customer Care``).
    """
    text = " ".join(str(value).split())
    if not text:
        raise SetupError(f"Enter the {what}: it cannot be empty.")
    if len(text) > MAX_NAME:
        raise SetupError(f"The {what} is {len(text)} characters long; {MAX_NAME} at most.")
    if any(unicodedata.category(c).startswith("C") for c in text):
        raise SetupError(f"The {what} “{text}” contains invisible control characters.")
    if "/" in text:
        raise SetupError(
            f"The {what} “{text}” contains a “/”, which separates units in paths such as "
            "Acme/Customer Care: leave it out."
        )
    return text


def clean_email(value: str) -> str:
    """The email address, trimmed and checked (kept as written; compared without case).

    Raises:
        SetupError: not an address such as ``ada@example.org``.
    """
    text = str(value).strip()
    if not text:
        raise SetupError("Enter the administrator's email address.")
    if len(text) > MAX_EMAIL or not _EMAIL.match(text):
        raise SetupError(f"“{text}” is not an email address such as ada@example.org.")
    return text


def name_key(name: str) -> str:
    """How two unit names are compared: "customer  care" and "Customer Care" are the same."""
    return " ".join(name.split()).casefold()


def plan_setup(setup: OrganizationSetup) -> SetupPlan:
    """Check what was entered and lay out the organization, its administrator and units.

    Raises:
        SetupError: the first thing to fix, for a person to read.
    """
    name = clean_name(setup.name, "organization's name")
    admin_name = clean_name(setup.admin_name, "administrator's name")
    admin_email = clean_email(setup.admin_email)
    mission = str(setup.mission).strip()
    if len(mission) > 10_000:
        raise SetupError("The mission is longer than 10,000 characters: keep it to the point.")
    try:
        time_zone = check_time_zone(str(setup.time_zone).strip())
        hours = check_schedule(setup.business_hours)
    except HoursError as exc:
        raise SetupError(str(exc)) from exc
    if isinstance(setup.units, str):  # one name is not a list of names
        raise SetupError("Give the units as a list of names.")
    if len(setup.units) > MAX_UNITS:
        raise SetupError(f"Start with at most {MAX_UNITS} units; add more in Settings > Units.")
    seen: dict[str, str] = {name_key(TRIAGE): TRIAGE}
    children: list[PlannedUnit] = []
    for given in setup.units:
        unit = clean_name(given, "unit's name")
        key = name_key(unit)
        if key in seen:
            if seen[key] == TRIAGE:
                raise SetupError(
                    f"“{unit}”: Triage is always there (it takes what no rule claims); "
                    "leave it out of the list."
                )
            raise SetupError(f"Two units are called “{unit}”: give each its own name.")
        seen[key] = unit
        colour = UNIT_COLOURS[len(children) % len(UNIT_COLOURS)]
        children.append(PlannedUnit(unit, UnitKind.DEPARTMENT, colour, False, len(children)))
    children.append(PlannedUnit(TRIAGE, UnitKind.QUEUE, TRIAGE_COLOUR, True, len(children)))
    root = PlannedUnit(name, UnitKind.COMPANY, COMPANY_COLOUR, False, 0)
    return SetupPlan(
        name=name,
        mission=mission,
        time_zone=time_zone,
        business_hours=hours,
        admin_name=admin_name,
        admin_email=admin_email,
        root=root,
        children=tuple(children),
    )


def parse_unit_list(text: str) -> list[str]:
    """Unit names from a comma-separated list (``quiver init --units``), as written."""
    return [part for part in (p.strip() for p in text.split(",")) if part] if text.strip() else []
