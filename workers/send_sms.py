"""SMS rows -> one text -> Twilio, with the status callback and within the length cap.

The text is the row's template rendered in the recipient's locale, with typographic quotes,
dashes and ellipses made plain when that keeps it GSM-7 (160 characters a segment rather
than 70: ``gateway.sms.segments.plain_gsm``). Twilio reports delivery
to ``TICKETGW_PUBLIC_URL`` + ``/twilio/status`` (when a public URL is set), where the
gateway records it on the row by the SID returned here.

An agent's reply longer than ``TICKETGW_SMS_MAX_SEGMENTS`` is cut at the end of a word so
that the whole SMS fits, with a note saying the rest follows by email when the customer has
an email address; the whole reply then goes by email, and the agent is told
(:mod:`gateway.sms.overflow`). Those follow-ups are written before the SMS goes out and keyed
by the SMS row, so sending the row again never doubles them. A row that cannot become an SMS
(bad context, unknown template) is a permanent failure, as is an unconfigured Twilio.

Twilio's 21610 means the recipient texted STOP to our sender (Twilio honours it before we
hear of it): the opt-out is recorded on their number through :mod:`gateway.sms.optout`, the
one path STOP and ``contacts optout`` take too, so no later SMS is queued to it and those
still waiting fail; the ticket gets an internal note saying why the customer heard nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from gateway import tickets
from gateway.config import Settings
from gateway.errors import InvalidInput
from gateway.outbox.outcomes import Accepted
from gateway.sms import optout, overflow
from gateway.sms.segments import SmsLength, measure, plain_gsm, shorten
from schema.models import OutboxItem, Ticket
from workers.render import TemplateError, render_sms
from workers.transports.base import OutgoingSms, PermanentFailure, RecipientOptedOut

if TYPE_CHECKING:
    from workers.middleware import DeliveryContext

log = logging.getLogger(__name__)
STATUS_CALLBACK_PATH = "/twilio/status"
# GSM-7 only: a note must not turn the whole text into UCS-2 and halve its room.
NOTE_EMAIL = "... (the rest follows by email)"
NOTE_CUT = "... (shortened for SMS)"


@dataclass(frozen=True, slots=True)
class BuiltSms:
    """The SMS for a row, its length, and the length of the whole text when it was cut."""

    sms: OutgoingSms
    length: SmsLength
    full: SmsLength | None = None  # set when the agent's text was cut to fit

    @property
    def cut(self) -> bool:
        return self.full is not None


def build_sms(row: OutboxItem, settings: Settings, *, email: str | None = None) -> BuiltSms:
    """The SMS for ``row``; :class:`PermanentFailure` if the row cannot make one.

    ``email`` is the customer's email address: it decides which note a cut text ends with.
    """
    context: dict[str, Any] = row.context or {}
    try:
        variables: dict[str, Any] = context["vars"]
        body = _render(row, variables, settings)
        full = measure(body)
        text = (variables.get("message") or {}).get("text")
        if full.segments > settings.sms_max_segments and isinstance(text, str):
            cut = _cut(row, variables, text, NOTE_EMAIL if email else NOTE_CUT, settings)
            if cut is not None:
                return _built(row, settings, cut, full)
    except KeyError as exc:
        raise PermanentFailure(f"outbox context has no {exc.args[0]!r}") from exc
    return _built(row, settings, body, None)


def _render(row: OutboxItem, variables: dict[str, Any], settings: Settings) -> str:
    try:
        text = render_sms(
            row.template, variables, locale=row.locale, templates_dir=settings.templates_dir
        )
        return plain_gsm(text)
    except TemplateError as exc:
        raise PermanentFailure(f"template {row.template!r}: {exc}") from exc


def _cut(
    row: OutboxItem, variables: dict[str, Any], text: str, note: str, settings: Settings
) -> str | None:
    """The SMS with the agent's text cut to fit the cap; None if even no text would fit."""

    def rendered(prefix: str) -> str:
        message = {**variables["message"], "text": prefix + note}
        return _render(row, {**variables, "message": message}, settings)

    def fits(prefix: str) -> bool:
        return measure(rendered(prefix)).segments <= settings.sms_max_segments

    if not fits(""):
        return None  # the template alone is over the cap: send it whole rather than mangle it
    return rendered(shorten(text, fits))


def _built(row: OutboxItem, settings: Settings, body: str, full: SmsLength | None) -> BuiltSms:
    context: dict[str, Any] = row.context or {}
    public = settings.public_url
    sms = OutgoingSms(
        to=row.recipient,
        sender=str(context.get("from") or settings.twilio_from or ""),
        body=body,
        status_callback=public + STATUS_CALLBACK_PATH if public else None,
    )
    return BuiltSms(sms, measure(body), full)


def send_sms(ctx: DeliveryContext, row: OutboxItem) -> Accepted:
    """Deliver one claimed SMS row: Twilio's MessageSid, and the SMS's length as sent."""
    transport = ctx.sms()  # NotConfigured before rendering: the clearer reason to show
    settings = ctx.settings
    with ctx.runtime.sessions() as session:
        # A STOP (or a 21610 for a row of the same batch) after this row was claimed.
        since = optout.opted_out_since(session, row.recipient)
    if since is not None:
        raise PermanentFailure(optout.refusal(row.recipient, since))
    built = build_sms(row, settings)
    if built.full is not None:
        with ctx.runtime.transaction() as session:
            email = overflow.rest_goes_to(session, row)
            built = build_sms(row, settings, email=email)
            overflow.follow_up(
                session,
                ctx.runtime.settings,  # with the secret key that signs the mails' Reply-To
                sms_row=row,
                email=email,
                sent=built.length.segments,
                full=(built.full or built.length).segments,
            )
    try:
        sid = transport.send(built.sms)
    except RecipientOptedOut as exc:
        with ctx.runtime.transaction() as session:
            _record_opt_out(session, row, str(exc))
        raise
    return Accepted(sid, built.length.segments, built.length.encoding)


def _record_opt_out(session: Session, row: OutboxItem, reason: str) -> None:
    """Twilio says the recipient opted out: record it as their STOP would, tell the ticket."""
    try:
        optout.opt_out(session, row.recipient)
    except InvalidInput:  # not a number we could hold an opt-out for; the row fails anyway
        log.warning("outbox %d: %s, but %r is no valid number", row.id, reason, row.recipient)
        return
    ticket = session.get(Ticket, row.ticket_id) if row.ticket_id is not None else None
    if ticket is not None:
        note = (
            f"SMS {row.template} not sent: Twilio says {row.recipient} opted out of SMS "
            "(error 21610); no SMS goes to them until they text START."
        )
        tickets.add_message(
            session,
            ticket,
            tickets.NewMessage(
                author_kind="system",
                channel="sms",
                visible_text=note,
                internal=True,
                audience="none",
            ),
        )
