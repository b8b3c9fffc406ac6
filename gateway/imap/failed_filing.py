"""Mails that failed in processing, filed into the mailbox's failed folder afterwards.

The post-action runs right after the commit, before the pipeline has seen the mail, so a
mail that then fails (no usable From address, say) was moved, flagged or deleted like any
other. When the mailbox has a failed folder (``--failed-to``), a later pass files it
there: a flagged mail is moved from the folder by its UID, a moved one from the done
folder (found by its Message-ID), and one that was deleted, or cannot be found, is
appended from the inbox's byte-for-byte copy. ``mailbox_uids.filed_at`` records it once
done, so each mail is filed once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError
from sqlalchemy import select, update

from gateway.imap.after import FolderCache, move_uids
from gateway.imap.connection import ImapFailure, describe, open_folder
from gateway.imap.mailboxes import MailboxConfig
from gateway.runtime import Runtime
from schema.models import InboxItem, MailboxUid
from schema.models.base import utcnow

_MID_PREFIX = "mid:"


@dataclass(frozen=True, slots=True)
class Unfiled:
    inbox_id: int
    uidvalidity: int
    uid: int
    dedupe_key: str


def file_failures(
    client: IMAPClient,
    config: MailboxConfig,
    runtime: Runtime,
    folders: FolderCache,
    uidvalidity: int,
) -> int:
    """File every mail of this mailbox the pipeline parked ``failed``; how many were filed.

    Leaves ``config.folder`` selected, as the pass expects. A refusal by the server is an
    :class:`ImapFailure` saying so; the mails are filed on a later pass.
    """
    if not config.failed_to:
        return 0
    unfiled = _unfiled(runtime, config)
    if not unfiled:
        return 0
    try:
        _file(client, config, runtime, folders, uidvalidity, unfiled)
    except IMAPClientAbortError:
        raise  # the connection is gone: the poller reconnects
    except IMAPClientError as exc:
        raise ImapFailure(
            f"could not file failed mails in {config.failed_to}: {describe(exc)}"
        ) from exc
    with runtime.sessions() as session, session.begin():
        session.execute(
            update(MailboxUid)
            .where(
                MailboxUid.mailbox_id == config.id,
                MailboxUid.inbox_id.in_([u.inbox_id for u in unfiled]),
            )
            .values(filed_at=utcnow())
        )
    return len(unfiled)


def _file(
    client: IMAPClient,
    config: MailboxConfig,
    runtime: Runtime,
    folders: FolderCache,
    uidvalidity: int,
    unfiled: Sequence[Unfiled],
) -> None:
    assert config.failed_to is not None
    folders.ensure(client, config.failed_to)
    if config.after == "flag":
        rest = _from_folder(client, config, folders, uidvalidity, unfiled)
    elif config.after == "move":
        rest = _from_done_folder(client, config, folders, unfiled)
    else:  # deleted: only the inbox's copy is left
        rest = list(unfiled)
    _append(client, runtime, config.failed_to, rest)


def _unfiled(runtime: Runtime, config: MailboxConfig) -> list[Unfiled]:
    with runtime.sessions() as session:
        rows = session.execute(
            select(InboxItem.id, MailboxUid.uidvalidity, MailboxUid.uid, InboxItem.dedupe_key)
            .join(MailboxUid, MailboxUid.inbox_id == InboxItem.id)
            .where(
                InboxItem.status == "failed",
                # Those failed at fetch went to the failed folder at once.
                InboxItem.failed_step.is_distinct_from("fetch"),
                MailboxUid.mailbox_id == config.id,
                MailboxUid.filed_at.is_(None),
            )
            .order_by(InboxItem.id)
        ).all()
    # One mail read again under a new UIDVALIDITY has two UIDs: file it once.
    return list({row[0]: Unfiled(*row) for row in rows}.values())


def _from_folder(
    client: IMAPClient,
    config: MailboxConfig,
    folders: FolderCache,
    uidvalidity: int,
    unfiled: Sequence[Unfiled],
) -> list[Unfiled]:
    """Move the flagged mails still in the folder; the ones it no longer holds."""
    assert config.failed_to is not None
    here = {u.uid for u in unfiled if u.uidvalidity == uidvalidity}
    present = (
        set(client.search(["UID", ",".join(map(str, sorted(here)))])) & here if here else set()
    )
    if present:
        move_uids(client, folders, sorted(present), config.failed_to)
    return [u for u in unfiled if u.uidvalidity != uidvalidity or u.uid not in present]


def _from_done_folder(
    client: IMAPClient, config: MailboxConfig, folders: FolderCache, unfiled: Sequence[Unfiled]
) -> list[Unfiled]:
    """Move what the done folder holds into the failed folder; what it did not hold."""
    assert config.move_to is not None
    assert config.failed_to is not None
    rest: list[Unfiled] = []
    found: list[int] = []
    open_folder(client, config.move_to)
    try:
        for mail in unfiled:
            uids = []
            if mail.dedupe_key.startswith(_MID_PREFIX):
                mid = mail.dedupe_key.removeprefix(_MID_PREFIX)
                uids = client.search(["HEADER", "Message-ID", mid])
            if uids:
                found += uids
            else:
                rest.append(mail)
        if found:
            move_uids(client, folders, sorted(found), config.failed_to)
    finally:
        open_folder(client, config.folder)
    return rest


def _append(client: IMAPClient, runtime: Runtime, folder: str, mails: Sequence[Unfiled]) -> None:
    if not mails:
        return
    with runtime.sessions() as session:
        items = session.execute(
            select(InboxItem.raw, InboxItem.received_at).where(
                InboxItem.id.in_([m.inbox_id for m in mails])
            )
        ).all()
    for raw, received_at in items:
        client.append(folder, raw, msg_time=received_at)
