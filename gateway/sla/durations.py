"""SLA durations as admins write them: ``30m``, ``4h``, ``2d``, ``1h30m``.

What ``d`` means
----------------
A support team that promises "resolution within 2 days" on Mon-Fri 09:00-17:00
means "by the same time two business days later", not 48 business hours (which
would be six working days). So in an SLA target a day is one **business day**:
the clock moves to the same point of the N-th following open day (see
``gateway.sla.calendar.add_business_time``). Under a 24x7 policy every day is
open, so a day is a calendar day (same wall-clock time N days later).

Hours and minutes are always business clock time: ``36h`` on an 8-hour working
day is four and a half working days, exactly as written.

Two parsers, one grammar:

* ``parse_sla_duration`` keeps days apart from hours and minutes
  (``SlaDuration``); use it for policy targets.
* ``parse_duration`` returns a plain ``timedelta`` with ``d`` = 24 hours, for
  lengths that are not measured on a business calendar (and for 24x7 clocks,
  where both readings agree except across a DST change).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

__all__ = ["SlaDuration", "format_duration", "parse_duration", "parse_sla_duration"]

# Units in fixed order, each at most once, optional spaces between: "1d 4h", "1h30m".
_DURATION = re.compile(
    r"(?:(?P<d>\d+)\s*d)?\s*(?:(?P<h>\d+)\s*h)?\s*(?:(?P<m>\d+)\s*m)?",
    re.IGNORECASE,
)
# Ten years: anything longer is a typo, and it keeps datetime arithmetic in range.
_MAX_DAYS = 3650


@dataclass(frozen=True, slots=True)
class SlaDuration:
    """An SLA target: whole business days plus business clock time.

    ``days`` count open days of the policy's calendar; ``time`` is business time
    on top of them. ``str()`` gives the compact form ``parse_sla_duration`` reads.
    """

    days: int = 0
    time: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        if self.days < 0 or self.time < timedelta(0):
            raise ValueError(f"SLA duration must not be negative: {self.days}d + {self.time}")

    def as_timedelta(self) -> timedelta:
        """The 24-hours-a-day reading: ``days`` x 24h plus ``time``."""
        return timedelta(days=self.days) + self.time

    def __str__(self) -> str:
        if self.days and not self.time:
            return f"{self.days}d"
        prefix = f"{self.days}d" if self.days else ""
        return prefix + _format_clock(self.time, allow_zero=not self.days)


def parse_sla_duration(text: str) -> SlaDuration:
    """Parse ``30m``, ``4h``, ``2d``, ``1d4h``, ``1h30m`` into days and clock time.

    Raises ``ValueError`` naming the bad text and showing the accepted form.
    """
    match = _DURATION.fullmatch(text.strip())
    if match is None or not any(match.group(unit) for unit in "dhm"):
        raise ValueError(f"bad duration '{text}': use a number with m, h or d, e.g. 30m, 4h, 2d")
    days, hours, minutes = (int(match.group(unit) or 0) for unit in "dhm")
    if days + (hours * 60 + minutes) / (24 * 60) > _MAX_DAYS:
        raise ValueError(f"bad duration '{text}': longer than {_MAX_DAYS} days")
    return SlaDuration(days, timedelta(hours=hours, minutes=minutes))


def parse_duration(text: str) -> timedelta:
    """Parse a duration into a plain ``timedelta``, reading ``d`` as 24 hours.

    Same grammar and errors as ``parse_sla_duration``; for SLA targets on a
    business calendar prefer that one, where ``d`` is one business day.
    """
    return parse_sla_duration(text).as_timedelta()


def format_duration(td: timedelta | SlaDuration) -> str:
    """Compact inverse of the parsers: ``1h30m``, ``2d``, ``1d4h``, ``0m``.

    A ``timedelta`` is written with ``d`` = 24 hours (so
    ``parse_duration(format_duration(td)) == td`` for whole minutes); seconds are
    dropped, since targets are set in minutes. Negative lengths raise ``ValueError``.
    """
    if isinstance(td, SlaDuration):
        return str(td)
    if td < timedelta(0):
        raise ValueError(f"cannot format a negative duration: {td}")
    return str(SlaDuration(td.days, timedelta(seconds=td.seconds)))


def _format_clock(time: timedelta, *, allow_zero: bool) -> str:
    """``time`` as ``XhYm`` (whole minutes, hours may exceed 24); ``0m`` only if allowed."""
    minutes = int(time.total_seconds()) // 60
    hours, minutes = divmod(minutes, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text or ("0m" if allow_zero else "")
