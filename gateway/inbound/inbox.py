"""The durable inbox: store the raw item first, deduplicated, then say "accepted".

Every listener calls :func:`accept` and only answers its sender (SMTP ``250``, HTTP ``200``,
IMAP flag) after the transaction holding the row has committed. A second delivery of the
same item finds the unique dedupe key taken and is acknowledged without a second row.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.errors import IllegalTransition, NotFound
from gateway.mail.headers import message_id
from schema.db import insert_ignoring_conflict
from schema.models import InboxItem
from schema.models.base import utcnow

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_MESSAGE_ID = re.compile(rb"^message-id[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)
_DEDUPE_KEY_MAX = 1000


@dataclass(frozen=True, slots=True)
class Accepted:
    item_id: int
    duplicate: bool


def mail_dedupe_key(raw: bytes) -> str:
    """``mid:<Message-ID>``, or ``sha256:<digest>`` of the whole mail when it has none."""
    end = _HEADER_END.search(raw)
    head = raw[: end.start()] if end else raw[:65536]
    match = _MESSAGE_ID.search(head)
    if match:
        found = message_id(match.group(1).decode("ascii", "replace"))
        if found:
            return f"mid:{found}"[:_DEDUPE_KEY_MAX]
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


def accept(
    session: Session,
    raw: bytes,
    *,
    channel: str,
    source: str,
    dedupe_key: str,
    envelope_sender: str | None = None,
    envelope_recipients: Sequence[str] = (),
    received_at: datetime | None = None,
) -> Accepted:
    """Insert the item unless its dedupe key is known; the caller commits.

    ``INSERT ... ON CONFLICT DO NOTHING`` leaves the caller's transaction usable when the
    key is taken (a redelivery, or a concurrent twin winning the unique key) in one round
    trip, where a look-up and an insert in a savepoint took four.
    """
    item_id = insert_ignoring_conflict(
        session,
        InboxItem,
        {
            "channel": channel,
            "source": source[:500],
            "dedupe_key": dedupe_key,
            "raw": raw,
            "size": len(raw),
            "envelope_sender": envelope_sender,
            "envelope_recipients": list(envelope_recipients),
            "status": "pending",
            "received_at": received_at or utcnow(),
        },
        "dedupe_key",
    )
    if item_id is not None:
        return Accepted(item_id, duplicate=False)
    twin = _find(session, dedupe_key)
    if twin is None:  # cannot happen: ON CONFLICT waited for the twin to commit
        raise RuntimeError(f"inbox key {dedupe_key!r} taken but not visible")
    return Accepted(twin, duplicate=True)


def _find(session: Session, dedupe_key: str) -> int | None:
    return session.scalar(select(InboxItem.id).where(InboxItem.dedupe_key == dedupe_key))


def pending_ids(session: Session, limit: int = 1000) -> list[int]:
    """Pending items, oldest first: processing in arrival order keeps replies after originals."""
    return list(
        session.scalars(
            select(InboxItem.id)
            .where(InboxItem.status == "pending")
            .order_by(InboxItem.id)
            .limit(limit)
        )
    )


def get_item(session: Session, item_id: int) -> InboxItem:
    item = session.get(InboxItem, item_id)
    if item is None:
        raise NotFound(f"no inbox item {item_id}")
    return item


def retry(session: Session, item_id: int) -> InboxItem:
    """Put a failed (or ignored) item back to ``pending`` for the processor to run again."""
    item = get_item(session, item_id)
    if item.status not in {"failed", "ignored"}:
        raise IllegalTransition(
            f"inbox item {item_id} is {item.status}: only failed or ignored items can be retried"
        )
    item.status, item.reason, item.failed_step = "pending", None, None
    return item


def discard(session: Session, item_id: int, reason: str = "discarded by an admin") -> InboxItem:
    """Give up on a failed or pending item; the raw mail stays stored, marked ``ignored``."""
    item = get_item(session, item_id)
    if item.status == "done":
        raise IllegalTransition(f"inbox item {item_id} is done: it is on a ticket already")
    item.status, item.reason = "ignored", reason
    return item
