"""The inbound circuit breaker: a runaway sender keeps its mail, but not our attention.

Mail over the rate is still stored and threaded; it is only *held*: no notifications go
out for it, and ``ticketgw mail inbox list --status held`` shows it. A sender is counted
by address and, separately, by domain, so a loop that rotates addresses trips too.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
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
    for column, value, what in (
        (InboxItem.sender, sender, f"sender {sender}"),
        (InboxItem.sender_domain, domain, f"domain {domain}"),
    ):
        if not value:
            continue
        recent = session.scalar(
            select(func.count())
            .select_from(InboxItem)
            .where(column == value, InboxItem.received_at >= since, InboxItem.id != item.id)
        )
        if recent is not None and recent >= rate:
            return f"{what} sent more than {rate} mails in a minute: held, no notifications"
    return None
