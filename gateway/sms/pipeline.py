"""One inbound SMS from the inbox to a message on a ticket: the SMS entry of the pipeline.

The same shape as the email steps (``gateway.pipeline.email_steps``): functions from
:class:`Work` and the :class:`UnitOfWork` to :class:`Work`, in the order of the ``sms``
entry of ``gateway.pipeline.table``, run by the inbox processor in the item's savepoint.
An SMS is always the customer's (agents answer by mail). It goes onto the most recent
ticket of its contact that is not closed, else opens a ticket on the ``sms`` channel; a
keyword (STOP, START, HELP, ...) is acted on and opens no ticket. A rating (a digit 1-5)
goes to the sender's most recently resolved ticket that asked for one
(``gateway.csat.survey.survey_ticket_of``) and does not reopen it.

What the steps look up per SMS (the MessageSid, the sender's identity and opt-out, their
open ticket, the breaker's and the acknowledgement cap's counts) is read for the whole
batch at once by :func:`prefetch` into the transaction's ``gateway.lookups``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from email.message import EmailMessage

from gateway import tickets
from gateway.classify import Verdict
from gateway.contacts import contact_for_phone, find_identity
from gateway.csat import survey
from gateway.csat.answer import read_answer
from gateway.errors import Quarantine
from gateway.events import Audience
from gateway.mail.parse import ParsedMail
from gateway.outbox import Recipient, enqueue_sms
from gateway.pipeline.work import Work
from gateway.queues import reply_address
from gateway.sms import optout
from gateway.sms.form import media_of, parse_sms, read_form
from gateway.sms.keywords import ONLY_WHEN_OPTED_OUT, Keyword, keyword
from gateway.template_vars import VAR_KEYS, ticket_vars
from gateway.threading import ThreadDecision
from gateway.tickets import NewMessage
from gateway.unit_of_work import UnitOfWork
from schema.db import add_row
from schema.models import Contact, MediaFetch, Queue, Ticket
from schema.models.base import utcnow

CUSTOMER = "a text message from a phone number"


def parse(work: Work, uow: UnitOfWork) -> Work:
    """Read the stored form; an SMS whose sender is no valid number is quarantined."""
    message = parse_sms(work.raw)
    if not message.sender.address:
        raise Quarantine(f"cannot tell who sent this SMS: {'; '.join(message.defects)}")
    # No MIME tree: the email classification rules never run on an SMS.
    return replace(work, parsed=ParsedMail(message, EmailMessage()), sender=message.sender.address)


def prefetch(works: Sequence[Work], uow: UnitOfWork) -> Sequence[Work]:
    """Read at once what the parsed SMS of a batch will look up (``gateway.lookups``)."""
    sids = [w.parsed.message.sms_sid or "" for w in works if w.parsed is not None]
    senders = [work.sender for work in works]
    index = uow.lookups
    index.prefetch_sms(sids, senders)
    index.prefetch_rates(senders, utcnow(), [w.item_id for w in works if w.item_id], "sms_ack")
    return works


def screen(work: Work, uow: UnitOfWork) -> Work:
    """A MessageSid already on a ticket is the same SMS again."""
    assert work.parsed is not None
    sid = work.parsed.message.sms_sid
    if sid and uow.lookups.has_sms_sid(sid):
        return replace(work, duplicate_of=f"duplicate of SMS {sid}, already on a ticket")
    return work


def classify(work: Work, uow: UnitOfWork) -> Work:
    found = _keyword(work, uow)
    if found is None:
        return replace(work, verdict=Verdict("customer", CUSTOMER), author="customer")
    reason = f"keyword {found.word}: {found.action.replace('_', '-')}"
    return replace(work, verdict=Verdict("keyword", reason), author="customer")


def thread(work: Work, uow: UnitOfWork) -> Work:
    """The contact's most recent ticket that is not closed, else a new one."""
    assert work.verdict is not None
    if work.duplicate_of is not None:
        return replace(work, thread=ThreadDecision("ignore", work.duplicate_of))
    if work.verdict.kind == "keyword":
        return replace(work, thread=ThreadDecision("ignore", f"{work.verdict.reason}, no ticket"))
    identity = find_identity(uow.session, "phone", work.sender)
    assert work.parsed is not None
    rated = (
        survey.survey_ticket_of(uow.session, identity.contact.id)
        if identity is not None and read_answer(work.parsed.message.text) is not None
        else None
    )
    if rated is not None:
        why = f"a rating for the sender's resolved ticket {rated.reference}"
        return replace(work, thread=ThreadDecision("reply", why, ticket=rated))
    ticket = open_ticket_of(uow, identity.contact) if identity is not None else None
    if ticket is None:
        return replace(work, thread=ThreadDecision("new", "no open ticket of this sender"))
    why = f"the sender's most recent open ticket {ticket.reference}"
    return replace(work, thread=ThreadDecision("reply", why, ticket=ticket))


