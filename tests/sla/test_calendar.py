"""Deadlines a support lead would check by hand, including DST days and zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import gateway.sla.calendar as calendar
from gateway.sla.calendar import (
    BusinessHours,
    add_business_time,
    business_time_between,
    parse_hours,
)
from gateway.sla.durations import SlaDuration, parse_duration, parse_sla_duration

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
OFFICE = parse_hours("Mon-Fri 09:00-17:00")
LUNCH = parse_hours("Mon-Fri 09:00-12:30,13:30-17:00")
WITH_SATURDAY = parse_hours("Mon-Fri 09:00-17:00; Sat 10:00-14:00")
ALWAYS = BusinessHours.always


def berlin(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """A Berlin wall time in 2024 (March 4 is a Monday; March 31 is the DST day)."""
    return datetime(2024, month, day, hour, minute, tzinfo=BERLIN)


def due(
    start: datetime, amount: str, hours: BusinessHours = OFFICE, tz: ZoneInfo = BERLIN
) -> datetime:
    """The deadline for an SLA target written as on the CLI, on ``start``'s clock."""
    result = add_business_time(start, parse_sla_duration(amount), hours, tz)
    assert result.tzinfo is UTC
    return result.astimezone(start.tzinfo)


@pytest.mark.parametrize(
    ("opened", "amount", "expected"),
    [
        (berlin(8, 16, 30), "1h", berlin(11, 9, 30)),  # Friday late -> Monday morning
        (berlin(8, 16, 0), "1h", berlin(8, 17, 0)),  # uses the day up exactly: Friday close
        (berlin(8, 17, 0), "1m", berlin(11, 9, 1)),  # 17:00 sharp is already closed
        (berlin(9, 11, 0), "1h", berlin(11, 10, 0)),  # opened on Saturday
        (berlin(10, 23, 59), "4h", berlin(11, 13, 0)),  # opened Sunday night
        (berlin(4, 7, 15), "1h", berlin(4, 10, 0)),  # before opening time
        (berlin(4, 10, 0), "8h", berlin(5, 10, 0)),  # one full working day of hours
        (berlin(4, 10, 0), "24h", berlin(7, 10, 0)),  # 24 business hours = 3 working days
        (berlin(4, 10, 0), "0m", berlin(4, 10, 0)),
        (berlin(9, 11, 0), "0m", berlin(9, 11, 0)),  # zero stays put, even when closed
    ],
)
def test_office_hours(opened: datetime, amount: str, expected: datetime) -> None:
    assert due(opened, amount) == expected


@pytest.mark.parametrize(
    ("opened", "amount", "expected"),
    [
        (berlin(4, 12, 0), "1h", berlin(4, 14, 0)),  # lunch does not count
        (berlin(4, 12, 45), "30m", berlin(4, 14, 0)),  # opened during lunch
        (berlin(4, 12, 0), "30m", berlin(4, 12, 30)),  # due exactly at lunch
        (berlin(4, 16, 0), "2h", berlin(5, 10, 0)),
    ],
)
def test_lunch_break(opened: datetime, amount: str, expected: datetime) -> None:
    assert due(opened, amount, LUNCH) == expected


def test_saturday_hours() -> None:
    assert due(berlin(8, 16, 0), "2h", WITH_SATURDAY) == berlin(9, 11, 0)
    assert due(berlin(8, 16, 0), "6h", WITH_SATURDAY) == berlin(11, 10, 0)


