"""SLA policies: per-priority response and resolution targets on a business clock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from schema.models.base import Base, SafeJSON, SafeString, choice, utcnow
from schema.models.queues import PRIORITIES


class SlaPolicy(Base):
    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(SafeString(100), unique=True)
    # One policy per priority: a ticket's priority picks its policy without ambiguity.
    priority: Mapped[str] = mapped_column(choice(*PRIORITIES, name="priority"), unique=True)
    # Targets as written ("4h", "2d", "1d4h"): a "d" is a business day of the policy's
    # calendar, which no fixed number of minutes can express (gateway/sla/durations.py).
    first_response: Mapped[str] = mapped_column(SafeString(32))
    resolution: Mapped[str] = mapped_column(SafeString(32))
    business_hours: Mapped[str] = mapped_column(SafeString(200), default="24x7")
    timezone: Mapped[str] = mapped_column(SafeString(64), default="UTC")
    warn_at_percent: Mapped[int] = mapped_column(Integer, default=80)
    escalate_to: Mapped[list[str]] = mapped_column(SafeJSON(), default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
