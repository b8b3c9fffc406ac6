"""Single-value headers read from their raw text: subject, date, message ids.

These are read from ``Message.raw_items()`` rather than through ``policy.default``'s header
objects: our own RFC 2047 decoder knows the charset aliases real mail needs (the stdlib
turns a ``ks_c_5601-1987`` subject into U+FFFD), raw 8-bit headers get decoded with the
body's charset as a hint, and it is several times faster than the header registry.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from gateway.mail.charsets import decode_bytes, decode_header_bytes
from schema.bounded import bounded

# RFC 5322's longest line, and the length of every Message-ID column: a longer id (only a
# file can carry one; SMTP lines end at 1,000) is bounded, the same way wherever it is read.
MESSAGE_ID_CHARS = 998

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_BETWEEN_WORDS = re.compile(r"[ \t\r\n]*")
_SURROGATE = re.compile("[\udc80-\udcff]")
_QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")
_ASCII_SPACE = re.compile(r"[ \t\r\n\f\v]+")
_ANGLED_ID = re.compile(r"<\s*([^<>\s]+?)\s*>")


def first_headers(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-cased header name -> raw value of its first occurrence."""
    found: dict[str, str] = {}
    for name, value in items:
        if isinstance(value, str):
            found.setdefault(name.lower(), value)
    return found


def decode_header_text(raw: str, hint: str | None = None) -> str:
    """Unfold a raw header value, decode raw 8-bit bytes and RFC 2047 encoded words."""
    if _SURROGATE.search(raw):
        raw = decode_header_bytes(raw.encode("utf-8", "surrogateescape"), hint)
    if "=?" not in raw:
        return raw
    out: list[str] = []
    pending: list[bytes] = []  # adjacent words in one charset: a character may span two
    pending_charset = ""
    pos = 0
    for match in _ENCODED_WORD.finditer(raw):
        gap = raw[pos : match.start()]
        charset = match.group(1).split("*", 1)[0]  # RFC 2231 language suffix
        if pending and (not _BETWEEN_WORDS.fullmatch(gap) or charset.lower() != pending_charset):
            out.append(decode_bytes(b"".join(pending), pending_charset)[0])
            pending = []
        if not pending:
            out.append(gap)
        pending.append(_decode_word(match.group(2), match.group(3)))
        pending_charset = charset.lower()
        pos = match.end()
    if pending:
        out.append(decode_bytes(b"".join(pending), pending_charset)[0])
    out.append(raw[pos:])
    return "".join(out)


def _decode_word(encoding: str, payload: str) -> bytes:
    data = payload.encode("utf-8", "surrogateescape")
    if encoding in "bB":
        try:
            return base64.b64decode(data + b"=" * (-len(data) % 4))
        except (binascii.Error, ValueError):
            return data
    return _QP_ESCAPE.sub(lambda m: bytes.fromhex(m.group(1).decode()), data.replace(b"_", b" "))


def collapse(text: str) -> str:
    """Unfold and collapse runs of ASCII whitespace (folded subjects, tabs from Outlook).

    Only ASCII: an ideographic space (U+3000) in a CJK name is part of the name.
    """
    return _ASCII_SPACE.sub(" ", text).strip(" ")


def parse_date(raw: str | None) -> datetime | None:
    """An aware datetime, or None when absent or unreadable; ``-0000`` is taken as UTC."""
    if not raw:
        return None
    try:
        value = parsedate_to_datetime(collapse(raw))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def message_ids(raw: str | None) -> tuple[str, ...]:
    """Message-IDs in order, without angle brackets; bare ``id@host`` tokens as a fallback."""
    if not raw:
        return ()
    ids = _ANGLED_ID.findall(raw)
    if not ids:
        ids = [token.strip("<>,;") for token in raw.split() if "@" in token]
    return tuple(dict.fromkeys(bounded(i, MESSAGE_ID_CHARS) for i in ids if i))


def message_id(raw: str | None) -> str | None:
    found = message_ids(raw)
    if found:
        return found[0]
    token = collapse(raw or "").strip("<>")
    return bounded(token, MESSAGE_ID_CHARS) if token else None
