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
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker, undefer

from gateway.config import Settings
from gateway.errors import Quarantine, one_line
from gateway.inbound.inbox import Incoming, accept_all, mail_dedupe_key, pending_ids
from gateway.mail.parse import ParsedMail
from gateway.pipeline.table import PIPELINES, Pipeline, Step
from gateway.pipeline.work import Work
from gateway.unit_of_work import UnitOfWork
from schema.db import reserve_ids
from schema.models import Contact, ContactIdentity, InboxItem, Message
from schema.models.base import utcnow

log = logging.getLogger(__name__)

# Items per transaction when working through a backlog: large enough that the batch's
# reads and writes are a few statements per table, small enough that a batch that has to
# be redone item by item (one of them failed) costs little.
ITEMS_PER_BATCH = 200
# And at most this much mail per transaction (one bigger mail goes alone): a batch's raw
# mails, parsed trees and texts are all alive until it commits. Twenty 10 MB mails arriving
# together made one batch, and the processing child held gigabytes.
MAIL_BYTES_PER_BATCH = 16 * 1024 * 1024


def by_size(item_ids: Sequence[int], sizes: Mapping[int, int]) -> list[list[int]]:
    """``item_ids`` in order, cut into batches of at most :data:`MAIL_BYTES_PER_BATCH` of mail."""
    batches: list[list[int]] = []
    total = MAIL_BYTES_PER_BATCH + 1
    for item_id in item_ids:
        size = sizes.get(item_id, 0)
        if total + size > MAIL_BYTES_PER_BATCH:
            batches.append([])
            total = 0
        batches[-1].append(item_id)
        total += size
    return batches


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """What became of one inbox item, as ``mail ingest`` counts and the CLI shows it."""

    item_id: int
    status: str  # done | ignored | failed | duplicate | skipped
    kind: str | None = None
    decision: str | None = None
    ticket: str | None = None
    new_ticket: bool = False
    held: bool = False
    reason: str = ""


def process_item(session: Session, settings: Settings, item_id: int) -> ItemOutcome:
    """Run one pending item through the pipeline inside the caller's transaction."""
    return process_items(session, settings, [item_id])[0]


