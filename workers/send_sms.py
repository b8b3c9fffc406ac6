"""SMS rows -> Twilio. Rendering and the Twilio details belong to the SMS side.

An unconfigured Twilio fails the row visibly (``failed``, "SMS not configured: ...")
instead of leaving it pending forever.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from schema.models import OutboxItem
from workers.render import TemplateError, render_sms
from workers.transports.base import OutgoingSms, PermanentFailure

if TYPE_CHECKING:
    from workers.middleware import DeliveryContext


def build_sms(row: OutboxItem, sender: str, templates_dir: Path | None = None) -> OutgoingSms:
    """The text for ``row``; :class:`PermanentFailure` if the row cannot make one."""
    context: dict[str, Any] = row.context or {}
    try:
        body = render_sms(
            row.template, context["vars"], locale=row.locale, templates_dir=templates_dir
        )
    except TemplateError as exc:
        raise PermanentFailure(f"template {row.template!r}: {exc}") from exc
    except KeyError as exc:
        raise PermanentFailure(f"outbox context has no {exc.args[0]!r}") from exc
    return OutgoingSms(to=row.recipient, sender=str(context.get("from") or sender), body=body)


def send_sms(ctx: DeliveryContext, row: OutboxItem) -> str:
    """Deliver one claimed SMS row; returns Twilio's MessageSid."""
    transport = ctx.sms()
    sms = build_sms(row, ctx.settings.twilio_from or "", ctx.settings.templates_dir)
    return transport.send(sms)