@pytest.mark.parametrize(
    ("opened", "amount", "hours", "expected"),
    [
        (berlin(4, 10, 0), "2d", OFFICE, berlin(6, 10, 0)),  # Monday -> Wednesday
        (berlin(8, 16, 30), "1d", OFFICE, berlin(11, 16, 30)),  # Friday -> Monday
        (berlin(9, 11, 0), "1d", OFFICE, berlin(12, 9, 0)),  # Saturday ticket: Monday 09:00 + 1d
        (berlin(4, 7, 0), "1d", OFFICE, berlin(5, 9, 0)),
        (berlin(4, 17, 0), "1d", OFFICE, berlin(6, 9, 0)),  # after close belongs to Tuesday
        (berlin(4, 12, 45), "1d", LUNCH, berlin(5, 13, 30)),  # lunch: clock starts after it
        (berlin(8, 16, 0), "1d", WITH_SATURDAY, berlin(9, 14, 0)),  # short Saturday: its close
        (berlin(9, 11, 0), "1d", WITH_SATURDAY, berlin(11, 10, 0)),  # 1h into Sat -> 1h into Mon
        (berlin(4, 16, 0), "1d4h", OFFICE, berlin(6, 12, 0)),  # Tue 16:00, then 4 hours
        (berlin(4, 10, 0), "5d", OFFICE, berlin(11, 10, 0)),  # a working week
    ],
)
def test_days_are_business_days(
    opened: datetime, amount: str, hours: BusinessHours, expected: datetime
) -> None:
    assert due(opened, amount, hours) == expected


def test_24x7_is_plain_elapsed_time() -> None:
    opened = berlin(9, 23, 10)
    assert due(opened, "4h", ALWAYS) == opened + timedelta(hours=4)
    assert business_time_between(opened, opened + timedelta(days=3), ALWAYS, BERLIN) == timedelta(
        days=3
    )


def test_24x7_across_spring_forward() -> None:
    saturday_noon = berlin(30, 12)
    # 24 elapsed hours over the 23-hour day land at 13:00 local time...
    assert due(saturday_noon, "24h", ALWAYS) == berlin(31, 13)
    # ...while a day is a calendar day: same wall time tomorrow, 23 hours later.
    assert due(saturday_noon, "1d", ALWAYS) == berlin(31, 12)
    # (Subtract in UTC: Python subtracts wall times when both sides share a zone.)
    elapsed = due(saturday_noon, "1d", ALWAYS).astimezone(UTC) - saturday_noon.astimezone(UTC)
    assert elapsed == timedelta(hours=23)


def test_24x7_across_fall_back() -> None:
    saturday_noon = berlin(26, 12, month=10)
    assert due(saturday_noon, "24h", ALWAYS) == berlin(27, 11, month=10)
    elapsed = due(saturday_noon, "1d", ALWAYS).astimezone(UTC) - saturday_noon.astimezone(UTC)
    assert elapsed == timedelta(hours=25)


@pytest.mark.parametrize(
    ("tz", "day", "hours", "elapsed"),
    [
        # Berlin: 02:00 -> 03:00 on 31 March, 03:00 -> 02:00 on 27 October 2024.
        (BERLIN, datetime(2024, 3, 31), "Sun 00:00-06:00", timedelta(hours=5)),
        (BERLIN, datetime(2024, 10, 27), "Sun 00:00-06:00", timedelta(hours=7)),
        (BERLIN, datetime(2024, 3, 31), "Sun 01:00-03:00", timedelta(hours=1)),
        (BERLIN, datetime(2024, 3, 31), "Sun 02:00-03:00", timedelta(0)),  # never on the clock
        (BERLIN, datetime(2024, 3, 31), "Sun 02:30-04:00", timedelta(hours=1)),
        (BERLIN, datetime(2024, 3, 31), "Sun 01:00-02:30", timedelta(hours=1)),
        (BERLIN, datetime(2024, 10, 27), "Sun 02:00-04:00", timedelta(hours=3)),
        (BERLIN, datetime(2024, 3, 31), "24x7", timedelta(hours=23)),
        (BERLIN, datetime(2024, 10, 27), "24x7", timedelta(hours=25)),
        # New York: 02:00 -> 03:00 on 10 March, 02:00 -> 01:00 on 3 November 2024.
        (NEW_YORK, datetime(2024, 3, 10), "Sun 00:00-06:00", timedelta(hours=5)),
        (NEW_YORK, datetime(2024, 11, 3), "Sun 00:00-06:00", timedelta(hours=7)),
        (NEW_YORK, datetime(2024, 3, 10), "Sun 01:00-03:00", timedelta(hours=1)),
        (NEW_YORK, datetime(2024, 11, 3), "Sun 01:00-03:00", timedelta(hours=3)),
        (NEW_YORK, datetime(2024, 3, 10), "Sat-Sun 09:00-17:00", timedelta(hours=8)),
    ],
)
def test_dst_days_count_real_elapsed_hours(
    tz: ZoneInfo, day: datetime, hours: str, elapsed: timedelta
) -> None:
    midnight = day.replace(tzinfo=tz)
    next_midnight = (day + timedelta(days=1)).replace(tzinfo=tz)
    assert business_time_between(midnight, next_midnight, parse_hours(hours), tz) == elapsed


