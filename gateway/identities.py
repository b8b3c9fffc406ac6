"""Normalising the two kinds of identity: email addresses and phone numbers."""

from __future__ import annotations

import functools

import phonenumbers

from gateway.errors import InvalidInput
from schema.bounded import fit
from schema.models import InboxItem


def normalize_email(address: str, *, strict: bool = True) -> str:
    """Lower-case and check an addr-spec; raise :class:`InvalidInput` when it is not one.

    The whole address is lower-cased: local parts are case-sensitive in theory, but no
    mail provider a helpdesk meets treats them so, and a customer typing ``Bob@`` once and
    ``bob@`` later must stay one contact. ``strict=False`` is for what arrived in a mail's
    From: an intranet's ``user@host`` or a sloppy mailer's spaces are still somebody, and
    their mail is kept rather than refused.
    """
    cleaned = address.strip().strip("<>").strip().lower()
    local, at, domain = cleaned.rpartition("@")
    if not at or not local or not domain:
        raise InvalidInput(f"not an email address: {address!r}")
    if strict and ("." not in domain or any(c.isspace() for c in cleaned)):
        raise InvalidInput(f"not an email address: {address!r}")
    return cleaned


def domain_of(address: str) -> str:
    """The domain the circuit breaker counts ``address`` under, as the inbox stores it.

    A phone number has none (``""``): the breaker counts an SMS sender by number only.
    """
    if "@" not in address:
        return ""
    return fit(InboxItem.sender_domain, address.rpartition("@")[2])


# Pure, and asked for each SMS sender at least twice (the form, the contact): parsing and
# validating with phonenumbers was a sixth of the CPU the pipeline spent on an SMS.
@functools.lru_cache(maxsize=4096)
def normalize_phone(number: str, region: str | None = None) -> str:
    """The E.164 form of ``number``; raise :class:`InvalidInput` unless it is a valid number."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(f"not a phone number: {number!r} (use +<country code><number>)") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(f"not a valid phone number: {number!r}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
