"""The survey's life: asked once when a ticket is first resolved, answered once.

- **Asked** by the resolved notification (``gateway.notify``) when the ticket's queue has
  the survey on and the ticket was never asked: a second resolution does not ask again.
- **Answered** by a reply whose visible text is a rating (``gateway.csat.answer``) while
  the ticket is resolved, or by a signed link (``gateway.csat.links``). The answer is
  stored on the ticket and never reopens it; a comment is kept with it and shown to the
  agents as an internal note.
- **First answer wins**: a later answer is recorded in the audit trail and as a note, and
  changes nothing. A customer who wants to say more replies in words, which reopens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway import audit
from gateway.csat.answer import Answer
from schema.models import Ticket

Outcome = Literal["recorded", "already_rated", "not_asked"]
VIA = ("email", "sms", "link")
_IN_PROGRESS = ("new", "open", "pending")


def should_ask(ticket: Ticket) -> bool:
    """Whether resolving ``ticket`` now asks for a rating."""
    return ticket.queue.csat and ticket.csat_asked_at is None and ticket.merged_into_id is None


def mark_asked(session: Session, ticket: Ticket, now: datetime) -> None:
    ticket.csat_asked_at = now
    audit.record(session, ticket, audit.SYSTEM, "csat_asked", new=now.isoformat())


def takes_reply(ticket: Ticket) -> bool:
    """A rating in a reply counts for ``ticket``: it is resolved and was asked."""
    return ticket.status == "resolved" and ticket.csat_asked_at is not None


def record(
    session: Session, ticket: Ticket, answer: Answer, *, via: str, actor: str, now: datetime
) -> Outcome:
    """Store ``answer`` on ``ticket`` unless it was never asked or is rated already."""
    if ticket.csat_asked_at is None:
        return "not_asked"
    if ticket.satisfaction_rating is not None:
        return "already_rated"
    ticket.satisfaction_rating = answer.rating
    ticket.satisfaction_comment = answer.comment
    ticket.rated_at = now
    ticket.rated_via = via
    audit.record(session, ticket, actor, "rating", new=answer.rating)
    return "recorded"


def note_text(answer: Answer, via: str, outcome: Outcome, kept: int | None) -> str:
    """The internal note that shows the agents what the customer answered."""
    if outcome == "already_rated":
        head = (
            f"The customer answered the survey again ({answer.rating}/5 by {via}); "
            f"the first answer ({kept}/5) stands."
        )
    else:
        head = f"The customer rated this ticket {answer.rating}/5 (by {via})."
    return f"{head}\n\n{answer.comment}" if answer.comment else head


def survey_ticket_of(session: Session, contact_id: int) -> Ticket | None:
    """The contact's most recently resolved ticket that asked for a rating (SMS answers).

    ``None`` when a ticket of theirs in progress was touched after that resolution: a
    digit then answers that conversation, not the survey.
    """
    candidate = session.scalars(
        select(Ticket)
        .where(
            Ticket.contact_id == contact_id,
            Ticket.status == "resolved",
            Ticket.csat_asked_at.is_not(None),
            Ticket.merged_into_id.is_(None),
        )
        .order_by(Ticket.resolved_at.desc(), Ticket.id.desc())
        .limit(1)
    ).first()
    if candidate is None or candidate.resolved_at is None:
        return None
    busy = session.scalar(
        select(Ticket.id)
        .where(
            Ticket.contact_id == contact_id,
            Ticket.status.in_(_IN_PROGRESS),
            Ticket.updated_at > candidate.resolved_at,
        )
        .limit(1)
    )
    return None if busy is not None else candidate


def answer_by_reply(
    session: Session, ticket: Ticket, answer: Answer, *, via: str, sender: str, now: datetime
) -> str:
    """Record a rating that came as a reply; returns the text of the note that shows it.

    The caller stores the customer's message as that internal note (with its Message-ID
    or MessageSid, so a second delivery is still known), which never reopens the ticket.
    """
    outcome = record(session, ticket, answer, via=via, actor=audit.customer_actor(sender), now=now)
    return note_text(answer, via, outcome, ticket.satisfaction_rating)
