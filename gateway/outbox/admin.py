"""Outbox queries and the admin's way back for parked rows (``ticketgw outbox``).

``failed`` and ``dead`` rows stay until someone looks at them; :func:`retry_row` puts one back to
``pending`` with a fresh attempt budget, :func:`retry_matching` puts back every row of a
:class:`RetrySelection` (an operator who fixed the relay resends hundreds at once), and the
relay, ``workers.deliver_now`` or the next sweep delivers them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, update
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


def retry_row(session: Session, row_id: int) -> OutboxItem:
    """Put a ``failed`` or ``dead`` row back to ``pending`` with its attempts reset."""
    row = get_row(session, row_id)
    if row.status not in RETRYABLE:
        raise Conflict(f"outbox row {row_id} is {row.status}; only failed or dead rows are retried")
    now = utcnow()
    # next_attempt_at = now (not NULL) gives the row a new version for the relay's marks.
    row.status, row.attempts, row.next_attempt_at, row.updated_at = "pending", 0, now, now
    session.flush()
    return row


@dataclass(frozen=True, slots=True)
class RetrySelection:
    """Which parked rows a bulk retry takes: one status, optionally recent, to one address."""

    status: str
    since: datetime | None = None  # parked at or after this moment
    to: str | None = None

    def __post_init__(self) -> None:
        if self.status not in RETRYABLE:
            raise InvalidInput(f"only failed or dead rows are retried, not {self.status!r}")

    def where(self) -> ColumnElement[bool]:
        clauses = [OutboxItem.status == self.status]
        if self.since is not None:
            clauses.append(OutboxItem.updated_at >= self.since)
        if self.to is not None:
            clauses.append(OutboxItem.recipient == self.to.strip().lower())
        return and_(*clauses)


def count_matching(session: Session, selection: RetrySelection) -> int:
    return int(session.scalar(select(func.count()).where(selection.where())) or 0)


def retry_matching(session: Session, selection: RetrySelection) -> list[int]:
    """Every row of ``selection`` back to ``pending`` with its attempts reset; their ids."""
    now = utcnow()
    ids = session.scalars(
        update(OutboxItem)
        .where(selection.where())
        .values(status="pending", attempts=0, next_attempt_at=now, updated_at=now)
        .returning(OutboxItem.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(ids)


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
        "segments": row.segments,
        "encoding": row.encoding,
        "message_id": row.email_message_id,
        "ticket_id": row.ticket_id,
        "next_attempt_at": iso(row.next_attempt_at),
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "sent_at": iso(row.sent_at),
    }
