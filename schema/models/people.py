"""Contacts (customers) with their email and phone identities, and agents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from schema.models.base import Base, SafeString, choice, utcnow

ROLES = ("agent", "manager", "admin")
IDENTITY_KINDS = ("email", "phone")


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(SafeString(200), default="")
    language: Mapped[str | None] = mapped_column(SafeString(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    identities: Mapped[list[ContactIdentity]] = relationship(
        back_populates="contact", cascade="all, delete-orphan", lazy="selectin"
    )

    def identity(self, kind: str) -> ContactIdentity | None:
        return next((i for i in self.identities if i.kind == kind), None)


class ContactIdentity(Base):
    """One way to reach a contact: a lower-cased email address or an E.164 phone number."""

    __tablename__ = "contact_identities"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_contact_identities_kind_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(choice(*IDENTITY_KINDS, name="identity_kind"))
    value: Mapped[str] = mapped_column(SafeString(320))
    sms_opted_out_at: Mapped[datetime | None]
    bouncing_since: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    contact: Mapped[Contact] = relationship(back_populates="identities")


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(SafeString(320), unique=True)
    name: Mapped[str] = mapped_column(SafeString(200))
    phone: Mapped[str | None] = mapped_column(SafeString(32))
    role: Mapped[str] = mapped_column(choice(*ROLES, name="agent_role"), default="agent")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
