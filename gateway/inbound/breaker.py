"""The inbound circuit breaker: a runaway sender keeps its mail, but not our attention.

Mail over the rate is still stored and threaded; it is only *held*: no notifications go
out for it, and ``ticketgw mail inbox list --status held`` shows it. A sender is counted
by address and, separately, by domain, so a loop that rotates addresses trips too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from gateway.identities import domain_of
from gateway.lookups import lookups
from schema.models import InboxItem


def hold_reason(
    session: Session, item: InboxItem | None, sender: str, rate: int, now: datetime
) -> str | None:
    """Why ``item`` should be held, or ``None``: more than ``rate`` mails in the last minute.

    Counted from the transaction's lookups: the database's count once per sender and
    domain, plus the items of the same batch as they are processed. ``mail explain`` asks
    with no item: then the counts are read, not added to.
    """
    if not sender:
        return None
    domain = domain_of(sender)
    index = lookups(session)
    by_sender, by_domain = index.recent_mail(sender, domain, now, item.id if item else None)
    if item is not None:
        index.add_mail(sender, domain)
    for recent, what in ((by_sender, f"sender {sender}"), (by_domain, f"domain {domain}")):
        if recent >= rate:
            return f"{what} sent more than {rate} mails in a minute: held, no notifications"
    return None
