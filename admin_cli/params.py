"""Argument types shared by the commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from gateway.sla.durations import parse_duration

# Row ids are 32-bit integers in both databases: a larger number is bad input (exit 2),
# not a driver's overflow error.
ROW_ID = click.IntRange(1, 2**31 - 1)


class Since(click.ParamType):
    """A look-back such as ``7d``, ``12h`` or ``1d12h`` (a day is 24 hours here)."""

    name = "duration"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        if isinstance(value, timedelta):
            return value
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class Moment(click.ParamType):
    """An ISO-8601 time; without a zone it is UTC."""

    name = "iso-time"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"not an ISO-8601 time: {value!r} (e.g. 2026-12-01T09:00Z)", param, ctx)
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


AT_HELP = "Report as if the time were AT (ISO-8601, default now)."
