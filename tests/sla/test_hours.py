"""The ``--hours`` and ``--tz`` options: parsing, canonical form, clear errors."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from hypothesis import given

from gateway.sla.calendar import BusinessHours, parse_hours, parse_timezone
from tests.sla.strategies import business_hours


@pytest.mark.parametrize(
    ("spec", "canonical"),
    [
        ("Mon-Fri 09:00-17:00", "Mon-Fri 09:00-17:00"),
        ("mon-fri 9:00-17:00", "Mon-Fri 09:00-17:00"),
        ("24x7", "24x7"),
        ("24/7", "24x7"),
        ("Mon-Sun 00:00-24:00", "24x7"),
        (
            "Mon-Fri 09:00-12:30,13:30-17:00; Sat 10:00-14:00",
            "Mon-Fri 09:00-12:30,13:30-17:00; Sat 10:00-14:00",
        ),
        ("Mon-Fri 09:00-12:30, 13:30-17:00", "Mon-Fri 09:00-12:30,13:30-17:00"),
        ("Sun-Thu 08:00-16:00", "Mon-Thu,Sun 08:00-16:00"),
        ("Mon,Wed 09:00-13:00", "Mon,Wed 09:00-13:00"),
        ("Monday-Friday 09:00-17:00", "Mon-Fri 09:00-17:00"),
        ("Mon 09:00-12:00,12:00-17:00", "Mon 09:00-17:00"),
        ("Mon-Fri 09:00-17:00; Fri 17:00-18:00", "Mon-Thu 09:00-17:00; Fri 09:00-18:00"),
        ("Sat 22:00-24:00; Sun 00:00-06:00", "Sat 22:00-24:00; Sun 00:00-06:00"),
    ],
)
def test_parse_hours_and_canonical_spec(spec: str, canonical: str) -> None:
    hours = parse_hours(spec)
    assert str(hours) == canonical
    assert parse_hours(canonical) == hours


def test_office_hours_in_minutes_per_weekday() -> None:
    hours = parse_hours("Mon-Fri 09:00-12:30,13:30-17:00; Sat 10:00-14:00")
    assert hours.week[0] == ((540, 750), (810, 1020))
    assert hours.week[5] == ((600, 840),)
    assert hours.week[6] == ()
    assert not hours.is_24x7


def test_always_is_24x7() -> None:
    assert BusinessHours.always.is_24x7
    assert parse_hours("24x7") is BusinessHours.always
    assert str(BusinessHours.always) == "24x7"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "bad hours ''"),
        ("Mon-Fri", "use days then times"),
        ("Funday 09:00-17:00", "bad day 'Funday'"),
        ("Mon-Fri 9-17", "bad time '9' in '9-17'"),
        ("Mon-Fri 0900-1700", "bad time '0900'"),
        ("Mon-Fri 09:00", "bad time range '09:00'"),
        ("Mon 22:00-06:00", "split overnight hours"),
        ("Mon 10:00-10:00", "end must be after the start"),
        ("Mon 24:00-24:00", "end must be after the start"),
        ("Mon 09:60-10:00", "bad time '09:60'"),
        ("Mon 25:00-26:00", "bad time '25:00'"),
        ("Mon 09:00-24:30", "bad time '24:30'"),
        (
            "Mon-Fri 09:00-12:00,11:00-13:00",
            "overlapping hours on Mon: 09:00-12:00 and 11:00-13:00",
        ),
        ("Mon-Fri 09:00-17:00; Wed 16:00-18:00", "overlapping hours on Wed"),
    ],
)
def test_bad_hours_give_a_clear_error(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hours(spec)


def test_constructor_refuses_unmerged_or_unordered_ranges() -> None:
    closed: tuple[tuple[int, int], ...] = ()
    with pytest.raises(ValueError, match="out of order"):
        BusinessHours((((600, 700), (500, 550)), *[closed] * 6))
    with pytest.raises(ValueError, match="out of order"):
        BusinessHours((((500, 600), (600, 700)), *[closed] * 6))
    with pytest.raises(ValueError, match="never open"):
        BusinessHours((closed,) * 7)
    with pytest.raises(ValueError, match="7 days"):
        BusinessHours((((500, 600),),))


@given(business_hours())
def test_canonical_spec_round_trips(hours: BusinessHours) -> None:
    spec = str(hours)
    assert parse_hours(spec) == hours
    assert str(parse_hours(spec)) == spec


def test_parse_timezone() -> None:
    assert parse_timezone("Europe/Berlin") == ZoneInfo("Europe/Berlin")
    assert parse_timezone(" UTC ") == ZoneInfo("UTC")


@pytest.mark.parametrize("name", ["Mars/Base", "Europe", "../../etc/passwd", "", "Europe/Berlin/x"])
def test_unknown_time_zone(name: str) -> None:
    with pytest.raises(ValueError, match=f"unknown time zone '{name}'"):
        parse_timezone(name)


def test_unknown_time_zone_message_exactly() -> None:
    with pytest.raises(ValueError) as caught:
        parse_timezone("Mars/Base")
    assert str(caught.value) == "unknown time zone 'Mars/Base'"
