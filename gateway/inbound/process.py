"""Running stored inbox items through the pipeline, and parking the ones that fail.

``process_item`` is what the listener's background worker and ``mail inbox retry`` call;
``ingest_batch`` is what ``mail ingest`` uses to import a mailbox, committing many mails
per transaction (each inside its own savepoint) because a commit per mail would spend
most of the time waiting for the disk.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker, undefer

from gateway import events, notify
from gateway.config import Settings
from gateway.errors import Quarantine
from gateway.inbound.breaker import hold_reason
from gateway.inbound.inbox import accept, mail_dedupe_key, pending_ids
from gateway.ingest import STEPS, parse
from gateway.work import Env, Work
from schema.models import InboxItem
from schema.models.base import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one inbox item, as ``mail ingest`` counts and the CLI shows it."""

    item_id: int
    status: str  # done | ignored | failed | duplicate | skipped
    kind: str | None = None
    decision: str | None = None
    ticket: str | None = None
    new_ticket: bool = False
    held: bool = False
    reason: str = ""


def process_item(
    session: Session, settings: Settings, item_id: int, batch: Env | None = None
) -> Outcome:
    """Run one pending item through the pipeline inside the caller's transaction.

    The row is locked (``FOR UPDATE SKIP LOCKED`` where the database has it) so two
    processors never handle one item; a failure rolls back to a savepoint and parks the
    item as ``failed`` with the step and reason, leaving the transaction usable.
    ``batch`` shares its caches with the items of one transaction (``ingest_batch``).
    """
    item = session.scalars(
        select(InboxItem)
        .where(InboxItem.id == item_id, InboxItem.status == "pending")
        .options(undefer(InboxItem.raw))  # the pipeline reads it at once: one query, not two
        .with_for_update(skip_locked=True)
    ).one_or_none()
    if item is None:
        return Outcome(item_id, "skipped", reason="not pending, or taken by another processor")
    env = batch.next_item() if batch is not None else Env(session, settings)
    work = Work(
        raw=item.raw,
        envelope_sender=item.envelope_sender,
        envelope_recipients=tuple(item.envelope_recipients or ()),
        item_id=item.id,
    )
    item.attempts += 1
    trace: list[str] = []
    try:
        with session.begin_nested():
            work = _run(work, env, item, trace)
    except Exception as exc:
        events.discard(session)  # the changes that caused them were rolled back
        item.status, item.failed_step = "failed", trace[-1] if trace else "parse"
        item.reason = (
            f"{type(exc).__name__}: {exc}"[:2000] if not isinstance(exc, Quarantine) else str(exc)
        )
        item.processed_at = utcnow()
        log.warning("inbox item %s failed at %s: %s", item.id, item.failed_step, item.reason)
        return Outcome(item.id, "failed", reason=item.reason)
    return _outcome(item, work)


def _run(work: Work, env: Env, item: InboxItem, trace: list[str]) -> Work:
    """The pipeline with the inbox row kept up to date; ``trace`` names each step begun."""
    for step in STEPS:
        trace.append(step.__name__.removesuffix("_step"))
        work = step(work, env)
        if step is parse:
            work = _note_sender(work, env, item)
    trace.append("notify")
    notify.flush(env.session, env.settings)
    verdict, thread = work.verdict, work.thread
    assert verdict is not None
    assert thread is not None
    item.classification, item.classification_reason = verdict.kind, verdict.reason
    item.thread_decision, item.thread_reason = thread.decision, thread.reason
    item.status = "ignored" if thread.decision == "ignore" else "done"
    item.reason = "; ".join(work.notes) or None
    item.failed_step = None
    item.processed_at = env.now
    if work.ticket is not None:
        item.ticket_id = work.ticket.id
    if work.message is not None:
        item.message_id = work.message.id
    return work


def _note_sender(work: Work, env: Env, item: InboxItem) -> Work:
    """Record who sent the item and hold it when that sender is over the rate."""
    item.sender = work.sender or None
    item.sender_domain = work.sender.rpartition("@")[2] or None
    reason = hold_reason(env.session, item, work.sender, env.settings.inbound_rate, env.now)
    if reason is None:
        return work
    item.held = True
    return replace(work, held=True, notes=(*work.notes, reason))


def _outcome(item: InboxItem, work: Work) -> Outcome:
    thread = work.thread
    status = "duplicate" if work.duplicate_of else item.status
    return Outcome(
        item.id,
        status,
        kind=item.classification,
        decision=thread.decision if thread else None,
        ticket=work.ticket.reference if work.ticket else None,
        new_ticket=work.new_ticket,
        held=item.held,
        reason=thread.reason if thread else "",
    )


def process_pending(
    sessions: sessionmaker[Session], settings: Settings, limit: int = 1000
) -> list[Outcome]:
    """Process every pending item, oldest first, one transaction each."""
    with sessions() as session:
        ids = pending_ids(session, limit)
    outcomes = []
    for item_id in ids:
        with sessions() as session, session.begin():
            outcomes.append(process_item(session, settings, item_id))
    return outcomes


def ingest_batch(
    session: Session, settings: Settings, raws: Iterable[tuple[bytes, str]]
) -> list[Outcome]:
    """Accept and process ``(raw, source)`` mails in the caller's transaction, in order."""
    batch = Env(session, settings)
    outcomes = []
    for raw, source in raws:
        accepted = accept(
            session, raw, channel="email", source=source, dedupe_key=mail_dedupe_key(raw)
        )
        if accepted.duplicate:
            outcomes.append(Outcome(accepted.item_id, "duplicate", reason="already in the inbox"))
            continue
        outcomes.append(process_item(session, settings, accepted.item_id, batch))
    return outcomes
