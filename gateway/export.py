"""Tickets as data for admins and scripts: which tickets, and what one looks like.

One shape, built here only, serves ``tickets list --json`` (:func:`ticket_summary`),
``tickets show --json`` (:func:`ticket_record`) and ``tickets export``
(:func:`iter_ticket_records`), so the three can never drift apart.

Keys of a summary (``ticket_summary``)::

    reference       "T-000123"
    subject         str
    status          new | open | pending | resolved | closed
    priority        low | normal | high | urgent
    channel         email | sms | cli (where the ticket came from)
    queue           queue name
    contact         {"name": str, "email": str | null, "phone": str | null}
    assignee        agent email | null
    tags            [str], sorted
    created_at, updated_at                          ISO-8601 UTC ("...Z")
    first_response_due_at, first_responded_at,
    resolution_due_at, resolved_at, closed_at       ISO-8601 UTC | null
    merged_into, follows_up                         "T-..." | null

A full record (``ticket_record``) adds::

    sla_policy      policy name | null
    satisfaction    {"rating": 1-5, "comment": str | null} | null
    messages        [message], oldest first
    audit           [event], oldest first

    message: id, created_at, direction (in | out), author_kind (customer | agent | system),
             author (address, or "system"), participant (false: the sender is not a
             participant of the ticket), channel, internal, held_reason (why a message
             meant for someone was kept internal, or null), subject, visible_text,
             message_id, in_reply_to, references [str], sms_sid, media_urls [str],
             attachments [{filename, content_type, size, sha256}]
    event:   at, actor ("admin", "system", "agent:<email>", "customer:<address>"),
             action, old, new
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from gateway.agents import get_agent
from gateway.errors import InvalidInput
from gateway.queues import get_queue
from gateway.reports import standing
from schema.models import Agent, AuditEvent, InboxItem, Message, SlaPolicy, Ticket, TicketTag
from schema.models.base import utcnow
from schema.models.tickets import STATUSES, format_reference

TICKETS_PER_QUERY = 500
_S = TypeVar("_S", bound=Select[Any])


def iso(value: datetime | None) -> str | None:
    """``value`` as ISO-8601 UTC with a ``Z`` suffix, to the second."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def find_tickets(
    session: Session,
    *,
    status: str | None = None,
    queue: str | None = None,
    assignee: str | None = None,
    tag: str | None = None,
    breached: bool = False,
    at_risk: bool = False,
    limit: int = 50,
) -> list[Ticket]:
    """Tickets matching every given filter, newest first.

    ``breached`` and ``at_risk`` select open tickets by where they stand against their
    deadlines now (``gateway.reports.standing``).

    ``assignee="none"`` selects unassigned tickets. An unknown status, queue or agent
    raises (:class:`InvalidInput`, :class:`NotFound`) rather than silently matching nothing.
    """
    query = select(Ticket).order_by(Ticket.id.desc()).limit(limit)
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
        query = query.where(Ticket.status == status)
    if queue is not None:
        query = query.where(Ticket.queue_id == get_queue(session, queue).id)
    if assignee == "none":
        query = query.where(Ticket.assignee_id.is_(None))
    elif assignee is not None:
        query = query.where(Ticket.assignee_id == get_agent(session, assignee).id)
    if tag is not None:
        query = query.where(Ticket.tag_rows.any(TicketTag.tag == tag))
    if breached:
        query = query.where(standing.breached(utcnow()))
    if at_risk:
        query = query.where(standing.at_risk(session, utcnow()))
    return list(session.scalars(query).unique())


def ticket_summary(ticket: Ticket) -> dict[str, Any]:
    """The listing shape of a ticket (keys in the module docstring)."""
    contact = ticket.contact
    email, phone = contact.identity("email"), contact.identity("phone")
    return {
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "queue": ticket.queue.name,
        "contact": {
            "name": contact.name,
            "email": email.value if email else None,
            "phone": phone.value if phone else None,
        },
        "assignee": ticket.assignee.email if ticket.assignee else None,
        "tags": sorted(ticket.tags),
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "first_response_due_at": iso(ticket.first_response_due_at),
        "first_responded_at": iso(ticket.first_responded_at),
        "resolution_due_at": iso(ticket.resolution_due_at),
        "resolved_at": iso(ticket.resolved_at),
        "closed_at": iso(ticket.closed_at),
        "merged_into": _ref(ticket.merged_into_id),
        "follows_up": _ref(ticket.follows_up_id),
    }


