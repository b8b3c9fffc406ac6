"""Rule 3: delivery reports (bounces, delay warnings) and abuse/feedback reports.

Runs before the auto-reply rule because many MTAs mark their reports ``Auto-Submitted:
auto-replied`` too, and a bounce must reach the bounce handler with its failed address
and the Message-ID of our mail that bounced. Three roads, cheapest test first:

1. ``multipart/report``: RFC 3464 delivery status (parsed by ``dsn.py``) or RFC 5965 ARF.
2. A null envelope sender or a daemon ``From`` together with a bounce-like subject.
3. Prose reports of old MTAs, recognised by their wording (``bounce_text.py``); the body is
   only read when the sender, envelope or subject already hints at a report.

Challenge/response requests look like bounces but are not (``challenge.py``).
"""

from __future__ import annotations

import re
from email.message import Message

from gateway.classify import bounce_text, challenge, dsn
from gateway.classify.verdict import BounceReport, Context, Verdict
from gateway.classify.view import MailView, part_text, strip_angles, walk

_REPORT_TYPE = re.compile(r"report-type\s*=\s*\"?([\w-]+)", re.I)
_RCPT_FIELD = re.compile(r"^(?:Original-Rcpt-To|Removal-Recipient)\s*:\s*(\S+)", re.I | re.M)
_HOTMAIL_COMPLAINT = re.compile(r"^\s*complaint about message from ", re.I)
_FEEDBACK_TYPE = re.compile(r"^Feedback-Type\s*:\s*([\w-]+)", re.I | re.M)


def envelope(mail: MailView, ctx: Context) -> str | None:
    """MAIL FROM as given, else the Return-Path the delivering MTA recorded."""
    if ctx.envelope_sender is not None:
        return ctx.envelope_sender.lower()
    if mail.has("return-path"):
        return strip_angles(mail.header("return-path")).lower()
    return None


def _attached_recipients(mail: MailView) -> list[str]:
    for part in walk(mail.mime):
        payload = part.get_payload()
        if part.get_content_type() in dsn.RETURNED_PARTS and isinstance(payload, list):
            first = payload[0]
            items: list[tuple[str, str]] = (
                list(first.raw_items()) if isinstance(first, Message) else []
            )
            headers = {k.lower(): v for k, v in items if isinstance(v, str)}
            value = headers.get("x-hmxmroriginalrecipient") or headers.get("to", "")
            return [a.lower() for a in bounce_text.ADDRESS.findall(value)]
    return []


def _feedback(mail: MailView) -> Verdict:
    """ARF: the complainant's address is the one to stop mailing, permanently."""
    recipients: list[str] = []
    feedback_type = None
    for part in walk(mail.mime):
        if part.get_content_type() == "message/feedback-report":
            text = part_text(part) if not isinstance(part.get_payload(), list) else ""
            if not text:  # parsed as header blocks
                blocks = [b for b in part.get_payload() if isinstance(b, Message)]
                text = "\n".join(f"{k}: {v}" for b in blocks for k, v in b.raw_items())
            recipients += [strip_angles(r).lower() for r in _RCPT_FIELD.findall(text)]
            found = _FEEDBACK_TYPE.search(text)
            feedback_type = found.group(1).lower() if found else None
    if not recipients:  # the complainant received the attached copy
        recipients = _attached_recipients(mail)
    report = BounceReport(
        recipients=tuple(dict.fromkeys(r for r in recipients if "@" in r)),
        permanent=True,
        diagnostic=f"Feedback-Type: {feedback_type}" if feedback_type else None,
        original_message_id=dsn.original_message_id(mail.mime),
    )
    return Verdict("bounce", "multipart/report; report-type=feedback-report", report)


def _delivery_status(mail: MailView, ctx: Context, reason: str) -> Verdict:
    statuses = dsn.recipient_statuses(mail.mime, mail.text)
    failed = [s for s in statuses if s.outcome == "permanent"]
    chosen = failed or [s for s in statuses if s.outcome == "temporary"]
    if not statuses:  # a report without usable blocks: read its prose instead
        return prose_report(mail, ctx, reason)
    first = chosen[0] if chosen else statuses[0]
    report = BounceReport(
        recipients=tuple(dict.fromkeys(s.address for s in chosen)),
        permanent=bool(failed),
        status=first.status,
        diagnostic=first.diagnostic,
        original_message_id=dsn.original_message_id(mail.mime),
    )
    if not chosen:
        reason += " (delivered: not a failure)"
    return Verdict("bounce", reason, report)


def prose_report(mail: MailView, ctx: Context, reason: str) -> Verdict:
    """A bounce verdict read from a report's prose: the addresses it names as failed."""
    text = mail.text
    exclude = ctx.support_addresses | {ctx.sender}
    recipients = [r.strip().lower() for r in mail.header("x-failed-recipients").split(",")]
    own = frozenset(a.lower() for a in bounce_text.ADDRESS.findall(mail.header("to")))
    recipients += bounce_text.failed_addresses(text, frozenset(exclude), own)
    status = bounce_text.STATUS.search(bounce_text.report_text(text))
    report = BounceReport(
        recipients=tuple(dict.fromkeys(r for r in recipients if "@" in r)),
        permanent=not bounce_text.is_temporary(mail.subject, text),
        status=status.group(1) if status else None,
        original_message_id=dsn.original_message_id(mail.mime)
        or dsn.quoted_message_id(text, strip_angles(mail.header("message-id"))),
    )
    return Verdict("bounce", reason, report)


def check(mail: MailView, ctx: Context) -> Verdict | None:
    ctype = mail.content_type
    if ctype == "multipart/report":
        found = _REPORT_TYPE.search(mail.header("content-type"))
        report_type = found.group(1).lower() if found else ""
        if report_type == "feedback-report":
            return _feedback(mail)
        if report_type in ("delivery-status", "global-delivery-status", ""):
            if challenge.is_challenge(mail, ctx.sender):
                return None
            return _delivery_status(mail, ctx, f"multipart/report; report-type={report_type}")
        return None  # disposition-notification (read receipts): the auto-reply rule's
    if _HOTMAIL_COMPLAINT.search(mail.subject):
        return _feedback(mail)
    null = envelope(mail, ctx) == ""
    from_header = mail.header("from")
    daemon = bool(bounce_text.DAEMON_FROM.search(from_header))
    subject = mail.subject
    bouncy_subject = bool(bounce_text.SUBJECT.search(subject))
    failed_header = mail.has("x-failed-recipients")
    if not (null or daemon or bouncy_subject or failed_header):
        return None  # the common case: no hint, no body decoding
    if challenge.is_challenge(mail, ctx.sender):
        return None
    if (null or daemon) and bouncy_subject:
        who = "null envelope sender" if null else "daemon sender"
        return prose_report(mail, ctx, f"{who}, subject {subject[:60]!r}")
    if failed_header:
        return prose_report(mail, ctx, "X-Failed-Recipients header")
    if ctype.startswith("multipart/") and any(
        p.get_content_type() in dsn.STATUS_PARTS for p in walk(mail.mime)
    ):
        return _delivery_status(mail, ctx, f"{ctype} with a delivery-status part")
    marker = bounce_text.MARKER.search(bounce_text.report_text(mail.text)[:8000])
    if marker:
        return prose_report(mail, ctx, f"report wording {marker.group(0)!r}")
    if daemon and bounce_text.failed_addresses(mail.text, frozenset(), frozenset()):
        # wording in a language or charset we do not read, but a daemon listing addresses
        return prose_report(mail, ctx, "daemon sender listing failed addresses")
    return None
