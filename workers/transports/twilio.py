"""Twilio transport: ``twilio.rest.Client`` pointed at ``TICKETGW_TWILIO_API_BASE``.

The small typed boundary the ``send_sms`` actor calls. Rewriting the base URL in the HTTP
client lets tests and the demo aim the real client at the local stand-in
(:mod:`workers.transports.twilio_standin`), and production at a Twilio edge or region
(``https://api.dublin.ie1.twilio.com``). Every request has a timeout.

Failure classes (https://www.twilio.com/docs/api/errors): HTTP 429 and 5xx are Twilio being
busy, so temporary; a refused connection or timeout is :class:`Unreachable`; every other
refusal names something about the message or the account that a retry cannot change, so
permanent, among them 21211 (not a valid phone number) and 21610 (the recipient texted STOP
to our sender), which is :class:`RecipientOptedOut` so the opt-out can be recorded.
"""

from __future__ import annotations

import re
from typing import Any

import requests
from twilio.base import values
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from gateway.config import Settings
from workers.transports.base import (
    InvalidRecipient,
    NotConfigured,
    OutgoingSms,
    PermanentFailure,
    RecipientOptedOut,
    TemporaryFailure,
    Unreachable,
)

TWILIO_BASE = "https://api.twilio.com"
NOT_CONFIGURED = (
    "SMS not configured: set TICKETGW_TWILIO_ACCOUNT_SID, TICKETGW_TWILIO_AUTH_TOKEN "
    "and TICKETGW_TWILIO_FROM"
)
INVALID_NUMBER = 21211
UNSUBSCRIBED = 21610
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^\"')]+)")


def is_messaging_service(sender: str) -> bool:
    """A Messaging Service SID (``MG`` and 32 hex digits) rather than a phone number."""
    return sender.startswith("MG") and len(sender) == 34


class RebasedHttpClient(TwilioHttpClient):
    """Sends every ``api.twilio.com`` request to ``api_base`` instead, always with a timeout."""

    def __init__(self, api_base: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.api_base = api_base.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_BASE):
            url = self.api_base + url[len(TWILIO_BASE) :]
        return super().request(method, url, *args, **kwargs)


def failure(exc: TwilioRestException) -> TemporaryFailure | PermanentFailure:
    """The delivery failure a Twilio API error means (see the module docstring)."""
    # The client prefixes every API error with what it was doing; the rest is Twilio's.
    text = " ".join(str(exc.msg).removeprefix("Unable to create record: ").split())
    reason = (
        f"Twilio {exc.status} (error {exc.code}): {text}"
        if exc.code
        else f"Twilio {exc.status}: {text}"
    )
    if exc.status == 429 or exc.status >= 500:
        return TemporaryFailure(reason)
    if exc.code == UNSUBSCRIBED:
        return RecipientOptedOut(reason)
    if exc.code == INVALID_NUMBER:
        return InvalidRecipient(reason)
    return PermanentFailure(reason)


def _why(exc: requests.RequestException) -> str:
    """The OS's reason (``Connection refused``) rather than urllib3's retry wrapper."""
    if isinstance(exc, requests.Timeout):
        return "no answer within the timeout"
    found = _ERRNO.search(str(exc))
    return found.group(1).strip() if found else type(exc).__name__


class TwilioTransport:
    """Sends :class:`OutgoingSms` through the Twilio Messages API; returns the MessageSid."""

    def __init__(self, account_sid: str, auth_token: str, api_base: str, timeout: float) -> None:
        self.api_base = api_base
        http = RebasedHttpClient(api_base, timeout)
        self.client = Client(account_sid, auth_token, http_client=http)

    @classmethod
    def from_settings(cls, settings: Settings, timeout: float = 30.0) -> TwilioTransport:
        """The configured transport; :class:`NotConfigured` when a Twilio setting is missing."""
        sid, token = settings.twilio_account_sid, settings.twilio_auth_token
        if not (sid and token and settings.twilio_from):
            raise NotConfigured(NOT_CONFIGURED)
        return cls(sid, token, settings.twilio_api_base, timeout)

    def send(self, message: OutgoingSms) -> str:
        service = is_messaging_service(message.sender)
        try:
            sent = self.client.messages.create(
                to=message.to,
                from_=values.unset if service else message.sender,
                messaging_service_sid=message.sender if service else values.unset,
                body=message.body,
                status_callback=message.status_callback or values.unset,
                media_url=list(message.media_urls) or values.unset,
            )
        except TwilioRestException as exc:
            raise failure(exc) from exc
        except requests.RequestException as exc:
            raise Unreachable(f"Twilio unreachable at {self.api_base}: {_why(exc)}") from exc
        return str(sent.sid)

    def close(self) -> None:
        """Nothing to release: the HTTP session pools its own connections."""
