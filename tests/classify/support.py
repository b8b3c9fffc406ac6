"""Shared helpers for the classification tests: parse a raw mail and build its Context."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path
from typing import cast

from gateway.classify import Context, Verdict, classify

SUPPORT = "support@help.example.org"
AGENT = "alice@help.example.org"
OUR_DOMAIN = "tickets.help.example.org"


def parse(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, email.message_from_bytes(raw, policy=email.policy.default))


def sender_of(mime: EmailMessage) -> str:
    """The From address the way the parser would give it ("" when unusable)."""
    try:
        header = mime.get("From")
        addresses = getattr(header, "addresses", ())
        return addresses[0].addr_spec.lower() if addresses else ""
    except Exception:  # a broken From header: the parser would report no sender
        return ""


def context(mime: EmailMessage, **overrides: object) -> Context:
    values: dict[str, object] = {
        "sender": sender_of(mime),
        "agent_addresses": frozenset({AGENT}),
        "support_addresses": frozenset({SUPPORT}),
        "message_id_domain": OUR_DOMAIN,
    }
    values.update(overrides)
    return Context(**values)  # type: ignore[arg-type]


def classify_bytes(raw: bytes, **overrides: object) -> Verdict:
    mime = parse(raw)
    return classify(mime, context(mime, **overrides))


def classify_file(path: Path) -> Verdict:
    return classify_bytes(path.read_bytes())
