"""Business hours: a weekly schedule of opening spans, checked and read as plain data.

A schedule maps each weekday (``mon`` … ``sun``) to a list of ``["HH:MM", "HH:MM"]`` spans in
the organization's time zone; a day without spans is closed. It is stored as JSON on the
organization and, where a unit keeps other hours, on the unit.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")

Schedule = dict[str, list[list[str]]]


def standard_week() -> Schedule:
    """Monday to Friday, nine to five."""
    return {d: ([["09:00", "17:00"]] if d not in ("sat", "sun") else []) for d in WEEKDAYS}


class HoursError(ValueError):
    """A schedule or time zone a person gave is not usable; the message says why."""


def minutes(value: str) -> int:
    """Minutes after midnight of ``HH:MM`` (``24:00`` is the end of the day).

    Raises:
        HoursError: not a time of day.
    """
    if not isinstance(value, str) or not _TIME.match(value):
        raise HoursError(f"“{value}” is not a time of day: write it as HH:MM, e.g. 09:00.")
    hours, mins = value.split(":")
    return int(hours) * 60 + int(mins)


def check_schedule(schedule: Mapping[str, Any]) -> Schedule:
    """The schedule in its stored form, every span checked.

    Raises:
        HoursError: an unknown day, a span that ends before it starts, or spans that overlap.
    """
    unknown = set(schedule) - set(WEEKDAYS)
    if unknown:
        raise HoursError(f"Unknown day {sorted(unknown)[0]!r}: use {', '.join(WEEKDAYS)}.")
    out: Schedule = {}
    for day in WEEKDAYS:
        spans = schedule.get(day) or []
        if not isinstance(spans, list):
            raise HoursError(f"{WEEKDAY_NAMES[day]}: the opening hours must be a list of spans.")
        checked: list[tuple[int, int, list[str]]] = []
        for span in spans:
            if not isinstance(span, list | tuple) or len(span) != 2:
                raise HoursError(f"{WEEKDAY_NAMES[day]}: a span is a start and an end time.")
            start, end = minutes(span[0]), minutes(span[1])
            if end <= start:
                raise HoursError(
                    f"{WEEKDAY_NAMES[day]}: {span[0]} to {span[1]} ends before it starts."
                )
            checked.append((start, end, [str(span[0]), str(span[1])]))
        checked.sort()
        for (_s1, e1, a), (s2, _e2, b) in itertools.pairwise(checked):
            if s2 < e1:
                raise HoursError(
                    f"{WEEKDAY_NAMES[day]}: {a[0]} to {a[1]} and {b[0]} to {b[1]} overlap."
                )
        out[day] = [c[2] for c in checked]
    return out


def check_time_zone(name: str) -> str:
    """An IANA time zone name as given, if this computer knows it.

    Raises:
        HoursError: not a known zone.
    """
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise HoursError(
            f"“{name}” is not a time zone: use a name such as Europe/Berlin or America/New_York."
        ) from exc
    return name


def time_zones() -> list[str]:
    """Every zone name this computer knows, sorted (for a chooser)."""
    return sorted(available_timezones())
