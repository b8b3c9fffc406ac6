"""What classification returns, and what it is told about us.

These types are the contract other stages code against: ingest stores ``Verdict.reason``
beside the message, and the bounce handler uses ``BounceReport`` to mark an address and to
thread the bounce onto the notification that caused it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["customer", "agent", "auto_reply", "bounce", "list", "loop", "keyword"]


@dataclass(frozen=True, slots=True)
class BounceReport:
    """What a delivery report says went wrong.

    ``recipients`` are the addresses that failed, lower-cased (empty when the report is
    unusable or only says "delivered"). ``permanent`` is False for delays and warnings
    (4.x.x, "will retry"). ``original_message_id`` is the Message-ID (no angle brackets)
    of the mail that bounced, when the report carries it.
    """

    recipients: tuple[str, ...]
    permanent: bool
    status: str | None = None
    diagnostic: str | None = None
    original_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """One classification: the kind, a short human reason (stored), and bounce details."""

    kind: Kind
    reason: str
    bounce: BounceReport | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """What the rules know beyond the message itself.

    ``envelope_sender`` is the SMTP MAIL FROM: ``""`` is the null sender ``<>``, ``None``
    means unknown (a file import), in which case the rules fall back on the
    ``Return-Path`` header that the delivering MTA wrote.
    """

    sender: str
    envelope_sender: str | None = None
    agent_addresses: frozenset[str] = frozenset()
    support_addresses: frozenset[str] = frozenset()
    message_id_domain: str = ""
    loop_marker: str = "ticket-gateway"
