"""Business time and first-response clocks: pure arithmetic on ``zoneinfo``.

A unit's first-response target is a number of *business* hours: time during the opening spans of
the weekly schedule (``app.domain.hours``), in the organization's time zone, outside its holidays
(ISO dates, closed all day). Business time is real elapsed time: an hour of it is sixty minutes
on the clock, also on the days the clocks change.

How the local schedule meets the time line:

- each span ``["HH:MM", "HH:MM"]`` of a local date becomes the real interval from its start to its
  end (``24:00`` is the next day's midnight); spans never cross midnight (``check_schedule``);
- a wall time the clocks skip (02:30 on the last Sunday of March in Berlin) means the instant the
  clocks jump, so a span inside the skipped hour is empty and one across it is an hour shorter;
- a wall time that happens twice (02:30 on the last Sunday of October in Berlin) means its first
  occurrence, so a span across the repeated hour is an hour longer (a 24-hour day counts 25);
- a holiday closes its whole local date.

Whole weeks are skipped arithmetically when no holiday falls in them and the clocks do not change
(the zone's offset is the same at both ends), so a 720-hour target takes tens of microseconds.

``add_business_time`` raises :class:`NoOpenHoursError` for a schedule without any open time: such
a unit has no due time, and a caller that wants "no clock" says so by catching it (or by not
setting a target) rather than receiving a silent ``None``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from app.domain.hours import WEEKDAYS, HoursError, check_schedule, check_time_zone, minutes

_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)
_ZERO = timedelta(0)
# ``add_business_time`` gives up this far after the start (holidays are a finite list, so only a
# list closing every open day for centuries gets here).
_HORIZON_DAYS = 366 * 50


class NoOpenHoursError(HoursError):
    """The business hours have no open time at all, so business time never passes."""


def _check_aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (with a time zone), not {value!r}.")
    return value.astimezone(UTC)


def _holiday(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise HoursError(
            f"“{value}” is not a holiday date: write it as YYYY-MM-DD, e.g. 2026-12-25."
        ) from exc


@dataclass(frozen=True)
class BusinessCalendar:
    """A checked schedule, zone and holiday list, ready for many computations.

    Build it once per organization or unit with :meth:`of`; the module-level functions build one
    per call.
    """

    zone: ZoneInfo
    spans: tuple[tuple[tuple[int, int], ...], ...]  # per weekday (Monday = 0), minutes of the day
    holidays: tuple[date, ...]  # sorted, distinct
    week: timedelta  # nominal open time of a week without holidays or clock changes

    @classmethod
    def of(
        cls,
        schedule: Mapping[str, Any],
        tz: str | ZoneInfo,
        holidays: Iterable[date | str] = (),
    ) -> BusinessCalendar:
        """The calendar of a stored schedule, a zone (name or ``ZoneInfo``) and ISO holidays.

        Raises:
            HoursError: the schedule, the zone or a holiday is not usable.
        """
        checked = check_schedule(schedule)
        zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(check_time_zone(tz))
        spans = tuple(tuple((minutes(s), minutes(e)) for s, e in checked[day]) for day in WEEKDAYS)
        week = timedelta(minutes=sum(e - s for day in spans for s, e in day))
        return cls(zone, spans, tuple(sorted({_holiday(h) for h in holidays})), week)

    # -- the local schedule on the time line ---------------------------------------------------

    def _instant(self, day: date, minute: int) -> datetime:
        """The UTC instant of local ``minute`` (0 … 1440) on ``day``, as the module doc says."""
        if minute >= 1440:
            day, minute = day + _DAY, minute - 1440
        naive = datetime(day.year, day.month, day.day, minute // 60, minute % 60)
        first = naive.replace(tzinfo=self.zone)
        before = first.utcoffset()
        after = naive.replace(tzinfo=self.zone, fold=1).utcoffset()
        assert before is not None
        assert after is not None
        if after <= before:  # an ordinary time, or a repeated one (its first occurrence)
            return (naive - before).replace(tzinfo=UTC)
        # Skipped by the clocks: the jump lies between the two readings; find it to the second.
        lo = int((naive - after).replace(tzinfo=UTC).timestamp())  # before the jump
        hi = int((naive - before).replace(tzinfo=UTC).timestamp())  # at or after the jump
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if datetime.fromtimestamp(mid, UTC).astimezone(self.zone).utcoffset() == after:
                hi = mid
            else:
                lo = mid
        return datetime.fromtimestamp(hi, UTC)

    def _is_holiday(self, day: date) -> bool:
        i = bisect.bisect_left(self.holidays, day)
        return i < len(self.holidays) and self.holidays[i] == day

    def _day(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open intervals of a local date, in UTC, in order (empty on holidays)."""
        spans = self.spans[day.weekday()]
        if not spans or self._is_holiday(day):
            return []
        out = []
        for s, e in spans:
            a, b = self._instant(day, s), self._instant(day, e)
            if b > a:
                out.append((a, b))
        return out

    def _plain_week(self, day: date, midnight: datetime) -> datetime | None:
        """Next week's first midnight if ``day`` … ``day + 6`` hold exactly ``week``, else None.

        A week is plain when no holiday falls in it and the clocks do not change in it (its
        midnights are seven times 24 hours apart).
        """
        end = day + _WEEK
        i = bisect.bisect_left(self.holidays, day)
        if i < len(self.holidays) and self.holidays[i] < end:
            return None
        nxt = self._instant(end, 0)
        return nxt if nxt - midnight == _WEEK else None

    def local_date(self, at: datetime) -> date:
        """The date in the organization's time zone at instant ``at``."""
        return at.astimezone(self.zone).date()

    # -- the computations -------------------------------------------------------------------

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from ``start`` to ``end`` (aware datetimes; zero if ``end <= start``)."""
        start, end = _check_aware(start, "start"), _check_aware(end, "end")
        if end <= start:
            return _ZERO
        total = _ZERO
        day, last = self.local_date(start), self.local_date(end)
        while day <= last:
            for a, b in self._day(day):
                overlap = min(b, end) - max(a, start)
                if overlap > _ZERO:
                    total += overlap
            day += _DAY
            if self.week and day + _WEEK <= last:
                midnight = self._instant(day, 0)
                while day + _WEEK <= last:
                    nxt = self._plain_week(day, midnight)
                    if nxt is None or nxt > end:
                        break
                    total += self.week
                    day, midnight = day + _WEEK, nxt
        return total

    def business_minutes_between(self, start: datetime, end: datetime) -> float:
        """Business minutes from ``start`` to ``end`` (0 if ``end <= start``)."""
        return self.business_time_between(start, end).total_seconds() / 60

    def add_business_time(self, start: datetime, hours: float) -> datetime:
        """The instant ``hours`` of business time after ``start``, in ``start``'s time zone.

        Starting outside the hours counts from the next opening; zero hours is ``start`` itself.
        When the time runs out exactly at a closing, the due time is that closing.

        Raises:
            ValueError: ``hours`` is negative or not a number, or ``start`` is naive.
            NoOpenHoursError: the schedule has no open time, or the holidays close every open
                day for fifty years.
        """
        if not (math.isfinite(hours) and hours >= 0):
            raise ValueError(
                f"A business time is a finite number of hours, zero or more, not {hours!r}."
            )
        tzinfo = start.tzinfo
        origin = _check_aware(start, "start")
        remaining = timedelta(hours=hours)
        if remaining == _ZERO:
            return start
        if self.week == _ZERO:
            raise NoOpenHoursError(
                "The business hours have no open time, so a business-hours target never falls due."
            )
        day = first = self.local_date(origin)
        horizon = first + timedelta(days=_HORIZON_DAYS)
        while day <= horizon:
            for a, b in self._day(day):
                a = max(a, origin)
                if b <= a:
                    continue
                if remaining <= b - a:
                    return (a + remaining).astimezone(tzinfo)
                remaining -= b - a
            day += _DAY
            if remaining > self.week:
                midnight = self._instant(day, 0)
                while remaining > self.week:
                    nxt = self._plain_week(day, midnight)
                    if nxt is None:
                        break
                    remaining -= self.week
                    day, midnight = day + _WEEK, nxt
        raise NoOpenHoursError(
            "The holidays close every open day for fifty years: the target never falls due."
        )

    def due_at(
        self, first_inbound_at: datetime | None, target_hours: float | None
    ) -> datetime | None:
        """The first-response due time, or None without an inbound message or without a target.

        A conversation our own account started has no ``first_inbound_at`` until someone else
        writes in it, so it has no due time until then.
        """
        if first_inbound_at is None or target_hours is None:
            return None
        return self.add_business_time(first_inbound_at, target_hours)


def business_minutes_between(
    start: datetime,
    end: datetime,
    schedule: Mapping[str, Any],
    tz: str | ZoneInfo,
    holidays: Iterable[date | str] = (),
) -> float:
    """Business minutes from ``start`` to ``end`` (aware datetimes; 0 if ``end <= start``).

    Raises:
        HoursError: the schedule, the zone or a holiday is not usable.
        ValueError: a naive datetime.
    """
    return BusinessCalendar.of(schedule, tz, holidays).business_minutes_between(start, end)


def add_business_time(
    start: datetime,
    hours: float,
    schedule: Mapping[str, Any],
    tz: str | ZoneInfo,
    holidays: Iterable[date | str] = (),
) -> datetime:
    """The due time: the instant when ``hours`` of business time have passed after ``start``.

    See :meth:`BusinessCalendar.add_business_time`.

    Raises:
        HoursError: the schedule, the zone or a holiday is not usable.
        NoOpenHoursError: the schedule has no open time at all.
        ValueError: negative hours or a naive datetime.
    """
    return BusinessCalendar.of(schedule, tz, holidays).add_business_time(start, hours)


class SlaState(StrEnum):
    """Where a conversation's first response stands against its target."""

    NONE = "none"  # nothing to answer (no message from someone else yet) or no target
    MET = "met"  # answered by the due time
    BREACHED = "breached"  # answered, after the due time
    DUE_IN = "due_in"  # not answered yet, still in time
    OVERDUE = "overdue"  # not answered yet, past the due time


