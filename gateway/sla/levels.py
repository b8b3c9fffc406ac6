"""Escalation levels: when a deadline's warning, breach and second breach are due.

Pure arithmetic, like ``gateway.sla.calendar``: a level is due when a percentage of the
business time the ticket was given has elapsed, counted on the policy's business clock
(a warning at 80% of a Friday-afternoon target may fall on Monday morning). The time
given is measured from the ticket's creation to its stored deadline, so a pause that
pushed the deadline out widens it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.sla.calendar import add_business_time, business_time_between
from gateway.sla.hours import BusinessHours

DEADLINES = ("first_response", "resolution")
BREACH_PERCENT = 100
BREACH2_PERCENT = 150


@dataclass(frozen=True, slots=True)
class Moment:
    """One level of one deadline, and the instant it becomes due."""

    deadline: str  # first_response | resolution
    level: str  # warning | breach | breach2
    percent: int  # of the time given
    at: datetime
    deadline_at: datetime
    elapsed: timedelta  # business time from creation to ``at``


def level_percents(warn_at_percent: int) -> tuple[tuple[str, int], ...]:
    """The levels in the order they fall due."""
    return (("warning", warn_at_percent), ("breach", BREACH_PERCENT), ("breach2", BREACH2_PERCENT))


def moments(
    deadline: str,
    created_at: datetime,
    deadline_at: datetime,
    warn_at_percent: int,
    hours: BusinessHours,
    tz: ZoneInfo,
) -> tuple[Moment, ...]:
    """The three levels of one deadline, earliest first."""
    given = business_time_between(created_at, deadline_at, hours, tz)
    found = []
    for level, percent in level_percents(warn_at_percent):
        elapsed = given * percent / 100
        at = deadline_at if percent == BREACH_PERCENT else _after(created_at, elapsed, hours, tz)
        found.append(Moment(deadline, level, percent, at, deadline_at, elapsed))
    return tuple(found)


def _after(start: datetime, elapsed: timedelta, hours: BusinessHours, tz: ZoneInfo) -> datetime:
    # Whole seconds: the microseconds of a percentage are noise, and stored moments compare
    # equal on every database.
    return add_business_time(start, timedelta(seconds=round(elapsed.total_seconds())), hours, tz)
