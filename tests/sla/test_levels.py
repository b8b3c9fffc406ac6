"""When each escalation level falls due: a percentage of the target, in business time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.sla.calendar import BusinessCalendar, parse_hours
from gateway.sla.levels import moments

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessCalendar(parse_hours("Mon-Fri 09:00-17:00"), BERLIN)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).astimezone(UTC)


def test_a_friday_afternoon_target_warns_and_breaches_after_the_weekend() -> None:
    created = _at("2026-12-04 15:00")  # Friday
    due = OFFICE.add(created, timedelta(hours=4))
    assert due == _at("2026-12-07 11:00")  # Monday: 2h on Friday, 2h on Monday
    warning, breach, breach2 = moments("first_response", created, due, 80, OFFICE)
    # 80% of 4h = 3h12m: 2h on Friday, 1h12m on Monday morning, never on Saturday.
    assert (warning.level, warning.at, warning.elapsed) == (
        "warning",
        _at("2026-12-07 10:12"),
        timedelta(hours=3, minutes=12),
    )
    assert (breach.level, breach.at, breach.percent) == ("breach", due, 100)
    # 150% = 6h: Monday 13:00.
    assert (breach2.level, breach2.at, breach2.elapsed) == (
        "breach2",
        _at("2026-12-07 13:00"),
        timedelta(hours=6),
    )


def test_a_holiday_is_skipped_like_a_weekend() -> None:
    calendar = BusinessCalendar(OFFICE.hours, BERLIN, {date(2026, 12, 7)})  # that Monday off
    created = _at("2026-12-04 15:00")
    due = calendar.add(created, timedelta(hours=4))
    warning, _, _ = moments("first_response", created, due, 80, calendar)
    assert (warning.at, due) == (_at("2026-12-08 10:12"), _at("2026-12-08 11:00"))


def test_a_pause_moves_every_level_out_by_itself_and_is_not_part_of_the_target() -> None:
    created = _at("2026-12-07 09:00")  # Monday; 4h target, then 2h waiting on the customer
    due = OFFICE.add(OFFICE.add(created, timedelta(hours=4)), timedelta(hours=2))
    warning, breach, breach2 = moments(
        "first_response", created, due, 80, OFFICE, paused=timedelta(hours=2)
    )
    assert warning.elapsed == timedelta(hours=3, minutes=12)  # 80% of 4h, not of 6h
    assert [m.at for m in (warning, breach, breach2)] == [
        _at("2026-12-07 14:12"),
        _at("2026-12-07 15:00"),
        _at("2026-12-07 17:00"),
    ]


def test_the_warning_threshold_is_the_policys() -> None:
    created = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    due = created + timedelta(hours=10)
    always = BusinessCalendar(parse_hours("24x7"), ZoneInfo("UTC"))
    warning, *_ = moments("resolution", created, due, 50, always)
    assert warning.at == created + timedelta(hours=5)
    assert warning.percent == 50
