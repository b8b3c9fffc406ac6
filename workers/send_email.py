"""Email rows -> one ``multipart/alternative`` mail -> the SMTP relay.

Everything about the mail comes from the row (docs/notifications.md): From is
``context["from"]``, To the row's recipient, the threading and loop-prevention headers
(Message-ID, Reply-To, In-Reply-To, References, Auto-Submitted, X-Loop) are copied from
``context["headers"]`` as given, and subject, text and HTML are rendered from the row's
template in the recipient's locale. A row that cannot become a mail (bad context, unknown
template, missing variable) is a permanent failure: sending again would fail the same way.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from gateway.config import Settings
from gateway.outbox.outcomes import Accepted
from schema.models import OutboxItem
from schema.models.base import utcnow
from workers.folding import FoldedText
from workers.headers import OUTGOING
from workers.render import TemplateError, render_email
from workers.transports.base import PermanentFailure

if TYPE_CHECKING:
    from workers.middleware import DeliveryContext

# Headers the row may not set: they describe the message structure we build ourselves.
_OURS = frozenset({"from", "to", "cc", "bcc", "subject", "date", "mime-version"})


def build_email(row: OutboxItem, settings: Settings) -> EmailMessage:
    """The mail for ``row``; :class:`PermanentFailure` if the row cannot make one."""
    context: dict[str, Any] = row.context or {}
    try:
        rendered = render_email(
            row.template, context["vars"], locale=row.locale, templates_dir=settings.templates_dir
        )
    except TemplateError as exc:
        raise PermanentFailure(f"template {row.template!r}: {exc}") from exc
    except KeyError as exc:
        raise PermanentFailure(f"outbox context has no {exc.args[0]!r}") from exc
    try:
        msg = EmailMessage(policy=OUTGOING)
        msg["From"] = context["from"]
        msg["To"] = row.recipient
        msg["Subject"] = FoldedText("Subject", rendered.subject)  # the stdlib's loses spaces
        msg["Date"] = format_datetime(utcnow())
        headers: dict[str, str] = context.get("headers") or {}
        if "Message-ID" not in headers and row.email_message_id:
            msg["Message-ID"] = f"<{row.email_message_id}>"
        for name, value in headers.items():
            if value is not None and name.lower() not in _OURS:
                msg[name] = value
        msg.set_content(rendered.text)
        msg.add_alternative(rendered.html, subtype="html")
    except KeyError as exc:
        raise PermanentFailure(f"outbox context has no {exc.args[0]!r}") from exc
    except (TypeError, ValueError, IndexError) as exc:
        raise PermanentFailure(f"outbox row cannot make a mail: {exc}") from exc
    return msg


def send_email(ctx: DeliveryContext, row: OutboxItem) -> Accepted:
    """Deliver one claimed email row; the relay's reply is the provider id."""
    transport = ctx.smtp()  # NotConfigured before rendering: the clearer reason to show
    return Accepted(transport.send(build_email(row, ctx.settings)))
