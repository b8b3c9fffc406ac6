"""Which ticket an inbound message belongs to, decided in a fixed order, with a reason.

1. a verified reply token in a recipient address;
2. In-Reply-To / References naming a Message-ID we stored or sent (the whole chain);
3. a ``[T-000123]`` subject reference, only from a participant of that ticket;
4. Outlook's Thread-Index conversation, only on a ticket the sender takes part in;
5. a bare reply (a reply prefix, no In-Reply-To or References) whose subject is exactly
   that of one open, pending or recently resolved ticket the sender takes part in;
6. otherwise a new ticket.

A match on a closed ticket opens a follow-up ticket; merged tickets are followed to the
ticket that holds their conversation now. Reads only: ``mail explain`` runs it unchanged.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from gateway.contacts import find_identity
from gateway.lookups import lookups
from gateway.mail.subjects import reply_variants
from gateway.message import InboundMessage
from gateway.tickets import follow_merges
from gateway.tokens import ReplyToken, read_token, split_plus
from schema.models import Ticket

Decision = Literal["new", "reply", "ignore"]
_SUBJECT_REF = re.compile(r"\[T-(\d{1,12})\]", re.IGNORECASE)
# Thread-Index: 22 bytes name the conversation; each reply appends 5 more.
_CONVERSATION_BYTES = 22


@dataclass(frozen=True, slots=True)
class ThreadDecision:
    decision: Decision
    reason: str
    ticket: Ticket | None = None
    token: ReplyToken | None = None
    follows_up: Ticket | None = None


def conversation_key(thread_index: str | None) -> str | None:
    """The conversation part of an Outlook ``Thread-Index`` header, or ``None``."""
    if not thread_index:
        return None
    try:
        raw = base64.b64decode("".join(thread_index.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) < _CONVERSATION_BYTES:
        return None
    return base64.b64encode(raw[:_CONVERSATION_BYTES]).decode()


def decide(
    session: Session,
    msg: InboundMessage,
    *,
    secret: str,
    recipients: Iterable[str],
    extra_message_ids: Sequence[str] = (),
    resolved_since: datetime | None = None,
) -> ThreadDecision:
    """Find the ticket for ``msg``; ``recipients`` are all addresses it was sent to.

    ``extra_message_ids`` are further Message-IDs to try after the headers (a bounce's
    original message). A bare reply may thread by its subject onto a ticket resolved
    since ``resolved_since`` (the reopen window; ``None``: never by subject).
    """
    forged = False
    for address in recipients:
        token = read_token(secret, address)
        if token is None:
            forged = forged or (split_plus(address)[1] or "").startswith("t")
            continue
        ticket = lookups(session).ticket(token.ticket_id)
        if ticket is not None:
            return _onto(session, ticket, f"reply token in {address}", token)
    note = "; a reply token failed verification and was ignored" if forged else ""

    found = _by_message_ids(session, [*msg.in_reply_to, *reversed(msg.references)])
    found = found or _by_message_ids(session, extra_message_ids)
    if found is not None:
        ticket, message_id = found
        return _onto(session, ticket, f"references our message <{message_id}>{note}")

    sender = msg.sender.address
    match = _SUBJECT_REF.search(msg.subject)
    if match is not None:
        ticket = lookups(session).ticket(int(match.group(1)))
        if ticket is not None and _is_participant(session, ticket, sender):
            return _onto(session, ticket, f"subject names {ticket.reference}{note}")
        who = sender or "the sender"
        note += f"; subject names [T-{match.group(1)}] but {who} is not a participant"

    key = conversation_key(msg.thread_index)
    if key is not None and sender:
        ticket = _by_conversation(session, key, sender)
        if ticket is not None:
            return _onto(session, ticket, f"Outlook Thread-Index matches {ticket.reference}{note}")

    if resolved_since is not None and is_bare_reply(msg):
        matches, strangers = _by_subject(session, msg, resolved_since)
        if len(matches) == 1:
            return _onto(session, matches[0], f"subject match from participant{note}")
        if matches:
            refs = ", ".join(t.reference for t in matches)
            note += f"; bare reply matches {refs}, all with {sender}: ambiguous, not threaded"
        elif strangers:
            refs = ", ".join(t.reference for t in strangers)
            note += f"; subject matches {refs} but {sender} is not a participant"
    return ThreadDecision("new", f"no reply token, known reference or subject tag{note}")


def is_bare_reply(msg: InboundMessage) -> bool:
    """A reply prefix without the headers that would say what it answers."""
    return not msg.in_reply_to and not msg.references and bool(reply_variants(msg.subject))


def bare_reply_subjects(msg: InboundMessage) -> list[str]:
    """The ticket subjects a bare reply may match (none for any other mail)."""
    return reply_variants(msg.subject) if is_bare_reply(msg) else []


def _by_subject(
    session: Session, msg: InboundMessage, resolved_since: datetime
) -> tuple[list[Ticket], list[Ticket]]:
    """Tickets with the bare reply's subject: those the sender takes part in, and the rest.

    Participants are the ticket's contact and every address on To/Cc of its messages
    (a colleague copied on the first mail who answers all).
    """
    sender = msg.sender.address
    index = lookups(session)
    found = index.tickets_with_subject(reply_variants(msg.subject), resolved_since)
    live = [t for t in found if t.status in ("new", "open", "pending", "resolved")]
    live = [t for t in live if t.status != "resolved" or _resolved_since(t, resolved_since)]
    identity = index.identity(sender) if sender else None
    contact_id = identity.contact_id if identity is not None else None
    matches = [
        t
        for t in live
        if sender and (t.contact_id == contact_id or sender in index.ticket_recipients(t.id))
    ]
    return matches, [t for t in live if t not in matches]


def _resolved_since(ticket: Ticket, since: datetime) -> bool:
    return ticket.resolved_at is not None and ticket.resolved_at >= since


def candidate_tickets(msg: InboundMessage, recipients: Iterable[str], secret: str) -> list[int]:
    """Tickets :func:`decide` may look at by number: signed reply tokens and a subject tag."""
    found = [t.ticket_id for t in (read_token(secret, a) for a in recipients) if t is not None]
    match = _SUBJECT_REF.search(msg.subject)
    return [*found, int(match.group(1))] if match else found


def _onto(
    session: Session, ticket: Ticket, reason: str, token: ReplyToken | None = None
) -> ThreadDecision:
    holder = follow_merges(session, ticket)
    if holder.id != ticket.id:
        reason += f" ({ticket.reference} was merged into {holder.reference})"
    if holder.status == "closed":
        return ThreadDecision(
            "new", f"{reason}; {holder.reference} is closed: follow-up ticket", None, token, holder
        )
    return ThreadDecision("reply", reason, holder, token)


def _by_message_ids(session: Session, ids: Sequence[str]) -> tuple[Ticket, str] | None:
    """The ticket of the first of ``ids`` (in order of preference) that we know."""
    index = lookups(session)
    wanted = list(dict.fromkeys(i for i in ids if i))
    index.prefetch(message_ids=wanted)
    for message_id in wanted:
        known = index.ticket_of_message_id(message_id)
        ticket = index.ticket(known[0]) if known is not None else None
        if ticket is not None:
            return ticket, message_id
    return None


def _is_participant(session: Session, ticket: Ticket, sender: str) -> bool:
    if not sender:
        return False
    identity = find_identity(session, "email", sender)
    if identity is not None and identity.contact_id == ticket.contact_id:
        return True
    agent = lookups(session).agent(sender)
    return agent is not None and agent.active


def _by_conversation(session: Session, key: str, sender: str) -> Ticket | None:
    identity = find_identity(session, "email", sender)
    if identity is None:
        return None
    return lookups(session).conversation(key, identity.contact_id)
