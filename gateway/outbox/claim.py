"""The claim: ``pending`` -> ``sending`` for a batch of rows, one guarded UPDATE.

Its WHERE clause only matches due, pending rows, so of any number of workers holding
messages for a row exactly one gets it back (the same on SQLite and PostgreSQL); rows
another worker took are simply not returned. The claim is committed before anyone talks to
a provider; what then becomes of each row is an outcome (``gateway.outbox.outcomes``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from schema.models import OutboxItem
from schema.models.base import utcnow


def claim_batch(
    session: Session, row_ids: Sequence[int], now: datetime | None = None
) -> list[OutboxItem]:
    """Move the due ``pending`` rows among ``row_ids`` to ``sending``; returns them by id.

    Each returned row has its attempt counted. The caller must commit before delivering,
    so that a crash mid-send leaves visible ``sending`` rows for the sweep rather than
    silently repeatable ``pending`` ones.
    """
    if not row_ids:
        return []
    now = now or utcnow()
    stmt = (
        update(OutboxItem)
        .where(
            OutboxItem.id.in_(row_ids),
            OutboxItem.status == "pending",
            (OutboxItem.next_attempt_at.is_(None)) | (OutboxItem.next_attempt_at <= now),
        )
        .values(status="sending", attempts=OutboxItem.attempts + 1, updated_at=now)
        .returning(OutboxItem)
        .execution_options(synchronize_session=False)
    )
    return sorted(session.scalars(stmt), key=lambda row: row.id)
