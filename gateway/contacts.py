"""Finding or creating the contact behind an email address or phone number."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.identities import normalize_email, normalize_phone
from gateway.lookups import lookups
from schema.bounded import fit
from schema.db import allocate_id
from schema.models import Contact, ContactIdentity


def find_identity(session: Session, kind: str, value: str) -> ContactIdentity | None:
    """The identity, read once per transaction (``gateway.lookups``)."""
    if kind in ("email", "phone"):
        return lookups(session).identity(value, "phone" if kind == "phone" else "email")
    return session.scalars(
        select(ContactIdentity).where(ContactIdentity.kind == kind, ContactIdentity.value == value)
    ).one_or_none()


def contact_for(
    session: Session, kind: str, value: str, name: str = "", *, strict: bool = True
) -> Contact:
    """The contact owning this identity, created on first sight.

    A new contact and its identity are added to the session with an allocated id, not
    flushed, so a batch of new customers is written in one flush; the transaction's
    lookups know them at once. Two processors seeing the same new customer at the same
    moment: the unique identity key makes the second one's transaction fail, and its
    items stay pending and are processed again, when the identity exists.
    """
    value = normalize_email(value, strict=strict) if kind == "email" else normalize_phone(value)
    value, name = fit(ContactIdentity.value, value), fit(Contact.name, name)
    identity = find_identity(session, kind, value)
    if identity is not None:
        if name and not identity.contact.name:
            identity.contact.name = name
        return identity.contact
    contact = Contact(id=allocate_id(session, Contact), name=name)
    identity = ContactIdentity(
        id=allocate_id(session, ContactIdentity), contact_id=contact.id, kind=kind, value=value
    )
    contact.identities.append(identity)
    session.add(contact)
    lookups(session).add_identity(identity)
    return contact


def contact_for_email(
    session: Session, address: str, name: str = "", *, strict: bool = True
) -> Contact:
    return contact_for(session, "email", address, name, strict=strict)


def contact_for_phone(session: Session, number: str, name: str = "") -> Contact:
    return contact_for(session, "phone", number, name)
