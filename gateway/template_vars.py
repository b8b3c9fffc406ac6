"""The variables every notification template receives (docs/notifications.md, ``vars``).

One place builds them, for the notification code (:func:`ticket_vars`), for admins
previewing templates (:func:`preview_vars`) and for tests (:func:`sample_vars`). Every
builder returns all of :data:`VAR_KEYS`; a key that does not apply is ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from gateway.mail.quotes import REPLY_MARKER
from gateway.queues import reply_address
from gateway.tickets import messages_of
from schema.models import Agent, Contact, Message, Ticket

# A notification to agents shows at most this much of the message: a 10 MB log mailed in
# made a 21.5 MB notification to each agent, which relays with a 10 MB limit refuse, and
# as much again in each outbox row. The whole message is on the ticket.
EXCERPT_CHARS = 10_000

VAR_KEYS = (
    "ticket",
    "recipient",
    "customer",
    "agent",
    "message",
    "status",
    "sla",
    "error",
    "sms",
    "csat",
    "support_address",
    "reply_marker",
)

# Who reads each packaged template: it decides the sample recipient and which side of
# the conversation the preview's message comes from.
AUDIENCE: Mapping[str, str] = {
    "ack": "customer",
    "agent_reply": "customer",
    "resolved": "customer",
    "closed": "customer",
    "sms_ack": "customer",
    "sms_help": "customer",
    "sms_agent_reply": "customer",
    "sms_resolved": "customer",
    "reply_shortened": "agent",
    "new_ticket": "agent",
    "customer_reply": "agent",
    "internal_note": "agent",
    "sla_warning": "agent",
    "sla_breach": "agent",
    "sla_breach2": "agent",
    "sms_sla_alert": "agent",
    "command_error": "agent",
    "reply_held": "agent",
}

# What a template is about beyond the ticket, for previews: the status change, the SLA
# level and the failed command (the database holds none of these as "current").
_STATUS = {
    "resolved": ("open", "resolved"),
    "sms_resolved": ("open", "resolved"),
    "closed": ("resolved", "closed"),
}
# The survey as the resolved notifications show it: the question, and links when
# PUBLIC_URL is set (previews show them, to show what a customer may see).
_SAMPLE_LINKS = [
    {"rating": n, "url": f"https://support.example.com/csat/t123.0123456789abcdef/{n}"}
    for n in range(1, 6)
]
_CSAT = {"resolved": {"links": _SAMPLE_LINKS}, "sms_resolved": {"links": _SAMPLE_LINKS}}
_SLA_LEVEL = {
    "sla_warning": ("warning", 80),
    "sla_breach": ("breach", 100),
    "sla_breach2": ("breach2", 150),
    "sms_sla_alert": ("breach", 100),
}
# Business time used at each sample level of a 4-hour target.
_SAMPLE_ELAPSED = {80: "3h12m", 100: "4h", 150: "6h"}
_ERROR = {"command": "#priority asap", "reason": "priority must be low, normal, high or urgent"}
_SHORTENED = {
    "to": "+14155552671",
    "segments_sent": 4,
    "segments_full": 7,
    "segments_max": 4,
    "email": "carol@example.org",
}
_HELD = {
    "command": "it quotes an internal note",
    "reason": "it contains the internal note written by Bob Builder on 2026-11-23 13:40 UTC. "
    "Internal notes never go to the customer: answer again without the note.",
}
_ERRORS = {"command_error": _ERROR, "reply_held": _HELD}


def ticket_vars(
    session: Session,
    ticket: Ticket,
    *,
    recipient_name: str,
    recipient_address: str,
    default_address: str,
    message: Message | None = None,
    agent: Agent | None = None,
    status: tuple[str | None, str] | None = None,
    sla: tuple[str, str, datetime, int | None] | None = None,
    sla_elapsed: str | None = None,
    error: tuple[str, str] | None = None,
    sms: Mapping[str, Any] | None = None,
    csat: Mapping[str, Any] | None = None,
    whole_text: bool = False,
) -> dict[str, Any]:
    """The template variables for one notification about ``ticket``.

    ``message.text`` is an excerpt of at most :data:`EXCERPT_CHARS` characters unless
    ``whole_text`` (an agent's reply relayed to the customer is the mail itself).

    ``agent`` defaults to the author of ``message`` when an agent wrote it (agent_reply,
    internal_note), else to the assignee. ``status`` is ``(old, new)``, ``sla`` is
    ``(kind, level, due_at, percent)`` with ``sla_elapsed`` the business time used (``4h``
    or ``3h12m``), ``error`` is ``(command, reason)``, ``sms`` what
    became of an SMS reply cut to fit (``gateway.sms.overflow``), ``csat`` the rating
    survey a resolved notification asks (``{"links": [...] or None}``; ``None``: no survey).
    ``support_address`` is the queue's first address, or ``default_address`` (the
    gateway's own) for a queue without one.
    """
    if agent is None and message is not None and message.author_agent_id is not None:
        agent = session.get(Agent, message.author_agent_id)
    if agent is None:
        agent = ticket.assignee
    return {
        "ticket": {
            "reference": ticket.reference,
            "subject": ticket.subject,
            "status": ticket.status,
            "priority": ticket.priority,
            "queue": ticket.queue.name,
        },
        "recipient": {"name": recipient_name, "address": recipient_address},
        "customer": {"name": ticket.contact.name, "address": _contact_address(ticket)},
        "agent": {"name": agent.name, "email": agent.email} if agent else None,
        "message": _message(session, message, ticket, whole_text) if message else None,
        "status": {"old": status[0], "new": status[1]} if status else None,
        "sla": (
            {
                "kind": sla[0],
                "level": sla[1],
                "due_at": sla[2].astimezone(UTC).isoformat(),
                "percent": sla[3],
                "elapsed": sla_elapsed,
            }
            if sla
            else None
        ),
        "error": {"command": error[0], "reason": error[1]} if error else None,
        "sms": dict(sms) if sms else None,
        "csat": dict(csat) if csat else None,
        "support_address": reply_address(ticket.queue, default_address),
        "reply_marker": REPLY_MARKER,
    }


def preview_vars(
    session: Session, ticket: Ticket, name: str, *, default_address: str
) -> dict[str, Any]:
    """Variables for previewing template ``name`` on a real ticket and its latest message.

    The recipient is the customer, or for agent templates the assignee (a sample agent
    when unassigned); status change, SLA level and command error are made up to fit.
    """
    messages = [m for m in messages_of(session, ticket) if not m.internal]
    if name == "internal_note":
        messages = [m for m in messages_of(session, ticket) if m.internal] or messages
    customer = _contact_address(ticket)
    if AUDIENCE.get(name, "customer") == "agent" and ticket.assignee is not None:
        recipient = (ticket.assignee.name, ticket.assignee.email)
    elif AUDIENCE.get(name, "customer") == "agent":
        recipient = ("Ann Agent", "ann@example.com")
    else:
        recipient = (ticket.contact.name, customer)
    level = _SLA_LEVEL.get(name)
    due = ticket.first_response_due_at or ticket.resolution_due_at
    return ticket_vars(
        session,
        ticket,
        recipient_name=recipient[0],
        recipient_address=recipient[1],
        default_address=default_address,
        message=messages[-1] if messages else None,
        status=_STATUS.get(name),
        sla=(("first_response", level[0], (due or datetime.now(UTC)), level[1]) if level else None),
        sla_elapsed=_SAMPLE_ELAPSED[level[1]] if level else None,
        error=(_ERRORS[name]["command"], _ERRORS[name]["reason"]) if name in _ERRORS else None,
        sms=_SHORTENED if name == "reply_shortened" else None,
        csat=_CSAT.get(name),
    )


def sample_vars(name: str) -> dict[str, Any]:
    """Realistic variables for template ``name``, without a database (tests, previews)."""
    sms = name.startswith("sms_")
    to_agent = AUDIENCE.get(name, "customer") == "agent"
    customer = {"name": "Carol Jones", "address": "+14155552671" if sms else "carol@example.org"}
    ann = {"name": "Ann Agent", "email": "ann@example.com"}
    by_agent = name in (
        "agent_reply",
        "internal_note",
        "sms_agent_reply",
        "reply_shortened",
        "reply_held",
    )
    level = _SLA_LEVEL.get(name)
    status = _STATUS.get(name)
    due = datetime(2026, 11, 23, 14, 0, tzinfo=UTC) + (timedelta(hours=1) if level else timedelta())
    return {
        "ticket": {
            "reference": "T-000123",
            "subject": "Cannot log in to my account",
            "status": status[1] if status else "open",
            "priority": "high" if level else "normal",
            "queue": "default",
        },
        "recipient": {"name": ann["name"], "address": ann["email"]} if to_agent else customer,
        "customer": customer,
        "agent": ann,
        "message": {
            "id": 1,
            "text": _SAMPLE_TEXT[by_agent],
            "size": len(_SAMPLE_TEXT[by_agent]),
            "truncated": False,
            "author": ann["name"] if by_agent else customer["name"],
            "address": ann["email"] if by_agent else customer["address"],
            "participant": True,
            "channel": "sms" if sms else "email",
        },
        "status": {"old": status[0], "new": status[1]} if status else None,
        "sla": (
            {
                "kind": "first_response",
                "level": level[0],
                "due_at": due.isoformat(),
                "percent": level[1],
                "elapsed": _SAMPLE_ELAPSED[level[1]],
            }
            if level
            else None
        ),
        "error": dict(_ERRORS[name]) if name in _ERRORS else None,
        "sms": dict(_SHORTENED) if name == "reply_shortened" else None,
        "csat": _CSAT.get(name),
        "support_address": "support@example.com",
        "reply_marker": REPLY_MARKER,
    }


_SAMPLE_TEXT = {
    False: "Hello,\n\nsince this morning I cannot log in: the page says my password is wrong,\n"
    "but I have not changed it. Can you help?\n\nThanks, Carol",
    True: "Hi Carol,\n\nwe have reset your login. Please try again and tell us if it works.\n\n"
    "Best, Ann",
}


def _contact_address(ticket: Ticket) -> str:
    """The customer's address on the ticket's channel: email, else phone."""
    contact = ticket.contact
    first, second = ("phone", "email") if ticket.channel == "sms" else ("email", "phone")
    identity = contact.identity(first) or contact.identity(second)
    return identity.value if identity else ""


NO_NEW_TEXT = "(No new text: the mail only quotes earlier messages.)"


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The start of ``text``, at most ``limit`` characters, ended at a line break if one is
    near the cut (a notification shows whole lines)."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", limit * 4 // 5, limit)
    return text[: cut if cut > 0 else limit]


def _message(
    session: Session, message: Message, ticket: Ticket, whole_text: bool = False
) -> dict[str, Any]:
    """The message as its own sender wrote it: never the ticket's customer for a stranger."""
    address = message.sender
    if message.author_kind == "agent" and message.author_agent_id is not None:
        author_agent = session.get(Agent, message.author_agent_id)
        author = author_agent.name if author_agent else message.sender
        address = author_agent.email if author_agent else address
    elif message.author_kind == "customer":
        contact = (
            session.get(Contact, message.author_contact_id) if message.author_contact_id else None
        )
        address = address or _contact_address(ticket)
        author = (contact.name if contact else "") or address
    else:
        author = "system"
    text = message.visible_text
    # A reply that only quotes earlier mail has no new text; say so rather than show
    # the agent an empty block.
    shown = text if whole_text else excerpt(text) or NO_NEW_TEXT
    return {
        "id": message.id,
        "text": shown,
        "size": len(text),
        "truncated": len(shown) < len(text),
        "author": author,
        "address": address or "",
        "participant": message.participant is not False,
        "channel": message.channel,
    }
