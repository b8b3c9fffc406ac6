"""The configured mailboxes: add, change, remove and list them; their checkpoints.

Validation happens here, once, for the CLI and anything else that configures a mailbox:
a password never goes out in clear text except to a loopback host, a mailbox has exactly
one way to log in, and a move has somewhere to go.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.imap.credentials import encrypt_password
from gateway.queues import get_queue
from schema.models import Mailbox, Queue
from schema.models.base import utcnow
from schema.models.mailboxes import AFTER_ACTIONS, TLS_MODES

DEFAULT_PORTS = {"implicit": 993, "starttls": 143, "none": 143}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_POLL = re.compile(r"^\s*(\d+)\s*(s|m|h)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
MIN_POLL_SECONDS = 5


def parse_poll(value: str) -> int:
    """``60s``, ``5m``, ``1h`` or plain seconds, at least ``MIN_POLL_SECONDS``."""
    match = _POLL.match(value)
    if not match:
        raise InvalidInput(f"not a poll interval: {value!r} (use e.g. 60s, 5m, 1h)")
    seconds = int(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "s").lower()]
    if seconds < MIN_POLL_SECONDS:
        raise InvalidInput(f"poll interval {value!r} is shorter than {MIN_POLL_SECONDS}s")
    return seconds


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class MailboxChanges:
    """What ``add`` sets and ``update`` changes; ``None`` leaves a field as it is."""

    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = None
    token_command: str | None = None
    tls: str | None = None
    ca_file: str | None = None
    folder: str | None = None
    after: str | None = None
    move_to: str | None = None
    failed_to: str | None = None
    queue: str | None = None
    poll_seconds: int | None = None
    enabled: bool | None = None


def get_mailbox(session: Session, name: str) -> Mailbox:
    found = session.scalar(select(Mailbox).where(Mailbox.name == name))
    if found is None:
        raise NotFound(f"no mailbox named {name}")
    return found


def list_mailboxes(session: Session) -> list[Mailbox]:
    return list(session.scalars(select(Mailbox).order_by(Mailbox.name)))


def add_mailbox(session: Session, name: str, changes: MailboxChanges, secret_key: str) -> Mailbox:
    if not _NAME.match(name):
        raise InvalidInput(
            f"mailbox name {name!r}: use letters, digits, '.', '_' and '-' (at most 100)"
        )
    if session.scalar(select(Mailbox.id).where(Mailbox.name == name)) is not None:
        raise Conflict(f"a mailbox named {name} exists already")
    if not changes.host or not changes.username:
        raise InvalidInput("a mailbox needs --host and --username")
    if (changes.password is None) == (changes.token_command is None):
        raise InvalidInput("give exactly one of --password-file and --token-command")
    tls = changes.tls or "implicit"
    mailbox = Mailbox(
        name=name,
        host=changes.host,
        port=changes.port or DEFAULT_PORTS.get(tls, 993),
        tls=tls,
        username=changes.username,
        folder="INBOX",
        after="move",
        move_to="Processed",
        poll_seconds=60,
        enabled=True,
        last_uid=0,
        state="new",
    )
    _apply(session, mailbox, changes, secret_key)
    session.add(mailbox)
    session.flush()
    return mailbox


def update_mailbox(
    session: Session, name: str, changes: MailboxChanges, secret_key: str
) -> Mailbox:
    mailbox = get_mailbox(session, name)
    if changes.password is not None and changes.token_command is not None:
        raise InvalidInput("give one of --password-file and --token-command, not both")
    if (
        changes.tls is not None
        and changes.port is None
        and mailbox.port == DEFAULT_PORTS.get(mailbox.tls)
    ):
        mailbox.port = DEFAULT_PORTS[changes.tls]  # the port followed the mode: keep it so
    _apply(session, mailbox, changes, secret_key)
    mailbox.updated_at = utcnow()
    return mailbox


def remove_mailbox(session: Session, name: str) -> None:
    """Forget the mailbox; the mail it brought in stays in the inbox and on its tickets."""
    session.delete(get_mailbox(session, name))


def _apply(session: Session, mailbox: Mailbox, changes: MailboxChanges, secret_key: str) -> None:
    for field in ("host", "port", "username", "tls", "folder", "after", "poll_seconds"):
        value = getattr(changes, field)
        if value is not None:
            setattr(mailbox, field, value)
    for field in ("ca_file", "move_to", "failed_to"):
        value = getattr(changes, field)
        if value is not None:
            setattr(mailbox, field, value or None)  # "" removes it
    if changes.enabled is not None:
        mailbox.enabled = changes.enabled
    if changes.password is not None:
        mailbox.password_encrypted = encrypt_password(secret_key, changes.password)
        mailbox.token_command = None
    if changes.token_command is not None:
        if not changes.token_command.strip():
            raise InvalidInput("--token-command is empty")
        mailbox.token_command = changes.token_command
        mailbox.password_encrypted = None
    if changes.queue is not None:
        mailbox.queue_id = get_queue(session, changes.queue).id if changes.queue else None
    if mailbox.after == "delete" and not mailbox.failed_to:
        mailbox.failed_to = "Failed"  # a mail that could not be stored is never deleted
    _check(mailbox)


def _check(mailbox: Mailbox) -> None:
    if mailbox.tls not in TLS_MODES:
        raise InvalidInput(f"--tls must be one of {', '.join(TLS_MODES)}, not {mailbox.tls!r}")
    if mailbox.after not in AFTER_ACTIONS:
        raise InvalidInput(
            f"--after must be one of {', '.join(AFTER_ACTIONS)}, not {mailbox.after!r}"
        )
    if not 0 < mailbox.port < 65536:
        raise InvalidInput(f"--port must be between 1 and 65535, not {mailbox.port}")
    if mailbox.tls == "none" and not is_loopback(mailbox.host):
        raise InvalidInput(
            f"--tls none would send the credentials to {mailbox.host} in clear text; "
            "only a loopback host may go without TLS"
        )
    if not mailbox.folder:
        raise InvalidInput("--folder is empty")
    if mailbox.after == "move" and not mailbox.move_to:
        raise InvalidInput("--after move needs --move-to FOLDER")
    for target in (mailbox.move_to if mailbox.after == "move" else None, mailbox.failed_to):
        if target is not None and target == mailbox.folder:
            raise InvalidInput(f"cannot move mail from {mailbox.folder} into itself")
    if mailbox.poll_seconds < MIN_POLL_SECONDS:
        raise InvalidInput(f"--poll must be at least {MIN_POLL_SECONDS}s")


@dataclass(frozen=True, slots=True)
class MailboxConfig:
    """A mailbox's settings as a poller uses them, detached from any session."""

    id: int
    name: str
    host: str
    port: int
    tls: str
    username: str
    password_encrypted: str | None
    token_command: str | None
    ca_file: str | None
    folder: str
    after: str
    move_to: str | None
    failed_to: str | None
    queue_address: str | None
    poll_seconds: int
    enabled: bool
    updated_at: datetime


def mailbox_config(session: Session, mailbox: Mailbox) -> MailboxConfig:
    queue = session.get(Queue, mailbox.queue_id) if mailbox.queue_id is not None else None
    address = queue.addresses[0].address if queue is not None and queue.addresses else None
    names = {f.name for f in fields(MailboxConfig)} - {"queue_address"}
    values = {name: getattr(mailbox, name) for name in names}
    return MailboxConfig(queue_address=address, **values)


def configs(session: Session) -> list[MailboxConfig]:
    return [mailbox_config(session, m) for m in list_mailboxes(session)]
