"""A mail's SMTP envelope, and whether it needs SMTPUTF8 (RFC 6531) to travel.

A customer may write from ``josé@example.com`` (the listener accepts SMTPUTF8), so an
answer may have to go to an address that is not ASCII. Such an address cannot be written
in a plain MAIL/RCPT command nor, as an address, in a header (an encoded word is not
allowed there): the whole mail must go with SMTPUTF8, headers in raw UTF-8. Everything else
that is not ASCII (subjects, display names) travels as encoded words without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.headerregistry import AddressHeader
from email.message import EmailMessage

# The headers whose addresses the mail carries; their addr-specs decide about SMTPUTF8.
_ADDRESS_HEADERS = ("From", "Sender", "Reply-To", "To", "Cc")
SMTP_ASCII = policy.SMTP  # CRLF, encoded words for anything not ASCII
SMTP_UTF8 = policy.SMTPUTF8  # CRLF, raw UTF-8 headers


@dataclass(frozen=True, slots=True)
class Envelope:
    """MAIL FROM and RCPT TO of one mail, and the first address that needs SMTPUTF8."""

    sender: str
    recipients: tuple[str, ...]
    needs_utf8: str | None

    @classmethod
    def of(cls, message: EmailMessage) -> Envelope:
        sender = message["From"].addresses[0].addr_spec
        recipients = tuple(a.addr_spec for a in message["To"].addresses)
        in_headers = (
            address.addr_spec
            for name in _ADDRESS_HEADERS
            for header in message.get_all(name, [])
            if isinstance(header, AddressHeader)
            for address in header.addresses
        )
        needs = next((a for a in (sender, *recipients, *in_headers) if not a.isascii()), None)
        return cls(sender, recipients, needs)

    def data(self, message: EmailMessage) -> bytes:
        """The mail as it goes after DATA: raw UTF-8 headers only when SMTPUTF8 is used."""
        return message.as_bytes(policy=SMTP_UTF8 if self.needs_utf8 else SMTP_ASCII)
