"""The SLA part of ``ticketgw demo``: an urgent ticket nobody answers, escalating.

The clock is driven the way an operator checks a policy, with ``sla scan --at``: no
waiting. The scans look at the demo's own ticket only, so tickets of earlier runs do not
crowd the tables.
"""

from __future__ import annotations

import click

from admin_cli.output import iso
from admin_cli.sla_scan_cmd import print_raised
from gateway import audit
from gateway.contacts import contact_for_email
from gateway.queues import DEFAULT_QUEUE, get_queue
from gateway.runtime import Runtime
from gateway.sla.deadlines import plan_for_policy
from gateway.sla.levels import Moment, moments
from gateway.sla.scan import scan
from gateway.tickets import NewMessage, add_message, assign, open_ticket
from schema.models import SlaPolicy

CUSTOMER = ("Dan Buyer", "dan@example.net")
ASSIGNEE = "bob@example.com"


def play(runtime: Runtime) -> None:
    """Open an urgent ticket, then scan at its warning, breach and second breach."""
    ticket_id, levels = _urgent_ticket(runtime)
    click.echo(
        f"\nSLA escalation: urgent ticket T-{ticket_id:06d} is assigned to {ASSIGNEE} and "
        "nobody answers.\nThe scan runs as if the clock had moved on (`ticketgw sla scan "
        "--at TIME`):"
    )
    for moment in levels:
        click.echo(f"\n$ ticketgw sla scan --at {iso(moment.at)}   # {_why(moment)}")
        print_raised(scan(runtime, moment.at, ticket_ids=[ticket_id]).raised)
    again = levels[-1].at
    click.echo(f"\n$ ticketgw sla scan --at {iso(again)}   # again: each level fires once")
    print_raised(scan(runtime, again, ticket_ids=[ticket_id]).raised)


def _urgent_ticket(runtime: Runtime) -> tuple[int, list[Moment]]:
    """A new urgent ticket from the demo customer, and its first-response levels."""
    with runtime.transaction() as session:
        contact = contact_for_email(session, CUSTOMER[1], CUSTOMER[0])
        ticket = open_ticket(
            session,
            queue=get_queue(session, DEFAULT_QUEUE),
            contact=contact,
            subject="Checkout is down, customers cannot pay",
            channel="email",
            actor=audit.customer_actor(CUSTOMER[1]),
            priority="urgent",
        )
        add_message(
            session,
            ticket,
            NewMessage(
                author_kind="customer",
                channel="email",
                visible_text="Our checkout page shows an error 500 since 10 minutes.",
                subject=ticket.subject,
                sender=CUSTOMER[1],
                contact=contact,
            ),
        )
        assign(session, ticket, ASSIGNEE, actor=audit.ADMIN)
        policy = session.get_one(SlaPolicy, ticket.sla_policy_id)
        assert ticket.first_response_due_at is not None, "urgent tickets have a policy"
        levels = moments(
            "first_response",
            ticket.created_at,
            ticket.first_response_due_at,
            policy.warn_at_percent,
            plan_for_policy(session, policy).calendar,
        )
        return ticket.id, list(levels)


def _why(moment: Moment) -> str:
    return f"{moment.percent}% of the first-response target: {moment.level}"