def process_items(
    session: Session,
    settings: Settings,
    item_ids: Sequence[int],
    parsed: Mapping[int, ParsedMail] | None = None,
) -> list[ItemOutcome]:
    """Run pending items through their channel's pipeline, in order, in the caller's transaction.

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
    done: dict[int, ItemOutcome] = {}
    for channel, pipeline in PIPELINES.items():
        ours = [item for item in items if item.channel == channel]
        if len(ours) > 1:
            uow = UnitOfWork.of(session, settings)
            try:
                with uow.savepoint():
                    done |= {o.item_id: o for o in _together(uow, pipeline, ours, parsed)}
            except _ItemFailed as failed:
                what = "batch of %d: item %s failed; running each alone"
                log.info(what, len(ours), failed.item_id)
    for item in items:
        if item.id not in done:
            done[item.id] = _alone(session, settings, item, parsed)
    skipped = "not pending, or taken by another processor"
    return [done.get(i) or ItemOutcome(i, "skipped", reason=skipped) for i in item_ids]


class _ItemFailed(Exception):
    def __init__(self, item_id: int, step: str, error: Exception) -> None:
        super().__init__(f"item {item_id} failed at {step}: {error}")
        self.item_id, self.step, self.error = item_id, step, error


def _alone(
    session: Session,
    settings: Settings,
    item: InboxItem,
    parsed: Mapping[int, ParsedMail] | None = None,
) -> ItemOutcome:
    """One item in its own savepoint; a failure parks it as ``failed`` with its reason.

    A unique key taken by a concurrent processor (two of them meeting the same new
    customer at once) is not the mail's fault: the item runs once more, and then finds
    what the other one committed.
    """
    pipeline = PIPELINES.get(item.channel)
    if pipeline is None:
        error = Quarantine(f"no pipeline for the channel {item.channel!r}")
        return _park(item, _ItemFailed(item.id, "pipeline", error))
    for attempt in (1, 2):
        uow = UnitOfWork.of(session, settings)
        try:
            with uow.savepoint():
                return _together(uow, pipeline, [item], parsed)[0]
        except _ItemFailed as failed:
            if attempt == 1 and isinstance(failed.error, IntegrityError):
                continue
            return _park(item, failed)
    raise AssertionError("unreachable")


def _park(item: InboxItem, failed: _ItemFailed) -> ItemOutcome:
    exc = failed.error
    item.attempts += 1
    item.status, item.failed_step = "failed", failed.step
    item.reason = str(exc) if isinstance(exc, Quarantine) else one_line(exc)
    item.processed_at = utcnow()
    log.warning("inbox item %s failed at %s: %s", item.id, item.failed_step, item.reason)
    return ItemOutcome(item.id, "failed", reason=item.reason)


def _together(
    uow: UnitOfWork,
    pipeline: Pipeline,
    items: Sequence[InboxItem],
    parsed: Mapping[int, ParsedMail] | None = None,
) -> list[ItemOutcome]:
    """``items`` through ``pipeline`` as one batch; raises :class:`_ItemFailed` on any failure.

    Runs of ``each`` steps go item by item (all of them for one item, then the next);
    a ``batch`` step runs once for all items. A failure in a batch step is blamed on the
    item when there is only one, else on none (``-1``) until each item runs alone.
    """
    works = []
    for item in items:
        item.attempts += 1
        works.append(
            Work(
                raw=item.raw,
                envelope_sender=item.envelope_sender,
                envelope_recipients=tuple(item.envelope_recipients or ()),
                item=item,
                parsed=(parsed or {}).get(item.id),
            )
        )
    # At most one message and one new contact per item: draw their ids in one go each.
    # (Ticket ids are numbers people read; they are drawn as needed, see allocate_id.)
    for model in (Message, Contact, ContactIdentity):
        reserve_ids(uow.session, model, len(works))
    blame = items[0].id if len(items) == 1 else -1
    for run in _runs(pipeline.steps):
        if run[0].scope == "batch":
            [step] = run
            with _blame(blame, step.name):
                works = step.apply(works, uow)
            continue
        for n, item in enumerate(items):
            for step in run:
                with _blame(item.id, step.name):
                    [works[n]] = step.apply([works[n]], uow)
    return [_outcome(work) for work in works]


def _runs(steps: Sequence[Step]) -> list[list[Step]]:
    """The steps grouped: each batch step alone, consecutive item steps together."""
    runs: list[list[Step]] = []
    for step in steps:
        if step.scope == "each" and runs and runs[-1][0].scope == "each":
            runs[-1].append(step)
        else:
            runs.append([step])
    return runs


@contextmanager
def _blame(item_id: int, step: str) -> Iterator[None]:
    """Name the item and step an exception came from, for the batch's fallback."""
    try:
        yield
    except Exception as exc:
        raise _ItemFailed(item_id, step, exc) from exc


def _outcome(work: Work) -> ItemOutcome:
    item, thread = work.item, work.thread
    assert item is not None
    status = "duplicate" if work.duplicate_of else item.status
    return ItemOutcome(
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
) -> list[ItemOutcome]:
    """Process every pending item, oldest first, ``ITEMS_PER_BATCH`` items per transaction."""
    with sessions() as session:
        ids = pending_ids(session, limit)
    outcomes = []
    for start in range(0, len(ids), ITEMS_PER_BATCH):
        with sessions() as session, session.begin():
            outcomes += process_items(session, settings, ids[start : start + ITEMS_PER_BATCH])
    return outcomes


def ingest_batch(
    session: Session,
    settings: Settings,
    raws: Sequence[tuple[bytes, str]],
    parsed: Sequence[ParsedMail] | None = None,
) -> list[ItemOutcome]:
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
        ItemOutcome(a.item_id, "duplicate", reason="already in the inbox")
        if a.duplicate
        else processed[a.item_id]
        for a in accepted
    ]
