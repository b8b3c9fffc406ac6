"""Writing outbox rows: one per notification, in the transaction of the change.

The row carries everything the sender needs and nothing it must look up again: the
recipient, the template and its variables, and the exact headers (our Message-ID, the
signed Reply-To, the In-Reply-To/References that continue the recipient's own thread).
The Message-ID is recorded as ours at once, so a reply threads even before we sent it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from gateway import tickets
from gateway.config import Settings
from gateway.lookups import lookups
from gateway.queues import reply_address
from gateway.sms import optout
from gateway.tickets import NewMessage
from gateway.tokens import ReplyToken, token_address
from schema.bounded import fit
from schema.db import add_row
from schema.models import Agent, Contact, KnownMessageId, OutboxItem, Ticket
from schema.models.base import utcnow

LOOP_MARKER = "ticket-gateway"
# RFC 3834: "auto-replied" only for a mail that answers the recipient's own mail (the
# acknowledgement, a command error); every other automatic notification is "auto-generated".
AUTO_REPLIED = "auto-replied"
AUTO_GENERATED = "auto-generated"
_MAX_REFERENCES = 20


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a notification goes to, and as which participant their replies count."""

    address: str  # email address or E.164 number
    name: str
    kind: str  # contact | agent | observer (told, but not a participant: no reply token)
    participant_id: int
    locale: str | None = None

    @classmethod
    def agent(cls, agent: Agent) -> Recipient:
        return cls(agent.email, agent.name, "agent", agent.id)

    @classmethod
    def contact(cls, contact: Contact, address: str) -> Recipient:
        return cls(address, contact.name, "contact", contact.id, contact.language)

    @classmethod
    def observer(cls, address: str) -> Recipient:
        """Someone kept informed (an SLA escalation address) who is neither agent nor
        customer: their mail carries no signed reply address."""
        return cls(address, "", "observer", 0)


def new_message_id(ticket: Ticket, domain: str) -> str:
    """A Message-ID of ours; gateway.classify.loop recognises exactly this form."""
    return f"{ticket.reference}.{secrets.token_hex(8)}@{domain}"


def _thread_ids(session: Session, ticket: Ticket, recipient: Recipient) -> list[str]:
    """Message-IDs of this ticket that the recipient has seen, oldest first."""
    rows = lookups(session).thread_rows(ticket)
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
    auto_submitted: str | None = AUTO_GENERATED,
) -> bool:
    """Add one email notification; ``False`` when ``key`` was already used.

    ``auto_submitted`` is the ``Auto-Submitted`` value, ``None`` for a human's words.
    """
    support = reply_address(ticket.queue, settings.support_address[0])
    message_id = new_message_id(ticket, settings.message_id_domain)
    reply_to = support
    if recipient.kind != "observer":
        token = ReplyToken(ticket.id, recipient.kind, recipient.participant_id)  # type: ignore[arg-type]
        reply_to = token_address(settings.secret_key, support, token)
    headers = {"Message-ID": f"<{message_id}>", "Reply-To": reply_to, "X-Loop": LOOP_MARKER}
    thread = _thread_ids(session, ticket, recipient)
    if thread:
        headers["In-Reply-To"] = f"<{thread[-1]}>"
        headers["References"] = " ".join(f"<{i}>" for i in thread)
    if auto_submitted is not None:
        headers["Auto-Submitted"] = auto_submitted
    name = "Support" if ticket.queue.name == "default" else f"{ticket.queue.name} support"
    context = {"vars": dict(vars), "headers": headers, "from": f"{name} <{support}>"}
    if not _insert(session, "email", recipient, template, context, ticket, message_id, key):
        return False
    # Ours, so a reply threads even before the mail is sent; fresh and random, so unknown.
    lookups(session).add_outbound(ticket, message_id, recipient.address)
    add_row(
        session,
        KnownMessageId,
        {
            "message_id": message_id,
            "ticket_id": ticket.id,
            "outbound": True,
            "recipient": recipient.address,
            "created_at": utcnow(),
        },
    )
    return True


def enqueue_sms(
    session: Session,
    settings: Settings,
    *,
    ticket: Ticket | None,
    recipient: Recipient,
    template: str,
    vars: Mapping[str, Any],
    key: str,
    message_id: int | None = None,
    sender: str | None = None,
) -> bool:
    """Add one SMS; ``False`` when ``key`` was already used.

    ``message_id`` names the message the SMS carries: when an agent's reply is too long
    for SMS, the worker sends the whole of it by email (``gateway.sms.overflow``).
    ``sender`` (our number the customer texted) goes before the ticket's queue number and
    ``TICKETGW_TWILIO_FROM``. To a number that opted out the row is written ``failed``
    with the reason, never ``pending``, and the ticket gets an internal note saying so:
    agents see why the customer heard nothing.
    """
    queue_number = ticket.queue.sms_number if ticket is not None else None
    sender = sender or queue_number or settings.twilio_from or ""
    context: dict[str, Any] = {"vars": dict(vars), "headers": {}, "from": sender}
    if message_id is not None:
        context["message_id"] = message_id
    since = optout.opted_out_since(session, recipient.address)
    if since is None:
        return _insert(session, "sms", recipient, template, context, ticket, None, key)
    reason = optout.refusal(recipient.address, since)
    if not _insert(session, "sms", recipient, template, context, ticket, None, key, refused=reason):
        return False
    if ticket is not None:
        note = NewMessage.system_note(f"SMS {template} {reason}", channel="sms")
        tickets.add_message(session, ticket, note)
    return True


def _insert(
    session: Session,
    channel: str,
    recipient: Recipient,
    template: str,
    context: dict[str, Any],
    ticket: Ticket | None,
    message_id: str | None,
    key: str,
    *,
    refused: str | None = None,
) -> bool:
    """Add one row unless this transaction already used ``key``; ``refused`` writes it
    ``failed`` with that reason instead of ``pending``.

    The row is queued (``schema.db.add_row``), so a batch's notifications go out as one
    multi-row insert. Keys name a message or a counted status change of the ticket, so another
    transaction cannot hold the same key unless it changed the same ticket at the same
    moment; then the unique key fails one of the two transactions, which is retried.
    """
    key = fit(OutboxItem.idempotency_key, key)  # keys hold addresses of up to 320 characters
    if not lookups(session).add_outbox_key(key):
        return False
    add_row(
        session,
        OutboxItem,
        {
            "channel": channel,
            "recipient": recipient.address,
            "template": template,
            "locale": recipient.locale,
            "context": context,
            "ticket_id": ticket.id if ticket is not None else None,
            "email_message_id": message_id,
            "idempotency_key": key,
            "status": "pending" if refused is None else "failed",
            "last_error": refused,
        },
    )
    return True
