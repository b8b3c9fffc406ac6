"""The pipeline's store step: write ticket, message, attachments and audit in one transaction.

A customer's mail opens or continues a ticket; an automatic mail that threads is kept as an
internal system note; a verified agent's reply runs its ``#commands`` and relays the rest.
The notifications all of this causes are recorded as events, which the pipeline's
``notify`` step turns into outbox rows in the same transaction.
"""

from __future__ import annotations

from dataclasses import replace

from gateway import agent_reply, bounces, commands, tickets
from gateway.agent_auth import verify_agent
from gateway.commands import parse_commands
from gateway.contacts import contact_for
from gateway.csat import survey
from gateway.csat.answer import Answer, read_answer
from gateway.errors import GatewayError, InvalidInput, Quarantine
from gateway.events import Audience, CommandFailed, ReplyHeld
from gateway.files import save_blob
from gateway.pipeline.work import Work
from gateway.queues import DEFAULT_QUEUE, get_queue
from gateway.threading import conversation_key
from gateway.tickets import NewMessage
from gateway.tokens import split_plus
from gateway.unit_of_work import UnitOfWork
from schema.bounded import fit
from schema.db import allocate_id
from schema.models import Agent, Attachment, Contact, Message, Queue, Ticket


def store(work: Work, uow: UnitOfWork) -> Work:
    """Write the ticket, message, attachments and audit events in the caller's transaction."""
    assert work.parsed is not None
    assert work.thread is not None
    assert work.verdict is not None
    if work.thread.decision == "ignore":
        return work
    msg, session = work.parsed.message, uow.session
    if not work.sender:
        raise Quarantine("no From address and no envelope sender: cannot tell who wrote it")
    # Only a customer's mail names a contact: a bounce's MAILER-DAEMON is nobody to keep.
    try:
        contact = (
            contact_for(session, work.identity_kind, work.sender, msg.sender.name, strict=False)
            if work.author == "customer"
            else None
        )
    except InvalidInput as exc:
        raise Quarantine(f"no usable From address: {exc}") from exc
    ticket, new_ticket = work.thread.ticket, False
    if ticket is None:
        assert contact is not None
        ticket = tickets.open_ticket(
            session,
            queue=_queue_for(uow, work),
            contact=contact,
            subject=msg.subject or "(no subject)",
            channel=work.channel,
            actor=f"customer:{work.sender}",
            now=work.now,
            follows_up=work.thread.follows_up,
        )
        new_ticket = True
    if work.author == "agent":
        message = _agent_message(work, uow, ticket)
    elif work.author == "system":
        what = work.verdict.kind.replace("_", "-")
        message = _add(
            work,
            uow,
            ticket,
            f"{what}: {msg.text}",
            internal=True,
            audience="none",
            held_reason=f"automatic mail ({work.verdict.reason})",
        )
        _tell_agent_of_automatic(work, uow, ticket, message)
    elif (answer := _survey_answer(work, ticket, contact, new_ticket)) is not None:
        note = survey.answer_by_reply(
            session, ticket, answer, via=work.channel, sender=work.sender, now=work.now
        )
        message = _add(work, uow, ticket, note, internal=True, audience="none", author="system")
    else:
        audience: Audience = "agents" if work.verdict.kind == "list" else "all"
        message = _add(
            work,
            uow,
            ticket,
            msg.text,
            contact=contact,
            audience=audience,
            first=True if new_ticket else None,
            participant=contact is not None and contact.id == ticket.contact_id,
        )
    for part in msg.attachments:
        message.attachments.append(
            Attachment(
                id=allocate_id(session, Attachment),  # no RETURNING: one insert per batch
                filename=fit(Attachment.filename, part.filename),
                content_type=fit(Attachment.content_type, part.content_type),
                size=part.size,
                sha256=save_blob(uow.settings.data_dir, part.data),
                content_id=fit(Attachment.content_id, part.content_id) if part.content_id else None,
                inline=part.inline,
            )
        )
    if work.verdict.bounce is not None:
        bounces.record(session, work.verdict.bounce, work.now)
    return replace(work, ticket=ticket, message=message, new_ticket=new_ticket)


