"""A ticket's SLA deadlines: set when it opens, paused while it waits on the customer."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from gateway.sla.calendar import (
    add_business_time,
    business_time_between,
    parse_hours,
    parse_timezone,
)
from gateway.sla.durations import parse_sla_duration
from gateway.sla.hours import BusinessHours
from gateway.sla.policies import policy_for
from schema.models import SlaPolicy, Ticket

PAUSED_STATUSES = frozenset({"pending"})
STOPPED_STATUSES = frozenset({"resolved", "closed"})


def _due(policy: SlaPolicy, start: datetime, target: str) -> datetime:
    hours, tz = _calendar(policy.business_hours, policy.timezone)
    return add_business_time(start, _duration(target), hours, tz)


# Every new ticket asks; a policy's texts are few and rarely change: parse each once.
@lru_cache(maxsize=256)
def _calendar(hours: str, timezone: str) -> tuple[BusinessHours, ZoneInfo]:
    return parse_hours(hours), parse_timezone(timezone)


_duration = lru_cache(maxsize=256)(parse_sla_duration)


def start(session: Session, ticket: Ticket, now: datetime) -> None:
    """Attach the policy for the ticket's priority and compute both deadlines from ``now``."""
    policy = policy_for(session, ticket.priority)
    ticket.sla_policy_id = policy.id if policy else None
    if policy is None:
        ticket.first_response_due_at = ticket.resolution_due_at = None
        return
    ticket.first_response_due_at = _due(policy, now, policy.first_response)
    ticket.resolution_due_at = _due(policy, now, policy.resolution)


def on_priority_change(session: Session, ticket: Ticket, now: datetime) -> None:
    """Re-plan from the ticket's creation under the new priority's policy.

    Measuring from creation (not from now) keeps an urgent escalation honest: raising a
    day-old ticket to urgent makes it overdue at once rather than granting it a fresh clock.
    """
    responded = ticket.first_responded_at
    start(session, ticket, ticket.created_at)
    if responded is not None:
        ticket.first_responded_at = responded


def on_status_change(session: Session, ticket: Ticket, old: str, new: str, now: datetime) -> None:
    """Stop the clock while pending; on leaving pending push open deadlines out by the pause."""
    if new in PAUSED_STATUSES and old not in PAUSED_STATUSES:
        ticket.sla_paused_at = now
        return
    if old in PAUSED_STATUSES and ticket.sla_paused_at is not None:
        paused_from, ticket.sla_paused_at = ticket.sla_paused_at, None
        policy = session.get(SlaPolicy, ticket.sla_policy_id) if ticket.sla_policy_id else None
        if policy is None or new in STOPPED_STATUSES:
            return
        hours, tz = parse_hours(policy.business_hours), parse_timezone(policy.timezone)
        paused = business_time_between(paused_from, now, hours, tz)
        if ticket.first_responded_at is None and ticket.first_response_due_at is not None:
            ticket.first_response_due_at = add_business_time(
                ticket.first_response_due_at, paused, hours, tz
            )
        if ticket.resolution_due_at is not None:
            ticket.resolution_due_at = add_business_time(
                ticket.resolution_due_at, paused, hours, tz
            )
