"""``stats``: the team's week or month in figures.

- ``volume``: tickets created per UTC day and channel since ``since``;
- ``open``: open tickets (new, open, pending) by status, priority and queue;
- ``backlog``: how old the open tickets are (``under_1d``, ``1d_to_3d``, ``3d_to_7d``,
  ``over_7d``) and the oldest one's creation time;
- ``times``: median and 90th percentile of wall-clock hours to the first response and to
  resolution, for tickets created since ``since``;
- ``csat``: for the surveys asked since ``since``, how many, how many answered,
  ``response_rate`` (percent) and ``average`` rating.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, case, cast, func, select
from sqlalchemy.orm import Session

from gateway.reports.percentiles import summary
from gateway.reports.standing import OPEN_STATUSES
from schema.models import Queue, Ticket

_AGES = (("under_1d", 0, 1), ("1d_to_3d", 1, 3), ("3d_to_7d", 3, 7), ("over_7d", 7, None))


def stats(session: Session, since: datetime, now: datetime) -> dict[str, Any]:
    window = and_(Ticket.created_at >= since, Ticket.created_at <= now)
    return {
        "since": since,
        "now": now,
        "volume": _volume(session, window),
        "open": {
            "by_status": _open_by(session, Ticket.status),
            "by_priority": _open_by(session, Ticket.priority),
            "by_queue": _open_by(session, Queue.name),
        },
        "backlog": _backlog(session, now),
        "times": _times(session, window),
        "csat": _csat(session, since, now),
    }


def _day(session: Session) -> ColumnElement[Any]:
    """The UTC day of ``created_at``: SQLite keeps UTC text, PostgreSQL converts first."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", Ticket.created_at), Date)
    return func.date(Ticket.created_at)


def _volume(session: Session, window: ColumnElement[bool]) -> list[dict[str, Any]]:
    day = _day(session)
    per_day: dict[str, dict[str, int]] = defaultdict(dict)
    for when, channel, count in session.execute(
        select(day, Ticket.channel, func.count()).where(window).group_by(day, Ticket.channel)
    ):
        per_day[str(when)][channel] = count
    return [
        {"day": d, "total": sum(c.values()), "by_channel": dict(sorted(c.items()))}
        for d, c in sorted(per_day.items())
    ]


def _open_by(session: Session, column: Any) -> dict[str, int]:
    query = (
        select(column, func.count())
        .select_from(Ticket)
        .join(Queue, Queue.id == Ticket.queue_id)
        .where(Ticket.status.in_(OPEN_STATUSES))
        .group_by(column)
    )
    return {str(key): count for key, count in session.execute(query)}


def _backlog(session: Session, now: datetime) -> dict[str, Any]:
    def aged(low: int, high: int | None) -> Any:
        condition = Ticket.created_at <= now - timedelta(days=low)
        if high is not None:
            condition = and_(condition, Ticket.created_at > now - timedelta(days=high))
        return func.sum(case((condition, 1), else_=0))

    columns = [aged(low, high) for _, low, high in _AGES]
    row = session.execute(
        select(func.count(), func.min(Ticket.created_at), *columns).where(
            Ticket.status.in_(OPEN_STATUSES)
        )
    ).one()
    total, oldest, *counts = row
    return {
        "open": total,
        "oldest_created_at": oldest,
        **{name: int(count or 0) for (name, _, _), count in zip(_AGES, counts, strict=True)},
    }


def _seconds(session: Session, end: Any) -> ColumnElement[Any]:
    """``end - created_at`` in seconds, computed by the database (no datetime per row)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - Ticket.created_at)
    return (func.julianday(end) - func.julianday(Ticket.created_at)) * 86400.0


def _times(session: Session, window: ColumnElement[bool]) -> dict[str, Any]:
    times = {}
    for kind, end in (
        ("first_response", Ticket.first_responded_at),
        ("resolution", Ticket.resolved_at),
    ):
        query = select(_seconds(session, end)).where(window, end.is_not(None))
        seconds = [float(s) for s in session.scalars(query)]
        times[kind] = {"count": len(seconds), **summary(seconds)}
    return times


def _csat(session: Session, since: datetime, now: datetime) -> dict[str, Any]:
    asked, answered, average = session.execute(
        select(
            func.count(Ticket.csat_asked_at),
            func.count(Ticket.satisfaction_rating),
            func.avg(Ticket.satisfaction_rating),
        ).where(Ticket.csat_asked_at >= since, Ticket.csat_asked_at <= now)
    ).one()
    return {
        "asked": asked,
        "answered": answered,
        "response_rate": round(100 * answered / asked, 1) if asked else None,
        "average": round(float(average), 2) if average is not None else None,
    }
