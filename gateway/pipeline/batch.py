"""Running stored inbox items through the pipeline, and parking the ones that fail.

``process_items`` is what the listener's processor calls with everything waiting, and
``ingest_batch`` what ``mail ingest`` calls per 200 mails of a mailbox: the items of one
transaction go through together, so their reads are a few queries per table and their
writes one flush and one bulk insert per table (see ``gateway.lookups`` and
``schema.db.add_row``). ``process_item`` (one item) serves ``mail inbox retry``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker, undefer

from gateway import events, notify
from gateway.addresses import domain_of
from gateway.config import Settings
from gateway.errors import Quarantine, one_line
from gateway.inbound.breaker import hold_reason
from gateway.inbound.inbox import Incoming, accept_all, mail_dedupe_key, pending_ids
from gateway.mail.parse import ParsedMail
from gateway.pipeline.email_steps import STEPS, prefetch
from gateway.pipeline.work import Env, Step, Work
from gateway.sms.pipeline import SMS_STEPS
from schema.db import reserve_ids, write_rows
from schema.models import Contact, ContactIdentity, InboxItem, Message
from schema.models.base import utcnow

log = logging.getLogger(__name__)

# Items per transaction when working through a backlog: large enough that the batch's
# reads and writes are a few statements per table, small enough that a batch that has to
# be redone item by item (one of them failed) costs little.
BATCH = 200
# And at most this much mail per transaction (one bigger mail goes alone): a batch's raw
# mails, parsed trees and texts are all alive until it commits. Twenty 10 MB mails arriving
# together made one batch, and the processing child held gigabytes.
BATCH_BYTES = 16 * 1024 * 1024


def by_size(item_ids: Sequence[int], sizes: Mapping[int, int]) -> list[list[int]]:
    """``item_ids`` in order, cut into batches of at most :data:`BATCH_BYTES` of mail."""
    batches: list[list[int]] = []
    total = BATCH_BYTES + 1
    for item_id in item_ids:
        size = sizes.get(item_id, 0)
        if total + size > BATCH_BYTES:
            batches.append([])
            total = 0
        batches[-1].append(item_id)
        total += size
    return batches


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


def process_item(session: Session, settings: Settings, item_id: int) -> Outcome:
    """Run one pending item through the pipeline inside the caller's transaction."""
    return process_items(session, settings, [item_id])[0]


def process_items(
    session: Session,
    settings: Settings,
    item_ids: Sequence[int],
    parsed: Mapping[int, ParsedMail] | None = None,
) -> list[Outcome]:
    """Run pending items through the pipeline, in order, inside the caller's transaction.

    The rows are locked (``FOR UPDATE SKIP LOCKED`` where the database has it) so two
    processors never handle one item. All items go through together first, in one
    savepoint: the batch's reads are prefetched and its writes flushed once, as multi-row
    inserts. If anything fails, that savepoint is rolled back and every item runs again
    alone in its own savepoint, so one bad mail is parked as ``failed`` with its step and
    reason, and the others are stored as if it had never been there. ``parsed`` holds
    items already parsed, by id.
    """
    rows = {
        item.id: item
        for item in session.scalars(
            select(InboxItem)
            .where(InboxItem.id.in_(list(item_ids)), InboxItem.status == "pending")
            .options(undefer(InboxItem.raw))  # the pipeline reads it at once
            .order_by(InboxItem.id)
            .with_for_update(skip_locked=True)
        )
    }
    items = [rows[i] for i in dict.fromkeys(item_ids) if i in rows]
    done: dict[int, Outcome] = {}
    if len(items) > 1:
        mark = events.mark(session)
        try:
            with session.begin_nested():
                done = {o.item_id: o for o in _together(session, settings, items, parsed)}
        except _ItemFailed as failed:
            events.rollback_to(session, mark)
            log.info("batch of %d: item %s failed; running each alone", len(items), failed.item_id)
    for item in items:
        if item.id not in done:
            done[item.id] = _alone(session, settings, item, parsed)
    skipped = "not pending, or taken by another processor"
    return [done.get(i) or Outcome(i, "skipped", reason=skipped) for i in item_ids]


class _ItemFailed(Exception):
    def __init__(self, item_id: int, step: str, error: Exception) -> None:
        super().__init__(f"item {item_id} failed at {step}: {error}")
        self.item_id, self.step, self.error = item_id, step, error


def _alone(
    session: Session,
    settings: Settings,
    item: InboxItem,
    parsed: Mapping[int, ParsedMail] | None = None,
) -> Outcome:
    """One item in its own savepoint; a failure parks it as ``failed`` with its reason.

    A unique key taken by a concurrent processor (two of them meeting the same new
    customer at once) is not the mail's fault: the item runs once more, and then finds
    what the other one committed.
    """
    for attempt in (1, 2):
        mark = events.mark(session)
        try:
            with session.begin_nested():
                return _together(session, settings, [item], parsed)[0]
        except _ItemFailed as failed:
            events.rollback_to(session, mark)  # the changes that caused them were rolled back
            if attempt == 1 and isinstance(failed.error, IntegrityError):
                continue
            return _park(item, failed)
    raise AssertionError("unreachable")


