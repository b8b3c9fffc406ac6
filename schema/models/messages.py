"""Messages on a ticket, their attachments, and every Message-ID we stored or sent."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Integer, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from schema.models.base import Base, SafeJSON, SafeString, SafeText, choice, utcnow

if TYPE_CHECKING:
    from schema.models.people import Contact
    from schema.models.tickets import Ticket
from schema.models.tickets import CHANNELS

DIRECTIONS = ("in", "out")
AUTHORS = ("customer", "agent", "system")


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    # Declared so that one flush inserts the ticket before the rows that point at it; code
    # sets ``ticket_id`` (ids are allocated before the flush, see schema.db.allocate_id).
    ticket: Mapped[Ticket] = relationship(lazy="raise_on_sql")
    author_contact: Mapped[Contact | None] = relationship(lazy="raise_on_sql")
    direction: Mapped[str] = mapped_column(choice(*DIRECTIONS, name="direction"))
    author_kind: Mapped[str] = mapped_column(choice(*AUTHORS, name="author_kind"))
    author_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    author_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    channel: Mapped[str] = mapped_column(choice(*CHANNELS, name="channel"))
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    # False for a sender who is not a participant of the ticket (a stranger who threaded in
    # by naming one of its Message-IDs): shown as such, never as the customer.
    participant: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Why a message meant for someone is kept internal instead: an agent reply held back
    # (it quotes an internal note, has no words of its own, was automatic), an automatic
    # mail. Null for everything else, notes included: only notes are checked for leaks.
    held_reason: Mapped[str | None] = mapped_column(SafeText())
    subject: Mapped[str] = mapped_column(SafeString(500), default="")
    sender: Mapped[str] = mapped_column(SafeString(320), default="")
    recipients: Mapped[list[str]] = mapped_column(SafeJSON(), default=list)
    visible_text: Mapped[str] = mapped_column(SafeText(), default="")
    full_text: Mapped[str] = mapped_column(SafeText(), default="")
    html: Mapped[str | None] = mapped_column(SafeText())
    email_message_id: Mapped[str | None] = mapped_column(SafeString(998), index=True)
    in_reply_to: Mapped[str | None] = mapped_column(SafeString(998))
    references: Mapped[list[str]] = mapped_column(SafeJSON(), default=list)
    thread_index: Mapped[str | None] = mapped_column(SafeString(64), index=True)
    sms_sid: Mapped[str | None] = mapped_column(SafeString(64), unique=True)
    media_urls: Mapped[list[str]] = mapped_column(SafeJSON(), default=list)
    inbox_id: Mapped[int | None] = mapped_column(ForeignKey("inbox.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    attachments: Mapped[list[Attachment]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Attachment.id"
    )


class Attachment(Base):
    """An attachment's metadata; the bytes live once per sha256 under the data dir."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(SafeString(500))
    content_type: Mapped[str] = mapped_column(SafeString(200))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(SafeString(64), index=True)
    content_id: Mapped[str | None] = mapped_column(SafeString(500))
    inline: Mapped[bool] = mapped_column(Boolean, default=False)


class KnownMessageId(Base):
    """Every Message-ID we received or sent, mapped to its ticket.

    One indexed lookup answers "does In-Reply-To/References name a mail of ours?", for
    customer mail and for our own notifications alike.
    """

    __tablename__ = "known_message_ids"

    message_id: Mapped[str] = mapped_column(SafeString(998), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    # Declared so that one flush inserts the ticket before the rows that point at it; code
    # sets ``ticket_id`` (ids are allocated before the flush, see schema.db.allocate_id).
    ticket: Mapped[Ticket] = relationship(lazy="raise_on_sql")
    outbound: Mapped[bool] = mapped_column(Boolean, default=False)
    # For our own notifications: to whom it went, so a reply can be checked against it.
    recipient: Mapped[str | None] = mapped_column(SafeString(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
