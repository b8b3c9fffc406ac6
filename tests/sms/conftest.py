"""Fixtures for the SMS channel: the live gateway with its HTTP listener, and a signed client.

``TwilioClient`` posts webhooks the way Twilio does: a form body and an
``X-Twilio-Signature`` computed by twilio's own ``RequestValidator`` over the public URL
(``PUBLIC_URL``, as a proxy in front of the gateway would be reached) and the fields.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator, Sequence
from urllib.parse import urlencode

import pytest
import requests
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from admin_cli.app import BackgroundGateway, Gateway
from gateway.config import load_settings
from gateway.runtime import Runtime, open_runtime
from workers.transports.twilio_standin import TwilioStandIn

AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
ACCOUNT_SID = "AC" + "a" * 32
PUBLIC_URL = "https://support.example.com/gw"
OUR_NUMBER = "+14155550100"
CUSTOMER = "+14155552671"
_sids = itertools.count(1)

Fields = Sequence[tuple[str, str]]


def new_sid(prefix: str = "SM") -> str:
    return f"{prefix}{secrets.token_hex(12)}{next(_sids):08x}"


def sms_fields(
    body: str,
    *,
    sender: str = CUSTOMER,
    sid: str | None = None,
    to: str = OUR_NUMBER,
    media: Sequence[tuple[str, str]] = (),
) -> list[tuple[str, str]]:
    """An inbound-message webhook's fields, as Twilio posts them."""
    sid = sid or new_sid()
    fields = [
        ("ToCountry", "US"),
        ("SmsMessageSid", sid),
        ("NumMedia", str(len(media))),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("Body", body),
        ("To", to),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", sender),
        ("ApiVersion", "2010-04-01"),
    ]
    for n, (url, content_type) in enumerate(media):
        fields += [(f"MediaUrl{n}", url), (f"MediaContentType{n}", content_type)]
    return fields


def status_fields(sid: str, status: str, error_code: str | None = None) -> list[tuple[str, str]]:
    fields = [
        ("MessageSid", sid),
        ("SmsSid", sid),
        ("MessageStatus", status),
        ("SmsStatus", status),
        ("AccountSid", ACCOUNT_SID),
        ("To", CUSTOMER),
        ("From", OUR_NUMBER),
        ("ApiVersion", "2010-04-01"),
    ]
    return [*fields, ("ErrorCode", error_code)] if error_code else fields


def signature(url: str, fields: Fields, token: str = AUTH_TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, MultiDict(fields)))


class TwilioClient:
    """Posts to the live listener as Twilio would, signing for ``public_url``."""

    def __init__(self, address: tuple[str, int], public_url: str = PUBLIC_URL) -> None:
        self.base = f"http://{address[0]}:{address[1]}"
        self.public_url = public_url
        self.http = requests.Session()

    def post(
        self,
        path: str,
        fields: Fields,
        *,
        signed_for: str | None = None,
        sign: bool = True,
        token: str = AUTH_TOKEN,
    ) -> requests.Response:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if sign:
            headers["X-Twilio-Signature"] = signature(
                signed_for or self.public_url + path, fields, token
            )
        return self.http.post(self.base + path, data=urlencode(fields), headers=headers, timeout=20)

    def sms(self, body: str, **kwargs: object) -> requests.Response:
        return self.post("/twilio/sms", sms_fields(body, **kwargs))  # type: ignore[arg-type]

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.base + path, timeout=20)


@pytest.fixture
def sms_env(env: dict[str, str]) -> dict[str, str]:
    return {
        **env,
        "TICKETGW_SMTP_LISTEN": "127.0.0.1:0",
        "TICKETGW_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TICKETGW_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TICKETGW_PUBLIC_URL": PUBLIC_URL,
    }


@pytest.fixture
def sms_runtime(sms_env: dict[str, str]) -> Iterator[Runtime]:
    rt = open_runtime(load_settings(sms_env), migrate=True)
    yield rt
    rt.close()


@pytest.fixture
def sms_gateway(sms_runtime: Runtime) -> Iterator[Gateway]:
    """The real listeners (SMTP and HTTP) and processor on free loopback ports."""
    with BackgroundGateway(sms_runtime, sweep_seconds=0.5) as gw:
        yield gw


@pytest.fixture
def live(sms_env: dict[str, str]) -> Iterator[tuple[Gateway, Runtime, TwilioStandIn]]:
    """The live gateway sending its SMS to a local Twilio stand-in."""
    with TwilioStandIn(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as standin:
        env = {**sms_env, **standin.settings_env(OUR_NUMBER)}
        runtime = open_runtime(load_settings(env), migrate=True)
        try:
            with BackgroundGateway(runtime, sweep_seconds=0.5) as gateway:
                yield gateway, runtime, standin
        finally:
            runtime.close()


@pytest.fixture
def webhooks(sms_gateway: Gateway) -> Iterator[TwilioClient]:
    assert sms_gateway.http_address is not None
    client = TwilioClient(sms_gateway.http_address)
    yield client
    client.http.close()


def receive_sms(runtime: Runtime, text: str, **kwargs: object) -> str:
    """Store and process one inbound SMS without the listener; returns its MessageSid."""
    from urllib.parse import urlencode

    from gateway.inbound.inbox import accept
    from gateway.pipeline.batch import process_pending

    fields = sms_fields(text, **kwargs)  # type: ignore[arg-type]
    sid = dict(fields)["MessageSid"]
    with runtime.transaction() as session:
        accept(
            session,
            urlencode(fields).encode(),
            channel="sms",
            source="twilio",
            dedupe_key=f"sms:{sid}",
        )
    process_pending(runtime.sessions, runtime.settings)
    return sid
