"""The outbox relay: due ``pending`` rows go to the broker; the sweep recovers the rest.

The database is the truth and the broker only transport, so anything the broker loses is
found again here. This module decides *which* rows go out; the caller passes the function
that hands them to the broker (:data:`SendRows`, ``workers.enqueue.to_broker``), so the
domain never calls the broker itself.

Each row goes out as ``(id, channel, version)``: the version (attempts and
``next_attempt_at``: every road back to ``pending`` changes one of them) lets the broker
side send one message per row version, so calling the relay often does not flood the
queue with copies; a copy that slips through anyway is harmless, because only one worker
can claim a row (``gateway.outbox.claim``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from gateway.sms import delivery
from schema.models import OutboxItem
from schema.models.base import utcnow

log = logging.getLogger(__name__)
ROWS_PER_QUERY = 1000  # rows per relay query
ROWS_PER_MESSAGE = 50  # rows per broker message
SPREAD = 16  # a relay pass of few rows still makes this many messages (see batch_size)
LOST_WORKER = "worker lost mid-send (no outcome within the lease)"

RowVersion = tuple[int, str, str]  # (row id, channel, version)
# Hands rows to the broker, skipping those already sent in this version; how many it sent.
SendRows = Callable[[Sequence[RowVersion]], int]


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


def relay_pending(sessions: sessionmaker[Session], send: SendRows) -> int:
    """Hand every due ``pending`` row to ``send``; returns how many rows it sent.

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
        count += send(versions)
        after = rows[-1].id


def sweep_stuck(
    sessions: sessionmaker[Session], send: SendRows, *, lease: float, max_attempts: int
) -> int:
    """Rows ``sending`` for longer than ``lease`` lost their worker: retry them (or give up).

    Then apply delivery statuses that arrived before their SID was recorded and are still
    waiting (``gateway.sms.delivery``), and relay every due ``pending`` row. Returns how
    many stuck rows were recovered.
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
    with sessions() as session, session.begin():
        delivery.apply_unmatched(session)
    relay_pending(sessions, send)
    return int(dead + back)
