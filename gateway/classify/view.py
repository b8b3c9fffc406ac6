"""A cheap, never-raising look at a parsed mail, shared by all rules of one classification.

Rules read raw header values (``Message.raw_items``) instead of the policy's parsed header
objects: parsing every structured header costs more than the whole budget for an ordinary
customer mail, and a broken header must never raise inside a rule. Bodies are decoded
lazily, once, and only when a rule asks.
"""

from __future__ import annotations

import quopri
import re
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import Message

_FOLD = re.compile(r"\r?\n|\r")
_TAGS = re.compile(r"<(?:style|script)\b.*?</(?:style|script)>|<[^>]*>", re.S | re.I)
_ENTITIES = {"&nbsp;": " ", "&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"'}

MAX_PARTS = 60  # a bounce has 2-4 parts; more is a nesting bomb, not a report
MAX_TEXT = 128 * 1024  # bounce wording sits at the top; never regex over megabytes


def unfold(value: str) -> str:
    """A header value on one line (RFC 5322 unfolding: drop the line breaks only)."""
    return _FOLD.sub("", value).strip()


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words, keeping the raw text when they are broken."""
    if not value.isascii():  # raw 8-bit header: bytes were smuggled in as surrogates
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # any malformed encoded word or unknown charset: keep the raw text
        return value


def strip_angles(value: str) -> str:
    """``<id@host>`` or ``rfc822; <a@b>`` pieces without brackets, quotes or spaces."""
    return value.strip().strip("<>").strip().strip('"').strip()


def part_text(part: Message) -> str:
    """The decoded text of one leaf part; undecodable bytes become U+FFFD, never an error."""
    try:
        payload = part.get_payload(decode=True)
        raw = part.get_payload()
        if (
            isinstance(raw, str)
            and "\r" in raw
            and "quoted-printable" in part.get("content-transfer-encoding", "").lower()
        ):
            # CR-only lines (old Mac MTAs): the decoder misses "=\r" soft breaks and
            # truncates the text, so normalise the line endings before decoding
            raw = raw.replace("\r\n", "\n").replace("\r", "\n")
            payload = quopri.decodestring(raw.encode("ascii", "surrogateescape"))
    except Exception:  # broken transfer encoding
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    charset = "utf-8"
    try:
        charset = part.get_content_charset() or "utf-8"
        text = payload.decode(charset, "replace")
    except (LookupError, ValueError):  # unknown or bogus charset name
        text = payload.decode("latin-1")
    if part.get_content_subtype() == "html":
        text = _TAGS.sub(" ", text)
        for entity, char in _ENTITIES.items():
            text = text.replace(entity, char)
    return text


def walk(msg: Message, *, into_attached: bool = False) -> Iterator[Message]:
    """Depth-first parts of ``msg`` (itself first), at most ``MAX_PARTS``.

    By default it does not descend into attached messages (``message/*``): a returned
    copy of our own mail must not be mistaken for the report's own text.
    """
    stack = [msg]
    seen = 0
    while stack and seen < MAX_PARTS:
        part = stack.pop()
        seen += 1
        yield part
        if part.get_content_maintype() == "message" and not into_attached:
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend(p for p in reversed(payload) if isinstance(p, Message))


class MailView:
    """Header lookups by lower-case name, and the report text on demand."""

    __slots__ = ("_headers", "_subject", "_text", "mime")

    def __init__(self, mime: Message) -> None:
        self.mime = mime
        headers: dict[str, list[str]] = {}
        for name, value in mime.raw_items():
            headers.setdefault(name.lower(), []).append(value if isinstance(value, str) else "")
        self._headers = headers
        self._subject: str | None = None
        self._text: str | None = None

    def has(self, name: str) -> bool:
        return name in self._headers

    def header(self, name: str) -> str:
        """The first value of header ``name`` (lower-case), unfolded; "" when absent."""
        values = self._headers.get(name)
        return unfold(values[0]) if values else ""

    def all(self, name: str) -> list[str]:
        return [unfold(v) for v in self._headers.get(name, ())]

    @property
    def subject(self) -> str:
        if self._subject is None:
            self._subject = decode_words(self.header("subject"))
        return self._subject

    @property
    def content_type(self) -> str:
        """``maintype/subtype`` of the top part, lower-case, without parameters."""
        return self.header("content-type").split(";", 1)[0].strip().lower()

    @property
    def text(self) -> str:
        """The human-readable text of the mail itself (attached messages excluded).

        Plain parts are preferred; HTML parts are used, crudely de-tagged, only when there
        is no plain text (Office 365 and Yahoo send HTML-only reports).
        """
        if self._text is None:
            plain: list[str] = []
            html: list[str] = []
            size = 0
            for part in walk(self.mime):
                if size > MAX_TEXT:
                    break
                ctype = part.get_content_type()
                if ctype in ("text/plain", "text/html"):
                    text = part_text(part)
                elif part.is_multipart() or not isinstance(part.get_payload(), str):
                    continue
                elif ctype.startswith("multipart/"):  # no usable boundary: one raw string
                    text = str(part.get_payload())
                else:
                    continue
                size += len(text)
                (html if ctype == "text/html" else plain).append(text)
            text = "\n".join(plain or html)[:MAX_TEXT]
            # CR-only (old Mac) and CRLF bodies: one line ending, so ^/$ patterns work
            self._text = text.replace("\r\n", "\n").replace("\r", "\n")
        return self._text
