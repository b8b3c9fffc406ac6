"""An agent's reply too long for SMS: the whole reply by email, and the agent told.

The SMS worker cuts a reply over ``TICKETGW_SMS_MAX_SEGMENTS`` (``workers.send_sms``) and
calls :func:`follow_up` before it sends the cut text. That writes, in one transaction,

- the whole reply as the ``agent_reply`` mail to the customer's email address, when the
  contact has one that does not bounce (the cut SMS says the rest follows by email), and
- the ``reply_shortened`` mail to the agent who wrote it (else the assignee): how much the
  customer got by SMS, and whether the rest went by email.

Both are keyed by the SMS outbox row, so a row sent again (a retry after Twilio's 429, a
worker lost mid-send) never writes them twice.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.outbox import Recipient, enqueue_email
from gateway.template_vars import ticket_vars
from schema.models import Agent, Message, OutboxItem, Ticket


def rest_goes_to(session: Session, sms_row: OutboxItem) -> str | None:
    """Where the whole of a cut reply would go: the customer's email address, or None.

    None when the row does not name the reply it carries, or the customer has no email
    address, or it bounces.
    """
    if not isinstance((sms_row.context or {}).get("message_id"), int):
        return None
    ticket = session.get(Ticket, sms_row.ticket_id) if sms_row.ticket_id is not None else None
    identity = ticket.contact.identity("email") if ticket is not None else None
    if identity is None or identity.bouncing_since is not None:
        return None
    return identity.value


def follow_up(
    session: Session,
    settings: Settings,
    *,
    sms_row: OutboxItem,
    email: str | None,
    sent: int,
    full: int,
) -> int:
    """Write the follow-ups of the cut SMS ``sms_row``; returns how many rows were new.

    ``sent`` and ``full`` are the segments of the SMS as sent and of the whole reply.
    """
    ticket = session.get(Ticket, sms_row.ticket_id) if sms_row.ticket_id is not None else None
    if ticket is None:
        return 0
    message_id = (sms_row.context or {}).get("message_id")
    message = session.get(Message, message_id) if isinstance(message_id, int) else None
    author = None
    if message is not None and message.author_agent_id is not None:
        author = session.get(Agent, message.author_agent_id)
    keys = {"rest": f"sms_rest:{sms_row.id}", "notice": f"reply_shortened:{sms_row.id}"}
    taken = set(
        session.scalars(
            select(OutboxItem.idempotency_key).where(OutboxItem.idempotency_key.in_(keys.values()))
        )
    )
    support = settings.support_address[0]
    written = 0
    if email and message is not None and keys["rest"] not in taken:
        customer = Recipient.contact(ticket.contact, email)
        variables = ticket_vars(
            session,
            ticket,
            recipient_name=customer.name,
            recipient_address=email,
            default_address=support,
            message=message,
            agent=author,
            whole_text=True,  # the whole reply is the point of this mail
        )
        written += enqueue_email(
            session,
            settings,
            ticket=ticket,
            recipient=customer,
            template="agent_reply",
            vars=variables,
            key=keys["rest"],
            auto_submitted=None,  # the agent's own words
        )
    agent = author if author is not None and author.active else ticket.assignee
    if agent is not None and keys["notice"] not in taken:
        recipient = Recipient.agent(agent)
        variables = ticket_vars(
            session,
            ticket,
            recipient_name=agent.name,
            recipient_address=agent.email,
            default_address=support,
            message=message,
            agent=author,
            sms={
                "to": sms_row.recipient,
                "segments_sent": sent,
                "segments_full": full,
                "segments_max": settings.sms_max_segments,
                "email": email if message is not None else None,
            },
        )
        written += enqueue_email(
            session,
            settings,
            ticket=ticket,
            recipient=recipient,
            template="reply_shortened",
            vars=variables,
            key=keys["notice"],
        )
    return written
