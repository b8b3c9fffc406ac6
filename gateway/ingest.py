"""One inbound mail from the inbox to a message on a ticket: parse, classify, thread, store.

The pipeline is data: ``STEPS`` in order, each a function from :class:`Work` to
:class:`Work`. ``mail explain`` runs the read-only prefix ``EXPLAIN_STEPS`` against the live
database and prints what would happen; ``process_item`` runs them all inside one
transaction with the inbox row, so a crash anywhere leaves the item ``pending`` for the
next start, and a failure parks it as ``failed`` with the step and reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway import bounces, commands, events, tickets
from gateway.agent_auth import verify_agent
from gateway.agents import active_agent_addresses, find_agent
from gateway.classify import Context, Verdict, classify
from gateway.commands import parse_commands
from gateway.config import Settings
from gateway.contacts import contact_for_email
from gateway.errors import GatewayError, Quarantine
from gateway.events import Audience, CommandFailed
from gateway.files import save_blob
from gateway.mail.parse import ParsedMail, parse_mail
from gateway.queues import DEFAULT_QUEUE, get_queue, queue_for_address
from gateway.threading import ThreadDecision, conversation_key, decide
from gateway.tickets import NewMessage
from gateway.tokens import split_plus
from schema.models import (
    Agent,
    Attachment,
    Contact,
    KnownMessageId,
    Message,
    Queue,
    QueueAddress,
    Ticket,
)
from schema.models.base import utcnow

AUTOMATIC = frozenset({"auto_reply", "bounce"})


@dataclass(frozen=True, slots=True)
class Work:
    """Everything known about one inbound mail so far; each step returns a richer copy."""

    raw: bytes
    envelope_sender: str | None
    envelope_recipients: tuple[str, ...]
    item_id: int | None = None
    parsed: ParsedMail | None = None
    sender: str = ""
    verdict: Verdict | None = None
    thread: ThreadDecision | None = None
    author: str = ""  # customer | agent | system
    author_reason: str = ""
    duplicate_of: str | None = None
    ticket: Ticket | None = None
    message: Message | None = None
    new_ticket: bool = False
    held: bool = False  # the circuit breaker's: stored and threaded, nobody notified
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(slots=True)
class Env:
    """What the steps need besides the mail: the session, settings and per-batch caches.

    The caches live as long as the transaction (``ingest_batch`` shares them between the
    mails of one transaction through :meth:`next_item`): agents, support addresses and
    queues do not change under a running import, and never across transactions.
    """

    session: Session
    settings: Settings
    now: datetime = field(default_factory=utcnow)
    cache: dict[str, Any] = field(default_factory=dict)

    def next_item(self) -> Env:
        """The environment for the next mail of the same transaction: its own clock."""
        return Env(self.session, self.settings, cache=self.cache)

    @property
    def agent_addresses(self) -> frozenset[str]:
        if "agents" not in self.cache:
            self.cache["agents"] = active_agent_addresses(self.session)
        return self.cache["agents"]  # type: ignore[no-any-return]

    @property
    def support_addresses(self) -> frozenset[str]:
        if "support" not in self.cache:
            rows = self.session.scalars(select(QueueAddress.address))
            self.cache["support"] = frozenset(rows) | frozenset(self.settings.support_address)
        return self.cache["support"]  # type: ignore[no-any-return]

    def queue_for_address(self, address: str) -> Queue | None:
        queues: dict[str, Queue | None] = self.cache.setdefault("queues", {})
        if address not in queues:
            queues[address] = queue_for_address(self.session, address)
        return queues[address]


Step = Callable[[Work, Env], Work]


def parse(work: Work, env: Env) -> Work:
    parsed = parse_mail(work.raw)
    sender = parsed.message.sender.address or (work.envelope_sender or "").lower()
    return replace(work, parsed=parsed, sender=sender)


def screen(work: Work, env: Env) -> Work:
    """A mail whose Message-ID is already on a ticket is a second delivery of it."""
    assert work.parsed is not None
    mid = work.parsed.message.message_id
    if mid:
        known = env.session.get(KnownMessageId, mid)
        if known is not None and not known.outbound:
            ticket = env.session.get(Ticket, known.ticket_id)
            ref = ticket.reference if ticket else f"ticket {known.ticket_id}"
            return replace(work, duplicate_of=f"duplicate of <{mid}> already on {ref}")
    return work


def classify_step(work: Work, env: Env) -> Work:
    assert work.parsed is not None
    ctx = Context(
        sender=work.sender,
        envelope_sender=work.envelope_sender,
        agent_addresses=env.agent_addresses,
        support_addresses=env.support_addresses,
        message_id_domain=env.settings.message_id_domain,
    )
    return replace(work, verdict=classify(work.parsed.mime, ctx))


def thread(work: Work, env: Env) -> Work:
    assert work.parsed is not None
    assert work.verdict is not None
    msg, verdict = work.parsed.message, work.verdict
    if work.duplicate_of is not None:
        return replace(work, thread=ThreadDecision("ignore", work.duplicate_of))
    if verdict.kind == "loop":
        return replace(work, thread=ThreadDecision("ignore", f"our own mail: {verdict.reason}"))
    recipients = [*work.envelope_recipients, *(a.address for a in msg.recipients)]
    extra = [verdict.bounce.original_message_id] if verdict.bounce else []
    decision = decide(
        env.session,
        msg,
        secret=env.settings.secret_key,
        recipients=list(dict.fromkeys(recipients)),
        extra_message_ids=[m for m in extra if m],
    )
    if verdict.kind in AUTOMATIC and decision.decision != "reply":
        what = verdict.kind.replace("_", "-")
        decision = ThreadDecision("ignore", f"{what}, no ticket to note it on")
    author, why = _author(work, env, decision)
    return replace(work, thread=decision, author=author, author_reason=why)


def _author(work: Work, env: Env, decision: ThreadDecision) -> tuple[str, str]:
    assert work.verdict is not None
    assert work.parsed is not None
    if work.verdict.kind in AUTOMATIC:
        return "system", work.verdict.reason
    if work.verdict.kind != "agent":
        return "customer", work.verdict.reason
    agent = find_agent(env.session, work.sender)
    ok, why = verify_agent(
        agent, work.sender, decision.token, work.parsed.mime, env.settings.trusted_authserv_ids
    )
    if ok and decision.decision == "reply":
        return "agent", why
    return "customer", f"agent address, not verified ({why}): handled as a customer message"


def store(work: Work, env: Env) -> Work:
    """Write the ticket, message, attachments and audit events in the caller's transaction."""
    assert work.parsed is not None
    assert work.thread is not None
    assert work.verdict is not None
    if work.thread.decision == "ignore":
        return work
    msg, session = work.parsed.message, env.session
    if not work.sender:
        raise Quarantine("no From address and no envelope sender: cannot tell who wrote it")
    # Only a customer's mail names a contact: a bounce's MAILER-DAEMON is nobody to keep.
    contact = (
        contact_for_email(session, work.sender, msg.sender.name, strict=False)
        if work.author == "customer"
        else None
    )
    ticket, new_ticket = work.thread.ticket, False
    if ticket is None:
        assert contact is not None
        ticket = tickets.open_ticket(
            session,
            queue=_queue_for(env, work),
            contact=contact,
            subject=msg.subject or "(no subject)",
            channel="email",
            actor=f"customer:{work.sender}",
            now=env.now,
            follows_up=work.thread.follows_up,
        )
        new_ticket = True
    if work.author == "agent":
        message = _agent_message(work, env, ticket)
    elif work.author == "system":
        what = work.verdict.kind.replace("_", "-")
        message = _add(work, env, ticket, f"{what}: {msg.text}", internal=True, audience="none")
    else:
        audience: Audience = "agents" if work.verdict.kind == "list" else "all"
        message = _add(work, env, ticket, msg.text, contact=contact, audience=audience)
    for part in msg.attachments:
        message.attachments.append(
            Attachment(
                filename=part.filename,
                content_type=part.content_type,
                size=part.size,
                sha256=save_blob(env.settings.data_dir, part.data),
                content_id=part.content_id,
                inline=part.inline,
            )
        )
    if work.verdict.bounce is not None:
        bounces.record(session, work.verdict.bounce, env.now)
    session.flush()
    return replace(work, ticket=ticket, message=message, new_ticket=new_ticket)


