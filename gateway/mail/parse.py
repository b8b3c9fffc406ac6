"""Raw RFC 5322 bytes -> :class:`InboundMessage`: the pure first stage of the mail pipeline.

``parse_mail`` never raises. Whatever is wrong with a mail (no From, a lying charset, a
part bomb, a MIME tree the stdlib cannot build) becomes a short string in
``InboundMessage.defects`` and the rest of the mail is still read, so the pipeline can
store it and decide later; nothing a customer sent is dropped here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from email.message import EmailMessage

from gateway.mail import quotes
from gateway.mail.addresses import address_list
from gateway.mail.attachments import extract_uuencoded
from gateway.mail.charsets import decode_bytes, decodes_strictly, header_charset
from gateway.mail.feedparser import message_from_bytes
from gateway.mail.headers import (
    collapse,
    decode_header_text,
    first_headers,
    message_id,
    message_ids,
    parse_date,
)
from gateway.mail.html import html_to_text, sanitize_html, too_deep
from gateway.mail.parts import Leaf, payload_bytes, walk
from gateway.mail.subjects import is_forward
from gateway.message import Address, InboundMessage
from schema.text import safe_text

# An opening MIME delimiter line ("--boundary", not the closing "--boundary--").
_DELIMITER = re.compile(rb"^--(?!\S*--[ \t]*\r?$)\S[^\r\n]*\r?$", re.M)
_NEWLINES = re.compile(r"\r\n?")
_SURROGATE = re.compile("[\udc80-\udcff]")
_HEADER_FIELD = re.compile(rb"^([\x21-\x39\x3b-\x7e]+)[ \t]*:")
_HEADER_END = re.compile(rb"\r?\n\r?\n")


@dataclass(frozen=True, slots=True)
class ParsedMail:
    message: InboundMessage
    mime: EmailMessage  # the parsed tree, for the classification rules


def parse_mail(raw: bytes, *, max_parts: int = 500) -> ParsedMail:
    """Parse one mail. Never raises; see the module docstring for how problems surface."""
    defects: list[str] = []
    try:
        return _parse(bytes(raw), max_parts, defects)
    except Exception as exc:  # last line of defence: a bug below must not lose the mail
        defects.append(f"parser error: {type(exc).__name__}: {exc}"[:200])
        message = InboundMessage(channel="email", sender=Address(""), defects=tuple(defects))
        return ParsedMail(message=message, mime=EmailMessage())


def _parse(raw: bytes, max_parts: int, defects: list[str]) -> ParsedMail:
    if raw[:1].isspace():
        raw = raw.lstrip()  # several real mailers start with a blank line before headers
        defects.append("blank lines before the headers skipped")
    raw = _limit_parts(raw, max_parts, defects)
    msg = _tree(raw, defects)
    if "from" not in msg:
        repaired = _repair_header_block(raw)
        if repaired is not None:
            msg = _tree(repaired, defects)
            defects.append("junk lines in the header block skipped")
    walked = walk(msg, max_parts, crlf=b"\r\n" in raw[:4096])
    defects.extend(walked.defects)

    full_text, plain_charset = _text(walked.plain, defects)
    raw_html, html_charset = _text(walked.html, defects)
    attachments = walked.attachments
    if walked.plain is not None and "begin " in full_text:
        full_text, uuencoded = extract_uuencoded(full_text)
        attachments = [*attachments, *uuencoded]
    deep = too_deep(raw_html) if raw_html else None
    if deep:
        defects.append(deep)
    if walked.plain is None and raw_html:
        full_text, cut = html_to_text(raw_html, deep=deep is not None)
        if cut:
            defects.append(cut)
    html = _sanitized(raw_html) if walked.html is not None and not deep else None

    head = first_headers(msg.raw_items())
    hint = _raw_header_charset(head, plain_charset or html_charset)
    sender = address_list(msg, "From", head.get("from"), hint, defects)
    if not sender:
        defects.append("no From address")
    subject = collapse(decode_header_text(head.get("subject", ""), hint))
    visible = quotes.visible_text(
        full_text, None if deep else raw_html or None, forwarded=is_forward(subject)
    )
    message = InboundMessage(
        channel="email",
        sender=sender[0] if sender else Address(""),
        to=address_list(msg, "To", head.get("to"), hint, defects),
        cc=address_list(msg, "Cc", head.get("cc"), hint, defects),
        reply_to=address_list(msg, "Reply-To", head.get("reply-to"), hint, defects),
        subject=subject,
        date=parse_date(head.get("date")),
        message_id=message_id(head.get("message-id")),
        in_reply_to=message_ids(head.get("in-reply-to")),
        references=message_ids(head.get("references")),
        text=visible,
        has_new_text=bool(visible),
        full_text=full_text,
        html=html,
        attachments=tuple(attachments),
        thread_index=collapse(head["thread-index"]) if "thread-index" in head else None,
        defects=tuple(defects),
    )
    return ParsedMail(message=_safe(message), mime=msg)


def _safe(message: InboundMessage) -> InboundMessage:
    """The message with ``schema.text.safe_text`` applied now, not only at the database:
    a Message-ID with a NUL must be the same string in memory (look-ups, keys) as stored."""

    def addresses(found: tuple[Address, ...]) -> tuple[Address, ...]:
        return tuple(Address(safe_text(a.address), safe_text(a.name)) for a in found)

    return replace(
        message,
        sender=addresses((message.sender,))[0],
        to=addresses(message.to),
        cc=addresses(message.cc),
        reply_to=addresses(message.reply_to),
        subject=safe_text(message.subject),
        message_id=safe_text(message.message_id) if message.message_id else None,
        in_reply_to=tuple(safe_text(i) for i in message.in_reply_to),
        references=tuple(safe_text(i) for i in message.references),
        text=safe_text(message.text),
        full_text=safe_text(message.full_text),
        html=safe_text(message.html) if message.html is not None else None,
        thread_index=safe_text(message.thread_index) if message.thread_index else None,
        defects=tuple(safe_text(d) for d in message.defects),
    )


def _raw_header_charset(head: dict[str, str], body_charset: str | None) -> str | None:
    """The charset to read raw 8-bit headers with: the body's when it is a multi-byte
    charset that decodes them (detection takes a short Shift_JIS subject for GBK), else
    the one detected from all of them together, else the body's."""
    raw_values = [
        value.encode("utf-8", "surrogateescape")
        for value in head.values()
        if _SURROGATE.search(value)
    ]
    if raw_values and decodes_strictly(body_charset, b"\n".join(raw_values)):
        return body_charset
    return header_charset(raw_values) or body_charset


