"""One inbound mail from the inbox to a message on a ticket: parse, classify, thread, store.

The pipeline is data: ``STEPS`` in order, each a function from :class:`Work` to
:class:`Work`. ``mail explain`` runs the read-only prefix ``EXPLAIN_STEPS`` against the live
database and prints what would happen; ``process_item`` runs them all inside one
transaction with the inbox row, so a crash anywhere leaves the item ``pending`` for the
next start, and a failure parks it as ``failed`` with the step and reason.
"""

from __future__ import annotations

from dataclasses import replace

from gateway.agent_auth import verify_agent
from gateway.agents import find_agent
from gateway.classify import Context, classify
from gateway.mail.parse import parse_mail
from gateway.store import store
from gateway.threading import ThreadDecision, decide
from gateway.work import Env, Step, Work
from schema.models import KnownMessageId, Ticket

AUTOMATIC = frozenset({"auto_reply", "bounce"})


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


STEPS: tuple[Step, ...] = (parse, screen, classify_step, thread, store)
EXPLAIN_STEPS: tuple[Step, ...] = STEPS[:-1]


def run(steps: tuple[Step, ...], work: Work, env: Env) -> Work:
    for step in steps:
        work = step(work, env)
    return work
