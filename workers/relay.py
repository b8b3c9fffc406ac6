"""The outbox relay: due ``pending`` rows become broker messages; a sweep recovers the rest.

A message carries a batch of row ids of one channel (see :func:`batch_size`); the worker
claims and sends them together (``workers.deliver``).

The database is the truth and the broker only transport, so anything the broker loses is
found again here. Enqueueing is marked per row version (attempts and ``next_attempt_at``:
every road back to ``pending`` changes one of them) with a lease (a Redis ``SET NX PX`` key,
or a dict for the in-process broker), so calling the relay often does not flood the queue
with copies; a copy that slips through anyway is harmless, because only one
worker can claim a row (``workers.claim``).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from dramatiq import Broker
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from schema.models import OutboxItem
from schema.models.base import utcnow
from workers.middleware import delivery_context

log = logging.getLogger(__name__)
ACTOR_FOR_CHANNEL = {"email": "send_email", "sms": "send_sms"}
ROWS_PER_QUERY = 1000  # rows per relay query
ROWS_PER_MESSAGE = 50  # rows per broker message
SPREAD = 16  # a relay pass of few rows still makes this many messages (see batch_size)
_MARKS_LOCK = threading.Lock()
LOST_WORKER = "worker lost mid-send (no outcome within the lease)"


def row_version(attempts: int, next_attempt_at: datetime | None) -> str:
    """Changes whenever a row goes back to ``pending``: the key of one enqueue."""
    return f"{attempts}:{next_attempt_at.timestamp() if next_attempt_at else 0}"


def batch_size(rows: int) -> int:
    """Rows per message when ``rows`` are enqueued together.

    Big enough that a worker pays one Redis fetch, one claim and one connection for many
    mails; small enough that even a few dozen rows spread over ``SPREAD`` messages, so that
    every worker thread gets some instead of one thread sending them all in a row.
    """
    return max(1, min(ROWS_PER_MESSAGE, -(-rows // SPREAD)))


def enqueue_once(broker: Broker, rows: Sequence[tuple[int, str, str]], delay: float = 0) -> int:
    """Enqueue ``(id, channel, version)`` rows not already enqueued within the lease.

    Fresh rows go out in batches, one message per :func:`batch_size` rows of a channel, in
    id order. Returns how many rows were enqueued.
    """
    ctx = delivery_context(broker)
    ttl = delay + ctx.options.lease
    keys = [f"enqueued:{row_id}:{version}" for row_id, _, version in rows]
    if isinstance(broker, RedisBroker):
        pipe = broker.client.pipeline(transaction=False)
        for key in keys:
            pipe.set(f"{broker.namespace}:{key}", 1, nx=True, px=max(1, int(ttl * 1000)))
        fresh = [bool(ok) for ok in pipe.execute()]
    else:
        now = time.monotonic()
        with _MARKS_LOCK:
            marks = ctx.enqueued
            if len(marks) > 10 * ROWS_PER_QUERY:
                for k in [k for k, until in marks.items() if until < now]:
                    del marks[k]
            fresh = [marks.get(k, 0) < now for k in keys]
            marks.update({k: now + ttl for k, ok in zip(keys, fresh, strict=True) if ok})
    by_channel: dict[str, list[int]] = defaultdict(list)
    for (row_id, channel, _), ok in zip(rows, fresh, strict=True):
        if ok:
            by_channel[channel].append(row_id)
    for channel, ids in by_channel.items():
        actor = broker.get_actor(ACTOR_FOR_CHANNEL[channel])
        size = batch_size(len(ids))
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            actor.send_with_options(args=(chunk,), delay=int(delay * 1000) or None)
    return sum(fresh)


def relay_pending(sessions: sessionmaker[Session], broker: Broker) -> int:
    """Enqueue every due ``pending`` row; returns how many rows were sent to the broker.

    Call it right after committing new outbox rows so they go out at once; the sweep calls
    it too, for rows whose backoff has passed or whose message the broker lost.
    """
    count, after = 0, 0
    while True:
        now = utcnow()
        with sessions() as session:
            rows = session.execute(
                select(
                    OutboxItem.id,
                    OutboxItem.channel,
                    OutboxItem.attempts,
                    OutboxItem.next_attempt_at,
                )
                .where(
                    OutboxItem.status == "pending",
                    OutboxItem.id > after,
                    (OutboxItem.next_attempt_at.is_(None)) | (OutboxItem.next_attempt_at <= now),
                )
                .order_by(OutboxItem.id)
                .limit(ROWS_PER_QUERY)
            ).all()
        if not rows:
            return count
        versions = [(r.id, r.channel, row_version(r.attempts, r.next_attempt_at)) for r in rows]
        count += enqueue_once(broker, versions)
        after = rows[-1].id


def sweep_stuck(
    sessions: sessionmaker[Session], broker: Broker, *, lease: float, max_attempts: int
) -> int:
    """Rows ``sending`` for longer than ``lease`` lost their worker: retry them (or give up).

    Then relay every due ``pending`` row. Returns how many stuck rows were recovered.
    """
    now = utcnow()
    cutoff = now - timedelta(seconds=lease)
    stuck = (OutboxItem.status == "sending") & (OutboxItem.updated_at < cutoff)
    with sessions() as session, session.begin():
        dead = session.execute(
            update(OutboxItem)
            .where(stuck, OutboxItem.attempts >= max_attempts)
            .values(status="dead", last_error=LOST_WORKER, updated_at=now)
        ).rowcount  # type: ignore[attr-defined]
        back = session.execute(
            update(OutboxItem)
            .where(stuck)
            .values(status="pending", last_error=LOST_WORKER, updated_at=now, next_attempt_at=now)
        ).rowcount  # type: ignore[attr-defined]
    if dead or back:
        log.warning("sweep: %d stuck rows back to pending, %d dead", back, dead)
    relay_pending(sessions, broker)
    return dead + back


class SweepLoop:
    """Runs :func:`sweep_stuck` every ``sweep_every`` seconds in a daemon thread.

    With Redis, a ``SET NX PX`` lease lets only one of several worker processes sweep in
    each period; the in-process broker has one process, so it always sweeps.
    """

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-sweep", daemon=True)
        self._token = uuid.uuid4().hex

    def start(self) -> SweepLoop:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _leased(self, period: float) -> bool:
        if not isinstance(self.broker, RedisBroker):
            return True
        key = f"{self.broker.namespace}:sweep-lease"
        return bool(self.broker.client.set(key, self._token, nx=True, px=int(period * 1000)))

    def _run(self) -> None:
        ctx = delivery_context(self.broker)
        period = ctx.options.sweep_every
        while not self._stop.is_set():
            try:
                if self._leased(period):
                    sweep_stuck(
                        ctx.runtime.sessions,
                        self.broker,
                        lease=ctx.options.lease,
                        max_attempts=ctx.settings.max_attempts,
                    )
            except Exception:  # keep sweeping: the next period may find the database back
                log.exception("outbox sweep failed")
            self._stop.wait(period)
