"""Walk a parsed MIME tree once: pick the body parts, turn every other leaf into an attachment.

The main body is the first text/plain and the first text/html leaf that are not marked
as attachments (in a multipart/alternative, or side by side in a multipart/mixed as some
webmailers send them). Everything else is an attachment: further text parts, images,
signatures, delivery reports, and forwarded mail (``message/rfc822``, kept whole and not
walked into). The walk is iterative and stops after ``max_parts`` parts.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message

from gateway.mail.attachments import (
    extension,
    generated_name,
    message_filename,
    safe_filename,
    uudecode_lines,
)
from gateway.mail.headers import collapse, decode_header_text, first_headers, message_id
from gateway.message import Attachment

_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=]")
# Forwarded mail is stored as it came: no refolding of its long headers.
_AS_RECEIVED = policy.default.clone(refold_source="none")
_AS_RECEIVED_CRLF = _AS_RECEIVED.clone(linesep="\r\n")


@dataclass(slots=True)
class Leaf:
    """What the walk needs of one part, each header parsed once."""

    part: Message
    content_type: str
    charset: str | None
    disposition: str | None
    filename: str | None
    content_id: str | None


@dataclass(slots=True)
class Walked:
    plain: Leaf | None = None
    html: Leaf | None = None
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


def walk(root: EmailMessage, max_parts: int, crlf: bool) -> Walked:
    """One pass over the tree; a part that cannot be read becomes a defect, not an error."""
    found = Walked()
    stack: list[Message] = [root]
    number = 0
    while stack:
        part = stack.pop()
        number += 1
        if number > max_parts + 1:  # the limit counts the parts inside the message
            found.defects.append(f"part limit {max_parts} reached: {len(stack) + 1} parts not read")
            break
        try:
            children = _visit(part, number, found, crlf)
        except Exception as exc:  # a broken part must not cost the others
            found.defects.append(f"part {number} unreadable: {type(exc).__name__}")
            continue
        stack.extend(reversed(children))
    return found


def _visit(part: Message, number: int, found: Walked, crlf: bool) -> list[Message]:
    leaf = _leaf(part)
    maintype = leaf.content_type.partition("/")[0]
    payload = part.get_payload()
    if isinstance(payload, list):
        if maintype == "multipart":
            return [p for p in payload if isinstance(p, Message)]
        nested = [p for p in payload if isinstance(p, Message)]
        found.attachments.append(_nested(leaf, nested, number, crlf))
        return []
    content_type = "text/plain" if maintype == "multipart" else leaf.content_type
    in_body = leaf.disposition != "attachment" and not leaf.filename
    if in_body and content_type == "text/plain" and found.plain is None:
        found.plain = leaf
    elif in_body and content_type == "text/html" and found.html is None:
        found.html = leaf
    else:
        data = payload_bytes(part)
        found.attachments.append(
            Attachment(
                filename=leaf.filename
                or _described_name(part, content_type)
                or generated_name(number, content_type),
                content_type=content_type,
                data=data,
                content_id=leaf.content_id,
                inline=leaf.content_id is not None and leaf.disposition != "attachment",
            )
        )
    return []


def payload_bytes(part: Message) -> bytes:
    """The transfer-decoded bytes of a leaf, forgiving where real mailers are sloppy.

    base64 is decoded here in one step (the stdlib copies a large payload several times and
    returns the undecoded text when the padding is wrong); x-uuencode bodies often lack the
    ``begin`` line the stdlib needs.
    """
    payload = part.get_payload()
    if not isinstance(payload, str):
        return b""
    cte = str(part.get("content-transfer-encoding", "")).strip().lower()
    if cte == "base64":
        return _base64(payload.encode("ascii", "ignore"))
    if cte in ("x-uuencode", "uuencode", "x-uue", "uue"):
        decoded = uudecode_lines(payload)
        if decoded is not None:
            return decoded
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _base64(data: bytes) -> bytes:
    try:
        return binascii.a2b_base64(data)
    except binascii.Error:
        # Bad padding or a truncated last quantum: keep every complete byte.
        clean = bytes(_NOT_BASE64.sub(b"", data).rstrip(b"="))
        clean = clean[: len(clean) - len(clean) % 4 if len(clean) % 4 == 1 else len(clean)]
        try:
            return binascii.a2b_base64(clean + b"=" * (-len(clean) % 4))
        except binascii.Error:
            return b""


def _leaf(part: Message) -> Leaf:
    ctype_header = part.get("content-type")
    params: dict[str, str] = dict(getattr(ctype_header, "params", None) or {})
    content_type = getattr(ctype_header, "content_type", None) or part.get_default_type()
    if content_type.count("/") != 1:
        content_type = "text/plain"
    disp_header = part.get("content-disposition")
    disposition = getattr(disp_header, "content_disposition", None)
    disp_params = dict(getattr(disp_header, "params", None) or {})
    name = disp_params.get("filename") or params.get("name")
    charset = params.get("charset")
    if name:
        name = safe_filename(decode_header_text(str(name), charset))
    cid = part.get("content-id")
    return Leaf(
        part=part,
        content_type=content_type.lower(),
        charset=str(charset) if charset else None,
        disposition=disposition,
        filename=name or None,
        content_id=message_id(str(cid)) if cid is not None else None,
    )


def _described_name(part: Message, content_type: str) -> str | None:
    """A nameless attachment's Content-Description as its name, as Postfix's reports use it
    ("Delivery report", "Undelivered Message"); only for parts already known to be
    attachments, since body parts carry descriptions too ("Notification")."""
    description = part.get("content-description")
    if description is None:
        return None
    name = safe_filename(collapse(decode_header_text(str(description))), 120)
    if name and "." not in name:
        name = f"{name}.{extension(content_type)}"
    return name or None


def _nested(leaf: Leaf, payload: list[Message], number: int, crlf: bool) -> Attachment:
    """A ``message/*`` part: forwarded mail as ``<subject>.eml``, reports as text."""
    as_received = _AS_RECEIVED_CRLF if crlf else _AS_RECEIVED
    data = b"".join(m.as_bytes(policy=as_received) for m in payload)
    if leaf.content_type in ("message/rfc822", "message/global") and payload:
        subject = first_headers(payload[0].raw_items()).get("subject", "")
        subject = collapse(decode_header_text(subject))
        filename = leaf.filename or (message_filename(subject) if subject else None)
        filename = filename or _described_name(leaf.part, leaf.content_type)
        filename = filename or message_filename("")
    else:
        filename = leaf.filename or _described_name(leaf.part, leaf.content_type)
        filename = filename or generated_name(number, leaf.content_type)
    return Attachment(filename, leaf.content_type, data, leaf.content_id, inline=False)
