"""SLA clock arithmetic: adding and measuring business time.

The clock runs only inside ``BusinessHours`` on the wall clock of the policy's
zone. Everything here is pure: instants in, instants out, aware datetimes,
results in UTC. Cost is proportional to the days spanned (each day's open
intervals are computed once and cached), never to minutes; a 24x7 policy is
plain datetime arithmetic.

Intervals are half-open, ``[opening, closing)``: a ticket opened at 17:00 sharp
on a 09:00-17:00 day starts its clock on the next opening. A deadline that uses
up a day exactly falls on its closing time (Friday 17:00, not Monday 09:00).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from gateway.sla.durations import SlaDuration
from gateway.sla.hours import BusinessHours, parse_hours
from gateway.sla.timezones import parse_timezone
from gateway.sla.walltime import local_date, wall_to_utc

__all__ = [
    "BusinessHours",
    "add_business_time",
    "business_time_between",
    "parse_hours",
    "parse_timezone",
]

_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)

Interval = tuple[datetime, datetime]


def add_business_time(
    start: datetime, amount: timedelta | SlaDuration, hours: BusinessHours, tz: ZoneInfo
) -> datetime:
    """The instant at which ``amount`` of business time has run from ``start``.

    A ``timedelta`` is business clock time. An ``SlaDuration`` first moves
    ``days`` business days (to the same point of the N-th following open day,
    or that day's closing if it is shorter; under 24x7 the same wall-clock time
    N calendar days later), then adds its ``time``.

    ``start`` must be aware; the result is aware UTC. A zero amount returns
    ``start`` itself, even in closed hours; any other result lies in open hours
    or on a closing time. Raises ``ValueError`` for a naive start or a negative
    amount.
    """
    start = _as_utc(start)
    if isinstance(amount, SlaDuration):
        return add_business_time(_add_days(start, amount.days, hours, tz), amount.time, hours, tz)
    if amount < _ZERO:
        raise ValueError(f"cannot add a negative business time: {amount}")
    if amount == _ZERO or hours.is_24x7:
        return start + amount
    remaining = amount
    for opening, closing in _intervals_from(start, hours, tz):
        if closing <= start:
            continue
        begin = max(opening, start)
        if remaining <= closing - begin:
            return begin + remaining
        remaining -= closing - begin
    raise AssertionError("unreachable: the interval stream is endless")


def business_time_between(
    a: datetime, b: datetime, hours: BusinessHours, tz: ZoneInfo
) -> timedelta:
    """Business time elapsed from ``a`` to ``b`` (negative when ``b`` is before ``a``).

    Used to pause the clock while a ticket waits on the customer and for the
    "percent of target elapsed" warnings. Inverse of ``add_business_time``:
    ``business_time_between(s, add_business_time(s, d, h, tz), h, tz) == d``.
    """
    a, b = _as_utc(a), _as_utc(b)
    if b < a:
        return -business_time_between(b, a, hours, tz)
    if hours.is_24x7:
        return b - a
    total = _ZERO
    for opening, closing in _intervals_from(a, hours, tz):
        if opening >= b:
            return total
        if closing > a:
            total += min(closing, b) - max(opening, a)
    raise AssertionError("unreachable: the interval stream is endless")


def _add_days(start: datetime, days: int, hours: BusinessHours, tz: ZoneInfo) -> datetime:
    """Move ``days`` business days on, keeping the position within the day."""
    if days == 0:
        return start
    if hours.is_24x7:
        # Calendar days: the same wall-clock time N days later, whatever DST does.
        wall = start.astimezone(tz)
        seconds = wall.hour * 3600 + wall.minute * 60 + wall.second
        later = wall_to_utc(wall.date() + timedelta(days=days), seconds, tz)
        return later + timedelta(microseconds=wall.microsecond)
    # The day whose business time `start` belongs to: the first with an interval
    # still open at or after `start` (a Saturday ticket belongs to Monday).
    day = local_date(start, tz) - _ONE_DAY
    while not (intervals := _day_intervals(day, hours, tz)) or intervals[-1][1] <= start:
        day += _ONE_DAY
    offset = sum((min(c, start) - o for o, c in intervals if o < start), _ZERO)
    for _ in range(days):
        day += _ONE_DAY
        while not (intervals := _day_intervals(day, hours, tz)):
            day += _ONE_DAY
    # Strict "<": an offset that ends a morning lands on the afternoon's opening,
    # as a ticket opened during lunch starts its clock after lunch.
    for opening, closing in intervals:
        if offset < closing - opening:
            return opening + offset
        offset -= closing - opening
    return intervals[-1][1]


def _intervals_from(instant: datetime, hours: BusinessHours, tz: ZoneInfo) -> Iterator[Interval]:
    """Open intervals in time order, starting from the local day before ``instant``.

    The day before is included because a fall-back hour can give an instant a
    local date earlier than the day whose intervals cover it.
    """
    day = local_date(instant, tz) - _ONE_DAY
    while True:
        yield from _day_intervals(day, hours, tz)
        day += _ONE_DAY


@lru_cache(maxsize=8192)
def _day_intervals(day: date, hours: BusinessHours, tz: ZoneInfo) -> tuple[Interval, ...]:
    """``day``'s open ranges as UTC intervals; empty ones (inside a DST gap) dropped.

    Cached because an SLA scan asks for the same few days for every ticket.
    """
    intervals = (
        (wall_to_utc(day, start * 60, tz), wall_to_utc(day, end * 60, tz))
        for start, end in hours.week[day.weekday()]
    )
    return tuple((opening, closing) for opening, closing in intervals if closing > opening)


def _as_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"SLA times must be timezone-aware, got naive {instant.isoformat()}")
    return instant.astimezone(UTC)
