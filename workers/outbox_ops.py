"""Outbox queries and the admin's way back for parked rows (``ticketgw outbox``).

``failed`` and ``dead`` rows stay until someone looks at them; :func:`retry` puts one back to
``pending`` with a fresh attempt budget, and the relay or the next sweep delivers it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.export import iso
from schema.models import OutboxItem
from schema.models.base import utcnow
from schema.models.outbox import OUTBOX_STATUSES

RETRYABLE = ("failed", "dead")


def list_rows(session: Session, status: str | None = None, limit: int = 100) -> list[OutboxItem]:
    """Rows newest first, optionally only those in ``status``."""
    query = select(OutboxItem).order_by(OutboxItem.id.desc()).limit(limit)
    if status is not None:
        if status not in OUTBOX_STATUSES:
            raise InvalidInput(
                f"unknown outbox status {status!r}: use one of {', '.join(OUTBOX_STATUSES)}"
            )
        query = query.where(OutboxItem.status == status)
    return list(session.scalars(query))


def get_row(session: Session, row_id: int) -> OutboxItem:
    row = session.get(OutboxItem, row_id)
    if row is None:
        raise NotFound(f"no outbox row {row_id}")
    return row


def retry(session: Session, row_id: int) -> OutboxItem:
    """Put a ``failed`` or ``dead`` row back to ``pending`` with its attempts reset."""
    row = get_row(session, row_id)
    if row.status not in RETRYABLE:
        raise Conflict(f"outbox row {row_id} is {row.status}; only failed or dead rows are retried")
    now = utcnow()
    # next_attempt_at = now (not NULL) gives the row a new version for the relay's marks.
    row.status, row.attempts, row.next_attempt_at, row.updated_at = "pending", 0, now, now
    session.flush()
    return row


def retry_all_dead(session: Session) -> int:
    """Every ``dead`` row back to ``pending``; returns how many."""
    now = utcnow()
    result = session.execute(
        update(OutboxItem)
        .where(OutboxItem.status == "dead")
        .values(status="pending", attempts=0, next_attempt_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def row_record(row: OutboxItem) -> dict[str, Any]:
    """The JSON shape of a row for ``outbox list/show --json``."""
    return {
        "id": row.id,
        "channel": row.channel,
        "recipient": row.recipient,
        "template": row.template,
        "locale": row.locale,
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "provider_id": row.provider_id,
        "delivery_status": row.delivery_status,
        "message_id": row.email_message_id,
        "ticket_id": row.ticket_id,
        "next_attempt_at": iso(row.next_attempt_at),
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "sent_at": iso(row.sent_at),
    }
