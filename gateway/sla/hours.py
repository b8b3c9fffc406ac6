"""Weekly business hours: the ``--hours`` spec of an SLA policy.

Spec grammar (case-insensitive), groups separated by ``;``::

    24x7
    Mon-Fri 09:00-17:00
    Mon-Fri 09:00-12:30,13:30-17:00; Sat 10:00-14:00
    Sun-Thu 08:00-16:00            (day ranges may wrap past Sunday)
    Mon,Wed 09:00-13:00

Days not named are closed. Times are wall-clock times in the policy's zone,
``HH:MM`` with ``24:00`` allowed as an end. A range must not cross midnight:
write ``Mon 22:00-24:00; Tue 00:00-06:00`` instead, so that every range belongs
to exactly one day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

__all__ = ["DAY_NAMES", "BusinessHours", "Range", "parse_hours"]

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MINUTES_PER_DAY = 24 * 60
_TIME = re.compile(r"(\d{1,2}):(\d{2})")

Range = tuple[int, int]
"""An open range on one day, ``(start, end)`` in minutes past local midnight."""


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """When the SLA clock runs, per weekday (index 0 = Monday).

    Each day holds sorted, disjoint, non-adjacent ``(start, end)`` minute ranges
    with ``0 <= start < end <= 1440``; ``parse_hours`` builds them from a spec
    and ``str()`` writes the canonical spec back.
    """

    week: tuple[tuple[Range, ...], ...]

    always: ClassVar[BusinessHours]

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError(f"business hours need 7 days, got {len(self.week)}")
        for ranges in self.week:
            previous_end = -1
            for start, end in ranges:
                # Strictly after the previous end: touching ranges must be merged,
                # so that equal schedules compare (and hash) equal.
                if not previous_end < start < end <= _MINUTES_PER_DAY:
                    raise ValueError(f"business hours ranges out of order: {ranges}")
                previous_end = end
        if not any(self.week):
            raise ValueError("business hours are never open: name at least one day")

    @property
    def is_24x7(self) -> bool:
        """True when every day is open from 00:00 to 24:00."""
        return all(ranges == ((0, _MINUTES_PER_DAY),) for ranges in self.week)

    def __str__(self) -> str:
        if self.is_24x7:
            return "24x7"
        groups: list[str] = []
        for ranges in dict.fromkeys(r for r in self.week if r):  # first-seen order
            days = [day for day in range(7) if self.week[day] == ranges]
            times = ",".join(f"{_hhmm(start)}-{_hhmm(end)}" for start, end in ranges)
            groups.append(f"{_format_days(days)} {times}")
        return "; ".join(groups)


BusinessHours.always = BusinessHours((((0, _MINUTES_PER_DAY),),) * 7)


def parse_hours(spec: str) -> BusinessHours:
    """Parse an ``--hours`` spec (see the module docstring) into ``BusinessHours``.

    Raises ``ValueError`` with a message that quotes the offending part.
    """
    text = spec.strip()
    if text.lower() in {"24x7", "24/7"}:
        return BusinessHours.always
    if not text:
        raise ValueError("bad hours '': use e.g. 'Mon-Fri 09:00-17:00' or '24x7'")
    week: list[list[Range]] = [[] for _ in range(7)]
    for group in text.split(";"):
        days_text, _, times_text = group.strip().partition(" ")
        if not times_text.strip():
            raise ValueError(
                f"bad hours '{group.strip()}': use days then times, e.g. 'Mon-Fri 09:00-17:00'"
            )
        ranges = [_parse_range(part) for part in times_text.replace(" ", "").split(",")]
        for day in _parse_days(days_text):
            week[day].extend(ranges)
    return BusinessHours(tuple(_normalise(day, ranges) for day, ranges in enumerate(week)))


def _parse_days(text: str) -> list[int]:
    """``Mon-Fri``, ``Sat``, ``Mon,Wed``, ``Sun-Thu`` (wrapping) into weekday numbers."""
    days: list[int] = []
    for part in text.split(","):
        first, dash, last = part.partition("-")
        start = _parse_day(first)
        end = _parse_day(last) if dash else start
        days.extend((start + offset) % 7 for offset in range((end - start) % 7 + 1))
    return days


def _parse_day(text: str) -> int:
    name = text.strip().lower()
    for number, day in enumerate(DAY_NAMES):
        # "Mon" and "Monday" both name Monday; "Mo" or "Mond" do not.
        if name == day.lower() or (len(name) > 3 and _full_day_name(day) == name):
            return number
    raise ValueError(f"bad day '{text.strip()}': use Mon, Tue, Wed, Thu, Fri, Sat or Sun")


def _full_day_name(short: str) -> str:
    suffix = {"Tue": "sday", "Wed": "nesday", "Thu": "rsday", "Sat": "urday"}
    return (short + suffix.get(short, "day")).lower()


def _parse_range(text: str) -> Range:
    start_text, dash, end_text = text.partition("-")
    if not dash:
        raise ValueError(f"bad time range '{text}': use HH:MM-HH:MM, e.g. 09:00-17:00")
    start, end = _parse_time(start_text, text), _parse_time(end_text, text)
    if start == _MINUTES_PER_DAY or end <= start:
        raise ValueError(
            f"bad time range '{text}': the end must be after the start on the same day "
            "(split overnight hours: 'Mon 22:00-24:00; Tue 00:00-06:00')"
        )
    return start, end


def _parse_time(text: str, whole: str) -> int:
    match = _TIME.fullmatch(text.strip())
    hour, minute = (int(match.group(1)), int(match.group(2))) if match else (-1, -1)
    if not (0 <= hour <= 24 and 0 <= minute < 60) or (hour == 24 and minute):
        raise ValueError(f"bad time '{text.strip()}' in '{whole}': use HH:MM from 00:00 to 24:00")
    return hour * 60 + minute


def _normalise(day: int, ranges: list[Range]) -> tuple[Range, ...]:
    """Sort, refuse overlaps (probably a typo), and merge touching ranges."""
    merged: list[Range] = []
    for start, end in sorted(ranges):
        if merged and start < merged[-1][1]:
            previous = merged[-1]
            raise ValueError(
                f"overlapping hours on {DAY_NAMES[day]}: "
                f"{_hhmm(previous[0])}-{_hhmm(previous[1])} and {_hhmm(start)}-{_hhmm(end)}"
            )
        if merged and start == merged[-1][1]:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _format_days(days: list[int]) -> str:
    """``[0..4]`` -> ``Mon-Fri``; ``[0, 2]`` -> ``Mon,Wed``; runs of two stay a list."""
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        if len(run) > 2:
            parts.append(f"{DAY_NAMES[run[0]]}-{DAY_NAMES[run[-1]]}")
        else:
            parts.extend(DAY_NAMES[day] for day in run)
    return ",".join(parts)
