"""Rule 2: bounce and complaint notifications of mail service providers.

A gateway that sends through Amazon SES, SendGrid, Mailgun, Postmark or SparkPost hears
about bounces and complaints from the provider, not from the recipient's MTA: as the JSON
of an event (Amazon SNS mails it; webhooks are often forwarded to a mailbox) or as a short
notice. Neither is an RFC 3464 report. Only mail from a provider's domain or a robot
address is read, so customer mail is never decoded here; the JSON shapes are the
providers' documented event formats, one small reader each. Runs before the RFC 3464
rule, whose English wording search would take a Message-ID in the JSON for a failed
address; a ``multipart/report`` is left to that rule.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from gateway.classify import bounce, challenge
from gateway.classify.robots import provider, robot_localpart
from gateway.classify.verdict import BounceReport, Context, Verdict
from gateway.classify.view import MailView, strip_angles

# A provider's notice without JSON: "Hard bounce notification", "Spam complaint".
_NOTICE = re.compile(
    r"\b(?:hard|soft|permanent|transient) bounce|bounce (?:notification|report|alert)|"
    r"(?:spam |abuse )?complaint (?:notification|report|received)|spam complaint|"
    r"feedback loop|abuse report",
    re.I,
)

_DECODER = json.JSONDecoder(strict=False)  # line breaks that relays fold into long lines
Event = tuple[str, str, bool]  # (address, what happened, permanent)


def _ses(doc: dict[str, Any]) -> tuple[list[Event], str | None]:
    kind = str(doc.get("notificationType") or doc.get("eventType") or "")
    events: list[Event] = []
    if kind == "Bounce":
        info = doc.get("bounce") or {}
        permanent = info.get("bounceType") != "Transient"
        failed = _list(info, "bouncedRecipients")
        events = [(r.get("emailAddress", ""), "bounce", permanent) for r in failed]
    elif kind == "Complaint":
        info = doc.get("complaint") or {}
        complained = _list(info, "complainedRecipients")
        events = [(r.get("emailAddress", ""), "complaint", True) for r in complained]
    elif kind in ("Delivery", "DeliveryDelay", "Send", "Open", "Click"):
        events = [("", kind.lower(), False)]
    mail = doc.get("mail") or {}
    common = (mail.get("commonHeaders") or {}).get("messageId")
    listed = [h.get("value") for h in _list(mail, "headers") if h.get("name") == "Message-ID"]
    return events, common or (listed[0] if listed else None)


def _sendgrid(doc: dict[str, Any]) -> tuple[list[Event], str | None]:
    event = str(doc.get("event", ""))
    permanent = event in ("bounce", "dropped", "spamreport") and doc.get("type") != "blocked"
    return [(doc.get("email", ""), event, permanent)], doc.get("smtp-id")


def _mailgun(doc: dict[str, Any]) -> tuple[list[Event], str | None]:
    data = doc.get("event-data") or doc
    event = str(data.get("event", ""))
    permanent = event == "complained" or data.get("severity") == "permanent"
    headers = (data.get("message") or {}).get("headers") or {}
    return [(data.get("recipient", ""), event, permanent)], headers.get("message-id")


def _postmark(doc: dict[str, Any]) -> tuple[list[Event], str | None]:
    kind = str(doc.get("Type") or doc.get("RecordType") or "")
    permanent = kind in ("HardBounce", "SpamComplaint", "BadEmailAddress", "ManuallyDeactivated")
    return [(doc.get("Email", ""), kind, permanent)], None


def _sparkpost(doc: dict[str, Any]) -> tuple[list[Event], str | None]:
    data = (doc.get("msys") or {}).get("message_event") or {}
    kind = str(data.get("type", ""))
    permanent = kind == "spam_complaint" or (kind == "bounce" and data.get("bounce_class") != "21")
    return [(data.get("rcpt_to", ""), kind, permanent)], None


Reader = Callable[[dict[str, Any]], tuple[list[Event], str | None]]
# How to tell each provider's event apart: a key only that provider's events carry.
_READERS: tuple[tuple[str, str, Reader], ...] = (
    ("notificationType", "Amazon SES", _ses),
    ("eventType", "Amazon SES", _ses),
    ("event-data", "Mailgun", _mailgun),
    ("RecordType", "Postmark", _postmark),
    ("msys", "SparkPost", _sparkpost),
    ("sg_event_id", "SendGrid", _sendgrid),
    ("smtp-id", "SendGrid", _sendgrid),
    ("event", "SendGrid", _sendgrid),
)


def _list(info: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = info.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _documents(text: str) -> list[dict[str, Any]]:
    """The JSON objects of the body: an SNS envelope is opened, an event list flattened."""
    body = text.strip()
    if not body.startswith(("{", "[")):
        return []
    try:  # the JSON may be followed by text: Amazon SNS appends how to unsubscribe
        loaded, _ = _DECODER.raw_decode(body)
    except ValueError:
        return []
    docs = loaded if isinstance(loaded, list) else [loaded]
    found: list[dict[str, Any]] = []
    for doc in docs:
        if isinstance(doc, dict) and isinstance(doc.get("Message"), str) and "Type" in doc:
            inner = _documents(doc["Message"])  # Amazon SNS wraps the SES event
            found += inner or [doc]
        elif isinstance(doc, dict):
            found.append(doc)
    return found


def _from_json(docs: list[dict[str, Any]]) -> Verdict | None:
    events: list[Event] = []
    names: list[str] = []
    original = None
    for doc in docs:
        for key, name, reader in _READERS:
            if key in doc:
                found, message_id = reader(doc)
                events += found
                names.append(name)
                original = original or message_id
                break
    if not names:
        return None
    failed = [e for e in events if e[2]]
    chosen = failed or [e for e in events if e[1] in ("bounce", "failed", "deferred", "Transient")]
    kinds = ", ".join(dict.fromkeys(e[1] for e in events if e[1])) or "event"
    report = BounceReport(
        recipients=tuple(dict.fromkeys(e[0].lower() for e in chosen if "@" in str(e[0]))),
        permanent=bool(failed),
        diagnostic=f"{names[0]} {kinds}",
        original_message_id=strip_angles(original) if isinstance(original, str) else None,
    )
    reason = f"{names[0]} {kinds} notification (JSON)"
    if not chosen:
        reason += " (not a failure)"
    return Verdict("bounce", reason, report)


def check(mail: MailView, ctx: Context) -> Verdict | None:
    name = provider(ctx.sender)
    if name is None and robot_localpart(ctx.sender) is None:
        return None  # the common case: a person's address, no body decoding
    if mail.content_type == "multipart/report":
        return None
    text = mail.text
    docs = _documents(text)
    if docs:
        return _from_json(docs)
    notice = _NOTICE.search(mail.subject)
    if notice is None or challenge.is_challenge(mail, ctx.sender):
        return None
    who = name or f"robot sender {robot_localpart(ctx.sender)}@"
    return bounce.prose_report(mail, ctx, f"{who}: {notice.group(0)!r} notice")