class SlaClock(NamedTuple):
    """A state and its minutes, real minutes on the clock, never negative.

    The minutes are those left (``due_in``), over (``overdue``), to spare (``met``) or late
    (``breached``); 0 for ``none``.
    """

    state: SlaState
    minutes: float


def sla_state(
    first_inbound_at: datetime | None,
    first_response_at: datetime | None,
    due_at: datetime | None,
    now: datetime,
) -> SlaClock:
    """The first-response clock of one conversation at ``now``.

    ``first_inbound_at`` is None while only our own account has written (a Page's post waiting
    for comments): nothing needs an answer, the state is ``none``. ``due_at`` is None without a
    target: ``none`` too. A response is counted only from ``first_inbound_at`` on; an earlier
    one (our own opening post) is no answer. At exactly the due time, an answer is in time and an
    unanswered conversation is ``due_in`` with 0 minutes.
    """
    if first_inbound_at is None or due_at is None:
        return SlaClock(SlaState.NONE, 0.0)
    due = _check_aware(due_at, "due_at")
    if first_response_at is not None and first_response_at >= first_inbound_at:
        answered = _check_aware(first_response_at, "first_response_at")
        if answered <= due:
            return SlaClock(SlaState.MET, (due - answered).total_seconds() / 60)
        return SlaClock(SlaState.BREACHED, (answered - due).total_seconds() / 60)
    at = _check_aware(now, "now")
    if at <= due:
        return SlaClock(SlaState.DUE_IN, (due - at).total_seconds() / 60)
    return SlaClock(SlaState.OVERDUE, (at - due).total_seconds() / 60)
