"""Twilio transport: ``twilio.rest.Client`` pointed at ``TICKETGW_TWILIO_API_BASE``.

The SMS issue owns everything else about Twilio; this is the small typed boundary the
``send_sms`` actor calls. Rewriting the base URL in the HTTP client lets tests and staging
aim the real client at a local stand-in. Every request has a timeout.
"""

from __future__ import annotations

from typing import Any

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from gateway.config import Settings
from workers.transports.base import (
    NotConfigured,
    OutgoingSms,
    PermanentFailure,
    TemporaryFailure,
    Unreachable,
)

TWILIO_BASE = "https://api.twilio.com"
NOT_CONFIGURED = (
    "SMS not configured: set TICKETGW_TWILIO_ACCOUNT_SID, TICKETGW_TWILIO_AUTH_TOKEN "
    "and TICKETGW_TWILIO_FROM"
)


class RebasedHttpClient(TwilioHttpClient):
    """Sends every ``api.twilio.com`` request to ``api_base`` instead, always with a timeout."""

    def __init__(self, api_base: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.api_base = api_base.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_BASE):
            url = self.api_base + url[len(TWILIO_BASE) :]
        return super().request(method, url, *args, **kwargs)


class TwilioTransport:
    """Sends :class:`OutgoingSms` through the Twilio Messages API; returns the MessageSid."""

    def __init__(self, account_sid: str, auth_token: str, api_base: str, timeout: float) -> None:
        http = RebasedHttpClient(api_base, timeout)
        self.client = Client(account_sid, auth_token, http_client=http)

    @classmethod
    def from_settings(cls, settings: Settings, timeout: float = 30.0) -> TwilioTransport:
        """The configured transport; :class:`NotConfigured` when a Twilio setting is missing."""
        sid, token = settings.twilio_account_sid, settings.twilio_auth_token
        if not (sid and token and settings.twilio_from):
            raise NotConfigured(NOT_CONFIGURED)
        return cls(
            sid,
            token,
            settings.twilio_api_base,
            timeout,
        )

    def send(self, message: OutgoingSms) -> str:
        try:
            sent = self.client.messages.create(
                to=message.to, from_=message.sender, body=message.body
            )
        except TwilioRestException as exc:
            # 429 and 5xx are Twilio being busy; other 4xx (invalid number...) will not change.
            error = TemporaryFailure if exc.status == 429 or exc.status >= 500 else PermanentFailure
            raise error(f"Twilio {exc.status} (code {exc.code}): {exc.msg}") from exc
        except requests.RequestException as exc:
            raise Unreachable(f"Twilio unreachable: {exc}") from exc
        return str(sent.sid)

    def close(self) -> None:
        """Nothing to release: the HTTP session pools its own connections."""
