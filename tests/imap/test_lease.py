"""Two gateways, one mailbox: only the lease holder reads it; the other takes over."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from gateway.imap.listener import ImapListener
from schema.models import Mailbox
from schema.models.base import utcnow
from tests.cli.conftest import Ticketgw, assert_ok
from tests.imap.conftest import Account, mail
from tests.waiting import wait_until

# Short, so that a waiting gateway tries again often; long enough for a loaded machine.
LEASE_SECONDS = 6.0


class Gateway:
    """One gateway's IMAP listener, with the inbox ids it stored."""

    def __init__(self, account: Account) -> None:
        self.stored: list[int] = []
        self.listener = ImapListener(
            account.runtime, refresh_seconds=0.2, lease_seconds=LEASE_SECONDS
        )
        asyncio.run(self.listener.start(self.stored.append))

    def stop(self) -> None:
        asyncio.run(self.listener.stop())


@pytest.fixture
def gateways(account: Account) -> Iterator[list[Gateway]]:
    started: list[Gateway] = []
    yield started
    for gateway in started:
        gateway.stop()


def _holder(account: Account) -> str | None:
    return account.mailbox().lease_holder


def test_a_second_gateway_waits_then_takes_over_when_the_first_stops(
    account: Account, gateways: list[Gateway], ticketgw: Ticketgw
) -> None:
    account.add_mailbox()
    first = Gateway(account)
    gateways.append(first)
    account.wait_for_state("connected")
    reader = wait_until(lambda: _holder(account), what="the first gateway's lease")
    second = Gateway(account)
    gateways.append(second)
    wait_until(lambda: second.listener.waiting == {"support": reader}, what="second waits")

    account.append(mail(1), mail(2), mail(3))
    wait_until(lambda: len(first.stored) == 3, what="three mails stored by the first")
    wait_until(lambda: len(account.uids("Processed")) == 3, what="three mails moved")
    assert second.stored == []
    assert second.listener.waiting == {"support": reader}
    [row] = assert_ok(ticketgw("mailboxes", "list", "--json")).json()
    assert row["read_by"] == reader
    assert reader in assert_ok(ticketgw("mailboxes", "list")).stdout

    first.stop()  # releases the lease: the second need not wait for it to expire
    wait_until(lambda: second.listener.waiting == {}, what="the second took over")
    assert _holder(account) not in (None, reader)
    account.append(mail(4), mail(5))
    wait_until(lambda: len(second.stored) == 2, what="two mails stored by the second")
    wait_until(lambda: len(account.uids("Processed")) == 5, what="five mails moved")
    assert len(first.stored) == 3
    assert account.inbox_count() == 5


def _lease(account: Account, holder: str, expires_in: timedelta) -> None:
    with account.runtime.transaction() as session:
        session.execute(
            update(Mailbox).values(lease_holder=holder, lease_expires_at=utcnow() + expires_in)
        )


def test_the_lease_of_a_gateway_that_died_elsewhere_is_taken_once_it_expires(
    account: Account, gateways: list[Gateway], ticketgw: Ticketgw
) -> None:
    account.add_mailbox()
    account.append(mail(1))
    crashed = "other-host:4242:0a1b2c"  # a gateway on another machine, gone without a word
    _lease(account, crashed, timedelta(hours=1))
    gateway = Gateway(account)
    gateways.append(gateway)
    wait_until(lambda: gateway.listener.waiting == {"support": crashed}, what="it waits")
    assert account.uids("INBOX") == [1]
    [row] = assert_ok(ticketgw("mailboxes", "list", "--json")).json()
    assert row["read_by"] == crashed

    _lease(account, crashed, timedelta(seconds=-1))  # its lease ran out
    wait_until(lambda: len(gateway.stored) == 1, what="the mail stored after the takeover")
    wait_until(lambda: account.uids("Processed") == [1], what="the mail moved")
    assert _holder(account) not in (None, crashed)


def test_a_dead_process_of_this_host_does_not_make_a_restart_wait(
    account: Account, gateways: list[Gateway]
) -> None:
    account.add_mailbox()
    account.append(mail(1))
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    _lease(account, f"{socket.gethostname()}:{dead}:0a1b2c", timedelta(hours=1))
    gateway = Gateway(account)
    gateways.append(gateway)
    wait_until(lambda: len(gateway.stored) == 1, what="the mail stored at once")
    assert account.uids("Processed") == [1]
