"""SLA escalations already raised: one row per ticket, deadline and level, ever."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from schema.models.base import Base, choice, utcnow

DEADLINES = ("first_response", "resolution")
ESCALATION_LEVELS = ("warning", "breach", "breach2")
# sent: the notifications were written to the outbox; superseded: a higher level of the
# same deadline was due in the same scan, so only that one was sent.
ESCALATION_OUTCOMES = ("sent", "superseded")


class SlaEscalation(Base):
    """The unique key is what makes "at most once" hold across schedulers and restarts.

    The row is inserted in the transaction that writes the level's outbox rows: either
    both exist or neither does.
    """

    __tablename__ = "sla_escalations"
    __table_args__ = (
        UniqueConstraint("ticket_id", "deadline", "level", name="uq_sla_escalations_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    deadline: Mapped[str] = mapped_column(choice(*DEADLINES, name="sla_deadline"))
    level: Mapped[str] = mapped_column(choice(*ESCALATION_LEVELS, name="sla_level"))
    outcome: Mapped[str] = mapped_column(choice(*ESCALATION_OUTCOMES, name="sla_outcome"))
    # The instant the level was due (business time), the deadline it is about, and when
    # the scan raised it: the difference is the scheduler's lateness.
    due_at: Mapped[datetime]
    deadline_at: Mapped[datetime]
    fired_at: Mapped[datetime] = mapped_column(default=utcnow)
    notifications: Mapped[int] = mapped_column(Integer, default=0)
