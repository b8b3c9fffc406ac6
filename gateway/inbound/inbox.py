"""The durable inbox: store the raw item first, deduplicated, then say "accepted".

Every listener calls :func:`accept` and only answers its sender (SMTP ``250``, HTTP ``200``,
IMAP flag) after the transaction holding the row has committed. A second delivery of the
same item finds the unique dedupe key taken and is acknowledged without a second row.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.errors import IllegalTransition, NotFound
from gateway.mail.headers import message_id
from schema.bounded import fit
from schema.db import allocate_id, insert_all_ignoring_conflict, reserve_ids
from schema.models import InboxItem
from schema.models.base import utcnow

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_MESSAGE_ID = re.compile(rb"^message-id[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)
_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")


@dataclass(frozen=True, slots=True)
class Accepted:
    item_id: int
    duplicate: bool


def mail_dedupe_key(raw: bytes) -> str:
    """``mid:<Message-ID>``, or ``sha256:<digest>`` of the whole mail when it has none.

    A Message-ID with NUL, controls or 8-bit bytes is keyed by its digest,
    ``mid-sha256:<digest>``: cleaned for the column, two different ids could become one
    key and the second mail would be taken for a redelivery of the first. A long one is
    fitted to the column by ``schema.bounded``.
    """
    end = _HEADER_END.search(raw)
    head = raw[: end.start()] if end else raw[:65536]
    match = _MESSAGE_ID.search(head)
    if match:
        found = message_id(match.group(1).decode("ascii", "surrogateescape"))
        if found:
            if _PRINTABLE_ASCII.fullmatch(found):
                return fit(InboxItem.dedupe_key, f"mid:{found}")
            digest = hashlib.sha256(found.encode("ascii", "surrogateescape")).hexdigest()
            return f"mid-sha256:{digest}"
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


@dataclass(frozen=True, slots=True)
class Incoming:
    """One raw item as a listener or an import received it."""

    raw: bytes
    channel: str
    source: str
    dedupe_key: str
    envelope_sender: str | None = None
    envelope_recipients: Sequence[str] = ()
    received_at: datetime | None = None


def _bounded(item: Incoming) -> Incoming:
    """The item with its key and strings fitted to their columns (``schema.bounded``)."""
    sender = item.envelope_sender
    return replace(
        item,
        source=fit(InboxItem.source, item.source),
        dedupe_key=fit(InboxItem.dedupe_key, item.dedupe_key),
        envelope_sender=fit(InboxItem.envelope_sender, sender) if sender else sender,
    )


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
    """Insert the item unless its dedupe key is known; the caller commits."""
    incoming = Incoming(
        raw, channel, source, dedupe_key, envelope_sender, envelope_recipients, received_at
    )
    return accept_all(session, [incoming])[0]


def accept_all(session: Session, items: Sequence[Incoming]) -> list[Accepted]:
    """Insert the items whose dedupe keys are new, in order; the caller commits.

    ``INSERT ... ON CONFLICT DO NOTHING`` leaves the caller's transaction usable when a
    key is taken (a redelivery, or a concurrent twin winning the unique key). An item
    whose key is taken, or repeats an earlier item of the same call, comes back as a
    duplicate of the row that holds the key.

    One item (a listener's) is one statement with ``RETURNING``. Many (an import) get
    their ids allocated first and go out as one pipelined executemany; a look-up of the
    keys then tells ours (the allocated id) from a twin's.
    """
    now = utcnow()
    items = [_bounded(item) for item in items]
    first: dict[str, Incoming] = {}
    for item in items:
        first.setdefault(item.dedupe_key, item)
    rows = [
        {
            "channel": item.channel,
            "source": item.source,
            "dedupe_key": item.dedupe_key,
            "raw": item.raw,
            "size": len(item.raw),
            "envelope_sender": item.envelope_sender,
            "envelope_recipients": list(item.envelope_recipients),
            "status": "pending",
            "received_at": item.received_at or now,
        }
        for item in first.values()
    ]
    ids: dict[str, int] = {}
    if len(rows) == 1:
        inserted = insert_all_ignoring_conflict(session, InboxItem, rows, "dedupe_key")
        ids.update((key, item_id) for item_id, key in inserted)
    elif rows:
        reserve_ids(session, InboxItem, len(rows))
        for row in rows:
            row["id"] = allocate_id(session, InboxItem)
        insert_all_ignoring_conflict(session, InboxItem, rows, "dedupe_key", returning=False)
        ours = {row["dedupe_key"]: row["id"] for row in rows}
        found = session.execute(
            select(InboxItem.dedupe_key, InboxItem.id).where(InboxItem.dedupe_key.in_(ours))
        )
        ids.update((key, item_id) for key, item_id in found if ours[key] == item_id)
    taken = [key for key in first if key not in ids]
    twins: dict[str, int] = {}
    if taken:
        found = session.execute(
            select(InboxItem.dedupe_key, InboxItem.id).where(InboxItem.dedupe_key.in_(taken))
        )
        twins.update((key, item_id) for key, item_id in found)
    missing = [key for key in taken if key not in twins]
    if missing:  # cannot happen: ON CONFLICT waited for the twin to commit
        raise RuntimeError(f"inbox key {missing[0]!r} taken but not visible")
    accepted: list[Accepted] = []
    seen: set[str] = set()
    for item in items:
        key = item.dedupe_key
        if key in ids and key not in seen:
            seen.add(key)
            accepted.append(Accepted(ids[key], duplicate=False))
        else:
            accepted.append(Accepted(ids.get(key) or twins[key], duplicate=True))
    return accepted


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


def retry_item(session: Session, item_id: int) -> InboxItem:
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
