"""Deliver a batch of outbox rows: one claim, one provider connection, grouped recording.

A Dramatiq message carries the ids of up to ``gateway.outbox.relay.ROWS_PER_MESSAGE`` rows
of one channel (a retry carries one). The worker

1. claims the batch with one UPDATE and commits it before any provider talk
   (``gateway.outbox.claim.claim_batch``); rows another worker took are not returned, so they are
   not ours to send;
2. sends the claimed rows in id order over the thread's reused connection, one provider
   transaction per row (each mail has its own envelope), deciding each row's
   :class:`~gateway.outbox.outcomes.Outcome` as it goes;
3. hands each outcome to the process's :class:`~gateway.outbox.recorder.OutcomeRecorder` at once,
   waits for the batch's outcomes to be committed, and enqueues the rows that went back to
   ``pending`` for their next attempt.

At least once, never twice on purpose: a crash after the provider accepted a row but before
its ``sent`` is committed leaves the row ``sending``; the sweep puts it back to ``pending``
after the lease, and it is sent again. The recorder keeps that window about one commit wide.

A batch stops early when the provider is :class:`Unreachable` (the next rows would each wait
out the same timeout) or when it has run for half of ``send_timeout`` (itself at most half
the lease): a row claimed at the start must have its outcome long before the sweep would
presume its worker dead and send it again, and one message stays inside its time limit.
The rows not tried are released, with their attempt undone.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from gateway.outbox import outcomes
from gateway.outbox.claim import claim_batch
from gateway.outbox.outcomes import Outcome
from gateway.outbox.relay import row_version
from schema import db
from schema.models import OutboxItem
from schema.models.base import utcnow
from workers.enqueue import enqueue_once
from workers.transports.base import (
    AddressRefused,
    PermanentFailure,
    TemporaryFailure,
    Unreachable,
)

if TYPE_CHECKING:
    import dramatiq

    from workers.middleware import DeliveryContext

log = logging.getLogger(__name__)
Sender = Callable[["DeliveryContext", OutboxItem], outcomes.Accepted]
BUDGET_SPENT = "not tried: the batch ran out of time"


def deliver_batch(
    broker: dramatiq.Broker, ctx: DeliveryContext, row_ids: Sequence[int], sender: Sender
) -> Counter[str]:
    """Claim, send and record ``row_ids``; returns how many rows ended in each status."""
    with db.transaction(ctx.runtime.sessions) as session:
        rows = claim_batch(session, row_ids)
    if not rows:
        return Counter()  # sent, taken by another worker, or not yet due
    recording = ctx.recorder().batch()
    started, stop, stop_due = time.monotonic(), "", utcnow()
    for row in rows:
        if not stop and time.monotonic() - started > ctx.options.send_timeout / 2:
            stop, stop_due = BUDGET_SPENT, utcnow()
        if stop:
            recording.add(outcomes.released(row, stop, stop_due))
            continue
        outcome, unreachable = _send(ctx, row, sender)
        recording.add(outcome)
        if unreachable:
            # The rest wait as long as this row does (or are tried at once if it is dead).
            stop = f"not tried: {outcome.last_error}"
            stop_due = outcome.retry_due or utcnow()
    recorded = recording.wait(timeout=ctx.options.send_timeout + 30)
    _enqueue_retries(broker, recorded)
    return Counter(o.status for o in recorded)


def _send(ctx: DeliveryContext, row: OutboxItem, sender: Sender) -> tuple[Outcome, bool]:
    """Send one claimed row: its outcome, and whether the provider was unreachable."""
    try:
        return outcomes.sent(row, sender(ctx, row), utcnow()), False
    except PermanentFailure as exc:
        log.warning("outbox %d failed: %s", row.id, exc)
        bounced = exc.address if isinstance(exc, AddressRefused) else None
        return outcomes.failed(row, str(exc), bounced), False
    except Exception as exc:
        # Temporary failures, and surprises: both get the backoff road, ending in `dead`.
        if not isinstance(exc, TemporaryFailure):
            log.exception("outbox %d: unexpected error", row.id)
        reason = str(exc) if isinstance(exc, TemporaryFailure) else f"internal error: {exc!r}"
        outcome = outcomes.try_later(
            row,
            reason,
            max_attempts=ctx.settings.max_attempts,
            backoff=ctx.options.backoff,
            now=utcnow(),
        )
        if outcome.status == "dead":
            log.warning("outbox %d dead: %s", row.id, reason)
        return outcome, isinstance(exc, Unreachable)


def _enqueue_retries(broker: dramatiq.Broker, recorded: Sequence[Outcome]) -> None:
    """Rows back to ``pending`` go to the broker again, delayed until they are due."""
    by_due: dict[datetime, list[tuple[int, str, str]]] = defaultdict(list)
    for o in recorded:
        if (due := o.retry_due) is not None:
            by_due[due].append((o.row_id, o.channel, row_version(o.attempts, due)))
    now = utcnow()
    for due, rows in by_due.items():
        enqueue_once(broker, rows, delay=max(0.0, (due - now).total_seconds()))