def _add(
    work: Work,
    env: Env,
    ticket: Ticket,
    text: str,
    *,
    internal: bool = False,
    audience: Audience = "all",
    contact: Contact | None = None,
    agent: Agent | None = None,
) -> Message:
    assert work.parsed is not None
    msg = work.parsed.message
    return tickets.add_message(
        env.session,
        ticket,
        NewMessage(
            author_kind=work.author,
            channel="email",
            visible_text=text,
            full_text=msg.full_text,
            html=msg.html,
            subject=msg.subject,
            sender=work.sender,
            recipients=tuple(a.address for a in msg.recipients),
            internal=internal,
            email_message_id=msg.message_id,
            in_reply_to=msg.in_reply_to[0] if msg.in_reply_to else None,
            references=msg.references,
            thread_index=conversation_key(msg.thread_index),
            agent=agent,
            contact=contact,
            inbox_id=work.item_id,
            audience="none" if work.held else audience,
        ),
        now=env.now,
    )


def _agent_message(work: Work, env: Env, ticket: Ticket) -> Message:
    """A verified agent's reply: run its #commands, relay what text is left.

    A reply whose commands cannot all run is kept as an internal note, relays nothing, and
    gets the agent an error mail: half-applying what an agent typed is worse than none.
    """
    assert work.parsed is not None
    agent = find_agent(env.session, work.sender)
    assert agent is not None
    reply = parse_commands(work.parsed.message.text)
    mark = events.mark(env.session)
    errors = reply.errors
    if not errors:
        try:
            with env.session.begin_nested():
                internal = reply.internal or not reply.text
                text = reply.text or work.parsed.message.text
                audience: Audience = "all" if reply.text else "none"
                message = _add(
                    work, env, ticket, text, internal=internal, agent=agent, audience=audience
                )
                commands.apply(env.session, ticket, agent, reply.commands)
                return message
        except GatewayError as exc:
            events.rollback_to(env.session, mark)
            errors = (str(exc),)
    message = _add(
        work, env, ticket, work.parsed.message.text, internal=True, agent=agent, audience="none"
    )
    events.emit(env.session, CommandFailed(ticket.id, agent.id, message.id, errors))
    return message


def _queue_for(env: Env, work: Work) -> Queue:
    assert work.parsed is not None
    sent_to = [a.address for a in work.parsed.message.recipients] + list(work.envelope_recipients)
    for address in sent_to:
        queue = env.queue_for_address(split_plus(address)[0])
        if queue is not None:
            return queue
    return get_queue(env.session, DEFAULT_QUEUE)


STEPS: tuple[Step, ...] = (parse, screen, classify_step, thread, store)
EXPLAIN_STEPS: tuple[Step, ...] = STEPS[:-1]


def run(steps: tuple[Step, ...], work: Work, env: Env) -> Work:
    for step in steps:
        work = step(work, env)
    return work
