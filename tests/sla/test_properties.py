"""Properties of the SLA clock over random schedules, zones, starts and amounts."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.sla.calendar import BusinessHours, add_business_time, business_time_between
from gateway.sla.durations import SlaDuration
from tests.sla.strategies import CLEAR_BOUNDARY, business_hours, instants

# Zones with DST at odd times too: half-hour shifts (Lord Howe), midnight changes
# (Sao Paulo until 2019, Havana), a southern-hemisphere summer, no DST at all.
ZONES = st.sampled_from(
    [
        ZoneInfo(name)
        for name in (
            "UTC",
            "Europe/Berlin",
            "America/New_York",
            "Australia/Lord_Howe",
            "America/Sao_Paulo",
            "America/Havana",
            "Asia/Kolkata",
        )
    ]
)
# Zones whose changes all fall inside 00:30-03:30, so CLEAR_BOUNDARY avoids them.
CLEAR_ZONES = st.sampled_from(
    [ZoneInfo(name) for name in ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe")]
)
AMOUNTS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40))


def is_open_at_wall_time(instant: datetime, hours: BusinessHours, tz: ZoneInfo) -> bool:
    """Oracle independent of the interval code: read the local wall clock."""
    local = instant.astimezone(tz)
    minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
    return any(start <= minute < end for start, end in hours.week[local.weekday()])


@given(instants(), AMOUNTS, business_hours(), ZONES)
def test_measuring_what_was_added_gives_the_amount(
    start: datetime, amount: timedelta, hours: BusinessHours, tz: ZoneInfo
) -> None:
    deadline = add_business_time(start, amount, hours, tz)
    assert business_time_between(start, deadline, hours, tz) == amount


@given(instants(), AMOUNTS, AMOUNTS, business_hours(), ZONES)
def test_more_time_never_gives_an_earlier_deadline(
    start: datetime, first: timedelta, second: timedelta, hours: BusinessHours, tz: ZoneInfo
) -> None:
    shorter, longer = sorted((first, second))
    assert add_business_time(start, shorter, hours, tz) <= add_business_time(
        start, longer, hours, tz
    )


@given(instants(), AMOUNTS, business_hours(CLEAR_BOUNDARY), CLEAR_ZONES)
def test_deadline_never_falls_inside_closed_hours(
    start: datetime, amount: timedelta, hours: BusinessHours, tz: ZoneInfo
) -> None:
    deadline = add_business_time(start, amount, hours, tz)
    if amount:
        # The deadline may be a closing time, so look at the moment just before it.
        assert is_open_at_wall_time(deadline - timedelta(microseconds=1), hours, tz)
    else:
        assert deadline == start


@settings(max_examples=40, deadline=None)
@given(
    instants().map(lambda t: t.replace(second=0, microsecond=0)),
    st.integers(min_value=0, max_value=6 * 24 * 60),
    business_hours(CLEAR_BOUNDARY),
    CLEAR_ZONES,
)
def test_elapsed_business_time_matches_minute_counting(
    start: datetime, minutes: int, hours: BusinessHours, tz: ZoneInfo
) -> None:
    # Slow but obviously right: count the open minutes one by one.
    counted = sum(
        is_open_at_wall_time(start + timedelta(minutes=m), hours, tz) for m in range(minutes)
    )
    end = start + timedelta(minutes=minutes)
    assert business_time_between(start, end, hours, tz) == timedelta(minutes=counted)


@given(instants(), instants(), business_hours(), ZONES)
def test_between_is_antisymmetric(
    a: datetime, b: datetime, hours: BusinessHours, tz: ZoneInfo
) -> None:
    assert business_time_between(a, b, hours, tz) == -business_time_between(b, a, hours, tz)


@given(instants(), st.integers(0, 30), AMOUNTS, business_hours(), ZONES)
def test_business_days_move_forward_and_then_add_time(
    start: datetime, days: int, time: timedelta, hours: BusinessHours, tz: ZoneInfo
) -> None:
    these = add_business_time(start, SlaDuration(days), hours, tz)
    assert add_business_time(start, SlaDuration(days + 1), hours, tz) > these
    combined = add_business_time(start, SlaDuration(days, time), hours, tz)
    assert combined == add_business_time(these, time, hours, tz)
    assert business_time_between(these, combined, hours, tz) == time


@given(instants(), st.integers(1, 30), business_hours(CLEAR_BOUNDARY), CLEAR_ZONES)
def test_business_days_land_in_open_hours(
    start: datetime, days: int, hours: BusinessHours, tz: ZoneInfo
) -> None:
    deadline = add_business_time(start, SlaDuration(days), hours, tz)
    assert is_open_at_wall_time(deadline, hours, tz) or is_open_at_wall_time(
        deadline - timedelta(microseconds=1), hours, tz
    )


@given(instants(), st.integers(0, 400), ZONES)
def test_24x7_days_keep_the_wall_clock_time(start: datetime, days: int, tz: ZoneInfo) -> None:
    deadline = add_business_time(start, SlaDuration(days), BusinessHours.always, tz)
    before, after = start.astimezone(tz), deadline.astimezone(tz)
    assert after.date() == before.date() + timedelta(days=days)
    # Equal unless that wall time does not exist on the target day (a DST gap).
    if after.time() != before.time():
        assert after.utcoffset() != (after - timedelta(hours=3)).utcoffset()