def _park(item: InboxItem, failed: _ItemFailed) -> Outcome:
    exc = failed.error
    item.attempts += 1
    item.status, item.failed_step = "failed", failed.step
    item.reason = str(exc) if isinstance(exc, Quarantine) else one_line(exc)
    item.processed_at = utcnow()
    log.warning("inbox item %s failed at %s: %s", item.id, item.failed_step, item.reason)
    return Outcome(item.id, "failed", reason=item.reason)


def _together(
    session: Session,
    settings: Settings,
    items: Sequence[InboxItem],
    parsed: Mapping[int, ParsedMail] | None = None,
) -> list[Outcome]:
    """The pipeline for ``items`` as one batch; raises :class:`_ItemFailed` on any failure."""
    batch = Env(session, settings)
    works: list[tuple[InboxItem, Work, Env]] = []
    for item in items:
        env = batch.next_item()
        item.attempts += 1
        work = Work(
            raw=item.raw,
            envelope_sender=item.envelope_sender,
            envelope_recipients=tuple(item.envelope_recipients or ()),
            item_id=item.id,
            parsed=(parsed or {}).get(item.id),
        )
        with _blame(item, "parse"):
            works.append((item, _steps(item)[0](work, env), env))
    prefetch(session, [work for item, work, _ in works if item.channel == "email"], settings)
    # At most one message and one new contact per mail: draw their ids in one go each.
    # (Ticket ids are numbers people read; they are drawn as needed, see allocate_id.)
    for model in (Message, Contact, ContactIdentity):
        reserve_ids(session, model, len(works))
    done = []
    for item, work, env in works:
        with _blame(item, "screen"):
            work = _note_sender(work, env, item)
        for step in _steps(item)[1:]:
            with _blame(item, step.__name__.removesuffix("_step")):
                work = step(work, env)
        done.append((item, work, env))
    # The batch's notifications and writes are shared: no single item to blame for a
    # failure here until each item runs alone.
    blame = items[0].id if len(items) == 1 else -1
    with _blame_id(blame, "notify"):
        notify.flush(session, settings)
    with _blame_id(blame, "store"):
        # Everything the items wrote, the queued rows too (audit events, outbox rows,
        # Message-IDs), goes out here, inside the batch's or the item's savepoint: a row
        # that fails at commit instead would fail the whole transaction, and no item
        # could be blamed for it.
        write_rows(session)
        session.flush()
    return [_finish(item, work, env) for item, work, env in done]


def _steps(item: InboxItem) -> tuple[Step, ...]:
    """The pipeline of the item's channel."""
    return SMS_STEPS if item.channel == "sms" else STEPS


def _blame(item: InboxItem, step: str) -> AbstractContextManager[None]:
    return _blame_id(item.id, step)


@contextmanager
def _blame_id(item_id: int, step: str) -> Iterator[None]:
    """Name the item and step an exception came from, for the batch's fallback."""
    try:
        yield
    except Exception as exc:
        raise _ItemFailed(item_id, step, exc) from exc


def _finish(item: InboxItem, work: Work, env: Env) -> Outcome:
    """Write what became of the item on its inbox row."""
    verdict, thread = work.verdict, work.thread
    assert verdict is not None
    assert thread is not None
    item.classification, item.classification_reason = verdict.kind, verdict.reason
    item.thread_decision, item.thread_reason = thread.decision, thread.reason
    item.status = "ignored" if thread.decision == "ignore" else "done"
    item.reason = "; ".join(work.notes) or None
    item.failed_step = None
    item.defects = list(work.parsed.message.defects) if work.parsed else []
    item.processed_at = env.now
    if work.ticket is not None:
        item.ticket_id = work.ticket.id
    if work.message is not None:
        item.message_id = work.message.id
    return _outcome(item, work)


def _note_sender(work: Work, env: Env, item: InboxItem) -> Work:
    """Record who sent the item and hold it when that sender is over the rate."""
    item.sender = work.sender or None
    item.sender_domain = domain_of(work.sender) or None
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
    """Process every pending item, oldest first, ``BATCH`` items per transaction."""
    with sessions() as session:
        ids = pending_ids(session, limit)
    outcomes = []
    for start in range(0, len(ids), BATCH):
        with sessions() as session, session.begin():
            outcomes += process_items(session, settings, ids[start : start + BATCH])
    return outcomes


def ingest_batch(
    session: Session,
    settings: Settings,
    raws: Sequence[tuple[bytes, str]],
    parsed: Sequence[ParsedMail] | None = None,
) -> list[Outcome]:
    """Accept and process ``(raw, source)`` mails in the caller's transaction, in order.

    ``parsed``, when given, holds the same mails already parsed (``parse_ahead``).
    """
    accepted = accept_all(
        session,
        [
            Incoming(raw, channel="email", source=source, dedupe_key=mail_dedupe_key(raw))
            for raw, source in raws
        ],
    )
    fresh = [a.item_id for a in accepted if not a.duplicate]
    by_id = {a.item_id: p for a, p in zip(accepted, parsed, strict=True)} if parsed else None
    processed = {o.item_id: o for o in process_items(session, settings, fresh, by_id)}
    return [
        Outcome(a.item_id, "duplicate", reason="already in the inbox")
        if a.duplicate
        else processed[a.item_id]
        for a in accepted
    ]
