"""The email pipeline's own steps: parse the MIME, read ahead, screen, classify, thread.

Each takes the item's :class:`Work` and the transaction's :class:`UnitOfWork` and returns
a richer copy of the work; their order is the ``email`` entry of
``gateway.pipeline.table``, beside the steps every channel shares
(``gateway.pipeline.common_steps``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from gateway.agent_auth import verify_agent
from gateway.classify import Context, classify
from gateway.mail.parse import parse_mail
from gateway.pipeline.work import Work
from gateway.threading import ThreadDecision, bare_reply_subjects, candidate_tickets, decide
from gateway.unit_of_work import UnitOfWork
from schema.bounded import fit
from schema.models import InboxItem
from schema.models.base import utcnow

AUTOMATIC = frozenset({"auto_reply", "bounce"})


def parse(work: Work, uow: UnitOfWork) -> Work:
    """Parse the raw mail, unless it came parsed (an import parses ahead, in parallel)."""
    parsed = work.parsed or parse_mail(work.raw)
    sender = parsed.message.sender.address or (work.envelope_sender or "").lower()
    return replace(work, parsed=parsed, sender=fit(InboxItem.sender, sender))


def screen(work: Work, uow: UnitOfWork) -> Work:
    """A mail whose Message-ID is already on a ticket is a second delivery of it."""
    assert work.parsed is not None
    mid = work.parsed.message.message_id
    known = uow.lookups.ticket_of_message_id(mid) if mid else None
    if known is not None and not known[1]:
        ticket = uow.lookups.ticket(known[0])
        ref = ticket.reference if ticket else f"ticket {known[0]}"
        return replace(work, duplicate_of=f"duplicate of <{mid}> already on {ref}")
    return work


def classify_step(work: Work, uow: UnitOfWork) -> Work:
    assert work.parsed is not None
    ctx = Context(
        sender=work.sender,
        envelope_sender=work.envelope_sender,
        agent_addresses=uow.agent_addresses,
        support_addresses=uow.support_addresses,
        message_id_domain=uow.settings.message_id_domain,
    )
    return replace(work, verdict=classify(work.parsed.mime, ctx))


def thread(work: Work, uow: UnitOfWork) -> Work:
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
        uow.session,
        msg,
        secret=uow.settings.secret_key,
        recipients=list(dict.fromkeys(recipients)),
        extra_message_ids=[m for m in extra if m],
        resolved_since=_reopen_since(work, uow),
    )
    if verdict.kind in AUTOMATIC and decision.decision != "reply":
        what = verdict.kind.replace("_", "-")
        decision = ThreadDecision("ignore", f"{what}, no ticket to note it on")
    author, why = _author(work, uow, decision)
    return replace(work, thread=decision, author=author, author_reason=why)


def _reopen_since(work: Work, uow: UnitOfWork) -> datetime:
    """Resolved before this, a ticket no longer takes bare replies by subject."""
    return work.now - timedelta(days=uow.settings.reopen_window_days)


def _author(work: Work, uow: UnitOfWork, decision: ThreadDecision) -> tuple[str, str]:
    assert work.verdict is not None
    assert work.parsed is not None
    if work.verdict.kind in AUTOMATIC:
        return "system", work.verdict.reason
    if work.verdict.kind != "agent":
        return "customer", work.verdict.reason
    agent = uow.lookups.agent(work.sender)
    ok, why = verify_agent(
        agent, work.sender, decision.token, work.parsed.mime, uow.settings.trusted_authserv_ids
    )
    if ok and decision.decision == "reply":
        return "agent", why
    return "customer", f"agent address, not verified ({why}): handled as a customer message"


def prefetch(works: Sequence[Work], uow: UnitOfWork) -> Sequence[Work]:
    """Read at once what the parsed mails of a batch will look up (``gateway.lookups``)."""
    message_ids: list[str] = []
    ticket_ids: list[int] = []
    subjects: list[str] = []
    for work in works:
        if work.parsed is None:
            continue
        msg = work.parsed.message
        message_ids += [msg.message_id or "", *msg.in_reply_to, *msg.references]
        recipients = [*work.envelope_recipients, *(a.address for a in msg.recipients)]
        ticket_ids += candidate_tickets(msg, recipients, uow.settings.secret_key)
        subjects += bare_reply_subjects(msg)
    senders = [work.sender for work in works]
    index = uow.lookups
    index.prefetch(message_ids=message_ids, ticket_ids=ticket_ids, emails=senders)
    if subjects:
        since = utcnow() - timedelta(days=uow.settings.reopen_window_days)
        index.prefetch_subjects(subjects, since)
    index.prefetch_rates(senders, utcnow(), [w.item_id for w in works if w.item_id])
    return works
