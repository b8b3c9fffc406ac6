"""MMS media to fetch: one row per media URL of an inbound SMS, until it is an attachment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from schema.models.base import Base, SafeString, SafeText, choice, utcnow

MEDIA_STATUSES = ("pending", "fetching", "done", "failed")


class MediaFetch(Base):
    """Written with the message; a worker fetches the URL into the attachment store.

    The URL itself stays on the message (``messages.media_urls``) whatever happens here,
    so a fetch that fails for good loses nothing an agent could still open.
    """

    __tablename__ = "media_fetches"
    __table_args__ = (Index("ix_media_fetches_status_next_attempt", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(SafeString(2000))
    content_type: Mapped[str] = mapped_column(SafeString(200), default="")
    status: Mapped[str] = mapped_column(
        choice(*MEDIA_STATUSES, name="media_status"), default="pending"
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(SafeText())
    attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachments.id", ondelete="SET NULL")
    )
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
