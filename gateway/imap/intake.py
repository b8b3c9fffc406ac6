"""Fetched mails into the durable inbox, with the mailbox's checkpoint in the same commit.

Two dedupe keys guard against doubles: the mailbox's own (mailbox + UIDVALIDITY + UID,
table ``mailbox_uids``), which knows a mail fetched again after a crash before its
post-action, and the inbox's Message-ID key, which knows the same mail under a new
UIDVALIDITY, in another mailbox, or from the SMTP listener.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.imap.mailboxes import MailboxConfig
from gateway.inbound.inbox import Incoming, accept_all, mail_dedupe_key
from schema.db import insert_all_ignoring_conflict
from schema.models import InboxItem, Mailbox, MailboxUid


@dataclass(frozen=True, slots=True)
class Fetched:
    """One mail as the server gave it; ``problem`` says why there is no usable body."""

    uid: int
    raw: bytes
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Stored:
    uid: int
    item_id: int
    new: bool  # a new inbox row: hand it to the processor
    failed: bool  # stored as failed (no usable body): goes to the failed folder


def source(config: MailboxConfig) -> str:
    return f"imap:{config.name}"


def store_fetched(
    session: Session, config: MailboxConfig, uidvalidity: int, mails: Sequence[Fetched]
) -> list[Stored]:
    """Insert what is new, map every UID to its inbox item, move the checkpoint; no commit.

    A mail without a usable body (the server sent none, or it is over the size limit and
    was not downloaded) is stored as ``failed`` under its UID key, with the reason, so it
    is visible in ``mail inbox list --status failed`` and never blocks the folder.
    """
    uids = [m.uid for m in mails]
    known = dict(
        session.execute(
            select(MailboxUid.uid, MailboxUid.inbox_id).where(
                MailboxUid.mailbox_id == config.id,
                MailboxUid.uidvalidity == uidvalidity,
                MailboxUid.uid.in_(uids),
            )
        ).all()
    )
    fresh = [m for m in mails if m.uid not in known]
    recipients = [config.queue_address] if config.queue_address else []
    incoming = [
        Incoming(
            raw=m.raw,
            channel="email",
            source=f"{source(config)};UIDVALIDITY={uidvalidity};UID={m.uid}",
            dedupe_key=(
                f"imap:{config.id}:{uidvalidity}:{m.uid}" if m.problem else mail_dedupe_key(m.raw)
            ),
            envelope_recipients=recipients,
        )
        for m in fresh
    ]
    accepted = accept_all(session, incoming)
    pairs = list(zip(fresh, accepted, strict=True))
    for mail, item in pairs:
        if mail.problem and not item.duplicate:
            session.execute(
                update(InboxItem)
                .where(InboxItem.id == item.item_id)
                .values(status="failed", failed_step="fetch", reason=mail.problem)
            )
    rows = [
        {"mailbox_id": config.id, "uidvalidity": uidvalidity, "uid": m.uid, "inbox_id": a.item_id}
        for m, a in pairs
    ]
    insert_all_ignoring_conflict(
        session, MailboxUid, rows, ("mailbox_id", "uidvalidity", "uid"), returning=False
    )
    advance_checkpoint(session, config.id, uidvalidity, max(uids, default=0))
    stored = {
        m.uid: Stored(m.uid, known[m.uid], new=False, failed=m.problem is not None)
        for m in mails
        if m.uid in known
    }
    for mail, item in pairs:
        stored[mail.uid] = Stored(
            mail.uid, item.item_id, new=not item.duplicate, failed=mail.problem is not None
        )
    return [stored[uid] for uid in uids]


def advance_checkpoint(session: Session, mailbox_id: int, uidvalidity: int, uid: int) -> None:
    """Raise ``last_uid`` to ``uid`` (never lower it); a new UIDVALIDITY starts over at ``uid``."""
    mailbox = session.get(Mailbox, mailbox_id, with_for_update=True)
    if mailbox is None:
        return  # removed while we were fetching: nothing to keep a checkpoint for
    if mailbox.uidvalidity != uidvalidity:
        mailbox.uidvalidity, mailbox.last_uid = uidvalidity, uid
    elif uid > mailbox.last_uid:
        mailbox.last_uid = uid


@dataclass(frozen=True, slots=True)
class Checkpoint:
    uidvalidity: int | None
    last_uid: int


def read_checkpoint(session: Session, mailbox_id: int) -> Checkpoint | None:
    row = session.execute(
        select(Mailbox.uidvalidity, Mailbox.last_uid).where(Mailbox.id == mailbox_id)
    ).one_or_none()
    return None if row is None else Checkpoint(row[0], row[1])
