"""Holidays on the business clock, in zones east and west of UTC and across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gateway.sla.calendar import BusinessCalendar, BusinessHours, parse_hours
from gateway.sla.durations import parse_sla_duration

OFFICE = parse_hours("Mon-Fri 09:00-17:00")
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
SYDNEY = ZoneInfo("Australia/Sydney")


def local(tz: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=tz)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("tz", "holidays", "opened", "target", "expected_utc"),
    [
        # Berlin: Good Friday and Easter Monday 2024 around the 31 March spring-forward.
        # Thursday 16:00 CET: 1h on Thursday, then Tuesday 09:00-12:00 CEST (10:00 UTC).
        (
            BERLIN,
            {date(2024, 3, 29), date(2024, 4, 1)},
            local(BERLIN, 2024, 3, 28, 16),
            "4h",
            datetime(2024, 4, 2, 10, tzinfo=UTC),
        ),
        # Tokyo (UTC+9, no DST): New Year's Day and the 2nd off; Wednesday 16:00 + 2h is
        # Monday 10:00 JST, which is 01:00 UTC the same Monday.
        (
            TOKYO,
            {date(2026, 1, 1), date(2026, 1, 2)},
            local(TOKYO, 2025, 12, 31, 16),
            "2h",
            datetime(2026, 1, 5, 1, tzinfo=UTC),
        ),
        # Los Angeles, fall back on 1 November 2026: Friday 16:00 PDT + 2h is Monday
        # 10:00 PST, 18:00 UTC (an hour later in UTC than the Friday's offset would give).
        (
            LOS_ANGELES,
            set(),
            local(LOS_ANGELES, 2026, 10, 30, 16),
            "2h",
            datetime(2026, 11, 2, 18, tzinfo=UTC),
        ),
        # Thanksgiving: one business day from Wednesday 16:00 skips Thursday.
        (
            LOS_ANGELES,
            {date(2026, 11, 26)},
            local(LOS_ANGELES, 2026, 11, 25, 16),
            "1d",
            datetime(2026, 11, 28, 0, tzinfo=UTC),
        ),
        # Sydney, spring forward on 4 October 2026 and Labour Day on Monday the 5th:
        # Friday 16:00 AEST + 4h is Tuesday 12:00 AEDT (UTC+11), 01:00 UTC.
        (
            SYDNEY,
            {date(2026, 10, 5)},
            local(SYDNEY, 2026, 10, 2, 16),
            "4h",
            datetime(2026, 10, 6, 1, tzinfo=UTC),
        ),
        # Sydney, fall back on 5 April 2026 (AEDT -> AEST): Thursday 16:00 before Good
        # Friday, Easter Monday off: 1h, then Tuesday 09:00-12:00 AEST, 02:00 UTC.
        (
            SYDNEY,
            {date(2026, 4, 3), date(2026, 4, 6)},
            local(SYDNEY, 2026, 4, 2, 16),
            "4h",
            datetime(2026, 4, 7, 2, tzinfo=UTC),
        ),
    ],
)
def test_deadlines_skip_holidays_on_the_local_calendar(
    tz: ZoneInfo, holidays: set[date], opened: datetime, target: str, expected_utc: datetime
) -> None:
    calendar = BusinessCalendar(OFFICE, tz, holidays)
    deadline = calendar.add(opened, parse_sla_duration(target))
    assert deadline == expected_utc
    assert deadline.tzinfo is UTC
    # Measuring back gives the target's business time (the 1d case: one working day).
    expected = timedelta(hours=8) if target == "1d" else parse_sla_duration(target).time
    assert calendar.between(opened, deadline) == expected


def test_a_holiday_is_a_date_of_each_policys_own_zone() -> None:
    # Friday 25 December 2026: 12:00 UTC on the 24th is 21:00 in Tokyo, 04:00 in LA.
    start = datetime(2026, 12, 24, 12, tzinfo=UTC)
    end = datetime(2026, 12, 26, 12, tzinfo=UTC)
    christmas = {date(2026, 12, 25)}
    tokyo, los_angeles = (
        BusinessCalendar(OFFICE, TOKYO, christmas),
        BusinessCalendar(OFFICE, LOS_ANGELES, christmas),
    )
    # Tokyo's Thursday office hours are over; its Friday is the holiday.
    assert tokyo.between(start, end) == timedelta(0)
    assert BusinessCalendar(OFFICE, TOKYO).between(start, end) == timedelta(hours=8)
    # LA still has all of Thursday; its Friday is off too.
    assert los_angeles.between(start, end) == timedelta(hours=8)
    assert BusinessCalendar(OFFICE, LOS_ANGELES).between(start, end) == timedelta(hours=16)


def test_24x7_counts_wall_time_and_ignores_holidays() -> None:
    always = BusinessCalendar(BusinessHours.always, BERLIN, {date(2024, 3, 31)})
    saturday_noon = local(BERLIN, 2024, 3, 30, 12)
    # 24 elapsed hours over the 23-hour spring-forward Sunday, holiday or not.
    assert always.add(saturday_noon, timedelta(hours=24)) == local(BERLIN, 2024, 3, 31, 13)
    assert always.between(saturday_noon, local(BERLIN, 2024, 4, 1, 12)) == timedelta(hours=47)


def test_a_ticket_opened_on_a_holiday_starts_on_the_next_open_day() -> None:
    calendar = BusinessCalendar(OFFICE, BERLIN, {date(2024, 12, 25), date(2024, 12, 26)})
    christmas_morning = local(BERLIN, 2024, 12, 25, 10)
    assert calendar.add(christmas_morning, timedelta(hours=1)) == local(BERLIN, 2024, 12, 27, 10)
    assert calendar.add(christmas_morning, parse_sla_duration("1d")) == local(
        BERLIN, 2024, 12, 30, 9
    )


def test_holidays_of_other_dates_change_nothing() -> None:
    plain = BusinessCalendar(OFFICE, BERLIN)
    with_holiday = BusinessCalendar(OFFICE, BERLIN, {date(2024, 12, 25)})
    opened = local(BERLIN, 2024, 3, 4, 10)
    assert with_holiday.add(opened, timedelta(hours=30)) == plain.add(opened, timedelta(hours=30))
