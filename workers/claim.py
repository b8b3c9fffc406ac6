"""Outbox row transitions, each one guarded UPDATE so concurrent workers cannot collide.

``pending`` -> ``sending`` is the claim: an atomic UPDATE whose WHERE clause only matches a
due, pending row, so of any number of workers holding a message for the row exactly one
gets a row back (works the same on SQLite and PostgreSQL). The claim is committed before
anyone talks to a provider, and every later transition requires ``sending``, so a row that
is ``sent`` can never be claimed, and so never sent, again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from schema.models import OutboxItem
from schema.models.base import utcnow

ERROR_LIMIT = 2000  # last_error is for people: keep it readable, not a traceback dump


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter: ``base * 2**(attempt-1)``, capped, ± ``jitter``."""

    base: float = 10.0
    cap: float = 3600.0
    jitter: float = 0.2

    def delay(self, attempt: int) -> float:
        raw = min(self.cap, self.base * 2 ** max(0, attempt - 1))
        return raw * random.uniform(1 - self.jitter, 1 + self.jitter)


def claim(session: Session, row_id: int, now: datetime | None = None) -> OutboxItem | None:
    """Move a due ``pending`` row to ``sending`` and count the attempt; ``None`` if we lost.

    The caller must commit before delivering, so that a crash mid-send leaves a visible
    ``sending`` row for the sweep rather than a silently repeatable ``pending`` one.
    """
    now = now or utcnow()
    stmt = (
        update(OutboxItem)
        .where(
            OutboxItem.id == row_id,
            OutboxItem.status == "pending",
            (OutboxItem.next_attempt_at.is_(None)) | (OutboxItem.next_attempt_at <= now),
        )
        .values(status="sending", attempts=OutboxItem.attempts + 1, updated_at=now)
        .returning(OutboxItem)
        .execution_options(synchronize_session=False)
    )
    return session.scalars(stmt).one_or_none()


def _from_sending(session: Session, row_id: int, **values: object) -> bool:
    stmt = (
        update(OutboxItem)
        .where(OutboxItem.id == row_id, OutboxItem.status == "sending")
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]


def mark_sent(session: Session, row_id: int, provider_id: str) -> bool:
    now = utcnow()
    return _from_sending(
        session, row_id, status="sent", provider_id=provider_id, sent_at=now, last_error=None
    )


def mark_failed(session: Session, row_id: int, reason: str) -> bool:
    """A permanent failure: parked as ``failed`` with its reason, for ``outbox retry``."""
    return _from_sending(session, row_id, status="failed", last_error=reason[:ERROR_LIMIT])


def mark_retry(
    session: Session, row: OutboxItem, reason: str, *, max_attempts: int, backoff: Backoff
) -> datetime | None:
    """A temporary failure: back to ``pending`` after a backoff, or ``dead`` when exhausted.

    Returns when the next attempt is due, or ``None`` if the row is now dead.
    """
    if row.attempts >= max_attempts:
        reason = f"gave up after {row.attempts} attempts: {reason}"
        _from_sending(session, row.id, status="dead", last_error=reason[:ERROR_LIMIT])
        return None
    due = utcnow() + timedelta(seconds=backoff.delay(row.attempts))
    _from_sending(
        session, row.id, status="pending", next_attempt_at=due, last_error=reason[:ERROR_LIMIT]
    )
    return due
