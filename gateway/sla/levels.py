"""Escalation levels: when a deadline's warning, breach and second breach are due.

Pure arithmetic on the policy's calendar (``gateway.sla.calendar.BusinessCalendar``:
weekly hours, zone, holidays): a level is due when a percentage of the deadline's
target has elapsed in business time, so a warning at 80% of a Friday-afternoon target
may fall on Monday morning. The target is the business time from creation to the
deadline less the time the clock stood still (``paused``); a level's moment is moved out
by that same pause, as the deadline is (``gateway.sla.plans.compute_deadlines``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.sla.calendar import BusinessCalendar

DEADLINES = ("first_response", "resolution")
BREACH_PERCENT = 100
BREACH2_PERCENT = 150
_ZERO = timedelta(0)


@dataclass(frozen=True, slots=True)
class Moment:
    """One level of one deadline, and the instant it becomes due."""

    deadline: str  # first_response | resolution
    level: str  # warning | breach | breach2
    percent: int  # of the target
    at: datetime
    deadline_at: datetime
    elapsed: timedelta  # business time of the target used at ``at``


def level_percents(warn_at_percent: int) -> tuple[tuple[str, int], ...]:
    """The levels in the order they fall due."""
    return (("warning", warn_at_percent), ("breach", BREACH_PERCENT), ("breach2", BREACH2_PERCENT))


def moments(
    deadline: str,
    created_at: datetime,
    deadline_at: datetime,
    warn_at_percent: int,
    calendar: BusinessCalendar,
    paused: timedelta = _ZERO,
) -> tuple[Moment, ...]:
    """The three levels of one deadline, earliest first."""
    target = max(_ZERO, calendar.between(created_at, deadline_at) - paused)
    found = []
    for level, percent in level_percents(warn_at_percent):
        # Whole seconds: the microseconds of a percentage are noise, and stored moments
        # compare equal on every database.
        elapsed = timedelta(seconds=round(target.total_seconds() * percent / 100))
        at = (
            deadline_at if percent == BREACH_PERCENT else calendar.add(created_at, elapsed + paused)
        )
        found.append(Moment(deadline, level, percent, at, deadline_at, elapsed))
    return tuple(found)
