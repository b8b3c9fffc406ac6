"""A helpdesk for escalation tests: an office-hours policy, agents, and a ticket clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from gateway import audit, tickets
from gateway.agents import add_agent
from gateway.runtime import Runtime
from gateway.sla.policies import get_policy, set_policy
from schema.models import OutboxItem, SlaEscalation, Ticket
from tests.cli.conftest import gw, make_ticket, ticketgw

__all__ = ["gw", "ticketgw"]  # the CLI fixtures, for the `sla scan` tests here

BERLIN = ZoneInfo("Europe/Berlin")
ANN, BOB, MIA = "ann@example.com", "bob@example.com", "mia@example.com"
ANN_PHONE, MIA_PHONE = "+14155550101", "+14155550103"
LEAD = "lead@partner.example"  # an escalation address that is not an agent


def berlin(text: str) -> datetime:
    """A Berlin wall-clock time, as the aware UTC instant the database returns."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).astimezone(UTC)


@pytest.fixture
def office(runtime: Runtime) -> Runtime:
    """Normal tickets: first response 4h, resolution 2d, Mon-Fri 09-17 Berlin; three agents."""
    with runtime.transaction() as session:
        set_policy(
            session,
            "normal",
            priority="normal",
            first_response="4h",
            resolution="2d",
            hours="Mon-Fri 09:00-17:00",
            tz="Europe/Berlin",
            escalate_to=[BOB, LEAD],
        )
        add_agent(session, ANN, "Ann Agent", phone=ANN_PHONE)
        add_agent(session, BOB, "Bob Boss")
        add_agent(session, MIA, "Mia Manager", phone=MIA_PHONE, role="manager")
    return runtime


def escalate_by(runtime: Runtime, how: str) -> None:
    with runtime.transaction() as session:
        policy = get_policy(session, "normal")
        set_policy(
            session,
            "normal",
            priority=policy.priority,
            first_response=policy.first_response,
            resolution=policy.resolution,
            hours=policy.business_hours,
            tz=policy.timezone,
            escalate_to=policy.escalate_to,
            escalate_by=how,
        )


OpenTicket = Callable[..., int]


@pytest.fixture
def open_ticket(office: Runtime) -> OpenTicket:
    """Open a ticket at a Berlin time, assigned to ``assignee``; its id."""

    def run(at: str, *, assignee: str | None = ANN, subject: str = "Cannot log in") -> int:
        reference = make_ticket(office, subject=subject, now=berlin(at))
        with office.transaction() as session:
            ticket = tickets.get_ticket(session, reference)
            if assignee:
                tickets.assign(session, ticket, assignee, actor=audit.ADMIN)
            return ticket.id

    return run


def escalation_mails(runtime: Runtime) -> list[tuple[str, str, str]]:
    """``(template, channel, recipient)`` of every escalation row in the outbox, sorted."""
    with runtime.sessions() as session:
        rows = session.execute(
            select(OutboxItem.template, OutboxItem.channel, OutboxItem.recipient).where(
                OutboxItem.template.like("%sla%")
            )
        )
        return sorted((r.template, r.channel, r.recipient) for r in rows)


def raised(runtime: Runtime) -> list[tuple[int, str, str, str]]:
    """``(ticket, deadline, level, outcome)`` of every recorded escalation, sorted."""
    with runtime.sessions() as session:
        rows = session.execute(
            select(
                SlaEscalation.ticket_id,
                SlaEscalation.deadline,
                SlaEscalation.level,
                SlaEscalation.outcome,
            )
        )
        return sorted(tuple(r) for r in rows)  # type: ignore[misc]


def next_check(runtime: Runtime, ticket_id: int) -> datetime | None:
    with runtime.sessions() as session:
        return session.get_one(Ticket, ticket_id).sla_next_check_at
