"""Who hears about what: ticket events become outbox rows, before the transaction commits.

- new ticket: an acknowledgement to the customer (at most ``ACKS_PER_HOUR`` per address,
  never to a bouncing address, never for list mail) and a notification to the assignee,
  else the queue's active members, else every active agent;
- customer reply: the same agents;
- agent reply: relayed to the customer on the ticket's channel; an internal note goes to
  the other agents on the ticket instead, never to the customer;
- resolved or closed: a mail to the customer saying how to reopen; the first resolution
  also asks for a rating (``gateway.csat``) when the queue has the survey on, by mail, or
  by SMS for an SMS ticket (the only status SMS: it carries the question);
- an agent command that failed: an error mail to that agent;
- an agent's mail held back from the customer (``gateway.agent_reply``), or taken for an
  automatic reply: a mail to that agent saying why.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway import events
from gateway.config import Settings
from gateway.csat import survey
from gateway.csat.links import rating_links
from gateway.events import CommandFailed, Event, MessageAdded, ReplyHeld, StatusChanged
from gateway.lookups import lookups
from gateway.outbox import AUTO_GENERATED, AUTO_REPLIED, Recipient, enqueue_email, enqueue_sms
from gateway.template_vars import ticket_vars
from schema.models import Agent, Message, OutboxItem, Ticket
from schema.models.base import utcnow

ACKS_PER_HOUR = 5


def flush(session: Session, settings: Settings) -> int:
    """Turn the session's pending events into outbox rows; returns how many rows.

    One flush first writes what caused the events (for a batch of mails, all of it at
    once); the rows this adds go out with the transaction's next flush.
    """
    pending = events.drain(session)
    if not pending:
        return 0
    session.flush()
    lookups(session).prefetch_threads(event.ticket_id for event in pending)
    return sum(_handle(session, settings, event) for event in pending)


def _handle(session: Session, settings: Settings, event: Event) -> int:
    ticket = session.get(Ticket, event.ticket_id)
    if ticket is None:
        return 0
    if isinstance(event, MessageAdded):
        return _on_message(session, settings, ticket, event)
    if isinstance(event, StatusChanged):
        return _on_status(session, settings, ticket, event)
    if isinstance(event, CommandFailed):
        return _on_command_failed(session, settings, ticket, event)
    if isinstance(event, ReplyHeld):
        return _on_reply_held(session, settings, ticket, event)
    return 0


def _on_message(session: Session, settings: Settings, ticket: Ticket, event: MessageAdded) -> int:
    message = session.get(Message, event.message_id)
    if message is None or event.audience == "none":
        return 0
    rows = 0
    if message.author_kind == "customer":
        if event.first and event.audience == "all":
            rows += _ack(session, settings, ticket, message)
        template = "new_ticket" if event.first else "customer_reply"
        for agent in _agents_for(session, ticket):
            recipient = Recipient.agent(agent)
            rows += _email(session, settings, ticket, recipient, template, message)
    elif message.author_kind == "agent" and message.internal:
        author = session.get(Agent, message.author_agent_id) if message.author_agent_id else None
        for agent in _agents_for(session, ticket, exclude=author, involved=True):
            recipient = Recipient.agent(agent)
            rows += _email(
                session,
                settings,
                ticket,
                recipient,
                "internal_note",
                message,
                agent=author,
            )
    elif message.author_kind == "agent":
        author = session.get(Agent, message.author_agent_id) if message.author_agent_id else None
        rows += _to_customer(
            session, settings, ticket, "agent_reply", message, agent=author, auto_submitted=None
        )
    return rows


def _on_status(session: Session, settings: Settings, ticket: Ticket, event: StatusChanged) -> int:
    if event.new not in {"resolved", "closed"} or ticket.merged_into_id is not None:
        return 0
    key = f"{event.new}:{ticket.id}:{event.old}>{event.new}:{_count(session, ticket, event.new)}"
    ask = event.new == "resolved" and survey.should_ask(ticket)
    template = "sms_resolved" if ask and ticket.channel == "sms" else event.new
    written = _to_customer(
        session,
        settings,
        ticket,
        template,
        None,
        key=key,
        status=(event.old, event.new),
        csat=_csat_vars(settings, ticket) if ask else None,
    )
    if ask and written:
        survey.mark_asked(session, ticket, utcnow())
    return written


def _csat_vars(settings: Settings, ticket: Ticket) -> dict[str, Any]:
    """The survey's template variables: links only when ``PUBLIC_URL`` says where."""
    links = (
        rating_links(settings.public_url, settings.secret_key, ticket.id)
        if settings.public_url
        else None
    )
    return {"links": links}


def _on_command_failed(
    session: Session, settings: Settings, ticket: Ticket, event: CommandFailed
) -> int:
    agent = session.get(Agent, event.agent_id)
    if agent is None:
        return 0
    error = ("; ".join(event.errors), "nothing was run or relayed")
    message = session.get(Message, event.message_id)
    vars = _vars(
        session, settings, ticket, Recipient.agent(agent), agent=agent, message=message, error=error
    )
    row = enqueue_email(
        session,
        settings,
        ticket=ticket,
        recipient=Recipient.agent(agent),
        template="command_error",
        vars=vars,
        key=f"command_error:{event.message_id}",
        auto_submitted=AUTO_REPLIED,  # it answers the agent's own mail
    )
    return int(row)


