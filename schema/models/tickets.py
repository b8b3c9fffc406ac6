"""Tickets: one customer conversation, its state, its owner and its SLA clock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column, relationship

from schema.models.base import Base, SafeString, SafeText, choice, utcnow
from schema.models.people import Agent, Contact
from schema.models.queues import PRIORITIES, Queue

STATUSES = ("new", "open", "pending", "resolved", "closed")
CHANNELS = ("email", "sms", "cli")
REFERENCE_PREFIX = "T-"


def format_reference(ticket_id: int) -> str:
    return f"{REFERENCE_PREFIX}{ticket_id:06d}"


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_queue", "status", "queue_id"),
        Index("ix_tickets_first_response_due", "first_response_due_at"),
        Index("ix_tickets_resolution_due", "resolution_due_at"),
        # The SLA safety scan reads only the tickets whose next moment has come.
        Index("ix_tickets_sla_next_check", "sla_next_check_at"),
        # bare replies find their ticket by subject (gateway/threading.py)
        Index("ix_tickets_subject", "subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"), index=True)
    subject: Mapped[str] = mapped_column(SafeString(500), default="")
    status: Mapped[str] = mapped_column(choice(*STATUSES, name="ticket_status"), default="new")
    priority: Mapped[str] = mapped_column(choice(*PRIORITIES, name="priority"), default="normal")
    channel: Mapped[str] = mapped_column(choice(*CHANNELS, name="channel"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    sla_policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="SET NULL")
    )
    first_response_due_at: Mapped[datetime | None]
    first_responded_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # While pending or resolved the SLA clock stands still (since ``sla_paused_at``); each
    # finished pause adds its business seconds here and pushes the deadlines out by them.
    # Two sums, because the first-response clock stops for good at the first response.
    sla_paused_at: Mapped[datetime | None]
    first_response_paused_seconds: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0"
    )
    resolution_paused_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the escalation scan must look at this ticket next (a warning or breach moment,
    # or "now" after a change that may move one); NULL: nothing left to watch.
    sla_next_check_at: Mapped[datetime | None]
    # The satisfaction survey (gateway/csat/): asked once, when first resolved; the first
    # answer is kept (1-5, by email, SMS or a signed link), a later one is ignored.
    csat_asked_at: Mapped[datetime | None]
    satisfaction_rating: Mapped[int | None] = mapped_column(Integer)
    satisfaction_comment: Mapped[str | None] = mapped_column(SafeText())
    rated_at: Mapped[datetime | None]
    rated_via: Mapped[str | None] = mapped_column(SafeString(16))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    # A customer writing to a closed ticket gets a new one that points back here.
    follows_up_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    queue: Mapped[Queue] = relationship(lazy="joined")
    contact: Mapped[Contact] = relationship(lazy="joined")
    assignee: Mapped[Agent | None] = relationship(lazy="joined")
    tag_rows: Mapped[list[TicketTag]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="TicketTag.tag"
    )

    @property
    def reference(self) -> str:
        return format_reference(self.id)

    @property
    def tags(self) -> list[str]:
        return [t.tag for t in self.tag_rows]


class TicketTag(Base):
    __tablename__ = "ticket_tags"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(SafeString(64), primary_key=True, index=True)
