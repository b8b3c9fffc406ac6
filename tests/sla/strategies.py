"""Hypothesis strategies shared by the SLA tests."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import strategies as st

from gateway.sla.hours import BusinessHours

# Every quarter hour of the day, 00:00 to 24:00.
ANY_BOUNDARY = tuple(range(0, 1441, 15))
# Boundaries away from the 00:30-03:30 window where Berlin, New York and Lord Howe
# skip or repeat wall time, so that "is this wall time inside a range" is an
# unambiguous oracle.
CLEAR_BOUNDARY = tuple(m for m in ANY_BOUNDARY if m == 0 or m >= 240)


@st.composite
def business_hours(draw: st.DrawFn, boundaries: tuple[int, ...] = ANY_BOUNDARY) -> BusinessHours:
    """Random weekly schedules: each day an even number of distinct sorted boundaries."""
    week = []
    for _ in range(7):
        points = sorted(draw(st.sets(st.sampled_from(boundaries), max_size=6)))
        if len(points) % 2:
            points.pop()
        week.append(tuple(zip(points[::2], points[1::2], strict=True)))
    if not any(week):
        week[draw(st.integers(0, 6))] = ((540, 1020),)
    return BusinessHours(tuple(week))


def instants() -> st.SearchStrategy[datetime]:
    """Aware UTC instants over two decades, to the microsecond."""
    return st.datetimes(
        min_value=datetime(2012, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
    )
