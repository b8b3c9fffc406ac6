"""SMS opt-outs: recorded on the phone identity, honoured by every SMS we would queue.

STOP and its siblings set ``sms_opted_out_at`` on the number's identity (a number never
seen before gets a contact, so that the opt-out is remembered); START lifts it. From then
on :func:`refusal` names the reason every SMS outbox row to that number fails with, and
the SMS already waiting in the outbox fail with it too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from gateway.contacts import contact_for_phone, find_identity
from gateway.identities import normalize_phone
from schema.models import ContactIdentity, OutboxItem
from schema.models.base import utcnow


def refusal(number: str, since: datetime) -> str:
    """Why no SMS goes to ``number``: one line, for ``last_error`` and the ticket."""
    return (
        f"not sent: {number} opted out of SMS on {since:%Y-%m-%d %H:%M} UTC "
        "(they can text START to receive SMS again)"
    )


def opted_out_since(session: Session, number: str) -> datetime | None:
    identity = find_identity(session, "phone", number)
    return identity.sms_opted_out_at if identity is not None else None


def opt_out(session: Session, number: str, now: datetime | None = None) -> ContactIdentity:
    """Record the opt-out (the first one's time stays) and fail the SMS still waiting."""
    now = now or utcnow()
    identity = _identity(session, number)
    if identity.sms_opted_out_at is None:
        identity.sms_opted_out_at = now
    session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.channel == "sms",
            OutboxItem.recipient == identity.value,
            OutboxItem.status == "pending",
        )
        .values(status="failed", last_error=refusal(identity.value, identity.sms_opted_out_at))
        .execution_options(synchronize_session=False)
    )
    return identity


def opt_in(session: Session, number: str) -> ContactIdentity:
    """Lift the opt-out; a number that never opted out is left as it is."""
    identity = _identity(session, number)
    identity.sms_opted_out_at = None
    return identity


def _identity(session: Session, number: str) -> ContactIdentity:
    """The number's identity, created with a contact of its own when unknown."""
    number = normalize_phone(number)
    contact = contact_for_phone(session, number)
    return next(i for i in contact.identities if i.kind == "phone" and i.value == number)
