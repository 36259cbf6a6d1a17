"""Business time and first-response clocks: DST, holidays, weekends, long targets, properties."""

from __future__ import annotations

import timeit
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.hours import WEEKDAYS, HoursError, standard_week
from app.domain.sla import (
    BusinessCalendar,
    NoOpenHoursError,
    SlaState,
    add_business_time,
    business_minutes_between,
    sla_state,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEK = standard_week()
ALL_DAY = {d: [["00:00", "24:00"]] for d in WEEKDAYS}
ZONES = ("Europe/Berlin", "America/New_York", "UTC", "Australia/Lord_Howe", "Asia/Kolkata")


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


# -- strategies ---------------------------------------------------------------------------------


@st.composite
def schedules(draw: st.DrawFn, *, whole_hours: bool = False) -> dict[str, list[list[str]]]:
    """Random weekly schedules: up to three spans a day, some days closed, 24-hour days too."""
    step = 60 if whole_hours else 15
    out: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        marks = sorted(set(draw(st.lists(st.integers(0, 1440 // step), max_size=6))))
        spans = [
            [
                f"{a * step // 60:02d}:{a * step % 60:02d}",
                f"{b * step // 60:02d}:{b * step % 60:02d}",
            ]
            for a, b in zip(marks[::2], marks[1::2], strict=False)
        ]
        out[day] = spans
    return out


def open_schedules(*, whole_hours: bool = False) -> st.SearchStrategy[dict[str, list[list[str]]]]:
    return schedules(whole_hours=whole_hours).filter(lambda s: any(s.values()))


instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
holiday_lists = st.lists(st.dates(date(2020, 1, 1), date(2031, 3, 1)), max_size=30)
# A month-long window around DST changes and a few holidays makes the interesting cases common.
near_dst = st.sampled_from(
    [
        datetime(2026, 3, 29, 1, tzinfo=UTC),
        datetime(2026, 10, 25, 1, tzinfo=UTC),
        datetime(2026, 3, 8, 7, tzinfo=UTC),
        datetime(2026, 11, 1, 6, tzinfo=UTC),
    ]
)


@st.composite
def starts(draw: st.DrawFn) -> datetime:
    if draw(st.booleans()):
        base = draw(near_dst)
        return base + timedelta(minutes=draw(st.integers(-10 * 1440, 10 * 1440)))
    return draw(instants)


def brute_force_minutes(
    start: datetime,
    end: datetime,
    schedule: dict[str, list[list[str]]],
    tz: str,
    holidays: set[date],
) -> float:
    """Open minutes counted cell by cell on the time line (half hours, aligned in UTC).

    With whole-hour spans, every opening and closing in these zones falls on a UTC half hour, so
    each cell is open or closed throughout: is its first instant's wall time inside a span?
    """
    zone = ZoneInfo(tz)
    cell = timedelta(minutes=30)
    t = start.replace(minute=(start.minute // 30) * 30, second=0, microsecond=0)
    total = timedelta(0)
    while t < end:
        local = t.astimezone(zone)
        minute = local.hour * 60 + local.minute
        spans = schedule[WEEKDAYS[local.weekday()]]
        if local.date() not in holidays and any(
            int(a[:2]) * 60 + int(a[3:]) <= minute < int(b[:2]) * 60 + int(b[3:]) for a, b in spans
        ):
            total += min(t + cell, end) - max(t, start)
        t += cell
    return total.total_seconds() / 60


# -- properties ---------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    open_schedules(),
    st.sampled_from(ZONES),
    holiday_lists,
    starts(),
    st.floats(min_value=0, max_value=720, allow_nan=False),
)
def test_the_due_time_is_exactly_the_target_in_business_time(
    schedule: dict, tz: str, holidays: list[date], start: datetime, hours: float
) -> None:
    due = add_business_time(start, hours, schedule, tz, holidays)
    assert due >= start
    assert business_minutes_between(start, due, schedule, tz, holidays) == pytest.approx(
        hours * 60, abs=1 / 60
    )
    if hours > 0:  # and not a moment later than needed: the last second before was short
        before = due - timedelta(seconds=1)
        assert business_minutes_between(start, before, schedule, tz, holidays) < hours * 60


@settings(max_examples=150, deadline=None)
@given(
    open_schedules(),
    st.sampled_from(ZONES),
    holiday_lists,
    starts(),
    st.floats(min_value=0, max_value=400),
    st.floats(min_value=0, max_value=400),
)
def test_the_due_time_grows_with_the_target(
    schedule: dict, tz: str, holidays: list[date], start: datetime, h1: float, h2: float
) -> None:
    cal = BusinessCalendar.of(schedule, tz, holidays)
    lo, hi = sorted((h1, h2))
    assert cal.add_business_time(start, lo) <= cal.add_business_time(start, hi)


@settings(max_examples=200, deadline=None)
@given(
    schedules(),
    st.sampled_from(ZONES),
    holiday_lists,
    starts(),
    st.integers(0, 60 * 24 * 200),
    st.integers(0, 60 * 24 * 200),
)
def test_business_time_adds_up_over_a_split_point(
    schedule: dict, tz: str, holidays: list[date], start: datetime, m1: int, m2: int
) -> None:
    cal = BusinessCalendar.of(schedule, tz, holidays)
    mid = start + timedelta(minutes=m1)
    end = mid + timedelta(minutes=m2)
    whole = cal.business_time_between(start, end)
    assert whole == cal.business_time_between(start, mid) + cal.business_time_between(mid, end)
    assert timedelta(0) <= whole <= end - start
    assert cal.business_time_between(end, start) == timedelta(0)


@settings(max_examples=150, deadline=None)
@given(
    schedules(whole_hours=True),
    st.sampled_from(("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC")),
    holiday_lists,
    starts(),
    st.integers(0, 60 * 24 * 21),
)
def test_only_open_time_is_counted(
    schedule: dict, tz: str, holidays: list[date], start: datetime, length: int
) -> None:
    end = start + timedelta(minutes=length)
    expected = brute_force_minutes(start, end, schedule, tz, set(holidays))
    got = business_minutes_between(start, end, schedule, tz, holidays)
    assert got == pytest.approx(expected, abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(
    schedules(whole_hours=True),
    st.sampled_from(("Europe/Berlin", "America/New_York")),
    st.lists(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=10),
    st.integers(0, 60 * 24 * 365),
)
def test_skipped_weeks_count_like_the_days_in_them(
    schedule: dict, tz: str, holidays: list[date], length: int
) -> None:
    start = datetime(2026, 1, 3, 10, tzinfo=UTC)
    end = start + timedelta(minutes=length)
    expected = brute_force_minutes(start, end, schedule, tz, set(holidays))
    assert business_minutes_between(start, end, schedule, tz, holidays) == pytest.approx(
        expected, abs=1e-6
    )


# -- examples -----------------------------------------------------------------------------------


def test_friday_afternoon_tickets_are_due_on_monday() -> None:
    due = add_business_time(berlin(2026, 3, 6, 16, 30), 2, WEEK, "Europe/Berlin")
    assert due == berlin(2026, 3, 9, 10, 30)
    assert due.tzinfo is BERLIN  # in the zone the start was given in


def test_across_the_spring_change_in_berlin() -> None:
    # Friday 27 March 2026, the clocks go forward on Sunday the 29th: still Monday 10:30 local.
    due = add_business_time(berlin(2026, 3, 27, 16, 30), 2, WEEK, "Europe/Berlin")
    assert due == berlin(2026, 3, 30, 10, 30)
    assert due.utcoffset() == timedelta(hours=2)
    # Real time passed is an hour less than the wall clock suggests.
    assert due.astimezone(UTC) - berlin(2026, 3, 27, 16, 30) == timedelta(days=2, hours=17)


def test_across_the_last_sunday_of_october_in_berlin() -> None:
    start = berlin(2026, 10, 23, 16, 30)  # CEST
    due = add_business_time(start, 2, WEEK, "Europe/Berlin")
    assert due == berlin(2026, 10, 26, 10, 30)  # CET
    assert due.utcoffset() == timedelta(hours=1)
    assert business_minutes_between(start, due, WEEK, "Europe/Berlin", ()) == 120


def test_round_the_clock_days_have_23_and_25_hours_when_the_clocks_change() -> None:
    cal = BusinessCalendar.of(ALL_DAY, "Europe/Berlin")
    assert cal.business_minutes_between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 23 * 60
    assert cal.business_minutes_between(berlin(2026, 10, 25), berlin(2026, 10, 26)) == 25 * 60
    ny = BusinessCalendar.of(ALL_DAY, "America/New_York")
    day = datetime(2026, 3, 8, tzinfo=NEW_YORK)
    assert ny.business_minutes_between(day, day.replace(day=9)) == 23 * 60
    fall = datetime(2026, 11, 1, tzinfo=NEW_YORK)
    assert ny.business_minutes_between(fall, fall.replace(day=2)) == 25 * 60


def test_spans_in_the_skipped_hour_are_empty_and_the_repeated_hour_counts_twice() -> None:
    night = {"sun": [["02:00", "02:30"], ["02:30", "04:00"]]}
    cal = BusinessCalendar.of(night, "Europe/Berlin")
    spring = berlin(2026, 3, 29)
    # 02:00-03:00 does not exist that night: only 03:00-04:00 CEST is open.
    assert cal.business_minutes_between(spring, spring + timedelta(days=1)) == 60
    autumn = berlin(2026, 10, 25)
    # 02:00-03:00 happens twice: from the first 02:00 to 04:00 CET is three hours.
    assert cal.business_minutes_between(autumn, autumn + timedelta(days=1)) == 180


def test_a_wall_time_the_clocks_skip_means_the_jump() -> None:
    spring = berlin(2026, 3, 29)  # 02:00 CET becomes 03:00 CEST
    cal = BusinessCalendar.of({"sun": [["02:30", "03:30"]]}, "Europe/Berlin")
    assert cal.business_minutes_between(spring, spring + timedelta(days=1)) == 30  # 03:00-03:30
    assert cal.add_business_time(spring, 0.25) == berlin(2026, 3, 29, 3, 15)
    cal = BusinessCalendar.of({"sun": [["01:30", "02:30"], ["02:45", "04:00"]]}, "Europe/Berlin")
    assert cal.business_minutes_between(spring, spring + timedelta(days=1)) == 30 + 60
    assert cal.add_business_time(spring, 0.75) == berlin(2026, 3, 29, 3, 15)


def test_new_york_across_both_changes() -> None:
    start = datetime(2026, 3, 6, 16, 30, tzinfo=NEW_YORK)  # Friday, EST
    assert add_business_time(start, 2, WEEK, "America/New_York") == datetime(
        2026, 3, 9, 10, 30, tzinfo=NEW_YORK
    )
    start = datetime(2026, 10, 30, 16, 0, tzinfo=NEW_YORK)  # Friday, EDT
    due = add_business_time(start, 10, WEEK, "America/New_York")
    assert due == datetime(2026, 11, 3, 10, 0, tzinfo=NEW_YORK)  # Tuesday, EST


def test_holidays_are_closed_all_day() -> None:
    holidays = ["2026-12-24", "2026-12-25", "2026-12-26", "2027-01-01"]
    start = berlin(2026, 12, 23, 16, 0)  # Wednesday
    due = add_business_time(start, 2, WEEK, "Europe/Berlin", holidays)
    assert due == berlin(2026, 12, 28, 10, 0)  # Thursday, Friday holidays; Monday
    assert business_minutes_between(start, due, WEEK, "Europe/Berlin", holidays) == 120
    # dates work as well as ISO strings
    assert add_business_time(start, 2, WEEK, "Europe/Berlin", [date(2026, 12, 24)]) == berlin(
        2026, 12, 25, 10, 0
    )


def test_starting_outside_the_hours_counts_from_the_next_opening() -> None:
    saturday = berlin(2026, 5, 16, 11, 0)
    assert add_business_time(saturday, 1, WEEK, "Europe/Berlin") == berlin(2026, 5, 18, 10, 0)
    early = berlin(2026, 5, 19, 6, 0)
    assert add_business_time(early, 8, WEEK, "Europe/Berlin") == berlin(2026, 5, 19, 17, 0)
    # a target that ends exactly at closing is due at closing, not at the next opening
    assert add_business_time(early, 16, WEEK, "Europe/Berlin") == berlin(2026, 5, 20, 17, 0)
    assert add_business_time(saturday, 0, WEEK, "Europe/Berlin") == saturday


def test_split_days_and_the_lunch_break() -> None:
    split = {**WEEK, "mon": [["08:00", "12:00"], ["13:00", "17:00"]]}
    due = add_business_time(berlin(2026, 5, 18, 11, 0), 2, split, "Europe/Berlin")
    assert due == berlin(2026, 5, 18, 14, 0)


def test_targets_longer_than_a_week() -> None:
    start = berlin(2026, 3, 2, 10, 0)  # a Monday, five 8-hour days a week
    assert add_business_time(start, 80, WEEK, "Europe/Berlin") == berlin(2026, 3, 16, 10, 0)
    # 720 hours = 18 weeks, across the March change
    due = add_business_time(start, 720, WEEK, "Europe/Berlin")
    assert due == berlin(2026, 7, 6, 10, 0)
    assert business_minutes_between(start, due, WEEK, "Europe/Berlin", ()) == 720 * 60
    # with a holiday inside, a day later
    assert add_business_time(start, 720, WEEK, "Europe/Berlin", ["2026-05-01"]) == berlin(
        2026, 7, 7, 10, 0
    )


def test_a_720_hour_target_takes_well_under_a_millisecond() -> None:
    cal = BusinessCalendar.of(WEEK, "Europe/Berlin", ["2026-05-01", "2026-12-25"])
    start = berlin(2026, 3, 2, 10, 0)
    best = min(timeit.repeat(lambda: cal.add_business_time(start, 720), number=20, repeat=5)) / 20
    assert best < 0.001
    best = min(
        timeit.repeat(
            lambda: add_business_time(start, 720, WEEK, "Europe/Berlin", ["2026-05-01"]),
            number=20,
            repeat=5,
        )
    )
    assert best / 20 < 0.001


def test_no_open_time_is_a_clear_error() -> None:
    closed: dict[str, list[list[str]]] = {d: [] for d in WEEKDAYS}
    with pytest.raises(NoOpenHoursError, match="no open time"):
        add_business_time(berlin(2026, 5, 18, 9), 2, closed, "Europe/Berlin")
    assert isinstance(NoOpenHoursError("x"), HoursError)
    assert business_minutes_between(berlin(2026, 5, 18), berlin(2026, 6, 18), closed, "UTC") == 0
    # zero hours needs no open time
    assert add_business_time(berlin(2026, 5, 18, 9), 0, closed, "UTC") == berlin(2026, 5, 18, 9)


def test_bad_input_is_refused() -> None:
    start = berlin(2026, 5, 18, 9)
    with pytest.raises(ValueError, match="zero or more"):
        add_business_time(start, -1, WEEK, "Europe/Berlin")
    with pytest.raises(ValueError, match="zero or more"):
        add_business_time(start, float("nan"), WEEK, "Europe/Berlin")
    with pytest.raises(ValueError, match="aware"):
        add_business_time(datetime(2026, 5, 18, 9), 1, WEEK, "Europe/Berlin")
    with pytest.raises(HoursError, match="holiday"):
        add_business_time(start, 1, WEEK, "Europe/Berlin", ["25.12.2026"])
    with pytest.raises(HoursError, match="time zone"):
        add_business_time(start, 1, WEEK, "Mars/Olympus")
    with pytest.raises(HoursError, match="ends before it starts"):
        add_business_time(start, 1, {"mon": [["17:00", "09:00"]]}, "Europe/Berlin")


def test_end_before_start_is_zero() -> None:
    a, b = berlin(2026, 5, 18, 10), berlin(2026, 5, 18, 12)
    assert business_minutes_between(b, a, WEEK, "Europe/Berlin") == 0
    assert business_minutes_between(a, a, WEEK, "Europe/Berlin") == 0
    assert business_minutes_between(a, b, WEEK, "Europe/Berlin") == 120


# -- the clock ----------------------------------------------------------------------------------

T0 = datetime(2026, 5, 18, 9, 0, tzinfo=UTC)
DUE = T0 + timedelta(hours=2)


def test_clock_states() -> None:
    h = timedelta(hours=1)
    assert sla_state(T0, None, DUE, T0 + h) == (SlaState.DUE_IN, 60)
    assert sla_state(T0, None, DUE, DUE) == (SlaState.DUE_IN, 0)
    assert sla_state(T0, None, DUE, DUE + h / 2) == (SlaState.OVERDUE, 30)
    assert sla_state(T0, T0 + h / 4, DUE, DUE + 5 * h) == (SlaState.MET, 105)
    assert sla_state(T0, DUE, DUE, DUE + h) == (SlaState.MET, 0)
    assert sla_state(T0, DUE + h, DUE, DUE + 5 * h) == (SlaState.BREACHED, 60)
    state, mins = sla_state(T0, None, DUE, T0)
    assert (state, mins) == ("due_in", 120)  # a StrEnum and a NamedTuple


def test_no_target_and_our_own_posts_need_no_answer() -> None:
    assert sla_state(T0, None, None, DUE).state is SlaState.NONE
    # a Page's post: only our account wrote, nobody else yet
    assert sla_state(None, None, None, DUE) == (SlaState.NONE, 0)
    assert sla_state(None, T0, DUE, DUE + timedelta(days=3)) == (SlaState.NONE, 0)
    cal = BusinessCalendar.of(WEEK, "Europe/Berlin")
    assert cal.due_at(None, 2) is None
    assert cal.due_at(T0, None) is None
    assert cal.due_at(T0, 2) == T0 + timedelta(hours=2)  # 11:00 Berlin on a Monday


def test_our_own_opening_post_is_not_an_answer() -> None:
    # we posted at T0 - 1 h; a customer commented at T0; nobody replied since
    assert sla_state(T0, T0 - timedelta(hours=1), DUE, DUE + timedelta(hours=1)).state == (
        SlaState.OVERDUE
    )


@given(
    instants,
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    st.one_of(st.none(), st.integers(0, 10_000)),
)
def test_clock_minutes_are_never_negative(
    t0: datetime, due_m: int, now_m: int, resp_m: int | None
) -> None:
    due = t0 + timedelta(minutes=due_m)
    now = t0 + timedelta(minutes=now_m)
    resp = None if resp_m is None else t0 + timedelta(minutes=resp_m)
    state, mins = sla_state(t0, resp, due, now)
    assert mins >= 0
    if resp is None:
        assert state is (SlaState.DUE_IN if now <= due else SlaState.OVERDUE)
    else:
        assert state is (SlaState.MET if resp <= due else SlaState.BREACHED)
