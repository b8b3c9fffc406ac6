"""Builders for the mails real clients send: new requests and replies in each client's style."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

ORIGINAL_TEXT = "My printer is on fire.\nPlease help."


def new_request(
    sender: str = "bob@example.org",
    to: str = "support@example.com",
    subject: str = "Printer on fire",
    body: str = ORIGINAL_TEXT,
    name: str = "Bob Jones",
    **headers: str,
) -> EmailMessage:
    msg = EmailMessage(policy=policy.SMTP)  # CRLF line ends, as on the wire
    msg["From"] = f"{name} <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    for key, value in headers.items():
        msg[key.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def _quote_block(style: str, original: str) -> str:
    quoted = "\n".join(f"> {line}" for line in original.splitlines())
    if style == "gmail":
        return f"On Mon, Mar 2, 2026 at 10:00 AM Support <support@example.com> wrote:\n{quoted}\n"
    if style == "outlook":
        return (
            "________________________________\n"
            "From: Support <support@example.com>\n"
            "Sent: Monday, March 2, 2026 10:00 AM\n"
            "To: Bob Jones <bob@example.org>\n"
            "Subject: RE: Printer on fire\n\n"
            f"{original}\n"
        )
    if style == "apple":
        return f"\n> On 2 Mar 2026, at 10:00, Support <support@example.com> wrote:\n> \n{quoted}\n"
    if style == "thunderbird":
        return f"On 02.03.26 10:00, Support wrote:\n{quoted}\n"
    if style == "german":
        return f"Am 02.03.2026 um 10:00 schrieb Support <support@example.com>:\n{quoted}\n"
    if style == "french":
        return f"Le lun. 2 mars 2026 à 10:00, Support <support@example.com> a écrit :\n{quoted}\n"
    raise ValueError(style)


STYLES = ("gmail", "outlook", "apple", "thunderbird", "german", "french")


def reply(
    style: str,
    parent: EmailMessage,
    new_text: str,
    *,
    sender: str = "bob@example.org",
    to: str = "support@example.com",
    with_references: bool = True,
    subject: str | None = None,
    thread_index: str | None = None,
) -> EmailMessage:
    msg = EmailMessage(policy=policy.SMTP)  # CRLF line ends, as on the wire
    msg["From"] = f"Bob Jones <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject or f"Re: {parent['Subject']}"
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    if with_references:
        msg["In-Reply-To"] = parent["Message-ID"]
        msg["References"] = " ".join(
            filter(None, [str(parent.get("References", "")), str(parent["Message-ID"])])
        )
    if thread_index:
        msg["Thread-Index"] = thread_index
    original = parent.get_content() if not parent.is_multipart() else ORIGINAL_TEXT
    msg.set_content(f"{new_text}\n\n{_quote_block(style, original.strip())}")
    return msg


def thread_index(conversation: bytes, replies: int = 0) -> str:
    """An Outlook Thread-Index: 22 bytes of conversation plus 5 per reply."""
    assert len(conversation) == 22
    return base64.b64encode(conversation + b"\x01\x02\x03\x04\x05" * replies).decode()
