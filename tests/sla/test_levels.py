"""When each escalation level falls due: a percentage of the target, in business time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.sla.calendar import add_business_time, parse_hours
from gateway.sla.levels import moments

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = parse_hours("Mon-Fri 09:00-17:00")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).astimezone(UTC)


def test_a_friday_afternoon_target_warns_and_breaches_after_the_weekend() -> None:
    created = _at("2026-12-04 15:00")  # Friday
    due = add_business_time(created, timedelta(hours=4), OFFICE, BERLIN)
    assert due == _at("2026-12-07 11:00")  # Monday: 2h on Friday, 2h on Monday
    warning, breach, breach2 = moments("first_response", created, due, 80, OFFICE, BERLIN)
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


def test_the_warning_threshold_is_the_policys() -> None:
    created = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    due = created + timedelta(hours=10)
    warning, *_ = moments("resolution", created, due, 50, parse_hours("24x7"), ZoneInfo("UTC"))
    assert warning.at == created + timedelta(hours=5)
    assert warning.percent == 50
