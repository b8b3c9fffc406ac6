"""What a bounce of our own mail changes: the outbox row it answers and the address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.classify import BounceReport
from schema.models import ContactIdentity, OutboxItem


def record(session: Session, report: BounceReport, now: datetime) -> None:
    """Mark the bounced notification and, for a permanent failure, its addresses.

    A delay only annotates the outbox row: the remote MTA is still trying, so the address
    is not marked as bouncing.
    """
    status = "bounced" if report.permanent else "delayed"
    detail = " ".join(filter(None, [report.status, report.diagnostic])) or None
    if report.original_message_id:
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.email_message_id == report.original_message_id)
            .values(delivery_status=status, last_error=detail)
        )
    if not report.permanent or not report.recipients:
        return
    identities = session.scalars(
        select(ContactIdentity).where(
            ContactIdentity.kind == "email",
            ContactIdentity.value.in_(report.recipients),
            ContactIdentity.bouncing_since.is_(None),
        )
    )
    for identity in identities:
        identity.bouncing_since = now
