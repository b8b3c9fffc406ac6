"""May a verified agent's reply go to the customer? Held, with the reason, when it may not.

A reply is relayed only when it has words of its own and none of the ticket's internal
notes is in what would be sent. A held reply is kept on the ticket as an internal note,
runs none of its commands (half-applying what an agent typed is worse than none), and the
agent is told why by mail (``gateway.notify``, template ``reply_held``).

Whatever the quote stripper makes of a reply, the note check reads the very text that
would be relayed, so an agent who bottom-posts under an internal-note notification, or
pastes a note without our marker, never sends it on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.commands import ParsedReply
from gateway.mail.quotes import REPLY_MARKER
from gateway.message import InboundMessage
from gateway.note_leaks import Note, leaked
from schema.models import Agent, Message, Ticket


@dataclass(frozen=True, slots=True)
class Hold:
    """Why a reply is held: a short title (mail subject) and what to do about it."""

    title: str
    reason: str

    def __str__(self) -> str:
        return f"{self.title}: {self.reason}"


def hold(
    session: Session, ticket: Ticket, message: InboundMessage, reply: ParsedReply
) -> Hold | None:
    """The reason to hold this reply back from the customer, or None to relay it."""
    if reply.internal:
        return None  # a #note: nothing goes to the customer
    # Without words of its own, the whole mail (its quote) is what it carries.
    outgoing = reply.text if message.has_new_text else message.full_text
    note = leaked(outgoing, notes_of(session, ticket)) if outgoing else None
    if note is not None:
        return Hold(
            "it quotes an internal note",
            f"it contains the internal note written by {note.author} on {note.written}. "
            "Internal notes never go to the customer: answer again without the note "
            "(and without quoting its notification).",
        )
    if not message.has_new_text:
        return Hold(
            "no words of its own",
            "we found nothing you wrote above the quoted mail. Write your answer above "
            f'the line "{REPLY_MARKER}" and send it again.',
        )
    return None


def notes_of(session: Session, ticket: Ticket) -> Iterator[Note]:
    """The ticket's internal notes: written as notes, not replies held back or automatic mail."""
    rows = session.execute(
        select(Message.visible_text, Message.created_at, Agent.name, Message.sender)
        .outerjoin(Agent, Agent.id == Message.author_agent_id)
        .where(
            Message.ticket_id == ticket.id,
            Message.internal.is_(True),
            Message.held_reason.is_(None),
        )
        .order_by(Message.id)
    )
    for text, written, name, sender in rows:
        yield Note(text, name or sender or "an admin", written.strftime("%Y-%m-%d %H:%M UTC"))