def ticket_record(session: Session, ticket: Ticket) -> dict[str, Any]:
    """The full shape of one ticket: summary, thread and audit trail."""
    return _records(session, [ticket])[0]


def iter_ticket_records(
    session: Session, since: datetime | None = None, *, batch_size: int = TICKETS_PER_QUERY
) -> Iterator[dict[str, Any]]:
    """Every ticket (changed at or after ``since``, if given) as a full record, by id.

    Memory stays flat however many tickets there are: each batch is a fresh keyset query
    (``id > last id``), its messages and events come in one query each, and the session
    is cleared before the next batch. So the session is read from and emptied: pass one
    that holds nothing the caller still needs.
    """
    last_id = 0
    while True:
        query = _changed_since(
            select(Ticket).where(Ticket.id > last_id).order_by(Ticket.id).limit(batch_size), since
        )
        batch = list(session.scalars(query).unique())
        if not batch:
            return
        last_id = batch[-1].id
        yield from _records(session, batch)
        session.expunge_all()


def count_ticket_records(session: Session, since: datetime | None = None) -> int:
    """How many records :func:`iter_ticket_records` yields for ``since`` (for progress)."""
    return session.scalar(_changed_since(select(func.count(Ticket.id)), since)) or 0


def _changed_since(query: _S, since: datetime | None) -> _S:
    return query if since is None else query.where(Ticket.updated_at >= since)


def _records(session: Session, tickets: Sequence[Ticket]) -> list[dict[str, Any]]:
    ids = [t.id for t in tickets]
    messages: dict[int, list[Message]] = {i: [] for i in ids}
    for message in session.scalars(
        select(Message).where(Message.ticket_id.in_(ids)).order_by(Message.id)
    ):
        messages[message.ticket_id].append(message)
    events: dict[int, list[AuditEvent]] = {i: [] for i in ids}
    for event in session.scalars(
        select(AuditEvent)
        .where(AuditEvent.ticket_id.in_(ids))
        .order_by(AuditEvent.created_at, AuditEvent.id)
    ):
        events[event.ticket_id].append(event)
    inbox_ids = [m.inbox_id for ms in messages.values() for m in ms if m.inbox_id]
    defects: dict[int, list[str]] = {
        item_id: found or []
        for item_id, found in session.execute(
            select(InboxItem.id, InboxItem.defects).where(InboxItem.id.in_(inbox_ids))
        )
    }
    agent_ids = {m.author_agent_id for ms in messages.values() for m in ms if m.author_agent_id}
    # .all(): dict() would take a Result for a mapping, since it has .keys().
    agents = dict(
        session.execute(select(Agent.id, Agent.email).where(Agent.id.in_(agent_ids))).all()
    )
    policy_ids = {t.sla_policy_id for t in tickets if t.sla_policy_id}
    policies = dict(
        session.execute(
            select(SlaPolicy.id, SlaPolicy.name).where(SlaPolicy.id.in_(policy_ids))
        ).all()
    )
    return [
        {
            **ticket_summary(t),
            "sla_policy": policies.get(t.sla_policy_id) if t.sla_policy_id else None,
            "satisfaction": (
                {"rating": t.satisfaction_rating, "comment": t.satisfaction_comment}
                if t.satisfaction_rating is not None
                else None
            ),
            "messages": [
                _message(m, agents, defects.get(m.inbox_id or 0, [])) for m in messages[t.id]
            ],
            "audit": [_event(e) for e in events[t.id]],
        }
        for t in tickets
    ]


def _message(message: Message, agents: dict[int, str], defects: list[str]) -> dict[str, Any]:
    author = message.sender or (
        agents.get(message.author_agent_id, "") if message.author_agent_id else ""
    )
    return {
        "id": message.id,
        "created_at": iso(message.created_at),
        "direction": message.direction,
        "author_kind": message.author_kind,
        "author": author or "system",
        "participant": message.participant,
        "channel": message.channel,
        "internal": message.internal,
        "held_reason": message.held_reason,
        "subject": message.subject,
        "visible_text": message.visible_text,
        "message_id": message.email_message_id,
        "in_reply_to": message.in_reply_to,
        "references": list(message.references or []),
        "sms_sid": message.sms_sid,
        "media_urls": list(message.media_urls or []),
        "defects": defects,
        "attachments": [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": a.sha256,
            }
            for a in message.attachments
        ],
    }


def _event(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": iso(event.created_at),
        "actor": event.actor,
        "action": event.action,
        "old": event.old_value,
        "new": event.new_value,
    }


def _ref(ticket_id: int | None) -> str | None:
    return format_reference(ticket_id) if ticket_id is not None else None
