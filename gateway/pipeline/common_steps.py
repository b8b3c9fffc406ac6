"""Steps every channel's pipeline shares: the circuit breaker, notifications, the outcome
on the inbox row, and the batch's writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from gateway import notify as notifications
from gateway.identities import domain_of
from gateway.inbound.breaker import hold_reason
from gateway.pipeline.work import Work
from gateway.unit_of_work import UnitOfWork


def breaker(work: Work, uow: UnitOfWork) -> Work:
    """Hold the item when its sender is over ``TICKETGW_INBOUND_RATE``: no notifications."""
    reason = hold_reason(uow.session, work.item, work.sender, uow.settings.inbound_rate, work.now)
    if reason is None:
        return work
    return replace(work, held=True, notes=(*work.notes, reason))


def notify(works: Sequence[Work], uow: UnitOfWork) -> Sequence[Work]:
    """The outbox rows for the events the batch's items recorded (``gateway.notify``)."""
    notifications.flush(uow.session, uow.settings)
    return works


def write(works: Sequence[Work], uow: UnitOfWork) -> Sequence[Work]:
    """Everything the items wrote, queued rows included, inside the current savepoint.

    A row left for the commit instead would fail the whole transaction, and no item could
    be blamed for it.
    """
    uow.write()
    return works


def finish(work: Work, uow: UnitOfWork) -> Work:
    """Write what became of the item on its inbox row."""
    item, verdict, thread = work.item, work.verdict, work.thread
    assert item is not None
    assert verdict is not None
    assert thread is not None
    item.sender = work.sender or None
    item.sender_domain = domain_of(work.sender) or None
    item.held = work.held
    item.classification, item.classification_reason = verdict.kind, verdict.reason
    item.thread_decision, item.thread_reason = thread.decision, thread.reason
    item.status = "ignored" if thread.decision == "ignore" else "done"
    item.reason = "; ".join(work.notes) or None
    item.failed_step = None
    item.defects = list(work.parsed.message.defects) if work.parsed else []
    item.processed_at = work.now
    if work.ticket is not None:
        item.ticket_id = work.ticket.id
    if work.message is not None:
        item.message_id = work.message.id
    return work
