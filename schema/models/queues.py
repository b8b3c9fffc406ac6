"""Queues: where a ticket lands, by the address or SMS number it was sent to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Table, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from schema.models.base import Base, SafeString, choice, utcnow
from schema.models.people import Agent

PRIORITIES = ("low", "normal", "high", "urgent")

queue_members = Table(
    "queue_members",
    Base.metadata,
    Column("queue_id", ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True),
    Column("agent_id", ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
)


class Queue(Base):
    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(SafeString(100), unique=True)
    sms_number: Mapped[str | None] = mapped_column(SafeString(32), unique=True)
    default_priority: Mapped[str] = mapped_column(
        choice(*PRIORITIES, name="priority"), default="normal"
    )
    # Whether resolving a ticket of this queue asks the customer for a rating.
    csat: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    addresses: Mapped[list[QueueAddress]] = relationship(
        back_populates="queue",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="QueueAddress.id",
    )
    members: Mapped[list[Agent]] = relationship(
        secondary=queue_members, lazy="selectin", order_by="Agent.email"
    )


class QueueAddress(Base):
    """A support address routing into a queue; lower-cased, unique across queues."""

    __tablename__ = "queue_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(SafeString(320), unique=True)

    queue: Mapped[Queue] = relationship(back_populates="addresses")
