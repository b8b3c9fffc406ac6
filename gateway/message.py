"""The channel-neutral inbound message: what parsing produces and threading consumes.

Inbound and outbound messages are separate frozen types; nothing downstream of parsing
looks at raw MIME again except the classification rules, which get the parsed
``email.message.EmailMessage`` beside this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Channel = Literal["email", "sms"]


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox or phone number. ``address`` is lower-cased (email) or E.164 (phone)."""

    address: str
    name: str = ""

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address


@dataclass(frozen=True, slots=True)
class Attachment:
    """One attachment or inline part, with its decoded bytes (stored by content later)."""

    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None
    inline: bool = False

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """What a customer or agent sent, whatever the channel.

    ``text`` is the visible new part (quotes and signature removed); ``full_text`` keeps
    everything, so nothing stripped is ever lost. When the quote rules find nothing new,
    ``text`` is the whole body and ``has_new_text`` is False. Message-IDs are stored
    without angle brackets.
    """

    channel: Channel
    sender: Address
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    subject: str = ""
    date: datetime | None = None
    message_id: str | None = None
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    text: str = ""
    has_new_text: bool = True
    full_text: str = ""
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    thread_index: str | None = None
    sms_sid: str | None = None
    media_urls: tuple[str, ...] = field(default_factory=tuple)
    defects: tuple[str, ...] = ()

    @property
    def recipients(self) -> tuple[Address, ...]:
        return self.to + self.cc