def _limit_parts(raw: bytes, max_parts: int, defects: list[str]) -> bytes:
    """Cut a part bomb before the stdlib parser spends seconds building every part."""
    if raw.count(b"\n--") <= max_parts:  # cheap upper bound on delimiter lines
        return raw
    starts = [m.start() for m in _DELIMITER.finditer(raw)]
    if len(starts) <= max_parts:
        return raw
    defects.append(f"part limit {max_parts} reached: {len(starts) - max_parts} parts not read")
    return raw[: starts[max_parts]]


def _repair_header_block(raw: bytes) -> bytes | None:
    """Drop junk lines from the header block, so a From below them is still found.

    Real cases: a forwarding note above the headers ("---- Original email message ----"),
    a stray word glued to a field name, the obsolete ``From  :`` with space before the colon.
    """
    end = _HEADER_END.search(raw)
    head, body = (raw[: end.start()], raw[end.start() :]) if end else (raw, b"")
    lines = head.splitlines(keepends=True)
    kept = []
    for line in lines:
        field = _HEADER_FIELD.match(line)
        if field:
            kept.append(field.group(1) + b":" + line[field.end() :])
        elif line[:1] in (b" ", b"\t") and kept:
            kept.append(line)
    repaired = b"".join(kept)
    if not kept or repaired == head or not re.search(rb"(?im)^from:", repaired):
        return None
    return repaired + body


def _tree(raw: bytes, defects: list[str]) -> EmailMessage:
    try:
        return message_from_bytes(raw)
    except Exception as exc:  # deep nesting hits the recursion limit inside the parser
        defects.append(f"MIME structure unreadable ({type(exc).__name__}): headers only")
    try:
        return message_from_bytes(raw, headersonly=True)
    except Exception:
        return EmailMessage()


def _text(leaf: Leaf | None, defects: list[str]) -> tuple[str, str | None]:
    """The decoded text of a body part, with newlines normalised, and its declared charset."""
    if leaf is None:
        return "", None
    data = payload_bytes(leaf.part)
    text, defect = decode_bytes(data, leaf.charset)
    if defect:
        defects.append(defect)
    if "\r" in text:
        text = _NEWLINES.sub("\n", text)
    return text, leaf.charset


def _sanitized(raw_html: str) -> str:
    try:
        return sanitize_html(raw_html)
    except Exception:  # nh3 rejects strings with lone surrogates (from UTF-7/UTF-16 junk)
        return sanitize_html(raw_html.encode("utf-8", "replace").decode("utf-8"))
