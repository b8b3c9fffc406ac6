"""Twilio's webhooks: inbound SMS into the durable inbox, delivery statuses onto the outbox.

Both are form posts signed with ``X-Twilio-Signature``; an unsigned or wrongly signed one
is ``403`` and nothing is stored. An inbound SMS is committed to the inbox (deduplicated by
``MessageSid``; the requests of a moment share one commit, ``inbox_writer``) before
Twilio hears ``200``; when the database is away it hears ``503``,
so its retry or fallback URL applies. The handlers stay thin: the database work runs in
threads (the driver blocks), the rest is ``gateway.sms``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from concurrent.futures import Executor

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from gateway.errors import InvalidInput
from gateway.inbound.inbox import Incoming
from gateway.inbound.inbox_writer import InboxWriter
from gateway.runtime import Runtime
from gateway.sms import delivery
from gateway.sms.form import read_form
from gateway.sms.signature import is_signed, signed_url

log = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# Twilio's SIDs: two letters and 32 hex digits; anything longer is not one of them.
_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")

FORBIDDEN = "403 forbidden: missing or wrong X-Twilio-Signature\n"
NOT_A_FORM = "400 bad request: expected a form (application/x-www-form-urlencoded)\n"
NO_SID = "400 bad request: no valid MessageSid\n"
TRY_LATER = "503 cannot store the message right now, try again later\n"


class TwilioWebhooks:
    """The ``/twilio/sms`` and ``/twilio/status`` handlers."""

    def __init__(
        self,
        runtime: Runtime,
        executor: Executor,
        writer: InboxWriter,
        on_stored: Callable[[int], None],
    ) -> None:
        self.runtime = runtime
        self.executor = executor
        self.writer = writer
        self.on_stored = on_stored

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/twilio/sms", self.inbound), web.post("/twilio/status", self.status)]

    async def inbound(self, request: web.Request) -> web.Response:
        raw, fields = await self._signed_form(request)
        sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
        if not _SID.match(sid):
            return web.Response(status=400, text=NO_SID)
        item = Incoming(
            raw,
            channel="sms",
            source="twilio",
            dedupe_key=f"sms:{sid}",
            envelope_sender=fields.get("From", "")[:320] or None,
            envelope_recipients=(fields.get("To", "")[:320],),
        )
        try:
            accepted = await self.writer.accept(item)
        except SQLAlchemyError as exc:
            log.error("could not store SMS %s: %s", sid, exc)
            return web.Response(status=503, text=TRY_LATER)
        if not accepted.duplicate:
            self.on_stored(accepted.item_id)
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    async def status(self, request: web.Request) -> web.Response:
        _raw, fields = await self._signed_form(request)
        sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
        state = fields.get("MessageStatus") or fields.get("SmsStatus") or ""
        if not _SID.match(sid) or not state:
            return web.Response(status=400, text="400 bad request: MessageSid and MessageStatus\n")
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(
                self.executor, self._record, sid, state, fields.get("ErrorCode") or None
            )
        except SQLAlchemyError as exc:
            log.error("could not record status %s of SMS %s: %s", state, sid, exc)
            return web.Response(status=503, text=TRY_LATER)
        return web.Response(status=204)

    async def _signed_form(self, request: web.Request) -> tuple[bytes, dict[str, str]]:
        """The raw body and its fields, once the signature is Twilio's; else 403 (or 400)."""
        if request.content_type != FORM:
            raise web.HTTPUnsupportedMediaType(text=NOT_A_FORM)
        raw = await request.read()  # over the app's client_max_size: 413
        try:
            pairs = read_form(raw)
        except InvalidInput:
            raise web.HTTPBadRequest(text=NOT_A_FORM) from None
        settings = self.runtime.settings
        base = settings.public_url or f"{request.scheme}://{request.host}"
        url = signed_url(base, request.path_qs)
        token = settings.twilio_auth_token or ""
        if not is_signed(token, url, pairs, request.headers.get("X-Twilio-Signature")):
            if not token:
                log.error("refused a Twilio webhook: TICKETGW_TWILIO_AUTH_TOKEN is not set")
            else:
                log.warning("refused a Twilio webhook with a bad signature for %s", url)
            raise web.HTTPForbidden(text=FORBIDDEN)
        return raw, dict(pairs)

    def _record(self, sid: str, state: str, error_code: str | None) -> None:
        with self.runtime.transaction() as session:
            outcome = delivery.record_or_keep(session, sid, state, error_code)
        if outcome == "kept":
            # The worker may have committed the SID meanwhile: whichever commits second
            # applies the status (see gateway.sms.delivery).
            with self.runtime.transaction() as session:
                delivery.apply_unmatched(session, [sid])
        elif outcome != "recorded":
            log.info("status %s for SMS %s: %s", state, sid, outcome)
