"""Twilio's delivery status callbacks, recorded on the outbox row, never backwards.

Twilio posts each step of a message's life (``queued``, ``sent``, ``delivered`` or
``undelivered``/``failed``) to ``/twilio/status``. Callbacks can repeat and arrive out of
order, so a status is written only when it is further along than the one stored: one
``UPDATE ... WHERE delivery_status IN (earlier ones)``, atomic against a concurrent
callback for the same message. The first final status stays.

Twilio can call back before the worker has committed the SID it returned (a fast
``queued``, or ``failed`` for a number it will not reach). Such a status is not dropped: it
waits in ``unmatched_status_callbacks`` (:func:`keep`) and :func:`apply_unmatched` applies
it once the SID is on its row. Both sides call that after their own commit, the callback
handler and the outcome recorder, so whichever commits second sees both and applies it; the
outbox sweep calls it too, for a status whose second step the database refused. A status
still unmatched after a day was for a message that is not ours to record: it is dropped.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from typing import Literal

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import Session

from schema.models import OutboxItem, UnmatchedStatusCallback
from schema.models.base import utcnow

UNMATCHED_FOR = timedelta(days=1)
Recorded = Literal["recorded", "not further along", "kept", "unknown status"]

# How far along each status is; equal ranks do not replace each other.
RANK: dict[str, int] = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "read": 5,
}
FAILED = frozenset({"undelivered", "failed"})


def earlier_than(status: str) -> list[str]:
    """The statuses a callback saying ``status`` may replace."""
    rank = RANK[status]
    return [name for name, r in RANK.items() if r < rank]


def record(session: Session, sid: str, status: str, error_code: str | None) -> bool:
    """Record ``status`` on the SMS outbox row Twilio knows as ``sid``.

    Returns False when nothing changed: an unknown status or SID, or a status that is not
    further along than the stored one. A failed delivery keeps Twilio's error code in
    ``last_error`` (the row itself stays ``sent``: Twilio accepted it, and resending it
    would not make the handset reachable).
    """
    status = status.strip().lower()
    if status not in RANK:
        return False
    values: dict[str, object] = {"delivery_status": status, "updated_at": utcnow()}
    if status in FAILED:
        values["last_error"] = f"Twilio delivery {status}" + (
            f" (error {error_code})" if error_code else ""
        )
    result = session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.channel == "sms",
            OutboxItem.provider_id == sid,
            or_(
                OutboxItem.delivery_status.is_(None),
                OutboxItem.delivery_status.in_(earlier_than(status)),
            ),
        )
        .values(values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def record_or_keep(session: Session, sid: str, status: str, error_code: str | None) -> Recorded:
    """Record ``status`` on the SID's row, or keep it for later when no row has the SID yet."""
    status = status.strip().lower()
    if status not in RANK:
        return "unknown status"
    if record(session, sid, status, error_code):
        return "recorded"
    known = session.scalar(
        select(exists().where(OutboxItem.channel == "sms", OutboxItem.provider_id == sid))
    )
    if known:
        return "not further along"
    keep(session, sid, status, error_code)
    return "kept"


def keep(session: Session, sid: str, status: str, error_code: str | None) -> None:
    """Keep a status whose SID no row carries yet; statuses a day old go."""
    now = utcnow()
    session.execute(
        delete(UnmatchedStatusCallback).where(
            UnmatchedStatusCallback.received_at < now - UNMATCHED_FOR
        )
    )
    session.add(
        UnmatchedStatusCallback(
            sid=sid,
            status=status,
            error_code=(error_code or None) and error_code[:16],
            received_at=now,
        )
    )


def apply_unmatched(session: Session, sids: Collection[str] | None = None) -> int:
    """Apply the kept statuses whose SID a row now carries (of ``sids``, or all); returns
    how many were applied. Each is recorded as if it arrived now, so order does not matter."""
    query = (
        select(UnmatchedStatusCallback)
        .join(
            OutboxItem,
            (OutboxItem.provider_id == UnmatchedStatusCallback.sid) & (OutboxItem.channel == "sms"),
        )
        .order_by(UnmatchedStatusCallback.id)
    )
    if sids is not None:
        if not sids:
            return 0
        query = query.where(UnmatchedStatusCallback.sid.in_(list(sids)))
    waiting = session.scalars(query).all()
    for callback in waiting:
        record(session, callback.sid, callback.status, callback.error_code)
    if waiting:
        session.execute(
            delete(UnmatchedStatusCallback).where(
                UnmatchedStatusCallback.id.in_([c.id for c in waiting])
            )
        )
    return len(waiting)
