"""Logging in: TLS modes, wrong passwords, untrusted certificates, XOAUTH2 tokens.

Every failure shows up as one clear line in `mailboxes list` and in the log, and the other
mailboxes keep working.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.cli.conftest import Ticketgw, assert_fails, assert_ok
from tests.imap.conftest import Account, Listen, mail
from tests.waiting import wait_until


def test_a_wrong_password_and_an_untrusted_certificate_do_not_stop_a_good_mailbox(
    account: Account, listen: Listen, ticketgw: Ticketgw, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="gateway.imap")
    account.add_mailbox("wrong", password="not-the-password")
    account.add_mailbox("badtls", tls="implicit", port=account.dovecot.tls_port)
    account.add_mailbox("good")
    account.append(mail(1))
    listen()
    wait_until(lambda: account.uids("Processed") == [1], what="the good mailbox's mail")
    wrong = account.wait_for_state("error", "wrong")
    badtls = account.wait_for_state("error", "badtls")
    login_error = f"login as {account.user} failed: [AUTHENTICATIONFAILED] Authentication failed."
    assert wrong.last_error == login_error
    assert badtls.last_error is not None
    assert badtls.last_error.startswith(f"cannot connect to 127.0.0.1:{account.dovecot.tls_port}:")
    assert "certificate not trusted: self" in badtls.last_error
    assert account.wait_for_state("connected", "good").last_error is None

    listed = {r["name"]: r for r in assert_ok(ticketgw("mailboxes", "list", "--json")).json()}
    assert listed["wrong"]["state"] == "error"
    assert listed["wrong"]["last_error"] == login_error
    assert listed["badtls"]["connected"] is False
    assert listed["good"]["connected"] is True
    assert listed["good"]["last_uid"] == 1
    table = assert_ok(ticketgw("mailboxes", "list")).stdout
    assert "[AUTHENTICATIONFAILED] Authentication failed." in table
    logged = [r.getMessage() for r in caplog.records]
    assert f"mailbox wrong: {login_error}" in logged
    assert any(m.startswith("mailbox badtls: cannot connect") for m in logged)


def test_implicit_tls_and_starttls_with_the_servers_ca(account: Account, listen: Listen) -> None:
    ca = str(account.dovecot.cert)
    account.add_mailbox("tls", tls="implicit", port=account.dovecot.tls_port, ca_file=ca)
    account.add_mailbox("starttls", tls="starttls", folder="Other", ca_file=ca)
    account.append(mail(1))
    account.append(mail(2), folder="Other")
    listen()
    wait_until(lambda: len(account.uids("Processed")) == 2, what="both moved")
    assert account.inbox_count() == 2


def test_xoauth2_with_a_token_command(
    account: Account, listen: Listen, ticketgw: Ticketgw, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(account.dovecot.token(account.user) + "\n")
    account.add_mailbox(password=None, token_command=f"cat {token_file}")
    account.append(mail(1))
    listen()
    wait_until(lambda: account.uids("Processed") == [1], what="mail read with XOAUTH2")
    # The state is written after the pass that moved the mail: wait for it, do not race it.
    wait_until(lambda: account.mailbox().state == "connected", what="state connected")
    row = assert_ok(ticketgw("mailboxes", "list", "--json")).json()[0]
    assert row["auth"] == "xoauth2"

    token_file.write_text("a-token-nobody-issued\n")
    assert_fails(
        ticketgw("mailboxes", "test", "support"),
        1,
        f"XOAUTH2 login as {account.user} failed: ",
    )
    failing = "echo no refresh token >&2; exit 3"
    assert_ok(ticketgw("mailboxes", "update", "support", "--token-command", failing))
    assert_fails(
        ticketgw("mailboxes", "test", "support"),
        1,
        "mailbox support: token command exited with 3: no refresh token",
    )
