"""Contacts as admins see them: find one by any of its identities, list, link two as one.

A customer who writes by email and texts from a phone starts as two contacts. Linking
makes them one: the older contact keeps its id and takes the other's identities, tickets
and messages, so from then on an SMS from the phone lands on the person's open ticket,
whichever channel opened it. Each moved ticket records the change in its audit trail.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from gateway import audit
from gateway.contacts import find_identity
from gateway.errors import NotFound
from gateway.identities import normalize_email, normalize_phone
from schema.models import Contact, ContactIdentity, Message, Ticket


def parse_identity(value: str) -> tuple[str, str]:
    """``("email", address)`` or ``("phone", E.164)``; ``InvalidInput`` for neither."""
    if "@" in value:
        return "email", normalize_email(value)
    return "phone", normalize_phone(value)


def get_contact(session: Session, value: str) -> Contact:
    """The contact with this email address or phone number (or ``#ID``)."""
    if value.startswith("#") and value[1:].isdigit():
        contact = session.get(Contact, int(value[1:]))
        if contact is None:
            raise NotFound(f"no contact {value}")
        return contact
    kind, normalised = parse_identity(value)
    identity = find_identity(session, kind, normalised)
    if identity is None:
        raise NotFound(f"no contact with {kind} {normalised}")
    return identity.contact


def list_contacts(session: Session, *, opted_out: bool = False, limit: int = 50) -> list[Contact]:
    """Contacts, newest first; ``opted_out`` keeps those with a number that opted out."""
    query = select(Contact).order_by(Contact.id.desc()).limit(limit)
    if opted_out:
        query = query.where(
            Contact.id.in_(
                select(ContactIdentity.contact_id).where(
                    ContactIdentity.sms_opted_out_at.is_not(None)
                )
            )
        )
    return list(session.scalars(query))


def ticket_counts(session: Session, contact_ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(Ticket.contact_id, func.count())
        .where(Ticket.contact_id.in_(contact_ids))
        .group_by(Ticket.contact_id)
    )
    return {int(contact_id): int(count) for contact_id, count in rows}


def tickets_of(session: Session, contact: Contact) -> list[Ticket]:
    """The contact's tickets, newest first."""
    query = select(Ticket).where(Ticket.contact_id == contact.id).order_by(Ticket.id.desc())
    return list(session.scalars(query))


def link(session: Session, first: str, second: str) -> tuple[Contact, bool]:
    """Make the contacts of ``first`` and ``second`` one; False when they already were."""
    one, other = get_contact(session, first), get_contact(session, second)
    if one.id == other.id:
        return one, False
    keep, gone = (one, other) if one.id < other.id else (other, one)
    keep.name = keep.name or gone.name
    keep.language = keep.language or gone.language
    moved = list(session.scalars(select(Ticket).where(Ticket.contact_id == gone.id)))
    for ticket in moved:
        audit.record(session, ticket, audit.ADMIN, "contact", old=f"#{gone.id}", new=f"#{keep.id}")
    session.flush()
    for statement in (
        update(ContactIdentity).where(ContactIdentity.contact_id == gone.id),
        update(Ticket).where(Ticket.contact_id == gone.id),
    ):
        session.execute(
            statement.values(contact_id=keep.id).execution_options(synchronize_session=False)
        )
    session.execute(
        update(Message)
        .where(Message.author_contact_id == gone.id)
        .values(author_contact_id=keep.id)
        .execution_options(synchronize_session=False)
    )
    session.expunge(gone)
    session.execute(delete(Contact).where(Contact.id == gone.id))
    session.expire_all()
    return session.get(Contact, keep.id) or keep, True
