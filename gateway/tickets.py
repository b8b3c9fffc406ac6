"""Ticket operations: the only code that changes tickets.

Plain functions over a session. Each writes its audit event in the caller's transaction,
so the CLI, the listeners and the workers all change tickets the same way and a change
and its record of it commit together or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway import audit, events
from gateway.agents import get_agent
from gateway.errors import IllegalTransition, InvalidInput, NotFound
from gateway.events import Audience, MessageAdded, StatusChanged
from gateway.lookups import lookups
from gateway.queues import check_priority, get_queue
from gateway.sla import deadlines
from schema.db import add_row, allocate_id
from schema.models import Agent, Contact, KnownMessageId, Message, Queue, Ticket, TicketTag
from schema.models.base import utcnow
from schema.models.tickets import STATUSES, format_reference

# Closed is final: a customer writing to a closed ticket gets a new ticket that links it.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"open", "pending", "resolved", "closed"}),
    "open": frozenset({"pending", "resolved", "closed"}),
    "pending": frozenset({"open", "resolved", "closed"}),
    "resolved": frozenset({"open", "closed"}),
    "closed": frozenset(),
}
_REFERENCE = re.compile(r"^\s*(?:T-?)?0*(\d{1,12})\s*$", re.IGNORECASE)
_TAG = re.compile(r"^[\w][\w.:/-]{0,63}$")
_WAITING = frozenset({"resolved", "pending"})  # a customer's reply reopens these


@dataclass(frozen=True, slots=True)
class NewMessage:
    """What a message carries into :func:`add_message`, whatever its channel."""

    author_kind: str  # customer | agent | system
    channel: str  # email | sms | cli
    visible_text: str
    full_text: str = ""
    html: str | None = None
    subject: str = ""
    sender: str = ""
    recipients: tuple[str, ...] = ()
    internal: bool = False
    participant: bool = True  # False: a sender who is not a participant of the ticket
    held_reason: str | None = None  # why a message meant for someone is kept internal
    email_message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    thread_index: str | None = None
    sms_sid: str | None = None
    media_urls: tuple[str, ...] = field(default_factory=tuple)
    agent: Agent | None = None
    contact: Contact | None = None
    inbox_id: int | None = None
    audience: Audience = "all"

    @classmethod
    def system_note(cls, text: str, *, channel: str, **fields: Any) -> NewMessage:
        """What the gateway itself notes on a ticket (an opt-out, a rating, a refused SMS):
        internal, and no notification to anyone."""
        return cls(
            author_kind="system",
            channel=channel,
            visible_text=text,
            internal=True,
            audience="none",
            **fields,
        )


def parse_reference(reference: str) -> int:
    match = _REFERENCE.match(reference)
    if match is None:
        raise InvalidInput(f"not a ticket reference: {reference!r} (expected e.g. T-000123)")
    return int(match.group(1))


def get_ticket(session: Session, reference: str | int) -> Ticket:
    ticket_id = reference if isinstance(reference, int) else parse_reference(reference)
    # Past the 32-bit id column no ticket can exist; asking would be a driver error.
    ticket = session.get(Ticket, ticket_id) if 0 < ticket_id < 2**31 else None
    if ticket is None:
        raise NotFound(f"no ticket {format_reference(ticket_id)}")
    return ticket


def open_ticket(
    session: Session,
    *,
    queue: Queue,
    contact: Contact,
    subject: str,
    channel: str,
    actor: str,
    priority: str | None = None,
    now: datetime | None = None,
    follows_up: Ticket | None = None,
) -> Ticket:
    """Create a ticket in ``queue`` for ``contact`` and start its SLA clock."""
    now = now or utcnow()
    ticket = Ticket(
        id=allocate_id(session, Ticket),
        queue=queue,
        queue_id=queue.id,
        contact=contact,
        contact_id=contact.id,
        subject=subject.strip()[:500],
        channel=channel,
        status="new",
        priority=check_priority(priority or queue.default_priority),
        follows_up_id=follows_up.id if follows_up else None,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    lookups(session).add_ticket(ticket)
    deadlines.start(session, ticket, now)
    ticket.sla_next_check_at = now  # the escalation scan plans its moments (gateway.sla.scan)
    audit.record(session, ticket, actor, "created", new=ticket.status)
    if follows_up is not None:
        audit.record(session, ticket, actor, "follows_up", new=follows_up.reference)
    return ticket


def add_message(
    session: Session,
    ticket: Ticket,
    new: NewMessage,
    *,
    now: datetime | None = None,
    first: bool | None = None,
) -> Message:
    """Append a message; a customer's reopens a resolved ticket, an agent's counts as response.

    ``first`` says whether this is the ticket's first message, for a caller that knows (it
    just opened the ticket); ``None`` asks the transaction's lookups. Nothing is flushed:
    the message's id is allocated, so a batch of mails is written in one flush.
    """
    now = now or utcnow()
    if ticket.status == "closed" and new.author_kind == "customer":
        raise IllegalTransition(f"{ticket.reference} is closed: open a follow-up ticket instead")
    index = lookups(session)
    if first is None:
        first = not index.has_messages(ticket.id)
    message = Message(
        id=allocate_id(session, Message),
        ticket_id=ticket.id,
        direction="out" if new.author_kind == "agent" else "in",
        author_kind=new.author_kind,
        author_agent_id=new.agent.id if new.agent else None,
        author_contact_id=new.contact.id if new.contact else None,
        channel=new.channel,
        internal=new.internal,
        participant=new.participant,
        held_reason=new.held_reason,
        subject=new.subject[:500],
        sender=new.sender,
        recipients=list(new.recipients),
        visible_text=new.visible_text,
        full_text=new.full_text or new.visible_text,
        html=new.html,
        email_message_id=new.email_message_id,
        in_reply_to=new.in_reply_to,
        references=list(new.references),
        thread_index=new.thread_index,
        sms_sid=new.sms_sid,
        media_urls=list(new.media_urls),
        inbox_id=new.inbox_id,
        created_at=now,
    )
    session.add(message)
    index.add_message(message, ticket, new.contact.id if new.contact else None)
    if new.email_message_id:
        remember_message_id(session, new.email_message_id, ticket)
    actor = _actor_of(new)
    # Only the customer's own reply reopens the ticket and restarts a paused clock: a
    # stranger who threads in by a Message-ID is not the customer answering.
    if new.author_kind == "customer" and new.participant and ticket.status in _WAITING:
        _set_status(session, ticket, "open", actor, now)
    if new.author_kind == "agent" and not new.internal:
        # The first-response clock stops at the first reply that goes to the customer: not
        # at a note, an agent's automatic mail (a system note) or a reply held back.
        if ticket.first_responded_at is None and new.audience == "all":
            ticket.first_responded_at = now
            audit.record(session, ticket, actor, "first_response", new=now.isoformat())
        if ticket.status == "new":
            _set_status(session, ticket, "open", actor, now)
    audit.record(session, ticket, actor, "note" if new.internal else "message", new=message.id)
    ticket.updated_at = now
    events.emit(session, MessageAdded(ticket.id, message.id, first, new.audience))
    return message


def add_note(
    session: Session, ticket: Ticket, agent: Agent | None, text: str, *, actor: str
) -> Message:
    """An internal note: stored on the ticket, never relayed to the customer."""
    if not text.strip():
        raise InvalidInput("a note needs some text")
    note = NewMessage(
        author_kind="agent" if agent else "system",
        channel="cli",
        visible_text=text.strip(),
        internal=True,
        agent=agent,
        sender=agent.email if agent else actor,
    )
    message = add_message(session, ticket, note)
    # add_message records "note" under the author; keep the real actor (e.g. admin) too.
    if actor != _actor_of(note):
        audit.record(session, ticket, actor, "note_by", new=message.id)
    return message


def remember_message_id(
    session: Session,
    message_id: str,
    ticket: Ticket,
    *,
    outbound: bool = False,
    recipient: str | None = None,
) -> None:
    """Record a Message-ID as belonging to ``ticket``; the first writer wins.

    The row is queued (``schema.db.add_row``), so it goes out with the batch's other rows
    in one multi-row insert. The transaction's lookups know every Message-ID it
    wrote, which keeps a second mention (a mail that names its own Message-ID twice, two
    mails of a batch with one Message-ID) from adding a clashing row. A Message-ID already
    known is left with its ticket.
    """
    index = lookups(session)
    if index.ticket_of_message_id(message_id) is not None:
        return
    index.add_message_id(message_id, ticket.id, outbound)
    add_row(
        session,
        KnownMessageId,
        {
            "message_id": message_id,
            "ticket_id": ticket.id,
            "outbound": outbound,
            "recipient": recipient,
            "created_at": utcnow(),
        },
    )


def change_status(
    session: Session, ticket: Ticket, status: str, *, actor: str, now: datetime | None = None
) -> Ticket:
    if status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
    if status == ticket.status:
        return ticket
    if status not in TRANSITIONS[ticket.status]:
        raise IllegalTransition(f"{ticket.reference} cannot go from {ticket.status} to {status}")
    _set_status(session, ticket, status, actor, now or utcnow())
    return ticket


def _set_status(session: Session, ticket: Ticket, status: str, actor: str, now: datetime) -> None:
    old = ticket.status
    ticket.status = status
    ticket.updated_at = now
    if status == "resolved":
        ticket.resolved_at = now
    elif status == "closed":
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    elif old == "resolved":
        ticket.resolved_at = None
    audit.record(session, ticket, actor, "status", old, status)
    deadlines.on_status_change(session, ticket, old, status, now, actor)
    ticket.sla_next_check_at = now  # re-planned (or cancelled) by the next escalation scan
    events.emit(session, StatusChanged(ticket.id, old, status, actor))


def assign(session: Session, ticket: Ticket, agent_email: str | None, *, actor: str) -> Ticket:
    """Assign to an active agent, or unassign with ``None``."""
    agent = get_agent(session, agent_email) if agent_email else None
    if agent is not None and not agent.active:
        raise InvalidInput(f"agent {agent.email} is disabled")
    old = ticket.assignee.email if ticket.assignee else None
    if old == (agent.email if agent else None):
        return ticket
    ticket.assignee = agent
    ticket.updated_at = utcnow()
    audit.record(session, ticket, actor, "assignee", old, agent.email if agent else None)
    return ticket


def change_priority(
    session: Session, ticket: Ticket, priority: str, *, actor: str, now: datetime | None = None
) -> Ticket:
    check_priority(priority)
    if priority == ticket.priority:
        return ticket
    old, ticket.priority = ticket.priority, priority
    ticket.updated_at = now or utcnow()
    audit.record(session, ticket, actor, "priority", old, priority)
    deadlines.replan(session, ticket, actor)
    ticket.sla_next_check_at = ticket.updated_at  # new deadlines: the next scan re-plans
    return ticket


def move(session: Session, ticket: Ticket, queue_name: str, *, actor: str) -> Ticket:
    queue = get_queue(session, queue_name)
    if queue.id == ticket.queue_id:
        return ticket
    old, ticket.queue, ticket.queue_id = ticket.queue.name, queue, queue.id
    ticket.updated_at = utcnow()
    audit.record(session, ticket, actor, "queue", old, queue.name)
    # Policies may be per queue: the new queue's may promise more, or less.
    deadlines.replan(session, ticket, actor)
    ticket.sla_next_check_at = ticket.updated_at  # new deadlines: the next scan re-plans
    return ticket


def retag(
    session: Session, ticket: Ticket, add: Iterable[str], remove: Iterable[str], *, actor: str
) -> Ticket:
    """Add and remove tags; a tag named on both sides ends up removed.

    Only net changes are made and audited: a tag row created and dropped again in one
    flush would leave SQLAlchemy's insert order (and so the audit trail's) ambiguous.
    """
    add, remove = list(dict.fromkeys(add)), list(dict.fromkeys(remove))
    for tag in add:
        if not _TAG.match(tag):
            raise InvalidInput(f"bad tag {tag!r}: letters, digits and . : / - _ only")
    current = set(ticket.tags)
    for tag in add:
        if tag not in current and tag not in remove:
            ticket.tag_rows.append(TicketTag(tag=tag))
            audit.record(session, ticket, actor, "tag_added", new=tag)
    for tag in remove:
        row = next((t for t in ticket.tag_rows if t.tag == tag), None)
        if row is not None:
            ticket.tag_rows.remove(row)
            audit.record(session, ticket, actor, "tag_removed", old=tag)
    ticket.updated_at = utcnow()
    session.flush()
    return ticket


def merge(session: Session, source: Ticket, target: Ticket, *, actor: str) -> Ticket:
    """Move everything of ``source`` into ``target`` and close ``source``.

    Message-IDs move too, so a later reply to any mail of the old ticket threads onto the
    merged one.
    """
    if source.id == target.id:
        raise InvalidInput("cannot merge a ticket into itself")
    if target.merged_into_id is not None or target.status == "closed":
        raise IllegalTransition(f"{target.reference} is closed; merge into an open ticket")
    if source.merged_into_id is not None:
        raise IllegalTransition(f"{source.reference} is already merged")
    session.execute(
        update(Message).where(Message.ticket_id == source.id).values(ticket_id=target.id)
    )
    session.execute(
        update(KnownMessageId)
        .where(KnownMessageId.ticket_id == source.id)
        .values(ticket_id=target.id)
    )
    retag(session, target, source.tags, (), actor=actor)
    source.merged_into_id = target.id
    if source.status != "closed":
        _set_status(session, source, "closed", actor, utcnow())
    audit.record(session, source, actor, "merged_into", new=target.reference)
    audit.record(session, target, actor, "merged_from", new=source.reference)
    session.flush()
    session.expire(target)
    return target


def follow_merges(session: Session, ticket: Ticket) -> Ticket:
    """The ticket that now holds ``ticket``'s conversation (itself unless merged)."""
    seen = {ticket.id}
    while ticket.merged_into_id is not None and ticket.merged_into_id not in seen:
        seen.add(ticket.merged_into_id)
        ticket = get_ticket(session, ticket.merged_into_id)
    return ticket


def messages_of(session: Session, ticket: Ticket) -> list[Message]:
    return list(
        session.scalars(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id))
    )


def _actor_of(new: NewMessage) -> str:
    if new.author_kind == "agent" and new.agent is not None:
        return audit.agent_actor(new.agent.email)
    if new.author_kind == "customer":
        return audit.customer_actor(new.sender)
    return audit.SYSTEM
