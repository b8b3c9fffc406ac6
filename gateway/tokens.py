"""Signed reply tokens carried in the plus part of a support address.

``support+t123.c45.8f3a1c2b9d0e4f57@example.com`` names ticket 123 and the participant the
address was issued to (``c`` contact, ``a`` agent), signed with HMAC-SHA256 over both under
``TICKETGW_SECRET_KEY``. The token threads a reply even when the client drops our headers,
and binds an agent's authority to that agent: a token is only as good as its signature.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Literal

ParticipantKind = Literal["contact", "agent"]
_KIND_LETTER: dict[ParticipantKind, str] = {"contact": "c", "agent": "a"}
_LETTER_KIND: dict[str, ParticipantKind] = {"c": "contact", "a": "agent"}
# 64 bits of MAC: forging one takes ~2^63 tries, each a mail we would see.
_MAC_HEX = 16
_TOKEN = re.compile(r"^t(\d{1,12})\.([ca])(\d{1,12})\.([0-9a-f]{16})$")


@dataclass(frozen=True, slots=True)
class ReplyToken:
    ticket_id: int
    kind: ParticipantKind
    participant_id: int


def signature(secret: str, message: str) -> str:
    """HMAC-SHA256 of ``message`` under ``secret``, cut to 64 bits, in hex: the MAC of every
    token we hand out (each kind of token signs a message of its own shape)."""
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()[:_MAC_HEX]


def _mac(secret: str, ticket_id: int, letter: str, participant_id: int) -> str:
    return signature(secret, f"t{ticket_id}.{letter}{participant_id}")


def make_token(secret: str, token: ReplyToken) -> str:
    letter = _KIND_LETTER[token.kind]
    mac = _mac(secret, token.ticket_id, letter, token.participant_id)
    return f"t{token.ticket_id}.{letter}{token.participant_id}.{mac}"


def token_address(secret: str, support_address: str, token: ReplyToken) -> str:
    """The reply address for ``token`` on ``support_address`` (``local+token@domain``)."""
    local, _, domain = support_address.partition("@")
    return f"{local}+{make_token(secret, token)}@{domain}"


def split_plus(address: str) -> tuple[str, str | None]:
    """``local+tag@domain`` -> (``local@domain``, ``tag``); no plus part -> (address, None)."""
    local, at, domain = address.lower().rpartition("@")
    if not at:
        return address.lower(), None
    base, plus, tag = local.partition("+")
    return f"{base}@{domain}", (tag if plus else None)


def read_token(secret: str, address: str) -> ReplyToken | None:
    """The verified token in ``address``, or ``None`` when absent, malformed or forged."""
    _, tag = split_plus(address)
    match = _TOKEN.match(tag or "")
    if match is None:
        return None
    ticket, letter, participant, mac = match.groups()
    expected = _mac(secret, int(ticket), letter, int(participant))
    if not hmac.compare_digest(mac, expected):
        return None
    return ReplyToken(int(ticket), _LETTER_KIND[letter], int(participant))
