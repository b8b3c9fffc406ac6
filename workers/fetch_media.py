"""Fetching MMS media into the attachment store, with the Twilio account's credentials.

The SMS pipeline writes one ``media_fetches`` row per media URL with the message. The
``fetch_media`` actor claims the rows that are due (``FOR UPDATE SKIP LOCKED``, committed
before any download, so two workers never fetch one row), downloads each with HTTP basic
auth (Twilio's media URLs may require it; ``requests`` drops the credentials when Twilio
redirects to its storage host), stores the bytes once per SHA-256 and adds the attachment
to the message. A busy or unreachable server is tried again with a backoff; a refusal
(4xx), an oversized file or the last attempt ends the row ``failed`` with the reason. The
URL stays on the message whatever happens.
"""

from __future__ import annotations

import logging
import mimetypes
from dataclasses import dataclass
from datetime import datetime, timedelta

import dramatiq
import requests
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.config import Settings
from gateway.files import save_blob
from schema.models import Attachment, MediaFetch
from schema.models.base import utcnow
from workers.transports.base import PermanentFailure, TemporaryFailure

log = logging.getLogger(__name__)

ACTOR = "fetch_media"
QUEUE = "media"
# Twilio accepts MMS media up to 5 MB; a little headroom, then it is not an MMS part.
MAX_BYTES = 10 * 1024 * 1024
MAX_ATTEMPTS = 5
MEDIA_PER_CLAIM = 10
TIMEOUT = 30.0
# A row left "fetching" this long belonged to a worker that died.
LEASE = timedelta(minutes=5)
_BACKOFF = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    message_id: int
    url: str
    content_type: str
    attempts: int


def claim(session: Session, now: datetime, limit: int = MEDIA_PER_CLAIM) -> list[Claimed]:
    """Mark the due rows ``fetching`` (one more attempt each); the caller commits."""
    due = or_(
        (MediaFetch.status == "pending")
        & or_(MediaFetch.next_attempt_at.is_(None), MediaFetch.next_attempt_at <= now),
        (MediaFetch.status == "fetching") & (MediaFetch.updated_at < now - LEASE),
    )
    rows = list(
        session.scalars(
            select(MediaFetch)
            .where(due)
            .order_by(MediaFetch.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for row in rows:
        row.status, row.attempts, row.updated_at = "fetching", row.attempts + 1, now
    return [Claimed(r.id, r.message_id, r.url, r.content_type, r.attempts) for r in rows]


def download(url: str, auth: tuple[str, str] | None) -> tuple[bytes, str]:
    """The media's bytes and content type; a :class:`TemporaryFailure` or a permanent one."""
    try:
        with requests.get(url, auth=auth, timeout=TIMEOUT, stream=True) as response:
            if response.status_code == 429 or response.status_code >= 500:
                raise TemporaryFailure(f"HTTP {response.status_code} from the media server")
            if response.status_code >= 400:
                raise PermanentFailure(f"HTTP {response.status_code} from the media server")
            data = bytearray()
            for chunk in response.iter_content(64 * 1024):
                data += chunk
                if len(data) > MAX_BYTES:
                    raise PermanentFailure(f"larger than {MAX_BYTES // (1024 * 1024)} MiB")
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
            return bytes(data), content_type
    except requests.RequestException as exc:
        raise TemporaryFailure(f"media server unreachable: {exc}") from exc


def filename_for(url: str, content_type: str) -> str:
    """``ME<sid>.jpg``: the URL's last part and an extension for the content type."""
    name = url.rstrip("/").rsplit("/", 1)[-1].split("?")[0][:200] or "media"
    if "." not in name:
        name += mimetypes.guess_extension(content_type) or ""
    return name


def fetch_due(sessions: sessionmaker[Session], settings: Settings) -> datetime | None:
    """Fetch every media row that is due; returns when the next retry is due, if any."""
    sid, token = settings.twilio_account_sid, settings.twilio_auth_token
    auth = (sid, token) if sid and token else None
    while True:
        with sessions() as session, session.begin():
            claimed = claim(session, utcnow())
        if not claimed:
            break
        for row in claimed:
            _fetch_one(sessions, settings, row, auth)
    with sessions() as session:
        return session.scalar(
            select(func.min(MediaFetch.next_attempt_at)).where(MediaFetch.status == "pending")
        )


def _fetch_one(
    sessions: sessionmaker[Session],
    settings: Settings,
    row: Claimed,
    auth: tuple[str, str] | None,
) -> None:
    try:
        data, served_type = download(row.url, auth)
        sha256 = save_blob(settings.data_dir, data)
    except (TemporaryFailure, PermanentFailure) as exc:
        _failed(sessions, row, exc)
        return
    content_type = served_type or row.content_type or "application/octet-stream"
    with sessions() as session, session.begin():
        attachment = Attachment(
            message_id=row.message_id,
            filename=filename_for(row.url, content_type),
            content_type=content_type,
            size=len(data),
            sha256=sha256,
        )
        session.add(attachment)
        session.flush()
        fetch = session.get(MediaFetch, row.id)
        assert fetch is not None
        fetch.status, fetch.attachment_id, fetch.last_error = "done", attachment.id, None
    log.info("fetched media %s of message %s (%d bytes)", row.url, row.message_id, len(data))


def _failed(sessions: sessionmaker[Session], row: Claimed, exc: Exception) -> None:
    again = isinstance(exc, TemporaryFailure) and row.attempts < MAX_ATTEMPTS
    with sessions() as session, session.begin():
        fetch = session.get(MediaFetch, row.id)
        assert fetch is not None
        fetch.last_error = str(exc)[:2000]
        if again:
            fetch.status = "pending"
            fetch.next_attempt_at = utcnow() + _BACKOFF * 2 ** (row.attempts - 1)
        else:
            fetch.status = "failed"
    log.warning("media %s of message %s: %s", row.url, row.message_id, exc)


def request_fetch(sessions: sessionmaker[Session], broker: dramatiq.Broker) -> bool:
    """Enqueue the fetch actor when media rows wait: one small indexed query."""
    with sessions() as session:
        waiting = session.scalar(
            select(MediaFetch.id).where(MediaFetch.status == "pending").limit(1)
        )
    if waiting is None:
        return False
    broker.get_actor(ACTOR).send()
    return True
