"""``mail backfill``: read a mailbox's mail of a date range again, through dedupe.

For recovering from an outage or a mistake (a rule in the mail client that moved mail
away, a mailbox added late): the folder is opened read-only and every mail that arrived
on or after the date (IMAP ``SEARCH SINCE``, the server's arrival date) goes to the
inbox. What is already stored is recognised by its Message-ID (a digest of the mail when
it has none) and skipped; the checkpoint and the folder are left as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from gateway.imap.connection import close, connect, open_folder
from gateway.imap.folder_sync import batches, fetch_bodies, fetch_sizes
from gateway.imap.intake import source
from gateway.imap.mailboxes import MailboxConfig
from gateway.inbound.inbox import Incoming, accept_all, mail_dedupe_key
from gateway.runtime import Runtime


@dataclass(frozen=True, slots=True)
class Backfilled:
    folder: str
    mails: int
    stored: int
    duplicates: int
    skipped: list[str]  # one line per mail that could not be read


def backfill(
    config: MailboxConfig,
    runtime: Runtime,
    since: date,
    *,
    folder: str | None = None,
    on_stored: Callable[[int], None] = lambda _item_id: None,
) -> Backfilled:
    name = folder or config.folder
    limit = runtime.settings.max_message_bytes
    client = connect(config, runtime.settings.secret_key)
    stored = duplicates = 0
    skipped: list[str] = []
    try:
        opened = open_folder(client, name, readonly=True)
        uids = sorted(client.search(["SINCE", since]))
        sizes = fetch_sizes(client, uids)
        uids = [uid for uid in uids if uid in sizes]
        recipients = [config.queue_address] if config.queue_address else []
        for batch in batches(uids, sizes, limit):
            mails = fetch_bodies(client, batch, sizes, limit)
            skipped += [f"UID {m.uid}: {m.problem}" for m in mails if m.problem]
            incoming = [
                Incoming(
                    raw=m.raw,
                    channel="email",
                    source=f"{source(config)};folder={name};UIDVALIDITY={opened.uidvalidity};"
                    f"UID={m.uid}",
                    dedupe_key=mail_dedupe_key(m.raw),
                    envelope_recipients=recipients,
                )
                for m in mails
                if not m.problem
            ]
            with runtime.transaction() as session:
                accepted = accept_all(session, incoming)
            for item in accepted:
                if item.duplicate:
                    duplicates += 1
                else:
                    stored += 1
                    on_stored(item.item_id)
    finally:
        close(client)
    return Backfilled(name, len(uids), stored, duplicates, skipped)
