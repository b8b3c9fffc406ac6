"""`ticketgw mailboxes` and `ticketgw mail backfill`, as an admin uses them."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from admin_cli.main import cli
from schema.models import Mailbox
from tests.cli.conftest import Ticketgw, assert_fails, assert_ok
from tests.imap.conftest import Account, Listen, mail
from tests.waiting import wait_until


def _add(ticketgw: Ticketgw, account: Account, password_file: Path, *extra: str):
    return ticketgw(
        "mailboxes", "add", "support",
        "--host", "127.0.0.1",
        "--port", str(account.dovecot.port),
        "--username", account.user,
        "--password-file", str(password_file),
        "--tls", "none",
        *extra,
    )  # fmt: skip


def test_add_list_test_update_remove(account: Account, ticketgw: Ticketgw, tmp_path: Path) -> None:
    password_file = tmp_path / "password"
    password_file.write_text("secret\n")
    added = assert_ok(_add(ticketgw, account, password_file, "--poll", "2m"))
    assert added.stdout == (
        f"added mailbox support ({account.user} at 127.0.0.1:{account.dovecot.port})\n"
    )
    [row] = assert_ok(ticketgw("mailboxes", "list", "--json")).json()
    assert row["state"] == "new"
    assert (row["after"], row["move_to"], row["folder"]) == ("move", "Processed", "INBOX")
    assert row["poll_seconds"] == 120
    assert row["auth"] == "password"

    account.append(mail(1), mail(2))
    tested = assert_ok(ticketgw("mailboxes", "test", "support", "--json")).json()
    assert tested["messages"] == 2
    assert tested["uidvalidity"] > 0
    text = assert_ok(ticketgw("mailboxes", "test", "support")).stdout
    assert f"INBOX has 2 mails, UIDVALIDITY {tested['uidvalidity']}" in text
    assert account.uids("INBOX") == [1, 2]  # a test changes nothing

    assert_ok(ticketgw("mailboxes", "update", "support", "--disable", "--after", "flag"))
    [row] = assert_ok(ticketgw("mailboxes", "list", "--json")).json()
    assert (row["state"], row["after"], row["enabled"]) == ("disabled", "flag", False)

    assert_ok(ticketgw("mailboxes", "remove", "support"))
    assert assert_ok(ticketgw("mailboxes", "list")).stdout == "(none)\n"
    assert_fails(ticketgw("mailboxes", "remove", "support"), 2, "no mailbox named support")


def test_the_password_is_stored_encrypted_and_never_shown(
    account: Account, ticketgw: Ticketgw, tmp_path: Path, env: dict[str, str]
) -> None:
    password_file = tmp_path / "password"
    password_file.write_text("secret\n")
    assert_ok(_add(ticketgw, account, password_file))
    with account.runtime.sessions() as session:
        stored = session.scalar(select(Mailbox.password_encrypted))
    assert stored is not None
    assert "secret" not in stored
    shown = "".join(
        assert_ok(ticketgw(*args)).stdout
        for args in (("mailboxes", "list"), ("mailboxes", "list", "--json"), ("config", "show"))
    )
    assert "secret" not in shown.replace("secret_key", "")

    # Another secret key cannot read it back: a clear error, not a traceback.
    other = CliRunner().invoke(
        cli, ["mailboxes", "test", "support"], env={**env, "TICKETGW_SECRET_KEY": "another"}
    )
    assert other.exit_code == 1
    assert other.stderr.startswith(
        "error: mailbox support: the stored password cannot be decrypted"
    )


def test_bad_input_is_refused_with_one_line(
    account: Account, ticketgw: Ticketgw, tmp_path: Path
) -> None:
    password_file = tmp_path / "password"
    password_file.write_text("secret\n")
    cleartext = ticketgw(
        "mailboxes", "add", "remote", "--host", "imap.example.com", "--username", "u",
        "--password-file", str(password_file), "--tls", "none",
    )  # fmt: skip
    assert_fails(cleartext, 2, "--tls none would send the credentials to imap.example.com")
    no_login = ticketgw("mailboxes", "add", "x", "--host", "h", "--username", "u")
    assert_fails(no_login, 2, "give exactly one of --password-file and --token-command")
    assert_fails(_add(ticketgw, account, password_file, "--queue", "nope"), 2, "nope")
    assert_fails(_add(ticketgw, account, password_file, "--poll", "1s"), 2, "shorter than 5s")
    assert_fails(_add(ticketgw, account, password_file, "--move-to", "INBOX"), 2, "into itself")
    assert_ok(_add(ticketgw, account, password_file))
    assert_fails(_add(ticketgw, account, password_file), 2, "a mailbox named support exists")
    empty = tmp_path / "empty"
    empty.write_text("")
    assert_fails(
        ticketgw("mailboxes", "update", "support", "--password-file", str(empty)), 2, "is empty"
    )


def test_backfill_reads_a_folder_again_through_dedupe(
    account: Account, listen: Listen, ticketgw: Ticketgw
) -> None:
    account.append(mail(1), mail(2))
    account.add_mailbox()
    listener = listen()
    wait_until(lambda: len(account.uids("Processed")) == 2, what="both moved")
    asyncio.run(listener.stop())
    # A mail client's rule moved one mail straight to Processed: the poller never saw it.
    account.append(mail(3), folder="Processed")
    since = date.today().isoformat()
    result = ticketgw("mail", "backfill", "support", "--since", since, "--folder", "Processed")
    rows = [line.strip("│").split("│") for line in assert_ok(result).stdout.splitlines()]
    counts = {row[0].strip(): row[1].strip() for row in rows if len(row) == 2}
    assert counts == {
        "mails": "3",
        "new": "1",
        "duplicates": "2",
        "unreadable": "0",
        "failed": "0",
    }
    again = assert_ok(
        ticketgw("mail", "backfill", "support", "--since", since, "--folder", "Processed", "--json")
    ).json()
    assert (again["new"], again["duplicates"]) == (0, 3)
    assert account.inbox_count() == 3
    assert account.uids("Processed") == [1, 2, 3]  # read-only: nothing moved
    tickets = assert_ok(ticketgw("tickets", "list", "--json")).json()
    assert len(tickets) == 3  # the command processes what is pending, the new mail with it
