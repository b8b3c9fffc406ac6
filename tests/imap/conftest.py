"""Fixtures for the IMAP side: one real Dovecot per run, a fresh account per test."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from gateway.imap.listener import ImapListener
from gateway.imap.mailboxes import MailboxChanges, MailboxConfig, add_mailbox, mailbox_config
from gateway.runtime import Runtime
from schema.models import InboxItem, Mailbox
from tests.cli.conftest import ticketgw  # noqa: F401 (the CLI fixture, for these tests too)
from tests.dovecot import Dovecot, running_dovecot
from tests.waiting import wait_until


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    """The test settings, with a size limit the tests can exceed cheaply."""
    return {**env, "TICKETGW_MAX_MESSAGE_BYTES": "200000"}


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    with running_dovecot() as server:
        yield server


def mail(n: int, *, subject: str | None = None, sender: str = "carol@example.org") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@example.com"
    msg["Subject"] = subject or f"Question {n}"
    msg["Message-ID"] = f"<q{n}.{id(msg)}@example.org>"
    msg.set_content(f"Mail number {n}.\n")
    return msg.as_bytes()


@dataclass
class Account:
    """A Dovecot user with an empty INBOX, and the gateway's mailbox for it."""

    dovecot: Dovecot
    user: str
    runtime: Runtime
    stored: list[int] = field(default_factory=list)

    def add_mailbox(self, name: str = "support", **changes: object) -> MailboxConfig:
        values: dict[str, object] = {
            "host": "127.0.0.1",
            "port": self.dovecot.port,
            "tls": "none",
            "username": self.user,
            "password": "secret",
            **changes,
        }
        with self.runtime.transaction() as session:
            mailbox = add_mailbox(
                session, name, MailboxChanges(**values), self.runtime.settings.secret_key
            )
            return mailbox_config(session, mailbox)

    def append(self, *mails: bytes, folder: str = "INBOX") -> None:
        client = self.dovecot.client(self.user)
        try:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for start in range(0, len(mails), 500):
                client.multiappend(folder, list(mails[start : start + 500]))
        finally:
            client.logout()

    def uids(self, folder: str = "INBOX") -> list[int]:
        client = self.dovecot.client(self.user)
        try:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            return sorted(client.search("ALL"))
        finally:
            client.logout()

    def inbox_count(self) -> int:
        with self.runtime.sessions() as session:
            return session.scalar(select(func.count()).select_from(InboxItem)) or 0

    def mailbox(self, name: str = "support") -> Mailbox:
        with self.runtime.sessions() as session:
            found = session.scalar(select(Mailbox).where(Mailbox.name == name))
            assert found is not None
            session.expunge(found)
            return found

    def wait_for_state(self, state: str, name: str = "support") -> Mailbox:
        return wait_until(
            lambda: (m := self.mailbox(name)).state == state and m,
            what=f"mailbox {name} {state}",
        )


@pytest.fixture
def account(dovecot: Dovecot, runtime: Runtime) -> Account:
    return Account(dovecot, dovecot.add_user("support"), runtime)


Listen = Callable[[], ImapListener]


@pytest.fixture
def listen(account: Account) -> Iterator[Listen]:
    """Start the IMAP listener (stored ids go to ``account.stored``); stopped at the end."""
    started: list[ImapListener] = []

    def start() -> ImapListener:
        listener = ImapListener(account.runtime, refresh_seconds=0.2)
        asyncio.run(listener.start(account.stored.append))
        started.append(listener)
        return listener

    yield start
    for listener in started:
        asyncio.run(listener.stop())
