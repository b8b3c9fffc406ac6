"""`ticketgw serve` and `ticketgw imap` read the configured mailboxes into tickets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from sqlalchemy import func, select

from schema.models import Ticket
from tests.imap.conftest import Account, mail
from tests.waiting import free_port, start_serve, wait_until


def _tickets(account: Account) -> int:
    with account.runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(Ticket)) or 0


def test_serve_turns_mailbox_mail_into_tickets(account: Account, env: dict[str, str]) -> None:
    account.add_mailbox()
    account.append(mail(1, subject="Printer on fire"))
    proc = start_serve({**env, "TICKETGW_SMTP_LISTEN": f"127.0.0.1:{free_port()}"})
    try:
        wait_until(lambda: _tickets(account) == 1, timeout=60, what="a ticket from IMAP")
        account.append(mail(2, subject="Second question"))
        wait_until(lambda: _tickets(account) == 2, timeout=60, what="the mail sent during IDLE")
        assert account.uids("Processed") == [1, 2]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    assert account.mailbox().state == "stopped"


def test_imap_alone_after_a_kill_stores_each_mail_once(
    account: Account, env: dict[str, str]
) -> None:
    account.add_mailbox()
    account.append(*(mail(n) for n in range(50)))
    command = [sys.executable, "-m", "admin_cli.main", "imap"]
    proc = subprocess.Popen(command, env={**os.environ, **env}, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: account.inbox_count() > 0, timeout=60, what="the first batch stored")
    finally:
        proc.send_signal(signal.SIGKILL)  # no clean stop: perhaps between commit and move
        proc.wait(60)
    proc = subprocess.Popen(command, env={**os.environ, **env}, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _tickets(account) == 50, timeout=120, what="50 tickets")
        wait_until(lambda: len(account.uids("Processed")) == 50, what="all moved")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    assert account.inbox_count() == 50