def test_dst_day_deadline_in_sunday_hours() -> None:
    # Sunday 00:00-06:00 in Berlin on spring-forward day: 4h from 00:30 runs to 05:30 local.
    night = parse_hours("Sun 00:00-06:00")
    assert due(berlin(31, 0, 30), "4h", night) == berlin(31, 5, 30)
    assert due(berlin(31, 0, 30), "5h", night) == datetime(2024, 4, 7, 0, 30, tzinfo=BERLIN)


def test_office_hours_follow_local_time_across_dst_weekend() -> None:
    # New York moves to EDT on Sunday 10 March 2024: Monday 12:00 is 16:00 UTC, not 17:00.
    friday = datetime(2024, 3, 8, 16, 0, tzinfo=NEW_YORK)
    deadline = add_business_time(friday, parse_duration("4h"), OFFICE, NEW_YORK)
    assert deadline == datetime(2024, 3, 11, 16, 0, tzinfo=UTC)
    assert business_time_between(friday, deadline, OFFICE, NEW_YORK) == timedelta(hours=4)


def test_same_instant_different_zones() -> None:
    opened = datetime(2024, 1, 8, 8, 0, tzinfo=UTC)  # Monday: 09:00 Berlin, 03:00 NY, 17:00 Tokyo
    one_hour = timedelta(hours=1)
    assert add_business_time(opened, one_hour, OFFICE, BERLIN) == datetime(
        2024, 1, 8, 9, tzinfo=UTC
    )
    assert add_business_time(opened, one_hour, OFFICE, NEW_YORK) == datetime(
        2024, 1, 8, 15, tzinfo=UTC
    )
    assert add_business_time(opened, one_hour, OFFICE, TOKYO) == datetime(2024, 1, 9, 1, tzinfo=UTC)


def test_business_time_between_for_pauses_and_progress() -> None:
    assert business_time_between(berlin(8, 16), berlin(11, 10), OFFICE, BERLIN) == timedelta(
        hours=2
    )
    # Waiting on the customer from Monday 10:00 to Wednesday 10:00 pauses 16 business hours.
    assert business_time_between(berlin(4, 10), berlin(6, 10), OFFICE, BERLIN) == timedelta(
        hours=16
    )
    assert business_time_between(berlin(9, 10), berlin(10, 20), OFFICE, BERLIN) == timedelta(0)
    assert business_time_between(berlin(11, 10), berlin(8, 16), OFFICE, BERLIN) == -timedelta(
        hours=2
    )
    assert business_time_between(berlin(4, 12), berlin(4, 14), LUNCH, BERLIN) == timedelta(hours=1)


def test_naive_datetimes_and_negative_amounts_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_time(datetime(2024, 3, 4, 10), timedelta(hours=1), OFFICE, BERLIN)
    with pytest.raises(ValueError, match="timezone-aware"):
        business_time_between(berlin(4, 10), datetime(2024, 3, 4, 12), OFFICE, BERLIN)
    with pytest.raises(ValueError, match="negative"):
        add_business_time(berlin(4, 10), timedelta(hours=-1), OFFICE, BERLIN)


def test_cost_grows_with_days_not_minutes() -> None:
    office = calendar.BusinessCalendar(OFFICE, BERLIN)
    office.add(berlin(4, 10), timedelta(days=30))
    # 720 business hours are 90 working days, 126 calendar days: one computation per day
    # (and for the two days before the start, where every walk begins).
    assert len(office._days) <= 126 + 3


def test_sla_duration_without_days_is_business_time() -> None:
    opened = berlin(8, 16, 30)
    assert add_business_time(opened, SlaDuration(time=timedelta(hours=1)), OFFICE, BERLIN) == (
        add_business_time(opened, timedelta(hours=1), OFFICE, BERLIN)
    )
