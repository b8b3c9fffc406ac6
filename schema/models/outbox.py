"""The outbox: one row per notification, written in the transaction that caused it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column, relationship

from schema.models.base import Base, SafeJSON, SafeString, SafeText, choice, utcnow

if TYPE_CHECKING:
    from schema.models.tickets import Ticket

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "dead")
OUTBOX_CHANNELS = ("email", "sms")


class OutboxItem(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),
        # The acknowledgement cap counts one customer's recent acks (gateway.notify._ack).
        Index("ix_outbox_recipient_template_created", "recipient", "template", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(choice(*OUTBOX_CHANNELS, name="outbox_channel"))
    recipient: Mapped[str] = mapped_column(SafeString(320))
    template: Mapped[str] = mapped_column(SafeString(100))
    locale: Mapped[str | None] = mapped_column(SafeString(16))
    # What the template needs, or the rendered mail/SMS once rendered.
    context: Mapped[dict[str, object]] = mapped_column(SafeJSON(), default=dict)
    payload: Mapped[dict[str, object] | None] = mapped_column(SafeJSON())
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    # Declared so that one flush inserts the ticket before the rows that point at it; code
    # sets ``ticket_id`` (ids are allocated before the flush, see schema.db.allocate_id).
    ticket: Mapped[Ticket | None] = relationship(lazy="raise_on_sql")
    email_message_id: Mapped[str | None] = mapped_column(SafeString(998), index=True)
    status: Mapped[str] = mapped_column(
        choice(*OUTBOX_STATUSES, name="outbox_status"), default="pending"
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(SafeText())
    # Indexed: Twilio's delivery callbacks find their row by it.
    provider_id: Mapped[str | None] = mapped_column(SafeString(200), index=True)
    delivery_status: Mapped[str | None] = mapped_column(SafeString(32))
    # An SMS as sent: its length in segments and their encoding (GSM-7 or UCS-2).
    segments: Mapped[int | None] = mapped_column(Integer)
    encoding: Mapped[str | None] = mapped_column(SafeString(8))
    idempotency_key: Mapped[str] = mapped_column(SafeString(200), unique=True)
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None]


class UnmatchedStatusCallback(Base):
    """A delivery status Twilio reported for a SID that no outbox row carries yet.

    Twilio can call back before the worker has committed the SID it returned; such a
    status waits here and is applied when the SID is recorded (``gateway.sms.delivery``).
    """

    __tablename__ = "unmatched_status_callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(SafeString(64), index=True)
    status: Mapped[str] = mapped_column(SafeString(32))
    error_code: Mapped[str | None] = mapped_column(SafeString(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
