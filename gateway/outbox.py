"""Writing outbox rows: one per notification, in the transaction of the change.

The row carries everything the sender needs and nothing it must look up again: the
recipient, the template and its variables, and the exact headers (our Message-ID, the
signed Reply-To, the In-Reply-To/References that continue the recipient's own thread).
The Message-ID is recorded as ours at once, so a reply threads even before we sent it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.queues import reply_address
from gateway.tokens import ReplyToken, token_address
from schema.db import insert_ignoring_conflict
from schema.models import Agent, Contact, KnownMessageId, Message, OutboxItem, Ticket
from schema.models.base import utcnow

LOOP_MARKER = "ticket-gateway"
_MAX_REFERENCES = 20


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a notification goes to, and as which participant their replies count."""

    address: str  # email address or E.164 number
    name: str
    kind: str  # contact | agent
    participant_id: int
    locale: str | None = None

    @classmethod
    def agent(cls, agent: Agent) -> Recipient:
        return cls(agent.email, agent.name, "agent", agent.id)

    @classmethod
    def contact(cls, contact: Contact, address: str) -> Recipient:
        return cls(address, contact.name, "contact", contact.id, contact.language)


def new_message_id(ticket: Ticket, domain: str) -> str:
    """A Message-ID of ours; gateway.classify.loop recognises exactly this form."""
    return f"{ticket.reference}.{secrets.token_hex(8)}@{domain}"


_THREAD_CACHE = "ticketgw.thread_rows"


@contextmanager
def thread_cache(session: Session) -> Iterator[None]:
    """Read each ticket's Message-IDs once while writing several notifications about it.

    Only for a stretch that adds no messages (``notify.flush``): the rows of our own
    notifications are appended as they are written, so the cache stays exact.
    """
    session.info[_THREAD_CACHE] = {}
    try:
        yield
    finally:
        session.info.pop(_THREAD_CACHE, None)


def _thread_rows(session: Session, ticket: Ticket) -> list[tuple[str, bool, str | None]]:
    """``(message_id, outbound, party)`` of the ticket, oldest first; party is the sender
    of a stored message or the recipient of one of our notifications."""
    cache: dict[int, list[tuple[str, bool, str | None]]] | None = session.info.get(_THREAD_CACHE)
    if cache is not None and ticket.id in cache:
        return cache[ticket.id]
    seen_in = select(
        Message.email_message_id, literal(False), Message.sender, Message.created_at
    ).where(Message.ticket_id == ticket.id, Message.email_message_id.is_not(None))
    seen_out = select(
        KnownMessageId.message_id,
        KnownMessageId.outbound,
        KnownMessageId.recipient,
        KnownMessageId.created_at,
    ).where(KnownMessageId.ticket_id == ticket.id, KnownMessageId.outbound.is_(True))
    rows = session.execute(seen_in.union_all(seen_out).order_by("created_at")).all()
    found = [(r[0], bool(r[1]), r[2]) for r in rows if r[0]]
    if cache is not None:
        cache[ticket.id] = found
    return found


def _thread_ids(session: Session, ticket: Ticket, recipient: Recipient) -> list[str]:
    """Message-IDs of this ticket that the recipient has seen, oldest first."""
    rows = _thread_rows(session, ticket)
    ids = list(dict.fromkeys(mid for mid, _out, party in rows if party == recipient.address))
    return ids if len(ids) <= _MAX_REFERENCES else [ids[0], *ids[-(_MAX_REFERENCES - 1) :]]


def enqueue_email(
    session: Session,
    settings: Settings,
    *,
    ticket: Ticket,
    recipient: Recipient,
    template: str,
    vars: Mapping[str, Any],
    key: str,
    automatic: bool = True,
) -> int | None:
    """Add one email notification: its row id, or ``None`` when ``key`` was already used."""
    support = reply_address(ticket.queue, settings.support_address[0])
    message_id = new_message_id(ticket, settings.message_id_domain)
    token = ReplyToken(ticket.id, recipient.kind, recipient.participant_id)  # type: ignore[arg-type]
    headers = {
        "Message-ID": f"<{message_id}>",
        "Reply-To": token_address(settings.secret_key, support, token),
        "X-Loop": LOOP_MARKER,
    }
    thread = _thread_ids(session, ticket, recipient)
    if thread:
        headers["In-Reply-To"] = f"<{thread[-1]}>"
        headers["References"] = " ".join(f"<{i}>" for i in thread)
    if automatic:
        headers["Auto-Submitted"] = "auto-replied"
    name = "Support" if ticket.queue.name == "default" else f"{ticket.queue.name} support"
    context = {"vars": dict(vars), "headers": headers, "from": f"{name} <{support}>"}
    row = _insert(session, "email", recipient, template, context, ticket, message_id, key)
    if row is not None:
        cache = session.info.get(_THREAD_CACHE)
        if cache is not None and ticket.id in cache:
            cache[ticket.id].append((message_id, True, recipient.address))
        insert_ignoring_conflict(
            session,
            KnownMessageId,
            {
                "message_id": message_id,
                "ticket_id": ticket.id,
                "outbound": True,
                "recipient": recipient.address,
                "created_at": utcnow(),
            },
            "message_id",
        )
    return row


def enqueue_sms(
    session: Session,
    settings: Settings,
    *,
    ticket: Ticket,
    recipient: Recipient,
    template: str,
    vars: Mapping[str, Any],
    key: str,
) -> int | None:
    sender = ticket.queue.sms_number or settings.twilio_from or ""
    context = {"vars": dict(vars), "headers": {}, "from": sender}
    return _insert(session, "sms", recipient, template, context, ticket, None, key)


def _insert(
    session: Session,
    channel: str,
    recipient: Recipient,
    template: str,
    context: dict[str, Any],
    ticket: Ticket,
    message_id: str | None,
    key: str,
) -> int | None:
    """One row unless ``key`` is taken, by this transaction or a concurrent one.

    ``INSERT ... ON CONFLICT DO NOTHING`` is one statement where a look-up, a savepoint and
    an insert were four round trips, and it is just as safe against a concurrent twin.
    """
    row_id = insert_ignoring_conflict(
        session,
        OutboxItem,
        {
            "channel": channel,
            "recipient": recipient.address,
            "template": template,
            "locale": recipient.locale,
            "context": context,
            "ticket_id": ticket.id,
            "email_message_id": message_id,
            "idempotency_key": key,
            "status": "pending",
        },
        "idempotency_key",
    )
    return row_id