def _add(
    work: Work,
    uow: UnitOfWork,
    ticket: Ticket,
    text: str,
    *,
    internal: bool = False,
    audience: Audience = "all",
    contact: Contact | None = None,
    agent: Agent | None = None,
    first: bool | None = None,
    participant: bool = True,
    held_reason: str | None = None,
    author: str | None = None,
) -> Message:
    """Add the mail's message; ``first`` is ``True`` when ``store`` just opened the ticket.

    ``author`` overrides the mail's author kind (a rating is kept as a system note).
    """
    assert work.parsed is not None
    msg = work.parsed.message
    return tickets.add_message(
        uow.session,
        ticket,
        NewMessage(
            author_kind=author or work.author,
            channel=work.channel,
            visible_text=text,
            full_text=msg.full_text,
            html=msg.html,
            subject=msg.subject,
            sender=work.sender,
            recipients=tuple(a.address for a in msg.recipients),
            internal=internal,
            participant=participant,
            held_reason=held_reason,
            email_message_id=msg.message_id,
            in_reply_to=msg.in_reply_to[0] if msg.in_reply_to else None,
            references=msg.references,
            thread_index=conversation_key(msg.thread_index),
            sms_sid=msg.sms_sid,
            media_urls=msg.media_urls,
            agent=agent,
            contact=contact,
            inbox_id=work.item_id,
            audience="none" if work.held else audience,
        ),
        now=work.now,
        first=first,
    )


def _survey_answer(
    work: Work, ticket: Ticket, contact: Contact | None, new_ticket: bool
) -> Answer | None:
    """The rating in the customer's reply to a resolved ticket that asked for one."""
    assert work.parsed is not None
    if new_ticket or contact is None or contact.id != ticket.contact_id or work.held:
        return None
    if not survey.takes_reply(ticket):
        return None
    return read_answer(work.parsed.message.text)


def _agent_message(work: Work, uow: UnitOfWork, ticket: Ticket) -> Message:
    """A verified agent's reply: run its #commands, relay what text is left.

    A reply whose commands cannot all run is kept as an internal note, relays nothing, and
    gets the agent an error mail: half-applying what an agent typed is worse than none.
    """
    assert work.parsed is not None
    agent = uow.lookups.agent(work.sender)
    assert agent is not None
    reply = parse_commands(work.parsed.message.text)
    errors = reply.errors
    hold = None if errors else agent_reply.hold(uow.session, ticket, work.parsed.message, reply)
    if hold is not None:
        text = work.parsed.message.text or work.parsed.message.full_text
        message = _add(
            work,
            uow,
            ticket,
            text,
            internal=True,
            agent=agent,
            audience="none",
            held_reason=str(hold),
        )
        held = ReplyHeld(
            ticket.id, agent.id, message.id, hold.title, hold.reason, f"reply_held:{message.id}"
        )
        uow.emit(held)
        return message
    if not errors:
        try:
            with uow.savepoint():
                internal = reply.internal or not reply.text
                text = reply.text or work.parsed.message.text
                audience: Audience = "all" if reply.text else "none"
                message = _add(
                    work, uow, ticket, text, internal=internal, agent=agent, audience=audience
                )
                commands.apply(uow.session, ticket, agent, reply.commands)
                return message
        except GatewayError as exc:
            errors = (str(exc),)
    message = _add(
        work,
        uow,
        ticket,
        work.parsed.message.text,
        internal=True,
        agent=agent,
        audience="none",
        held_reason=f"command not carried out: {'; '.join(errors)}",
    )
    uow.emit(CommandFailed(ticket.id, agent.id, message.id, errors))
    return message


def _tell_agent_of_automatic(work: Work, uow: UnitOfWork, ticket: Ticket, message: Message) -> None:
    """An agent's automatic reply is not relayed: the agent hears why, once per ticket.

    Only when the mail would have acted as the agent (token and From bound to them), so a
    forged From gets nobody a mail; once per ticket, so a responder that answers our
    notice too (it carries ``Auto-Submitted``, but home-made scripts ignore that) ends there.
    """
    assert work.parsed is not None
    assert work.thread is not None
    assert work.verdict is not None
    agent = uow.lookups.agent(work.sender)
    verified, _ = verify_agent(
        agent,
        work.sender,
        work.thread.token,
        work.parsed.mime,
        uow.settings.trusted_authserv_ids,
    )
    if not verified or agent is None or work.held:
        return
    reason = (
        f"it was taken for an automatic reply ({work.verdict.reason}). Automatic replies, "
        "such as out-of-office notices, never go to customers and do not count as the first "
        "response. If a person wrote it, send it again in other words; to stop these notices, "
        "exclude the support address from your auto-responder."
    )
    held = ReplyHeld(
        ticket.id,
        agent.id,
        message.id,
        "an automatic reply",
        reason,
        f"reply_held:automatic:{ticket.id}:{agent.id}",
    )
    uow.emit(held)


def _queue_for(uow: UnitOfWork, work: Work) -> Queue:
    assert work.parsed is not None
    sent_to = [a.address for a in work.parsed.message.recipients] + list(work.envelope_recipients)
    for address in sent_to:
        queue = uow.queue_for_address(split_plus(address)[0])
        if queue is not None:
            return queue
    return get_queue(uow.session, DEFAULT_QUEUE)
