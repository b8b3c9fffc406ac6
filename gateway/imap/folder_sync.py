"""One pass over a mailbox's folder: fetch what is new, store it, then move it.

The checkpoint (UIDVALIDITY and the highest UID committed) says where the last pass
stopped. A pass asks for ``UID last+1:*``, and for the mails at or below the checkpoint
still waiting for their post-action, then works oldest first in batches: fetch the bodies
(``BODY.PEEK[]``: fetching never marks a mail seen), commit them with the new checkpoint,
and only then move, flag or delete them. A crash anywhere repeats at most one batch, and
the dedupe keys make the repeat one message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from imapclient import IMAPClient
from sqlalchemy import select

from gateway.imap.after import FolderCache, leftover_uids, run_post_action
from gateway.imap.connection import open_folder
from gateway.imap.failed_filing import file_failures
from gateway.imap.intake import (
    Fetched,
    Stored,
    advance_checkpoint,
    read_checkpoint,
    store_fetched,
)
from gateway.imap.lease import Lease
from gateway.imap.mailboxes import MailboxConfig
from gateway.runtime import Runtime
from schema.models import InboxItem, MailboxUid

log = logging.getLogger(__name__)

MAILS_PER_FETCH = 100  # per fetch and per commit
MAIL_BYTES_PER_FETCH = 16 * 1024 * 1024  # per fetch: a batch of large mails stays within memory
SIZE_CHUNK = 1000  # UIDs per RFC822.SIZE request


class MailboxRemoved(Exception):
    """The mailbox was removed from the configuration while its poller ran."""


@dataclass(frozen=True, slots=True)
class PassResult:
    uidvalidity: int
    messages: int
    stored: int  # new inbox items
    duplicates: int
    failed: int


def batches(uids: Sequence[int], sizes: dict[int, int], limit: int) -> Iterator[list[int]]:
    """``uids`` in order, at most ``MAILS_PER_FETCH`` and about ``MAIL_BYTES_PER_FETCH`` per batch.

    Mails over ``limit`` are not downloaded, so they do not count toward the bytes.
    """
    batch: list[int] = []
    total = 0
    for uid in uids:
        size = sizes[uid] if sizes[uid] <= limit else 0
        if batch and (len(batch) >= MAILS_PER_FETCH or total + size > MAIL_BYTES_PER_FETCH):
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield batch


def sync_folder(
    client: IMAPClient,
    config: MailboxConfig,
    runtime: Runtime,
    on_stored: Callable[[int], None],
    folders: FolderCache,
    *,
    should_stop: Callable[[], bool] = lambda: False,
    lease: Lease | None = None,
) -> PassResult:
    """Bring the inbox up to date with the folder; stops between batches when asked.

    With a ``lease``, it is renewed between batches and checked in each batch's commit:
    ``LeaseLost`` ends the pass, and what was fetched under a lost lease is not stored.
    """
    folder = open_folder(client, config.folder)
    with runtime.sessions() as session:
        checkpoint = read_checkpoint(session, config.id)
    if checkpoint is None:
        raise MailboxRemoved(config.name)
    if checkpoint.uidvalidity not in (None, folder.uidvalidity):
        log.warning(
            "mailbox %s: UIDVALIDITY of %s changed from %s to %s; reading the whole folder "
            "again (mails already stored are recognised by their Message-ID)",
            config.name,
            config.folder,
            checkpoint.uidvalidity,
            folder.uidvalidity,
        )
        with runtime.transaction() as session:
            # Nothing is stored under the new UIDVALIDITY yet: start it at 0, so that the
            # next pass does not take it for a change again (and warn again).
            advance_checkpoint(session, config.id, folder.uidvalidity, 0)
    last = checkpoint.last_uid if checkpoint.uidvalidity == folder.uidvalidity else 0
    new = [uid for uid in client.search(["UID", f"{last + 1}:*"]) if uid > last]
    todo = sorted(set(new) | set(leftover_uids(client, config, last)))
    counts = {"stored": 0, "duplicates": 0, "failed": 0}
    waiting = _already_stored(runtime, config, folder.uidvalidity, [u for u in todo if u <= last])
    if waiting:
        # Stored before a crash or a failed post-action: finish the post-action only.
        done = [uid for uid, failed in waiting.items() if not failed]
        run_post_action(client, config, folders, done, [u for u, f in waiting.items() if f])
        counts["duplicates"] += len(waiting)
    todo = [uid for uid in todo if uid not in waiting]
    sizes = fetch_sizes(client, todo)
    todo = [uid for uid in todo if uid in sizes]  # expunged since the search
    limit = runtime.settings.max_message_bytes
    for batch in batches(todo, sizes, limit):
        if should_stop():
            break
        if lease is not None:
            lease.keep()
        mails = fetch_bodies(client, batch, sizes, limit)
        with runtime.transaction() as session:
            if lease is not None:
                lease.check(session)
            stored = store_fetched(session, config, folder.uidvalidity, mails)
        for item in stored:
            if item.new and not item.failed:
                on_stored(item.item_id)
        _count(counts, stored)
        run_post_action(
            client,
            config,
            folders,
            [s.uid for s in stored if not s.failed],
            [s.uid for s in stored if s.failed],
        )
    if lease is not None:
        lease.keep()
    file_failures(client, config, runtime, folders, folder.uidvalidity)
    return PassResult(folder.uidvalidity, folder.messages, **counts)


def _count(counts: dict[str, int], stored: Sequence[Stored]) -> None:
    for item in stored:
        key = "failed" if item.failed and item.new else "stored" if item.new else "duplicates"
        counts[key] += 1


def _already_stored(
    runtime: Runtime, config: MailboxConfig, uidvalidity: int, uids: Sequence[int]
) -> dict[int, bool]:
    """Of ``uids``, those the inbox holds, each with whether it was stored as failed."""
    if not uids:
        return {}
    with runtime.sessions() as session:
        rows = session.execute(
            select(MailboxUid.uid, InboxItem.failed_step)
            .join(InboxItem, InboxItem.id == MailboxUid.inbox_id)
            .where(
                MailboxUid.mailbox_id == config.id,
                MailboxUid.uidvalidity == uidvalidity,
                MailboxUid.uid.in_(list(uids)),
            )
        ).all()
        return {uid: step == "fetch" for uid, step in rows}


def fetch_sizes(client: IMAPClient, uids: Sequence[int]) -> dict[int, int]:
    sizes: dict[int, int] = {}
    for start in range(0, len(uids), SIZE_CHUNK):
        found = client.fetch(uids[start : start + SIZE_CHUNK], ["RFC822.SIZE"])
        sizes.update((uid, int(data[b"RFC822.SIZE"])) for uid, data in found.items())
    return sizes


def fetch_bodies(
    client: IMAPClient, batch: Sequence[int], sizes: dict[int, int], limit: int
) -> list[Fetched]:
    wanted = [uid for uid in batch if sizes[uid] <= limit]
    bodies = client.fetch(wanted, ["BODY.PEEK[]"]) if wanted else {}
    mails: list[Fetched] = []
    for uid in batch:
        body = bodies.get(uid, {}).get(b"BODY[]")
        if sizes[uid] > limit:
            problem = (
                f"{sizes[uid]} bytes, over TICKETGW_MAX_MESSAGE_BYTES ({limit}): "
                "not downloaded, left on the server"
            )
            mails.append(Fetched(uid, b"", problem))
        elif body is None:
            mails.append(Fetched(uid, b"", "the server sent no body for this mail"))
        else:
            mails.append(Fetched(uid, bytes(body)))
    return mails
