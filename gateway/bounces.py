"""What a bounce of our own mail changes: the outbox row it answers and the address."""

from __future__ import annotations

from collections.abc import Collection
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
    if report.permanent:
        mark_bouncing(session, report.recipients, now)


def mark_bouncing(session: Session, addresses: Collection[str], now: datetime) -> None:
    """Mark these email addresses bouncing (from ``now``, unless they already were).

    A bouncing address gets no more automatic mail (``gateway.notify``). Called for a DSN's
    permanent failures and for a relay's permanent refusal of a recipient at RCPT.
    """
    if not addresses:
        return
    identities = session.scalars(
        select(ContactIdentity).where(
            ContactIdentity.kind == "email",
            ContactIdentity.value.in_([a.lower() for a in addresses]),
            ContactIdentity.bouncing_since.is_(None),
        )
    )
    for identity in identities:
        identity.bouncing_since = now