def store(work: Work, uow: UnitOfWork) -> Work:
    """Act on a keyword, or write the ticket and message, and a fetch row per MMS media."""
    assert work.parsed is not None
    assert work.thread is not None
    if work.duplicate_of is not None:
        return work
    found = _keyword(work, uow)
    if found is not None:
        return _act_on(found, work, uow)
    msg, session = work.parsed.message, uow.session
    contact = contact_for_phone(session, work.sender)
    ticket, new_ticket = work.thread.ticket, False
    if ticket is None:
        ticket = tickets.open_ticket(
            session,
            queue=_queue_for(uow, work),
            contact=contact,
            subject=msg.subject,
            channel="sms",
            actor=f"customer:{work.sender}",
            now=work.now,
        )
        new_ticket = True
    answer = read_answer(msg.text) if not new_ticket and not work.held else None
    if answer is not None and survey.takes_reply(ticket):
        note = survey.answer_by_reply(
            session, ticket, answer, via="sms", sender=work.sender, now=work.now
        )
        message = tickets.add_message(
            session,
            ticket,
            NewMessage.system_note(
                note,
                channel="sms",
                sender=work.sender,
                sms_sid=msg.sms_sid,
                inbox_id=work.item_id,
            ),
            now=work.now,
        )
        return replace(work, ticket=ticket, message=message)
    audience: Audience = "none" if work.held else "all"
    message = tickets.add_message(
        session,
        ticket,
        NewMessage(
            author_kind="customer",
            channel="sms",
            visible_text=msg.text,
            full_text=msg.full_text,
            subject=msg.subject,
            sender=work.sender,
            recipients=tuple(a.address for a in msg.to),
            sms_sid=msg.sms_sid,
            media_urls=msg.media_urls,
            contact=contact,
            inbox_id=work.item_id,
            audience=audience,
        ),
        now=work.now,
        first=True if new_ticket else None,
    )
    media = media_of(dict(read_form(work.raw)))
    for part in media:
        # Fetched by a worker into the attachment store; the URL stays on the message.
        add_row(
            session,
            MediaFetch,
            {
                "message_id": message.id,
                "url": part.url,
                "content_type": part.content_type[:200],
                "status": "pending",
                "attempts": 0,
                "created_at": work.now,
                "updated_at": work.now,
            },
        )
    return replace(work, ticket=ticket, message=message, new_ticket=new_ticket)


def open_ticket_of(uow: UnitOfWork, contact: Contact) -> Ticket | None:
    """The contact's ticket with the latest activity that is not closed (nor merged away)."""
    return uow.lookups.open_ticket(contact.id)


def _keyword(work: Work, uow: UnitOfWork) -> Keyword | None:
    assert work.parsed is not None
    found = keyword(work.parsed.message.text)
    if found is None or found.word not in ONLY_WHEN_OPTED_OUT:
        return found
    return found if optout.opted_out_since(uow.session, work.sender) else None


def _act_on(found: Keyword, work: Work, uow: UnitOfWork) -> Work:
    """Record or lift the opt-out, or queue the help text; tell the open ticket's agents."""
    assert work.parsed is not None
    session, number = uow.session, work.sender
    contact = contact_for_phone(session, number)
    ticket = open_ticket_of(uow, contact)
    if found.action == "opt_out":
        optout.opt_out(session, number, work.now)
        note = f"The customer texted {found.word}: no SMS goes to {number} until they text START."
    elif found.action == "opt_in":
        optout.opt_in(session, number)
        note = f"The customer texted {found.word}: SMS to {number} are allowed again."
    else:
        _send_help(work, uow, contact, ticket)
        note = ""
    if note and ticket is not None:
        tickets.add_message(
            session,
            ticket,
            NewMessage.system_note(
                note,
                channel="sms",
                sender=number,
                sms_sid=work.parsed.message.sms_sid,
                inbox_id=work.item_id,
            ),
            now=work.now,
        )
    return replace(work, ticket=ticket)


def _send_help(work: Work, uow: UnitOfWork, contact: Contact, ticket: Ticket | None) -> None:
    assert work.parsed is not None
    ours = work.parsed.message.to[0].address if work.parsed.message.to else None
    queue = ticket.queue if ticket is not None else _queue_for(uow, work)
    support = reply_address(queue, uow.settings.support_address[0])
    vars = (
        ticket_vars(
            uow.session,
            ticket,
            recipient_name=contact.name,
            recipient_address=work.sender,
            default_address=support,
        )
        if ticket is not None
        else {
            **dict.fromkeys(VAR_KEYS),
            "recipient": {"name": contact.name, "address": work.sender},
            "customer": {"name": contact.name, "address": work.sender},
            "support_address": support,
        }
    )
    enqueue_sms(
        uow.session,
        uow.settings,
        ticket=ticket,
        recipient=Recipient.contact(contact, work.sender),
        template="sms_help",
        vars=vars,
        key=f"sms_help:{work.parsed.message.sms_sid or work.item_id}",
        sender=ours,
    )


def _queue_for(uow: UnitOfWork, work: Work) -> Queue:
    """The queue whose SMS number was texted, else the default queue."""
    assert work.parsed is not None
    for to in work.parsed.message.to:
        queue = uow.queue_for_number(to.address)
        if queue is not None:
            return queue
    return uow.default_queue
