"""``ticketgw mailboxes``: the IMAP mailboxes the gateway reads."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from admin_cli.context import runtime, transaction
from admin_cli.output import done, iso, print_json, print_table
from gateway.errors import InvalidInput
from gateway.imap import mailboxes as domain
from gateway.imap.connection import probe
from schema.models import Mailbox, Queue
from schema.models.base import utcnow
from schema.models.mailboxes import AFTER_ACTIONS, TLS_MODES


def mailbox_record(mailbox: Mailbox, queue: str | None) -> dict[str, Any]:
    """JSON keys of `mailboxes list --json`; credentials never appear."""
    return {
        "name": mailbox.name,
        "host": mailbox.host,
        "port": mailbox.port,
        "tls": mailbox.tls,
        "username": mailbox.username,
        "auth": "xoauth2" if mailbox.token_command else "password",
        "folder": mailbox.folder,
        "after": mailbox.after,
        "move_to": mailbox.move_to,
        "failed_to": mailbox.failed_to,
        "queue": queue,
        "poll_seconds": mailbox.poll_seconds,
        "enabled": mailbox.enabled,
        "state": mailbox.state if mailbox.enabled else "disabled",
        "connected": mailbox.enabled and mailbox.state == "connected",
        "uidvalidity": mailbox.uidvalidity,
        "last_uid": mailbox.last_uid,
        "messages": mailbox.messages,
        "checked_at": iso(mailbox.checked_at),
        "last_error": mailbox.last_error,
        "last_error_at": iso(mailbox.last_error_at),
        # The gateway reading it now (gateway.imap.lease), while its lease runs.
        "read_by": _reader(mailbox),
        "lease_expires_at": iso(mailbox.lease_expires_at),
    }


def _reader(mailbox: Mailbox) -> str | None:
    expires = mailbox.lease_expires_at
    return mailbox.lease_holder if expires is not None and expires > utcnow() else None


def _password(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise InvalidInput(f"cannot read --password-file {path}: {exc.strerror}") from exc
    password = text.rstrip("\r\n")
    if not password:
        raise InvalidInput(f"--password-file {path} is empty")
    return password


def _changes(**options: Any) -> domain.MailboxChanges:
    poll = options.pop("poll")
    password = _password(options.pop("password_file"))
    return domain.MailboxChanges(
        password=password,
        poll_seconds=domain.parse_poll(poll) if poll is not None else None,
        **options,
    )


def _options(adding: bool) -> Any:
    """The options `add` and `update` share; `update` changes only those given."""

    def decorate(f: Any) -> Any:
        options = [
            click.option("--host", required=adding, help="IMAP server name or address."),
            click.option(
                "--port", type=click.IntRange(1, 65535), help="Default: 993, or 143 without TLS."
            ),
            click.option("--username", required=adding, help="Login name."),
            click.option(
                "--password-file",
                type=click.Path(dir_okay=False, allow_dash=True),
                help="File holding the password (- reads stdin); stored encrypted.",
            ),
            click.option(
                "--token-command",
                help="XOAUTH2: a command printing a fresh access token (Gmail, Microsoft 365).",
            ),
            click.option(
                "--tls",
                type=click.Choice(TLS_MODES),
                help="implicit (default, port 993), starttls, or none (loopback only).",
            ),
            click.option(
                "--ca-file", help='CA certificates to trust instead of the system\'s ("" resets).'
            ),
            click.option("--folder", help="Folder to read (default INBOX)."),
            click.option(
                "--after",
                type=click.Choice(AFTER_ACTIONS),
                help="What happens to a stored mail: move (default), flag (\\Seen), delete.",
            ),
            click.option("--move-to", help="Folder for --after move (default Processed)."),
            click.option(
                "--failed-to",
                help="Folder for mails that could not be stored (default: none, or Failed "
                'with --after delete; "" removes it).',
            ),
            click.option("--queue", help='Queue for mail to no known support address ("" resets).'),
            click.option("--poll", help="Poll interval without IDLE, e.g. 60s, 5m (default 60s)."),
        ]
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


@click.group()
def mailboxes() -> None:
    """Add, change, test and list the IMAP mailboxes the gateway reads."""


@mailboxes.command("add")
@click.argument("name")
@_options(adding=True)
def add(name: str, **options: Any) -> None:
    """Add the mailbox NAME; `ticketgw serve` starts reading it within seconds."""
    changes = _changes(**options)
    with transaction() as session:
        mailbox = domain.add_mailbox(session, name, changes, runtime().settings.secret_key)
    done(f"added mailbox {mailbox.name} ({mailbox.username} at {mailbox.host}:{mailbox.port})")


@mailboxes.command("update")
@click.argument("name")
@_options(adding=False)
@click.option("--enable/--disable", "enabled", default=None, help="Read the mailbox or not.")
def update(name: str, **options: Any) -> None:
    """Change the mailbox NAME; options not given stay as they are."""
    changes = _changes(**options)
    with transaction() as session:
        mailbox = domain.update_mailbox(session, name, changes, runtime().settings.secret_key)
    done(f"updated mailbox {mailbox.name}")


@mailboxes.command("remove")
@click.argument("name")
def remove(name: str) -> None:
    """Stop reading the mailbox NAME and forget it; stored mail stays."""
    with transaction() as session:
        domain.remove_mailbox(session, name)
    done(f"removed mailbox {name}")


@mailboxes.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, sorted by name.")
def list_(as_json: bool) -> None:
    """List mailboxes with their state: connected, checkpoint, last error."""
    with transaction() as session:
        queues = {queue.id: queue.name for queue in session.scalars(select(Queue))}
        records = [
            mailbox_record(m, queues.get(m.queue_id or 0)) for m in domain.list_mailboxes(session)
        ]
    if as_json:
        print_json(records)
        return
    print_table(
        (
            "name",
            "account",
            "folder",
            "after",
            "state",
            "read by",
            "uidvalidity",
            "last uid",
            "last error",
        ),
        (
            (
                r["name"],
                f"{r['username']} at {r['host']}:{r['port']} ({r['tls']}, {r['auth']})",
                r["folder"],
                r["after"] + (f" to {r['move_to']}" if r["after"] == "move" else ""),
                r["state"],
                r["read_by"],
                r["uidvalidity"],
                r["last_uid"],
                r["last_error"],
            )
            for r in records
        ),
    )


@mailboxes.command("test")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def test(name: str, as_json: bool) -> None:
    """Connect, log in and open the folder of NAME; change nothing."""
    rt = runtime()
    with transaction() as session:
        config = domain.mailbox_config(session, domain.get_mailbox(session, name))
    folder = probe(config, rt.settings.secret_key)
    if as_json:
        print_json(
            {
                "name": name,
                "folder": folder.name,
                "messages": folder.messages,
                "uidvalidity": folder.uidvalidity,
            }
        )
        return
    done(
        f"mailbox {name}: logged in as {config.username} at {config.host}:{config.port}; "
        f"{folder.name} has {folder.messages} mails, UIDVALIDITY {folder.uidvalidity}"
    )
