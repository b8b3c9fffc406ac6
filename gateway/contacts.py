"""Finding or creating the contact behind an email address or phone number."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.addresses import normalize_email, normalize_phone
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
    them win, and the loser reads the winner's row inside a savepoint.
    """
    value = normalize_email(value, strict=strict) if kind == "email" else normalize_phone(value)
    identity = find_identity(session, kind, value)
    if identity is not None:
        if name and not identity.contact.name:
            identity.contact.name = name
        return identity.contact
    try:
        with session.begin_nested():
            contact = Contact(name=name)
            contact.identities.append(ContactIdentity(kind=kind, value=value))
            session.add(contact)
        return contact
    except IntegrityError:
        identity = find_identity(session, kind, value)
        assert identity is not None  # the concurrent insert that beat us
        return identity.contact


def contact_for_email(
    session: Session, address: str, name: str = "", *, strict: bool = True
) -> Contact:
    return contact_for(session, "email", address, name, strict=strict)


def contact_for_phone(session: Session, number: str, name: str = "") -> Contact:
    return contact_for(session, "phone", number, name)
