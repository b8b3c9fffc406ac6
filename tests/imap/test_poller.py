"""The poller against a real Dovecot: new mail under IDLE, checkpoints, post-actions."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from gateway.pipeline.batch import process_pending
from schema.models import InboxItem, MailboxUid
from tests.imap.conftest import Account, Listen, mail
from tests.tcp_proxy import TcpProxy
from tests.waiting import wait_until


def test_mail_arriving_during_idle_is_stored_then_moved(account: Account, listen: Listen) -> None:
    account.append(mail(1))
    account.add_mailbox(poll_seconds=3600)
    listen()
    wait_until(lambda: account.uids("Processed") == [1], what="first mail moved")
    account.wait_for_state("connected")
    # Polling every hour: only IDLE can bring the next mail in within the test.
    account.append(mail(2))
    wait_until(lambda: len(account.uids("Processed")) == 2, what="second mail moved")
    assert account.uids("INBOX") == []
    with account.runtime.sessions() as session:
        items = session.scalars(select(InboxItem).order_by(InboxItem.id)).all()
        assert [i.source.split(";")[0] for i in items] == ["imap:support", "imap:support"]
        uids = session.scalars(select(MailboxUid.uid).order_by(MailboxUid.uid)).all()
    assert uids == [1, 2]
    assert account.stored == [items[0].id, items[1].id]
    box = account.mailbox()
    assert box.last_uid == 2
    assert box.uidvalidity is not None


def _inbox_mids(account: Account) -> list[str]:
    with account.runtime.sessions() as session:
        return list(session.scalars(select(InboxItem.dedupe_key).order_by(InboxItem.id)))


def test_flag_leaves_mail_in_the_folder_seen_and_reads_it_once(
    account: Account, listen: Listen
) -> None:
    account.append(mail(1), mail(2))
    account.add_mailbox(after="flag", poll_seconds=5)
    listen()
    wait_until(lambda: account.inbox_count() == 2, what="two mails stored")
    account.append(mail(3))
    wait_until(lambda: account.inbox_count() == 3, what="third mail stored")
    client = account.dovecot.client(account.user)
    client.select_folder("INBOX", readonly=True)
    wait_until(lambda: sorted(client.search("UNSEEN")) == [], what="all seen")
    client.logout()
    assert account.uids("INBOX") == [1, 2, 3]
    assert account.mailbox().last_uid == 3


def test_delete_removes_stored_mail(account: Account, listen: Listen) -> None:
    account.append(mail(1))
    config = account.add_mailbox(after="delete")
    assert config.failed_to == "Failed"  # what cannot be stored is never deleted
    listen()
    wait_until(lambda: account.inbox_count() == 1 and account.uids("INBOX") == [])


def test_a_mail_over_the_size_limit_is_stored_failed_and_moved_to_failed(
    account: Account, listen: Listen
) -> None:
    big = mail(1, subject="Huge") + b"x" * 300_000 + b"\n"
    account.append(big, mail(2))
    account.add_mailbox(failed_to="Failed")
    listen()
    wait_until(lambda: account.uids("Failed") == [1] and account.uids("Processed") == [1])
    with account.runtime.sessions() as session:
        items = session.scalars(select(InboxItem).order_by(InboxItem.id)).all()
        assert [(i.status, i.failed_step) for i in items] == [
            ("failed", "fetch"),
            ("pending", None),
        ]
        assert "over TICKETGW_MAX_MESSAGE_BYTES (200000)" in (items[0].reason or "")
    assert account.stored == [items[1].id]  # the failed one is not handed to the processor
    assert account.uids("INBOX") == []


@pytest.mark.parametrize("after", ["move", "flag", "delete"])
def test_a_mail_that_fails_processing_is_filed_into_the_failed_folder(
    account: Account, listen: Listen, after: str
) -> None:
    """No From address: stored and moved on like any mail, parked by the pipeline, then
    filed into the failed folder by the next pass, once, byte for byte."""
    nobody = b"Subject: who wrote this?\r\nMessage-ID: <nobody.1@example.org>\r\n\r\nHello\r\n"
    account.append(nobody)
    account.add_mailbox(after=after, failed_to="Failed", poll_seconds=3600)
    listen()
    wait_until(lambda: account.inbox_count() == 1, what="stored")
    account.wait_for_state("connected")
    runtime = account.runtime
    assert len(process_pending(runtime.sessions, runtime.settings)) == 1
    with runtime.sessions() as session:
        item = session.scalars(select(InboxItem)).one()
        assert (item.status, item.failed_step) == ("failed", "store")
        assert "cannot tell who wrote it" in (item.reason or "")
    account.append(mail(2))  # wakes the poller from IDLE: the next pass files the failure
    wait_until(lambda: account.uids("Failed"), what="the failed mail filed")
    assert _bodies(account, "Failed") == [nobody]
    assert account.inbox_count() == 2
    wait_until(lambda: account.mailbox().state == "connected" and account.inbox_count() == 2)
    expected_inbox = 1 if after == "flag" else 0
    wait_until(lambda: len(account.uids("INBOX")) == expected_inbox, what="the folder settled")
    assert nobody not in _bodies(account, "INBOX") + _bodies(account, "Processed")
    account.append(mail(3))  # another pass: filed once, not again
    wait_until(lambda: account.inbox_count() == 3, what="third stored")
    assert _bodies(account, "Failed") == [nobody]


def _bodies(account: Account, folder: str) -> list[bytes]:
    client = account.dovecot.client(account.user)
    try:
        if not client.folder_exists(folder):
            return []
        client.select_folder(folder, readonly=True)
        found = client.fetch(client.search("ALL"), ["BODY.PEEK[]"])
        return [bytes(found[uid][b"BODY[]"]) for uid in sorted(found)]
    finally:
        client.logout()


def test_a_move_that_fails_after_the_commit_is_finished_later_without_a_double(
    account: Account, listen: Listen
) -> None:
    """The mail is committed, the move is refused; the next run moves it, stores nothing."""
    account.append(mail(1))
    account.append(mail(0), folder="Processed")
    processed = account.dovecot.folder_path(account.user, "Processed")
    for sub in ("cur", "new", "tmp"):
        (processed / sub).chmod(0o555)
    try:
        account.add_mailbox()
        listener = listen()
        box = account.wait_for_state("error")
        assert "stored, but could not move mails to Processed" in (box.last_error or "")
        assert account.inbox_count() == 1
        asyncio.run(listener.stop())  # as good as a crash here: committed, not moved
        assert account.uids("INBOX") == [1]
    finally:
        for sub in ("cur", "new", "tmp"):
            (processed / sub).chmod(0o755)
    listen()
    wait_until(lambda: len(account.uids("Processed")) == 2, what="moved after the restart")
    assert account.uids("INBOX") == []
    assert account.inbox_count() == 1
    assert len(account.stored) == 1


def test_a_new_uidvalidity_rereads_the_folder_and_misses_nothing(
    account: Account, listen: Listen
) -> None:
    """A folder recreated with fewer mails: UIDs start at 1 again, below the checkpoint."""
    first = [mail(n) for n in range(3)]
    account.append(*first, folder="Support")
    account.add_mailbox(folder="Support", after="flag")
    listener = listen()
    wait_until(lambda: account.inbox_count() == 3, what="first three stored")
    before = account.mailbox()
    assert before.last_uid == 3
    asyncio.run(listener.stop())
    client = account.dovecot.client(account.user)
    client.delete_folder("Support")
    client.create_folder("Support")
    client.logout()
    newcomer = mail(99, subject="After the restore")
    account.append(first[0], newcomer, folder="Support")  # one restored, one new
    listen()
    wait_until(lambda: account.inbox_count() == 4, what="the new mail stored")
    after = account.mailbox()
    assert after.uidvalidity != before.uidvalidity
    assert after.last_uid == 2
    mids = _inbox_mids(account)
    assert len(mids) == len(set(mids)) == 4


def test_a_connection_dropped_mid_fetch_loses_and_doubles_nothing(
    account: Account, listen: Listen
) -> None:
    mails = [mail(n) + b"padding " * 2000 + b"\n" for n in range(250)]  # ~16 kB each
    account.append(*mails)
    proxy = TcpProxy(("127.0.0.1", account.dovecot.port))
    try:
        # Half-way through the first batch of bodies (100 mails, ~1.6 MB).
        proxy.drop_after(800_000)
        account.add_mailbox(port=proxy.port)
        listen()
        wait_until(lambda: account.inbox_count() == 250, timeout=60, what="all 250 stored")
        wait_until(lambda: len(account.uids("Processed")) == 250, what="all moved")
        assert proxy.drops == 1
    finally:
        proxy.close()
    mids = _inbox_mids(account)
    assert mids == [f"mid:{_mid(m)}" for m in mails]


def _mid(raw: bytes) -> str:
    start = raw.index(b"Message-ID: <") + len(b"Message-ID: <")
    return raw[start : raw.index(b">", start)].decode()


def test_five_thousand_mails_are_stored_in_order_none_lost(
    account: Account, listen: Listen
) -> None:
    mails = [mail(n) for n in range(5000)]
    account.append(*mails)
    account.add_mailbox()
    listen()
    wait_until(lambda: account.inbox_count() == 5000, timeout=300, what="5,000 stored")
    wait_until(lambda: len(account.uids("Processed")) == 5000, timeout=60, what="all moved")
    assert account.uids("INBOX") == []
    assert _inbox_mids(account) == [f"mid:{_mid(m)}" for m in mails]
    with account.runtime.sessions() as session:
        pairs = session.execute(
            select(MailboxUid.uid, MailboxUid.inbox_id).order_by(MailboxUid.uid)
        ).all()
    assert [uid for uid, _ in pairs] == list(range(1, 5001))
    assert [item for _, item in pairs] == sorted(item for _, item in pairs)
    assert account.mailbox().last_uid == 5000


def test_without_idle_the_folder_is_polled(account: Account, listen: Listen) -> None:
    dovecot = account.dovecot
    account.add_mailbox(host=dovecot.no_idle_host, port=dovecot.no_idle_port, poll_seconds=5)
    listen()
    account.wait_for_state("connected")
    account.append(mail(1))
    wait_until(lambda: account.uids("Processed") == [1], what="the mail found by polling")
