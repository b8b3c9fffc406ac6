"""``ticketgw demo``: a small working helpdesk on the configured database.

Everything goes through the functions the other commands call, so the demo also proves
them. Running it again reuses what the last run created instead of failing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_cli import demo_conversation, demo_sla
from admin_cli.context import runtime, transaction
from admin_cli.db_cmd import migrate_to_head
from admin_cli.output import done
from admin_cli.tickets import print_ticket_table
from gateway import audit
from gateway.agents import add_agent, find_agent
from gateway.contacts import contact_for_email, contact_for_phone
from gateway.export import ticket_summary
from gateway.queues import DEFAULT_QUEUE, add_member, get_queue
from gateway.sla.policies import ensure_default_policies
from gateway.tickets import NewMessage, add_message, assign, open_ticket
from schema.models import Contact, Ticket

AGENTS = (
    ("ann@example.com", "Ann Agent", "manager"),
    ("bob@example.com", "Bob Helper", "agent"),
)


@dataclass(frozen=True, slots=True)
class DemoTicket:
    channel: str  # email | sms
    sender: str  # an address, or a phone number for SMS
    name: str
    subject: str
    text: str
    assignee: str | None = None


TICKETS = (
    DemoTicket(
        "email",
        "carol@example.org",
        "Carol Customer",
        "Cannot log in",
        "Hello, since this morning the login page says my password is wrong.",
        assignee="ann@example.com",
    ),
    DemoTicket(
        "email",
        "dan@example.net",
        "Dan Buyer",
        "Invoice 2291 is wrong",
        "The invoice for November charges me twice for the same plan.",
    ),
    DemoTicket(
        "sms",
        "+14155552671",
        "",
        "SMS from +14155552671",
        "Hi, my parcel has not arrived yet. Order 5521.",
    ),
)


@click.command()
def demo() -> None:
    """Set up a small demo helpdesk, show its tickets and play a conversation.

    Migrates the database, adds two agents and the default SLA policies, and opens a few
    tickets from customers writing by email and by SMS. Then a customer writes to the live
    SMTP listener, replies to the acknowledgement, and an agent answers from her mail
    client; the mails they receive are shown. Last, an urgent ticket nobody answers
    escalates: warning, breach, second breach. Safe to run again.
    """
    # Delivery problems are shown in the outbox (`ticketgw outbox list`), not as log noise
    # in the middle of the demo's output.
    logging.basicConfig(level=logging.ERROR)
    done(f"database at revision {migrate_to_head()}")
    with transaction() as session:
        queue = get_queue(session, DEFAULT_QUEUE)
        for email, name, role in AGENTS:
            if find_agent(session, email) is None:
                add_agent(session, email, name, role=role)
            add_member(session, queue.name, email)
        ensure_default_policies(session)
        ids = [_open(session, item).id for item in TICKETS]
    with transaction() as session:
        summaries = [ticket_summary(session.get_one(Ticket, i)) for i in ids]
    print_ticket_table(summaries)
    click.echo("\nA live conversation: the SMTP listener, the workers and a local mailbox")
    click.echo(
        "standing in for the customers' and agents' mail servers (nothing leaves this machine)."
    )
    demo_conversation.play(runtime().settings)
    demo_sla.play(runtime())


def _open(session: Session, item: DemoTicket) -> Ticket:
    """The demo ticket for ``item``: found from an earlier run, or opened now."""
    if item.channel == "sms":
        contact = contact_for_phone(session, item.sender, item.name)
    else:
        contact = contact_for_email(session, item.sender, item.name)
    ticket = _existing(session, contact, item.subject)
    if ticket is None:
        sender = contact.identities[0].value
        ticket = open_ticket(
            session,
            queue=get_queue(session, DEFAULT_QUEUE),
            contact=contact,
            subject=item.subject,
            channel=item.channel,
            actor=audit.customer_actor(sender),
        )
        add_message(
            session,
            ticket,
            NewMessage(
                author_kind="customer",
                channel=item.channel,
                visible_text=item.text,
                subject=item.subject,
                sender=sender,
                contact=contact,
                email_message_id=(
                    f"demo-{ticket.id}@{sender.partition('@')[2]}"
                    if item.channel == "email"
                    else None
                ),
            ),
        )
    if item.assignee:
        assign(session, ticket, item.assignee, actor=audit.ADMIN)
    return ticket


def _existing(session: Session, contact: Contact, subject: str) -> Ticket | None:
    return session.scalars(
        select(Ticket)
        .where(Ticket.contact_id == contact.id, Ticket.subject == subject)
        .order_by(Ticket.id)
        .limit(1)
    ).first()
