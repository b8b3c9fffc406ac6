"""A policy made ready for arithmetic, and the pure function that gives a ticket's deadlines.

``compute_deadlines`` is what every deadline in the gateway comes from: on creation, on a
priority or queue change, and in bulk (``bench/``). It reads no database and keeps no
state, so a batch of tickets is a loop over it with one ``SlaPlan`` per policy; the plan's
calendar keeps the days it has worked out, which is what makes the loop fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from gateway.sla.calendar import BusinessCalendar, calendar_for
from gateway.sla.durations import SlaDuration, parse_sla_duration
from gateway.sla.hours import parse_hours
from gateway.sla.timezones import parse_timezone

__all__ = ["Deadlines", "SlaPlan", "compute_deadlines", "plan_from"]

_ZERO = timedelta(0)


@dataclass(frozen=True, slots=True)
class SlaPlan:
    """A policy's calendar (hours, zone, holidays) and its two targets, parsed."""

    calendar: BusinessCalendar
    first_response: SlaDuration
    resolution: SlaDuration


class Deadlines(NamedTuple):
    """A ticket's two deadlines, aware UTC."""

    first_response: datetime
    resolution: datetime


def compute_deadlines(
    created_at: datetime,
    plan: SlaPlan,
    first_response_paused: timedelta = _ZERO,
    resolution_paused: timedelta = _ZERO,
) -> Deadlines:
    """The deadlines of a ticket opened at ``created_at`` under ``plan``.

    Each target runs on the plan's business clock from creation, then moves out by the
    business time its clock stood still (``*_paused``: pending, resolved before a reopen).
    Adding the pause after the target gives the same instant as adding it when the pause
    ended, so a deadline pushed out pause by pause equals the one computed here.
    """
    calendar = plan.calendar
    first = calendar.add(created_at, plan.first_response)
    resolution = calendar.add(created_at, plan.resolution)
    if first_response_paused:
        first = calendar.add(first, first_response_paused)
    if resolution_paused:
        resolution = calendar.add(resolution, resolution_paused)
    return Deadlines(first, resolution)


@lru_cache(maxsize=512)
def plan_from(
    hours: str, timezone: str, first_response: str, resolution: str, holidays: frozenset[date]
) -> SlaPlan:
    """The plan for a policy's stored texts and its holidays, built once per distinct policy.

    Cached on the texts, so an edited policy gets a new plan and the old one ages out.
    Raises ``ValueError`` for a text that does not parse (``set_policy`` refuses those).
    """
    calendar = calendar_for(parse_hours(hours), parse_timezone(timezone), holidays)
    return SlaPlan(calendar, parse_sla_duration(first_response), parse_sla_duration(resolution))
