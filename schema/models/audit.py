"""The audit trail of every ticket change."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from schema.models.base import Base, SafeString, SafeText, utcnow

if TYPE_CHECKING:
    from schema.models.tickets import Ticket


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    # Declared so that one flush inserts the ticket before the rows that point at it; code
    # sets ``ticket_id`` (ids are allocated before the flush, see schema.db.allocate_id).
    ticket: Mapped[Ticket] = relationship(lazy="raise_on_sql")
    # "agent:ann@example.com", "customer:bob@example.org", "system", "admin".
    actor: Mapped[str] = mapped_column(SafeString(400))
    action: Mapped[str] = mapped_column(SafeString(32))
    old_value: Mapped[str | None] = mapped_column(SafeText())
    new_value: Mapped[str | None] = mapped_column(SafeText())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
