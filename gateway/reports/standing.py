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

from gateway.sla.calendar import BusinessCalendar
from gateway.sla.deadlines import plan_for_policy
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
        calendar = plan_for_policy(session, policy).calendar
        first_cut = _cutoff(calendar, policy.first_response, policy.warn_at_percent, now)
        resolution_cut = _cutoff(calendar, policy.resolution, policy.warn_at_percent, now)
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


def _cutoff(
    calendar: BusinessCalendar, target: str, warn_at_percent: int, now: datetime
) -> datetime:
    """The latest deadline that has less than the unwarned share of ``target`` left."""
    end = calendar.add(now, parse_sla_duration(target))
    left = calendar.between(now, end) * (100 - warn_at_percent) / 100
    return calendar.add(now, left)
