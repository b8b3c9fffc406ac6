"""Recording a rating that arrives by a signed link (the HTTP listener's ``/csat/...``).

Idempotent: the same link again changes nothing and shows the same thanks; another digit
after an answer changes nothing either (first answer wins) and says which rating stands.
The ticket row is locked while it is read and written, so two clicks at once cannot both
count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway import audit, tickets
from gateway.csat import survey
from gateway.csat.answer import Answer
from gateway.tickets import NewMessage
from schema.models import Ticket


@dataclass(frozen=True, slots=True)
class LinkResult:
    outcome: survey.Outcome
    reference: str
    rating: int | None  # the rating that stands


def rate_by_link(session: Session, ticket_id: int, rating: int, now: datetime) -> LinkResult | None:
    """Record ``rating`` for ticket ``ticket_id``; ``None`` when there is no such ticket."""
    # Lock the row alone: PostgreSQL refuses FOR UPDATE over the ticket's outer joins.
    locked = session.scalar(select(Ticket.id).where(Ticket.id == ticket_id).with_for_update())
    ticket = session.get(Ticket, locked) if locked is not None else None
    if ticket is None:
        return None
    identity = ticket.contact.identity("phone" if ticket.channel == "sms" else "email")
    who = identity.value if identity is not None else ticket.contact.name
    answer = Answer(rating, None)
    outcome = survey.record(
        session, ticket, answer, via="link", actor=audit.customer_actor(who), now=now
    )
    if outcome == "recorded":
        tickets.add_message(
            session,
            ticket,
            NewMessage.system_note(
                survey.note_text(answer, "link", outcome, None), channel="cli", sender=who
            ),
            now=now,
        )
    return LinkResult(outcome, ticket.reference, ticket.satisfaction_rating)
