"""The durable inbox: every inbound item, raw, committed before the sender hears "accepted"."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from schema.models.base import Base, SafeJSON, SafeString, SafeText, choice, utcnow

if TYPE_CHECKING:
    from schema.models.tickets import Ticket

INBOX_STATUSES = ("pending", "done", "ignored", "failed")
INBOX_CHANNELS = ("email", "sms")


class InboxItem(Base):
    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_status_id", "status", "id"),
        Index("ix_inbox_sender_received", "sender", "received_at"),
        Index("ix_inbox_sender_domain_received", "sender_domain", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(choice(*INBOX_CHANNELS, name="inbox_channel"))
    # Where it came from: "smtp", "imap:<mailbox>", "twilio", "file:<path>".
    source: Mapped[str] = mapped_column(SafeString(500))
    # Message-ID, a digest of the raw mail, mailbox+UIDVALIDITY+UID, or a MessageSid.
    dedupe_key: Mapped[str] = mapped_column(SafeString(1000), unique=True)
    raw: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    size: Mapped[int] = mapped_column(Integer, default=0)
    envelope_sender: Mapped[str | None] = mapped_column(SafeString(320))
    envelope_recipients: Mapped[list[str]] = mapped_column(SafeJSON(), default=list)
    # The author (From, or the SMS number), filled in by parsing; the circuit breaker
    # counts by it.
    sender: Mapped[str | None] = mapped_column(SafeString(320))
    sender_domain: Mapped[str | None] = mapped_column(SafeString(255))
    status: Mapped[str] = mapped_column(
        choice(*INBOX_STATUSES, name="inbox_status"), default="pending"
    )
    reason: Mapped[str | None] = mapped_column(SafeText())
    # What parsing found wrong, every limit that cut something among it (None: processed
    # before the column existed).
    defects: Mapped[list[str] | None] = mapped_column(SafeJSON())
    failed_step: Mapped[str | None] = mapped_column(SafeString(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    classification: Mapped[str | None] = mapped_column(SafeString(16))
    classification_reason: Mapped[str | None] = mapped_column(SafeText())
    thread_decision: Mapped[str | None] = mapped_column(SafeString(16))
    thread_reason: Mapped[str | None] = mapped_column(SafeText())
    # Circuit breaker: stored and threaded, but no notifications.
    held: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    # Declared so that one flush inserts the ticket before the rows that point at it; code
    # sets ``ticket_id`` (ids are allocated before the flush, see schema.db.allocate_id).
    ticket: Mapped[Ticket | None] = relationship(lazy="raise_on_sql")
    # No foreign key: messages.inbox_id already points back, and a cycle of constraints
    # would need ALTER TABLE, which SQLite cannot do.
    message_id: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
