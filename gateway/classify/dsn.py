"""Reading RFC 3464 delivery-status parts and the returned copy of the original mail.

Pure functions over a parsed message; nothing here decides *whether* a mail is a bounce
(``bounce.py`` does), only what a report says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from gateway.classify.view import part_text, strip_angles, unfold, walk

STATUS_PARTS = frozenset({"message/delivery-status", "message/global-delivery-status"})
RETURNED_PARTS = frozenset({"message/rfc822", "message/global"})
RETURNED_HEADERS = frozenset({"text/rfc822-headers", "message/rfc822-headers"})

_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.M)
_MESSAGE_ID = re.compile(r"^Message-ID:[ \t]*(?:\r?\n[ \t]+)?<?([^\s<>]+@[^\s<>]+)>?", re.I | re.M)
_BLANK = re.compile(r"\r?\n[ \t]*\r?\n")


@dataclass(frozen=True, slots=True)
class RecipientStatus:
    """One per-recipient block of a delivery-status part."""

    address: str
    action: str  # failed | delayed | delivered | relayed | expanded | "" (missing)
    status: str | None
    diagnostic: str | None

    @property
    def outcome(self) -> str:
        """``permanent``, ``temporary`` or ``success``: Action first, then the Status class."""
        action = self.action
        if action.startswith("fail"):
            return "permanent"
        if action.startswith("delay"):
            return "temporary"
        if action.startswith(("deliver", "relay", "expand")):
            return "success"
        first = (self.status or "5")[:1]
        return {"4": "temporary", "2": "success"}.get(first, "permanent")


def _address(value: str) -> str:
    """``rfc822; <A@B>`` -> ``a@b`` (the address type is optional in practice)."""
    _, _, address = value.rpartition(";")
    return strip_angles(address).lower()


_RECIPIENT_FIELDS = frozenset(
    {
        "final-recipient",
        "original-recipient",
        "x-actual-recipient",
        "action",
        "status",
        "diagnostic-code",
    }
)
_STATUS_CODE = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}")


def _text_blocks(text: str) -> list[list[tuple[str, str]]]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [
        [(m.group(1).lower(), unfold(m.group(2))) for m in _FIELD.finditer(chunk)]
        for chunk in _BLANK.split(text)
    ]


def _blocks(part: Message) -> list[list[tuple[str, str]]]:
    """The field blocks of a delivery-status part, lower-case names, values unfolded."""
    payload = part.get_payload()
    if isinstance(payload, list):  # the parser already split the blocks
        return [
            [(k.lower(), unfold(v)) for k, v in block.raw_items() if isinstance(v, str)]
            for block in payload
            if isinstance(block, Message)
        ]
    return _text_blocks(part_text(part))


def _records(blocks: list[list[tuple[str, str]]]) -> list[dict[str, str]]:
    """Per-recipient field sets: a new one at each block, and at a repeated field.

    Some MTAs (AOL, old Sendmail) run several recipients together without the blank line
    RFC 3464 asks for; a second ``Final-Recipient`` starts the next recipient.
    """
    records: list[dict[str, str]] = []
    for block in blocks:
        current: dict[str, str] = {}
        for name, value in block:
            if name not in _RECIPIENT_FIELDS:
                continue
            if name in current:
                records.append(current)
                current = {}
            current[name] = value
        if current:
            records.append(current)
    return records


def _status(record: dict[str, str]) -> RecipientStatus | None:
    # Original-Recipient is the address *we* wrote; Final-Recipient may be an alias
    # target we never heard of, so it is only the fallback.
    original = _address(record.get("original-recipient", ""))
    final = _address(record.get("final-recipient") or record.get("x-actual-recipient", ""))
    address = original if "@" in original else final
    if not address:
        return None
    status = _STATUS_CODE.match(record.get("status", "").strip())
    return RecipientStatus(
        address=address,
        action=record.get("action", "").strip().lower(),
        status=status.group(0) if status else None,
        diagnostic=record.get("diagnostic-code") or None,
    )


def recipient_statuses(mime: Message, fallback_text: str = "") -> list[RecipientStatus]:
    """Every per-recipient block of the report's delivery-status parts.

    When the MIME structure is broken (a boundary that never occurs: the parser then keeps
    the whole body as one string), the same fields are read from ``fallback_text``.
    """
    blocks: list[list[tuple[str, str]]] = []
    for part in walk(mime):
        if part.get_content_type() in STATUS_PARTS:
            blocks += _blocks(part)
    if not blocks and fallback_text:
        blocks = _text_blocks(fallback_text)
    return [s for s in map(_status, _records(blocks)) if s is not None]


def original_message_id(mime: Message) -> str | None:
    """Message-ID of the returned mail: attached copy, attached headers, or quoted text."""
    for part in walk(mime):
        ctype = part.get_content_type()
        if ctype in RETURNED_PARTS:
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                for name, value in payload[0].raw_items():
                    if name.lower() == "message-id" and isinstance(value, str):
                        return strip_angles(unfold(value)) or None
            if isinstance(payload, str):
                found = _MESSAGE_ID.search(payload.replace("\r", "\n"))
                if found:
                    return found.group(1)
        elif ctype in RETURNED_HEADERS:
            found = _MESSAGE_ID.search(part_text(part).replace("\r", "\n"))
            if found:
                return found.group(1)
    return None


def quoted_message_id(text: str, own_id: str) -> str | None:
    """A ``Message-ID:`` line in a text bounce that quotes the returned mail inline."""
    for found in _MESSAGE_ID.finditer(text):
        if found.group(1) != own_id:
            return found.group(1)
    return None
