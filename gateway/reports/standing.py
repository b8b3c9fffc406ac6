"""Where an open ticket stands against its deadlines now: breached, at risk, or fine.

- **Breached**: a deadline passed with its clock still running: no first response by
  ``first_response_due_at``, or not resolved by ``resolution_due_at``. A ticket waiting on
  the customer (pending) is judged at the moment its clock stopped (``sla_paused_at``).
- **At risk**: not breached, clock running, and less than ``100 - warn_at_percent`` % of
  the policy's target left before a deadline: past the policy's warning threshold. The
  time left is business time on the policy's calendar, so the test is one comparison of
  the deadline with a cut-off per policy, in SQL.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from gateway.sla.calendar import (
    add_business_time,
    business_time_between,
    parse_hours,
    parse_timezone,
)
from gateway.sla.durations import parse_sla_duration
from schema.models import SlaPolicy, Ticket

OPEN_STATUSES = ("new", "open", "pending")
_RUNNING = ("new", "open")


def breached(now: datetime) -> ColumnElement[bool]:
    """Tickets with a deadline passed while its clock ran."""
    moment = func.coalesce(Ticket.sla_paused_at, now)
    return and_(
        Ticket.status.in_(OPEN_STATUSES),
        or_(
            and_(Ticket.first_responded_at.is_(None), Ticket.first_response_due_at < moment),
            Ticket.resolution_due_at < moment,
        ),
    )


def at_risk(session: Session, now: datetime) -> ColumnElement[bool]:
    """Tickets past their policy's warning threshold and not breached."""
    per_policy = []
    for policy in session.scalars(select(SlaPolicy)):
        first_cut = _cutoff(policy, policy.first_response, now)
        resolution_cut = _cutoff(policy, policy.resolution, now)
        per_policy.append(
            and_(
                Ticket.sla_policy_id == policy.id,
                or_(
                    and_(
                        Ticket.first_responded_at.is_(None),
                        Ticket.first_response_due_at <= first_cut,
                    ),
                    Ticket.resolution_due_at <= resolution_cut,
                ),
            )
        )
    return and_(
        Ticket.status.in_(_RUNNING),
        ~breached(now),
        or_(false(), *per_policy),
    )


def _cutoff(policy: SlaPolicy, target: str, now: datetime) -> datetime:
    """The latest deadline that has less than the unwarned share of ``target`` left."""
    hours, tz = parse_hours(policy.business_hours), parse_timezone(policy.timezone)
    end = add_business_time(now, parse_sla_duration(target), hours, tz)
    span = business_time_between(now, end, hours, tz)
    left = span * (100 - policy.warn_at_percent) / 100
    return add_business_time(now, left, hours, tz)
