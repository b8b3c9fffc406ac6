"""Resolving a ticket and answering its resolved mail, as an agent and a customer would."""

from __future__ import annotations

from sqlalchemy import select

from gateway import tickets
from gateway.audit import ADMIN
from gateway.runtime import Runtime
from schema.models import Message, OutboxItem, Ticket
from tests.inbound.mails import new_request


def resolve(runtime: Runtime, reference: str, status: str = "resolved") -> None:
    with runtime.transaction() as s:
        tickets.change_status(s, tickets.get_ticket(s, reference), status, actor=ADMIN)


def rows(runtime: Runtime, template: str) -> list[OutboxItem]:
    with runtime.sessions() as s:
        query = select(OutboxItem).where(OutboxItem.template == template)
        return list(s.scalars(query.order_by(OutboxItem.id)))


def ticket(runtime: Runtime, reference: str) -> Ticket:
    with runtime.sessions() as s:
        found = tickets.get_ticket(s, reference)
        s.expunge(found)
        return found


def notes(runtime: Runtime, reference: str) -> list[str]:
    with runtime.sessions() as s:
        found = tickets.get_ticket(s, reference)
        query = select(Message.visible_text).where(
            Message.ticket_id == found.id, Message.internal.is_(True)
        )
        return list(s.scalars(query.order_by(Message.id)))


def answer(row: OutboxItem, text: str, sender: str = "bob@example.org") -> bytes:
    """The customer's reply to the resolved mail ``row``: text on top, the mail quoted."""
    headers = row.context["headers"]
    msg = new_request(
        sender=sender,
        to=headers["Reply-To"],
        subject=f"Re: {row.context['vars']['ticket']['subject']}",
        body=f"{text}\n\nOn Mon, Mar 2, 2026 at 10:00 AM Support wrote:\n> We resolved it.\n",
    )
    msg["In-Reply-To"] = headers["Message-ID"]
    msg["References"] = headers["Message-ID"]
    return msg.as_bytes()
