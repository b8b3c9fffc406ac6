"""The audit trail: who changed what on a ticket, written in the same transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from schema.db import add_row
from schema.models import AuditEvent, Ticket
from schema.models.base import utcnow

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
) -> None:
    """Queue one audit event; it is inserted with the transaction's other rows."""
    add_row(
        session,
        AuditEvent,
        {
            "ticket_id": ticket.id,
            "actor": actor,
            "action": action,
            "old_value": None if old is None else str(old),
            "new_value": None if new is None else str(new),
            # Stamped now, not at insert: the trail is read back by (created_at, id).
            "created_at": utcnow(),
        },
    )
