"""The audit trail: who changed what on a ticket, written in the same transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from schema.models import AuditEvent, Ticket

SYSTEM = "system"
ADMIN = "admin"


def agent_actor(email: str) -> str:
    return f"agent:{email}"


def customer_actor(address: str) -> str:
    return f"customer:{address}"


def record(
    session: Session,
    ticket: Ticket,
    actor: str,
    action: str,
    old: object = None,
    new: object = None,
) -> AuditEvent:
    event = AuditEvent(
        ticket_id=ticket.id,
        actor=actor,
        action=action,
        old_value=None if old is None else str(old),
        new_value=None if new is None else str(new),
    )
    session.add(event)
    return event
