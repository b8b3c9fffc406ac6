"""Local wall-clock times to UTC instants, defined for every wall time.

Business hours are written in wall-clock time ("09:00-17:00 Europe/Berlin"), but
SLA arithmetic runs on instants. Around DST changes a wall time can be missing
(spring forward) or occur twice (fall back); this module gives each one a
single instant so that the mapping never goes backwards, which is what keeps
open intervals ordered and non-overlapping on transition days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["wall_to_utc"]


def wall_to_utc(day: date, seconds: int, tz: ZoneInfo) -> datetime:
    """The UTC instant at which ``tz``'s clock shows ``seconds`` past midnight of ``day``.

    ``seconds`` may be 86400 (24:00, the next midnight). A time that occurs twice
    means its first occurrence; a time skipped by spring-forward means the
    instant the clock jumps, as if the range started or ended there.
    """
    wall = datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)
    instant = wall.replace(tzinfo=tz).astimezone(UTC)  # fold=0: first occurrence
    if instant.astimezone(tz).replace(tzinfo=None) == wall:
        return instant
    return _transition_before(instant, tz)


def _transition_before(after: datetime, tz: ZoneInfo) -> datetime:
    """The first instant at or before ``after`` carrying ``after``'s UTC offset.

    Called only for a skipped wall time, so the offset changed less than a day
    earlier; zoneinfo exposes no transition table, hence a binary search on whole
    seconds (about 17 steps, and only on the one spring-forward day a year).
    """
    offset = after.astimezone(tz).utcoffset()
    low, high = 0, 86_400  # seconds back from `after`: high is known to differ
    while high - low > 1:
        middle = (low + high) // 2
        if (after - timedelta(seconds=middle)).astimezone(tz).utcoffset() == offset:
            low = middle
        else:
            high = middle
    return after - timedelta(seconds=low)
