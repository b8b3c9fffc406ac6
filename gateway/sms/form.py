"""A Twilio inbound-message webhook's form -> :class:`InboundMessage` (pure).

The durable inbox keeps the form exactly as Twilio posted it (``application/x-www-form-
urlencoded`` bytes); this reads it back. Twilio sends ``From``/``To`` in E.164 and the
text in ``Body``; MMS adds ``NumMedia`` and ``MediaUrlN``/``MediaContentTypeN`` pairs.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from urllib.parse import parse_qsl

from gateway.errors import InvalidInput
from gateway.identities import normalize_phone
from gateway.message import Address, InboundMessage
from schema.bounded import bounded

# Twilio allows 10 media per MMS; more is not a real message and is not read.
MAX_MEDIA = 10
# Twilio's media URLs are ~150 characters; a longer one is no media URL of theirs.
MAX_URL = 2000
# Twilio's SIDs are 34 characters; the column holds 64.
MAX_SID = 64
_SUBJECT_CHARS = 60


@dataclass(frozen=True, slots=True)
class Media:
    url: str
    content_type: str


def read_form(raw: bytes) -> list[tuple[str, str]]:
    """The form's fields in order; :class:`InvalidInput` when the body is not a form."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("the webhook body is not UTF-8") from exc
    try:
        return parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the webhook body is not a form: {exc}") from exc


def media_of(fields: dict[str, str]) -> tuple[Media, ...]:
    """The MMS media the form lists, in order (``MediaUrl0``, ``MediaUrl1``, ...)."""
    try:
        count = min(int(fields.get("NumMedia") or 0), MAX_MEDIA)
    except ValueError:
        count = 0
    found = []
    for n in range(count):
        url = fields.get(f"MediaUrl{n}", "")
        if url.startswith(("https://", "http://")) and len(url) <= MAX_URL:
            found.append(Media(url, fields.get(f"MediaContentType{n}", "")))
    return tuple(found)


def parse_sms(raw: bytes) -> InboundMessage:
    """The SMS as a channel-neutral message; never raises.

    A sender that is not a valid phone number (an alphanumeric sender id, a short code,
    garbage) leaves ``sender`` empty and says why in ``defects``: the pipeline quarantines
    such an item rather than guess who wrote it.
    """
    defects: list[str] = []
    try:
        fields = dict(read_form(raw))
    except InvalidInput as exc:
        fields = {}
        defects.append(str(exc))
    sender = fields.get("From", "")
    try:
        number = normalize_phone(sender)
    except InvalidInput as exc:
        number = ""
        defects.append(str(exc))
    to = fields.get("To", "")
    # A short code is no E.164 number: then it is kept as Twilio sent it.
    with contextlib.suppress(InvalidInput):
        to = normalize_phone(to)
    text = fields.get("Body", "").replace("\x00", "").replace("\r\n", "\n")
    media = media_of(fields)
    return InboundMessage(
        channel="sms",
        sender=Address(number),
        to=(Address(to),) if to else (),
        subject=subject_of(text, number, len(media)),
        text=text.strip(),
        full_text=text,
        sms_sid=bounded(fields.get("MessageSid") or fields.get("SmsSid") or "", MAX_SID) or None,
        media_urls=tuple(m.url for m in media),
        defects=tuple(defects),
    )


def subject_of(text: str, number: str, media: int) -> str:
    """A ticket subject for an SMS: its first line, shortened at a word."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    if not line:
        return f"MMS from {number}" if media else f"SMS from {number}"
    if len(line) <= _SUBJECT_CHARS:
        return line
    cut = line[:_SUBJECT_CHARS].rsplit(" ", 1)[0] or line[:_SUBJECT_CHARS]
    return cut.rstrip(" ,.;:") + "..."
