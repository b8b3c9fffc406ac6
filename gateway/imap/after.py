"""The post-action: what happens to a mail in its folder once the inbox holds it.

Only ever called after the commit that stored the mails. A crash before it leaves them in
the folder, where the next pass finds them again (``leftover_uids``) and finishes the job.
"""

from __future__ import annotations

from collections.abc import Sequence

from imapclient import DELETED, SEEN, IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from gateway.imap.connection import ImapFailure, describe
from gateway.imap.mailboxes import MailboxConfig


def leftover_uids(client: IMAPClient, config: MailboxConfig, last_uid: int) -> list[int]:
    """Mails at or below the checkpoint still waiting for their post-action.

    After a move or delete nothing below the checkpoint stays in the folder; after a flag,
    only unseen mails are waiting (someone marking a mail unread again costs one look-up).
    """
    if last_uid <= 0:
        return []
    criteria: list[str] = ["UID", f"1:{last_uid}"]
    if config.after == "flag":
        criteria.append("UNSEEN")
    # "1:n" matches the highest UID even when it is above n (RFC 3501 6.4.4's "*" rule).
    return sorted(uid for uid in client.search(criteria) if uid <= last_uid)


class FolderCache:
    """Folders known to exist on this connection, so each is created at most once."""

    def __init__(self) -> None:
        self.known: set[str] = set()

    def ensure(self, client: IMAPClient, folder: str) -> None:
        if folder in self.known:
            return
        if not client.folder_exists(folder):
            client.create_folder(folder)
        self.known.add(folder)


def run_post_action(
    client: IMAPClient,
    config: MailboxConfig,
    folders: FolderCache,
    done: Sequence[int],
    failed: Sequence[int],
) -> None:
    """Move, flag or delete ``done``; ``failed`` goes to the failed folder when there is one.

    A mail that could not be stored is never deleted: with ``--after delete`` it always has
    a failed folder to go to (see ``gateway.imap.mailboxes``). A refusal by the server
    (a folder that cannot be created, no permission) is an :class:`ImapFailure` saying so.
    """
    try:
        _post_action(client, config, folders, done, failed)
    except IMAPClientAbortError:
        raise  # the connection is gone: the poller reconnects
    except IMAPClientError as exc:
        what = {
            "move": f"move mails to {config.move_to}",
            "flag": "flag mails",
            "delete": "delete mails",
        }
        raise ImapFailure(
            f"stored, but could not {what[config.after]} in {config.folder}: {describe(exc)}"
        ) from exc


def _post_action(
    client: IMAPClient,
    config: MailboxConfig,
    folders: FolderCache,
    done: Sequence[int],
    failed: Sequence[int],
) -> None:
    done = list(done)
    if failed and config.failed_to:
        move_uids(client, folders, failed, config.failed_to)
    else:
        done += failed
    if not done:
        return
    if config.after == "move":
        assert config.move_to is not None
        move_uids(client, folders, done, config.move_to)
    elif config.after == "flag":
        client.add_flags(done, [SEEN], silent=True)
    else:
        _delete(client, done)


def move_uids(client: IMAPClient, folders: FolderCache, uids: Sequence[int], folder: str) -> None:
    """Move ``uids`` of the selected folder to ``folder``, created when missing."""
    folders.ensure(client, folder)
    if client.has_capability("MOVE"):
        client.move(uids, folder)
    else:
        client.copy(uids, folder)
        _delete(client, uids)


def _delete(client: IMAPClient, uids: Sequence[int]) -> None:
    client.add_flags(uids, [DELETED], silent=True)
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uids)
    else:
        client.expunge()  # without UIDPLUS only a plain EXPUNGE exists
