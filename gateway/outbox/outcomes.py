"""What became of each claimed row, and writing it: sent, failed, retried or dead.

An :class:`Outcome` holds the values a claimed row's columns take, decided in memory while
the batch is sent and written later, many at once, by :func:`record_outcomes`. The
constructors are the policy: a permanent failure parks the row ``failed`` for ``outbox
retry``; a temporary one puts it back to ``pending`` after a backoff until the attempts run
out, then ``dead``. Every write requires ``sending`` and the attempt count of our own claim,
so a row that is ``sent`` can never be claimed (and so never sent) again, and a late
outcome never overwrites a newer claim of the same row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, update
from sqlalchemy.orm import Session

from gateway import bounces
from gateway.backoff import Backoff
from schema.models import OutboxItem
from schema.models.base import utcnow

ERROR_LIMIT = 2000  # last_error is for people: keep it readable, not a traceback dump


@dataclass(frozen=True, slots=True)
class Accepted:
    """What the provider took: its id for the message and, for an SMS, its length as sent."""

    provider_id: str
    segments: int | None = None
    encoding: str | None = None  # GSM-7 | UCS-2


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one claimed row: the values its columns take when recorded."""

    row_id: int
    channel: str
    claimed_attempts: int  # our claim's count: the guard against overwriting a later claim
    status: str  # sent | failed | pending | dead
    attempts: int
    last_error: str | None
    provider_id: str | None
    next_attempt_at: datetime | None
    sent_at: datetime | None
    bounced: str | None = None  # the address the provider refused for good, if it did
    segments: int | None = None  # an SMS as sent
    encoding: str | None = None

    @property
    def retry_due(self) -> datetime | None:
        """When to enqueue the row again, if it went back to ``pending``."""
        return self.next_attempt_at if self.status == "pending" else None


def _outcome(row: OutboxItem, status: str, **values: object) -> Outcome:
    fields: dict[str, object] = {
        "attempts": row.attempts,
        "last_error": None,
        "provider_id": row.provider_id,
        "next_attempt_at": row.next_attempt_at,
        "sent_at": None,
        **values,
    }
    if isinstance(fields["last_error"], str):
        fields["last_error"] = fields["last_error"][:ERROR_LIMIT]
    return Outcome(row.id, row.channel, row.attempts, status, **fields)  # type: ignore[arg-type]


def sent(row: OutboxItem, accepted: Accepted, now: datetime) -> Outcome:
    return _outcome(
        row,
        "sent",
        provider_id=accepted.provider_id,
        sent_at=now,
        segments=accepted.segments,
        encoding=accepted.encoding,
    )


def failed(row: OutboxItem, reason: str, bounced: str | None = None) -> Outcome:
    """A permanent failure: parked as ``failed`` with its reason, for ``outbox retry``.

    ``bounced`` is the address the provider refused for good: the row's delivery status
    becomes ``bounced`` and the address is marked bouncing, as a DSN would do.
    """
    return _outcome(row, "failed", last_error=reason, bounced=bounced)


def try_later(
    row: OutboxItem, reason: str, *, max_attempts: int, backoff: Backoff, now: datetime
) -> Outcome:
    """A temporary failure: back to ``pending`` after a backoff, or ``dead`` when exhausted."""
    if row.attempts >= max_attempts:
        return _outcome(row, "dead", last_error=f"gave up after {row.attempts} attempts: {reason}")
    due = now + timedelta(seconds=backoff.delay(row.attempts))
    return _outcome(row, "pending", last_error=reason, next_attempt_at=due)


def released(row: OutboxItem, reason: str, due: datetime) -> Outcome:
    """Claimed but never tried (the batch stopped early): ``pending`` again, attempt undone."""
    return _outcome(
        row, "pending", attempts=row.attempts - 1, last_error=reason, next_attempt_at=due
    )


_RECORD = (
    update(OutboxItem.__table__)  # type: ignore[arg-type]
    .where(
        OutboxItem.__table__.c.id == bindparam("b_id"),
        OutboxItem.__table__.c.status == "sending",
        OutboxItem.__table__.c.attempts == bindparam("b_claimed"),
    )
    .values(
        status=bindparam("b_status"),
        attempts=bindparam("b_attempts"),
        last_error=bindparam("b_last_error"),
        provider_id=bindparam("b_provider_id"),
        next_attempt_at=bindparam("b_next_attempt_at"),
        sent_at=bindparam("b_sent_at"),
        delivery_status=func.coalesce(
            bindparam("b_delivery_status"), OutboxItem.__table__.c.delivery_status
        ),
        segments=func.coalesce(bindparam("b_segments"), OutboxItem.__table__.c.segments),
        encoding=func.coalesce(bindparam("b_encoding"), OutboxItem.__table__.c.encoding),
        updated_at=bindparam("b_now"),
    )
)


def record_outcomes(session: Session, outcomes: Sequence[Outcome]) -> None:
    """Write ``outcomes`` with one executemany UPDATE (pipelined by psycopg).

    Addresses refused for good are marked bouncing in the same transaction.
    """
    if not outcomes:
        return
    now = utcnow()
    params = [
        {
            "b_id": o.row_id,
            "b_claimed": o.claimed_attempts,
            "b_status": o.status,
            "b_attempts": o.attempts,
            "b_last_error": o.last_error,
            "b_provider_id": o.provider_id,
            "b_next_attempt_at": o.next_attempt_at,
            "b_sent_at": o.sent_at,
            "b_delivery_status": "bounced" if o.bounced else None,
            "b_segments": o.segments,
            "b_encoding": o.encoding,
            "b_now": now,
        }
        for o in outcomes
    ]
    session.execute(_RECORD, params)
    bounces.mark_bouncing(session, [o.bounced for o in outcomes if o.bounced], now)
