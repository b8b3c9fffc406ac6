"""Median and 90th percentile of a few durations, in hours."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile: the smallest value at least ``share`` of them reach.

    Nearest rank, not interpolation: every figure shown is one a ticket really took.
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def summary(seconds: Sequence[float]) -> dict[str, float | None]:
    """``{"median_hours", "p90_hours"}`` of durations in seconds, to 2 decimals."""
    hours = [s / 3600 for s in seconds]
    median, p90 = percentile(hours, 0.5), percentile(hours, 0.9)
    return {
        "median_hours": None if median is None else round(median, 2),
        "p90_hours": None if p90 is None else round(p90, 2),
    }
