"""MMS: media fetched by a worker with the account's credentials; URLs kept on failure.

The media are hosted by the local Twilio stand-in (``workers/transports/twilio_standin.py``),
which, like Twilio, serves them only with the account's basic auth.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from admin_cli.app import Gateway
from gateway.runtime import Runtime
from schema.models import Attachment, MediaFetch, Message
from tests.sms.conftest import ACCOUNT_SID, AUTH_TOKEN, TwilioClient
from tests.waiting import wait_until
from workers.transports.twilio_standin import TwilioStandIn

JPEG = b"\xff\xd8\xff\xe0" + b"fake jpeg bytes " * 500


@pytest.fixture
def standin() -> Iterator[TwilioStandIn]:
    with TwilioStandIn(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as server:
        yield server


def _settled(runtime: Runtime) -> list[MediaFetch]:
    with runtime.sessions() as s:
        rows = list(s.scalars(select(MediaFetch).order_by(MediaFetch.id)))
    return rows if rows and all(r.status in {"done", "failed"} for r in rows) else []


def test_mms_media_become_attachments_and_a_failed_fetch_keeps_its_url(
    webhooks: TwilioClient, sms_gateway: Gateway, sms_runtime: Runtime, standin: TwilioStandIn
) -> None:
    photo = standin.add_media(JPEG, "image/jpeg")
    gone = photo.rsplit("/", 1)[0] + "/ME" + "0" * 32  # a media SID the stand-in never had
    response = webhooks.sms("", media=[(photo, "image/jpeg"), (gone, "image/png")])
    assert response.status_code == 200
    assert sms_gateway.processor.wait_idle(10)
    done, failed = wait_until(lambda: _settled(sms_runtime), what="media fetched")
    assert (done.status, failed.status) == ("done", "failed")
    assert failed.last_error == "HTTP 404 from the media server"
    with sms_runtime.sessions() as s:
        message = s.scalars(select(Message)).one()
        assert message.media_urls == [photo, gone]
        assert message.subject == "MMS from +14155552671"
        [attachment] = s.scalars(select(Attachment)).all()
        assert attachment.message_id == message.id
        assert attachment.filename == photo.rsplit("/", 1)[1] + ".jpg"
        assert (attachment.content_type, attachment.size) == ("image/jpeg", len(JPEG))
        assert attachment.sha256 == hashlib.sha256(JPEG).hexdigest()
    stored = sms_runtime.settings.data_dir
    assert any(p.read_bytes() == JPEG for p in stored.rglob("*") if p.is_file())


def test_without_the_accounts_credentials_the_fetch_fails_and_the_url_stays(
    webhooks: TwilioClient, sms_gateway: Gateway, sms_runtime: Runtime
) -> None:
    with TwilioStandIn(account_sid=ACCOUNT_SID, auth_token="another-account") as other:
        photo = other.add_media(JPEG, "image/jpeg")
        assert webhooks.sms("look", media=[(photo, "image/jpeg")]).status_code == 200
        [row] = wait_until(lambda: _settled(sms_runtime), what="media fetch settled")
    assert (row.status, row.last_error) == ("failed", "HTTP 401 from the media server")
    with sms_runtime.sessions() as s:
        assert s.scalars(select(Message.media_urls)).one() == [photo]
        assert s.scalars(select(Attachment)).first() is None
