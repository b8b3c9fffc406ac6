"""Finding or creating the contact behind an email address or phone number."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.addresses import normalize_email, normalize_phone
from schema.db import insert_ignoring_conflict
from schema.models import Contact, ContactIdentity


def find_identity(session: Session, kind: str, value: str) -> ContactIdentity | None:
    return session.scalars(
        select(ContactIdentity).where(ContactIdentity.kind == kind, ContactIdentity.value == value)
    ).one_or_none()


def contact_for(
    session: Session, kind: str, value: str, name: str = "", *, strict: bool = True
) -> Contact:
    """The contact owning this identity, created on first sight.

    Two listeners may see a new customer at once; the unique identity key makes one of
    them win. The contact row goes in first, then the identity with ``ON CONFLICT DO
    NOTHING``: two plain inserts where a savepoint cost four round trips. The loser deletes
    the contact it just made and returns the winner's.
    """
    value = normalize_email(value, strict=strict) if kind == "email" else normalize_phone(value)
    identity = find_identity(session, kind, value)
    if identity is not None:
        if name and not identity.contact.name:
            identity.contact.name = name
        return identity.contact
    contact = Contact(name=name)
    session.add(contact)
    session.flush()
    row = {"contact_id": contact.id, "kind": kind, "value": value}
    if insert_ignoring_conflict(session, ContactIdentity, row, ("kind", "value")) is None:
        session.delete(contact)  # a concurrent writer took the identity after our look-up
        session.flush()
        identity = find_identity(session, kind, value)
        assert identity is not None  # the concurrent insert that beat us
        return identity.contact
    # contact.identities loads on first use (one query). Building the identity object by
    # hand would save it, but a savepoint rollback would not expunge such an object, and on
    # SQLite a reused rowid would then clash with it in the identity map.
    return contact


def contact_for_email(
    session: Session, address: str, name: str = "", *, strict: bool = True
) -> Contact:
    return contact_for(session, "email", address, name, strict=strict)


def contact_for_phone(session: Session, number: str, name: str = "") -> Contact:
    return contact_for(session, "phone", number, name)