def _on_reply_held(session: Session, settings: Settings, ticket: Ticket, event: ReplyHeld) -> int:
    agent = session.get(Agent, event.agent_id)
    if agent is None:
        return 0
    # A key per ticket and agent (automatic mail) may have been used by an earlier mail.
    if session.scalar(select(OutboxItem.id).where(OutboxItem.idempotency_key == event.key)):
        return 0
    recipient = Recipient.agent(agent)
    message = session.get(Message, event.message_id)
    error = (event.title, event.reason)
    vars = _vars(session, settings, ticket, recipient, agent=agent, message=message, error=error)
    row = enqueue_email(
        session,
        settings,
        ticket=ticket,
        recipient=recipient,
        template="reply_held",
        vars=vars,
        key=event.key,
    )
    return int(row)


def _vars(
    session: Session,
    settings: Settings,
    ticket: Ticket,
    recipient: Recipient,
    **about: Any,
) -> dict[str, Any]:
    return ticket_vars(
        session,
        ticket,
        recipient_name=recipient.name,
        recipient_address=recipient.address,
        default_address=settings.support_address[0],
        **about,
    )


def _email(
    session: Session,
    settings: Settings,
    ticket: Ticket,
    recipient: Recipient,
    template: str,
    message: Message,
    agent: Agent | None = None,
) -> int:
    vars = _vars(session, settings, ticket, recipient, agent=agent, message=message)
    row = enqueue_email(
        session,
        settings,
        ticket=ticket,
        recipient=recipient,
        template=template,
        vars=vars,
        key=f"{template}:{message.id}:{recipient.address}",
    )
    return int(row)


def _ack(session: Session, settings: Settings, ticket: Ticket, message: Message) -> int:
    """The acknowledgement, unless this customer was acknowledged too often lately.

    A customer's auto-responder in a loop with our acknowledgement would otherwise get an
    answer per mail; five an hour is enough for a human writing several new tickets.
    """
    template = "sms_ack" if ticket.channel == "sms" else "ack"
    recipient = _customer(ticket)
    if recipient is None:
        return 0
    index = lookups(session)
    if index.recent_notifications(recipient.address, template, utcnow()) >= ACKS_PER_HOUR:
        return 0
    written = _to_customer(
        session, settings, ticket, template, message, auto_submitted=AUTO_REPLIED
    )
    if written:
        index.add_notification(recipient.address, template)
    return written


def _to_customer(
    session: Session,
    settings: Settings,
    ticket: Ticket,
    template: str,
    message: Message | None,
    *,
    agent: Agent | None = None,
    auto_submitted: str | None = AUTO_GENERATED,
    key: str | None = None,
    status: tuple[str, str] | None = None,
    csat: dict[str, Any] | None = None,
) -> int:
    recipient = _customer(ticket)
    if recipient is None:
        return 0
    vars = _vars(
        session,
        settings,
        ticket,
        recipient,
        agent=agent,
        message=message,
        status=status,
        csat=csat,
        whole_text=template == "agent_reply",  # the agent's answer is the mail itself
    )
    key = key or f"{template}:{message.id if message else ticket.id}:{recipient.address}"
    if ticket.channel == "sms":
        sms_template = {"agent_reply": "sms_agent_reply"}.get(template, template)
        if not sms_template.startswith("sms_"):
            return 0  # status mails have no SMS form: the agent's own words say it
        row = enqueue_sms(
            session,
            settings,
            ticket=ticket,
            recipient=recipient,
            template=sms_template,
            vars=vars,
            key=key,
            message_id=message.id if message is not None else None,
        )
    else:
        row = enqueue_email(
            session,
            settings,
            ticket=ticket,
            recipient=recipient,
            template=template,
            vars=vars,
            key=key,
            auto_submitted=auto_submitted,
        )
    return int(row)


def _customer(ticket: Ticket) -> Recipient | None:
    """The customer's address on the ticket's channel; None if there is none or it bounces."""
    kind = "phone" if ticket.channel == "sms" else "email"
    identity = ticket.contact.identity(kind)
    # An opted-out number still gets its row: enqueue_sms writes it failed, with the reason.
    if identity is None:
        return None
    if identity.bouncing_since is not None:
        return None
    return Recipient.contact(ticket.contact, identity.value)


def _agents_for(
    session: Session, ticket: Ticket, *, exclude: Agent | None = None, involved: bool = False
) -> list[Agent]:
    """The assignee, else the queue's active members, else every active agent.

    With ``involved`` (internal notes), agents who wrote on the ticket count too.
    """

    def others(agents: list[Agent]) -> list[Agent]:
        return [a for a in agents if a.active and (exclude is None or a.id != exclude.id)]

    chosen = others([ticket.assignee] if ticket.assignee is not None else [])
    if involved:
        authors = session.scalars(
            select(Agent)
            .join(Message, Message.author_agent_id == Agent.id)
            .where(Message.ticket_id == ticket.id)
        ).unique()
        chosen += [a for a in others(list(authors)) if a not in chosen]
    if not chosen:
        chosen = others(list(ticket.queue.members))
    if not chosen:
        chosen = others(lookups(session).all_agents())
    return chosen


def _count(session: Session, ticket: Ticket, template: str) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(OutboxItem)
            .where(OutboxItem.ticket_id == ticket.id, OutboxItem.template == template)
        )
        or 0
    )
