"""A ticket's SLA clocks: deadlines set on creation, paused, re-planned, and read back.

Two clocks run from a ticket's creation, in business time of its policy: first response
and resolution. They run while the ticket is ``new`` or ``open`` and stand still while it
is ``pending`` (waiting on the customer) or ``resolved`` (a reopen starts them again where
they stopped). When a pause ends, its business time is added to the ticket's paused sums
and the deadlines move out by it. The first-response clock stops for good at the first
agent reply relayed to the customer (``gateway.tickets.add_message``); later pauses move
only the resolution deadline. A resolution that turns into ``closed`` keeps its deadlines.

A priority or queue change re-plans from creation under the policy that now applies,
keeping the paused sums. Every change of the deadlines is an ``sla`` event in the audit
trail with the old and the new ones. Deadlines come from the pure
``gateway.sla.plans.compute_deadlines``; this module is what reads the database for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from gateway import audit
from gateway.sla.holidays import holidays_of
from gateway.sla.plans import Deadlines, SlaPlan, compute_deadlines, plan_from
from gateway.sla.policies import policy_for
from gateway.unit_of_work import UnitOfWork
from schema.models import SlaPolicy, Ticket

PAUSED_STATUSES = frozenset({"pending"})
STOPPED_STATUSES = frozenset({"resolved", "closed"})
# The clocks stand still in these (a resolved ticket may be reopened); they run in the rest
# but "closed", which is final.
STILL_STATUSES = frozenset({"pending", "resolved"})


@dataclass(frozen=True, slots=True)
class TicketSla:
    """What a ticket is held to: its policy, the policy's plan, and its deadlines now.

    ``first_response_due`` is None once the first response was given (``responded_at``),
    ``resolution_due`` None once resolved or closed; both None while the clocks stand
    still (``paused_since``), since a deadline then moves with every passing minute.
    """

    policy: SlaPolicy
    plan: SlaPlan
    deadlines: Deadlines
    first_response_due: datetime | None
    resolution_due: datetime | None
    paused_since: datetime | None
    first_response_paused: timedelta
    resolution_paused: timedelta


def plan_for_policy(session: Session, policy: SlaPolicy) -> SlaPlan:
    """The policy's plan with its holidays, read once per policy per transaction."""
    plans = UnitOfWork.of(session).sla_plans
    plan = plans.get(policy.id)
    if plan is None:
        plan = plan_from(
            policy.business_hours,
            policy.timezone,
            policy.first_response,
            policy.resolution,
            holidays_of(session, policy.id),
        )
        plans[policy.id] = plan
    return plan


def ticket_sla(session: Session, ticket: Ticket) -> TicketSla | None:
    """The ticket's policy, plan and deadlines; None when no policy covers it."""
    policy = session.get(SlaPolicy, ticket.sla_policy_id) if ticket.sla_policy_id else None
    if policy is None or ticket.first_response_due_at is None:
        return None
    assert ticket.resolution_due_at is not None
    running = ticket.status not in STILL_STATUSES and ticket.status not in STOPPED_STATUSES
    return TicketSla(
        policy=policy,
        plan=plan_for_policy(session, policy),
        deadlines=Deadlines(ticket.first_response_due_at, ticket.resolution_due_at),
        first_response_due=(
            ticket.first_response_due_at if running and ticket.first_responded_at is None else None
        ),
        resolution_due=ticket.resolution_due_at if running else None,
        paused_since=ticket.sla_paused_at,
        first_response_paused=timedelta(seconds=ticket.first_response_paused_seconds),
        resolution_paused=timedelta(seconds=ticket.resolution_paused_seconds),
    )


def start(session: Session, ticket: Ticket, now: datetime) -> None:
    """Attach the policy for the ticket's queue and priority; both deadlines run from ``now``."""
    ticket.first_response_paused_seconds = ticket.resolution_paused_seconds = 0
    _plan(session, ticket, now)


def replan(session: Session, ticket: Ticket, actor: str) -> None:
    """Re-plan from creation under the policy for the ticket's queue and priority now.

    Measuring from creation (not from now) keeps an urgent escalation honest: raising a
    day-old ticket to urgent makes it overdue at once rather than granting it a fresh clock.
    The paused sums are kept: time spent waiting on the customer stays forgiven.
    """
    before = _describe(session, ticket)
    _plan(session, ticket, ticket.created_at)
    _record(session, ticket, actor, before)


def on_status_change(
    session: Session, ticket: Ticket, old: str, new: str, now: datetime, actor: str = audit.SYSTEM
) -> None:
    """Stand the clocks still in pending and resolved; when they run again, move the deadlines.

    Pending into resolved ends the pending pause there (the resolution is judged against
    deadlines that forgive it) and starts the resolved one; resolved into closed changes
    nothing more.
    """
    paused_from = ticket.sla_paused_at
    ticket.sla_paused_at = now if new in STILL_STATUSES else None
    if paused_from is None or (old == "resolved" and new == "closed"):
        return
    policy = session.get(SlaPolicy, ticket.sla_policy_id) if ticket.sla_policy_id else None
    if policy is None or ticket.resolution_due_at is None:
        return
    calendar = plan_for_policy(session, policy).calendar
    # Whole seconds, as stored: the paused sums and the deadlines moved by them agree.
    seconds = max(0, int(calendar.between(paused_from, now).total_seconds()))
    if not seconds:
        return
    before = _describe(session, ticket)
    paused = timedelta(seconds=seconds)
    ticket.resolution_paused_seconds += seconds
    ticket.resolution_due_at = calendar.add(ticket.resolution_due_at, paused)
    if ticket.first_responded_at is None and ticket.first_response_due_at is not None:
        ticket.first_response_paused_seconds += seconds
        ticket.first_response_due_at = calendar.add(ticket.first_response_due_at, paused)
    _record(session, ticket, actor, before)


def _plan(session: Session, ticket: Ticket, created_at: datetime) -> None:
    policy = policy_for(session, ticket.priority, ticket.queue_id)
    ticket.sla_policy_id = policy.id if policy else None
    if policy is None:
        ticket.first_response_due_at = ticket.resolution_due_at = None
        return
    due = compute_deadlines(
        created_at,
        plan_for_policy(session, policy),
        timedelta(seconds=ticket.first_response_paused_seconds),
        timedelta(seconds=ticket.resolution_paused_seconds),
    )
    ticket.first_response_due_at, ticket.resolution_due_at = due


def _describe(session: Session, ticket: Ticket) -> str:
    """``policy=vip first_response_due=2026-03-02T11:00:00+00:00 resolution_due=...``."""
    policy = session.get(SlaPolicy, ticket.sla_policy_id) if ticket.sla_policy_id else None
    return " ".join(
        (
            f"policy={policy.name if policy else 'none'}",
            f"first_response_due={_iso(ticket.first_response_due_at)}",
            f"resolution_due={_iso(ticket.resolution_due_at)}",
        )
    )


def _record(session: Session, ticket: Ticket, actor: str, before: str) -> None:
    after = _describe(session, ticket)
    if after != before:
        audit.record(session, ticket, actor, "sla", before, after)


def _iso(instant: datetime | None) -> str:
    return instant.isoformat() if instant is not None else "none"
