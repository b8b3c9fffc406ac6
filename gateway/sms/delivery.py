"""Twilio's delivery status callbacks, recorded on the outbox row, never backwards.

Twilio posts each step of a message's life (``queued``, ``sent``, ``delivered`` or
``undelivered``/``failed``) to ``/twilio/status``. Callbacks can repeat and arrive out of
order, so a status is written only when it is further along than the one stored: one
``UPDATE ... WHERE delivery_status IN (earlier ones)``, atomic against a concurrent
callback for the same message. The first final status stays.
"""

from __future__ import annotations

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from schema.models import OutboxItem
from schema.models.base import utcnow

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
