"""``compute_deadlines``: the pure function every ticket deadline comes from."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.sla.calendar import BusinessCalendar, BusinessHours
from gateway.sla.durations import SlaDuration, parse_sla_duration
from gateway.sla.plans import Deadlines, SlaPlan, compute_deadlines, plan_from
from tests.sla.strategies import business_hours, instants

ZONES = st.sampled_from(
    [
        ZoneInfo(name)
        for name in (
            "UTC",
            "Asia/Tokyo",
            "America/Los_Angeles",
            "Europe/Berlin",
            "Australia/Sydney",
        )
    ]
)
HOLIDAYS = st.frozensets(
    st.dates(min_value=date(2012, 1, 1), max_value=date(2036, 6, 30)), max_size=30
)
PAUSES = st.lists(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=5)), max_size=4)
TARGETS = st.builds(
    SlaDuration,
    st.integers(0, 10),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=40)).map(
        lambda t: timedelta(minutes=t // timedelta(minutes=1))
    ),
)


def test_deadlines_of_a_berlin_office_policy() -> None:
    plan = plan_from("Mon-Fri 09:00-17:00", "Europe/Berlin", "4h", "2d", frozenset())
    friday = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # 16:00 in Berlin
    assert compute_deadlines(friday, plan) == Deadlines(
        datetime(2026, 3, 9, 11, 0, tzinfo=UTC), datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    )
    # Three business hours paused: both move out by them, on the business clock.
    paused = compute_deadlines(friday, plan, timedelta(hours=3), timedelta(hours=5))
    assert paused == Deadlines(
        datetime(2026, 3, 9, 14, 0, tzinfo=UTC), datetime(2026, 3, 11, 12, 0, tzinfo=UTC)
    )


def test_plans_are_built_once_per_policy_text_and_holidays() -> None:
    first = plan_from("Mon-Fri 09:00-17:00", "Asia/Tokyo", "1h", "1d", frozenset())
    assert plan_from("Mon-Fri 09:00-17:00", "Asia/Tokyo", "1h", "1d", frozenset()) is first
    christmas = frozenset({date(2026, 12, 25)})
    other = plan_from("Mon-Fri 09:00-17:00", "Asia/Tokyo", "1h", "1d", christmas)
    assert other is not first
    assert other.calendar.holidays == christmas
    assert other.first_response == parse_sla_duration("1h")


@settings(deadline=None)
@given(instants(), TARGETS, TARGETS, PAUSES, business_hours(), ZONES, HOLIDAYS)
def test_pausing_step_by_step_equals_computing_from_creation(
    created: datetime,
    first: SlaDuration,
    resolution: SlaDuration,
    pauses: list[timedelta],
    hours: BusinessHours,
    tz: ZoneInfo,
    holidays: frozenset[date],
) -> None:
    """A ticket's deadline pushed out pause by pause is the one computed from creation."""
    plan = SlaPlan(BusinessCalendar(hours, tz, holidays), first, resolution)
    due = compute_deadlines(created, plan).resolution
    for pause in pauses:
        due = plan.calendar.add(due, pause)
    total = sum(pauses, timedelta(0))
    assert compute_deadlines(created, plan, total, total) == Deadlines(
        plan.calendar.add(compute_deadlines(created, plan).first_response, total), due
    )
    assert due >= created


@settings(deadline=None)
@given(
    instants(), st.timedeltas(timedelta(0), timedelta(days=30)), business_hours(), ZONES, HOLIDAYS
)
def test_measuring_what_was_added_gives_the_amount_with_holidays(
    start: datetime,
    amount: timedelta,
    hours: BusinessHours,
    tz: ZoneInfo,
    holidays: frozenset[date],
) -> None:
    calendar = BusinessCalendar(hours, tz, holidays)
    deadline = calendar.add(start, amount)
    assert calendar.between(start, deadline) == amount
    # Holidays only ever make a deadline later.
    assert deadline >= BusinessCalendar(hours, tz).add(start, amount)


@settings(deadline=None)
@given(instants(), business_hours(), ZONES)
def test_a_holiday_is_never_on_the_clock(
    start: datetime, hours: BusinessHours, tz: ZoneInfo
) -> None:
    """Whole local days made holidays have no business time, except under 24x7."""
    days = {start.astimezone(tz).date() + timedelta(days=n) for n in range(-1, 3)}
    calendar = BusinessCalendar(hours, tz, days)
    for day in days:
        midnight = datetime.combine(day, datetime.min.time(), tzinfo=tz)
        next_midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
        elapsed = calendar.between(midnight, next_midnight)
        if hours.is_24x7:
            assert elapsed == next_midnight.astimezone(UTC) - midnight.astimezone(UTC)
        else:
            assert elapsed == timedelta(0)
