"""The inbound circuit breaker: a runaway sender keeps its mail, but not our attention.

Mail over the rate is still stored and threaded; it is only *held*: no notifications go
out for it, and ``ticketgw mail inbox list --status held`` shows it. A sender is counted
by address and, separately, by domain, so a loop that rotates addresses trips too.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.orm import Session

from schema.models import InboxItem

WINDOW = timedelta(minutes=1)


def hold_reason(
    session: Session, item: InboxItem, sender: str, rate: int, now: datetime
) -> str | None:
    """Why ``item`` should be held, or ``None``: more than ``rate`` mails in the last minute."""
    if not sender:
        return None
    domain = sender.rpartition("@")[2]
    since = now - WINDOW
    # One query for both counts (a portable ``sum(case ...)``, not PostgreSQL's FILTER):
    # rows by this sender or, if there is one, this domain; each counted on its own.
    by_sender = InboxItem.sender == sender
    by_domain = InboxItem.sender_domain == domain
    row = session.execute(
        select(
            func.sum(case((by_sender, 1), else_=0)),
            func.sum(case((by_domain, 1), else_=0)) if domain else literal(0),
        ).where(
            or_(by_sender, by_domain) if domain else by_sender,
            InboxItem.received_at >= since,
            InboxItem.id != item.id,
        )
    ).one()
    for recent, what in ((row[0], f"sender {sender}"), (row[1], f"domain {domain}")):
        if recent is not None and recent >= rate:
            return f"{what} sent more than {rate} mails in a minute: held, no notifications"
    return None
