"""Durations as admins type them on ``ticketgw sla set``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.sla.durations import (
    SlaDuration,
    format_duration,
    parse_duration,
    parse_sla_duration,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("4h", timedelta(hours=4)),
        ("2d", timedelta(days=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d4h", timedelta(days=1, hours=4)),
        (" 1H 30M ", timedelta(hours=1, minutes=30)),
        ("90m", timedelta(minutes=90)),
        ("0m", timedelta(0)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_sla_duration_keeps_days_apart_from_hours() -> None:
    # The whole point of the type: "1d" is a business day, "24h" is 24 clock hours.
    assert parse_sla_duration("1d") == SlaDuration(days=1)
    assert parse_sla_duration("24h") == SlaDuration(time=timedelta(hours=24))
    assert parse_sla_duration("2d1h30m") == SlaDuration(2, timedelta(hours=1, minutes=30))
    assert parse_duration("1d") == parse_duration("24h")


@pytest.mark.parametrize("text", ["4x", "", "h", "4", "30m4h", "1h1h", "-1h", "1.5h", "4 hours"])
def test_bad_duration_names_the_text_and_the_form(text: str) -> None:
    with pytest.raises(ValueError, match="use a number with m, h or d") as caught:
        parse_duration(text)
    assert str(caught.value).startswith(f"bad duration '{text}'")


def test_bad_duration_message_exactly() -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration("4x")
    assert str(caught.value) == "bad duration '4x': use a number with m, h or d, e.g. 30m, 4h, 2d"


def test_absurdly_long_duration_is_refused_not_overflowed() -> None:
    with pytest.raises(ValueError, match="longer than"):
        parse_duration("99999999999d")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(hours=1, minutes=30), "1h30m"),
        (timedelta(days=2), "2d"),
        (timedelta(days=1, hours=4), "1d4h"),
        (timedelta(minutes=45), "45m"),
        (timedelta(0), "0m"),
        (timedelta(minutes=5, seconds=59), "5m"),
        (SlaDuration(3), "3d"),
        (SlaDuration(time=timedelta(hours=36)), "36h"),
        (SlaDuration(1, timedelta(minutes=15)), "1d15m"),
    ],
)
def test_format_duration(value: timedelta | SlaDuration, text: str) -> None:
    assert format_duration(value) == text


def test_negative_durations_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        format_duration(timedelta(minutes=-1))
    with pytest.raises(ValueError, match="negative"):
        SlaDuration(days=-1)


@given(st.integers(min_value=0, max_value=3650 * 24 * 60))
def test_format_then_parse_is_identity(minutes: int) -> None:
    value = timedelta(minutes=minutes)
    assert parse_duration(format_duration(value)) == value


@given(st.integers(0, 3000), st.integers(0, 10_000))
def test_sla_duration_round_trips_through_text(days: int, minutes: int) -> None:
    value = SlaDuration(days, timedelta(minutes=minutes))
    assert parse_sla_duration(str(value)) == value
