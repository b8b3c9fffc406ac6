"""SLA policies (response and resolution targets on a business clock) and their holidays."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, false, text
from sqlalchemy.orm import Mapped, mapped_column

from schema.models.base import Base, SafeJSON, SafeString, choice, utcnow
from schema.models.queues import PRIORITIES

ESCALATE_BY = ("email", "sms", "both")


def _unique_where(name: str, *columns: str, where: str) -> Index:
    """A unique index over the rows that match ``where``, on PostgreSQL and SQLite alike.

    A plain unique index treats NULLs as distinct on both databases, so "one policy per
    priority for all queues" (queue NULL) needs an index of its own over those rows.
    """
    return Index(
        name,
        *columns,
        unique=True,
        sqlite_where=text(where),
        postgresql_where=text(where),
    )


class SlaPolicy(Base):
    __tablename__ = "sla_policies"
    __table_args__ = (
        # One policy per (queue, priority); a policy without a queue covers every queue.
        _unique_where(
            "uq_sla_policies_queue_priority", "queue_id", "priority", where="queue_id IS NOT NULL"
        ),
        _unique_where("uq_sla_policies_any_queue_priority", "priority", where="queue_id IS NULL"),
        # At most one fallback for tickets that no policy matches.
        _unique_where("uq_sla_policies_default", "is_default", where="is_default"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(SafeString(100), unique=True)
    priority: Mapped[str] = mapped_column(choice(*PRIORITIES, name="priority"))
    # NULL: every queue. A queue's own policy for a priority wins over the NULL one.
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"))
    # The fallback for a ticket whose (queue, priority) and priority have no policy.
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Targets as written ("4h", "2d", "1d4h"): a "d" is a business day of the policy's
    # calendar, which no fixed number of minutes can express (gateway/sla/durations.py).
    first_response: Mapped[str] = mapped_column(SafeString(32))
    resolution: Mapped[str] = mapped_column(SafeString(32))
    business_hours: Mapped[str] = mapped_column(SafeString(200), default="24x7")
    timezone: Mapped[str] = mapped_column(SafeString(64), default="UTC")
    warn_at_percent: Mapped[int] = mapped_column(Integer, default=80)
    escalate_to: Mapped[list[str]] = mapped_column(SafeJSON(), default=list)
    # How escalations reach agents: email, sms (to agents with a phone number, email to
    # the others) or both.
    escalate_by: Mapped[str] = mapped_column(
        choice(*ESCALATE_BY, name="escalate_by"), default="email", server_default="email"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SlaHoliday(Base):
    """A day on which a policy's clock does not run (every policy's when ``policy_id`` is NULL).

    The day is a calendar date on the wall clock of each policy's own time zone.
    """

    __tablename__ = "sla_holidays"
    __table_args__ = (
        _unique_where(
            "uq_sla_holidays_day_policy", "day", "policy_id", where="policy_id IS NOT NULL"
        ),
        _unique_where("uq_sla_holidays_day_all", "day", where="policy_id IS NULL"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(SafeString(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
