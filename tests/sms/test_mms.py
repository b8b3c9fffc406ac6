"""MMS: media fetched by a worker with the account's credentials; URLs kept on failure."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from admin_cli.app import Gateway
from gateway.runtime import Runtime
from schema.models import Attachment, MediaFetch, Message
from tests.sms.conftest import TwilioClient
from tests.sms.media_server import JPEG, MediaServer
from tests.waiting import wait_until


@pytest.fixture
def media() -> Iterator[MediaServer]:
    with MediaServer() as server:
        yield server


def _settled(runtime: Runtime) -> list[MediaFetch]:
    with runtime.sessions() as s:
        rows = list(s.scalars(select(MediaFetch).order_by(MediaFetch.id)))
    return rows if rows and all(r.status in {"done", "failed"} for r in rows) else []


def test_mms_media_become_attachments_and_a_failed_fetch_keeps_its_url(
    twilio: TwilioClient, sms_gateway: Gateway, sms_runtime: Runtime, media: MediaServer
) -> None:
    photo, gone = f"{media.base}/Media/photo", f"{media.base}/Media/gone"
    response = twilio.sms("", media=[(photo, "image/jpeg"), (gone, "image/png")])
    assert response.status_code == 200
    assert sms_gateway.processor.wait_idle(10)
    done, failed = wait_until(lambda: _settled(sms_runtime), what="media fetched")
    assert (done.status, failed.status) == ("done", "failed")
    assert failed.last_error == "HTTP 404 from the media server"
    assert all(auth is not None and auth.startswith("Basic ") for _, auth in media.requests)
    with sms_runtime.sessions() as s:
        message = s.scalars(select(Message)).one()
        assert message.media_urls == [photo, gone]
        assert message.subject == "MMS from +14155552671"
        [attachment] = s.scalars(select(Attachment)).all()
        assert (attachment.message_id, attachment.filename) == (message.id, "photo.jpg")
        assert (attachment.content_type, attachment.size) == ("image/jpeg", len(JPEG))
        assert attachment.sha256 == hashlib.sha256(JPEG).hexdigest()
    stored = sms_runtime.settings.data_dir
    assert any(p.read_bytes() == JPEG for p in stored.rglob("*") if p.is_file())
