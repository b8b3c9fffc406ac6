"""A burst of mail through the listener: processed in batches, nothing lost or misthreaded.

The processor takes whatever is pending at once, many items per transaction. What a user
sees must not change: every mail lands on the right ticket, a reply sent right behind its
original is threaded onto it, and one malformed mail in the burst is parked as ``failed``
without holding back the others. Runs through the real ``ticketgw serve`` (processing in
a child process) and through the in-process gateway (processing in a thread).
"""

from __future__ import annotations

import signal
import smtplib
import threading
from collections.abc import Iterator, Sequence
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from admin_cli.app import BackgroundGateway
from gateway.config import load_settings
from gateway.inbound import inbox
from gateway.pipeline.batch import ItemOutcome
from gateway.pipeline.processor import InboxProcessor
from gateway.runtime import Runtime, open_runtime
from schema.models import InboxItem, Message, Ticket
from tests.inbound.mails import new_request, reply
from tests.waiting import free_port, start_serve, wait_until

SUPPORT = "support@example.com"
CUSTOMERS = 10


def _burst() -> tuple[list[tuple[str, EmailMessage]], bytes]:
    """30 mails (10 originals, each with two replies right behind it) and a malformed one."""
    mails: list[tuple[str, EmailMessage]] = []
    for i in range(CUSTOMERS):
        sender = f"c{i}@d{i}.example.org"
        original = new_request(sender=sender, subject=f"Burst {i}", name=f"Customer {i}")
        first = reply("gmail", original, f"More about {i}.", sender=sender)
        second = reply("outlook", first, f"Still about {i}.", sender=sender)
        mails += [(sender, original), (sender, first), (sender, second)]
    # No From header, and no envelope sender (MAIL FROM:<>): nobody to file it under.
    malformed = b"To: support@example.com\r\nSubject: who am I\r\n\r\nno sender at all\r\n"
    return mails, malformed


def _send(address: tuple[str, int], mails: list[tuple[str, EmailMessage]], bad: bytes) -> None:
    """Everything on one connection, back to back, the malformed mail in the middle."""
    with smtplib.SMTP(*address, timeout=30) as client:
        for n, (sender, mail) in enumerate(mails):
            assert client.sendmail(sender, [SUPPORT], mail.as_bytes()) == {}
            if n == len(mails) // 2:
                assert client.sendmail("", [SUPPORT], bad) == {}


def _settled(rt: Runtime, expected: int) -> bool:
    with rt.sessions() as s:
        total = s.scalar(select(func.count()).select_from(InboxItem)) or 0
        pending = s.scalar(select(func.count()).where(InboxItem.status == "pending")) or 0
    return total == expected and pending == 0


def _assert_threaded(rt: Runtime, mails: list[tuple[str, EmailMessage]]) -> None:
    with rt.sessions() as s:
        items = s.scalars(select(InboxItem).order_by(InboxItem.id)).all()
        failed = [i for i in items if i.status == "failed"]
        assert len(failed) == 1, "the malformed mail, and only it, is parked"
        assert b"who am I" in failed[0].raw
        assert sorted(i.status for i in items if i is not failed[0]) == ["done"] * len(mails)

        tickets = s.scalars(select(Ticket)).all()
        assert sorted(t.subject for t in tickets) == sorted(f"Burst {i}" for i in range(CUSTOMERS))
        subject_of = {t.id: t.subject for t in tickets}
        inbound = s.execute(
            select(Message.email_message_id, Message.ticket_id).where(Message.direction == "in")
        ).all()
        ticket_of = {(mid or "").strip("<>"): ticket_id for mid, ticket_id in inbound}
    # Each customer's original and both replies on that customer's one ticket.
    for n, (_, mail) in enumerate(mails):
        mid = str(mail["Message-ID"]).strip("<>")
        assert subject_of[ticket_of[mid]] == f"Burst {n // 3}", f"mail {n} ({mail['Subject']})"


@pytest.fixture
def serve_env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "TICKETGW_SMTP_LISTEN": f"127.0.0.1:{free_port()}"}


@pytest.fixture
def serve_runtime(serve_env: dict[str, str]) -> Iterator[Runtime]:
    rt = open_runtime(load_settings(serve_env), migrate=True)
    yield rt
    rt.close()


def test_a_burst_through_serve_is_processed_and_threaded(
    serve_env: dict[str, str], serve_runtime: Runtime
) -> None:
    mails, malformed = _burst()
    server = start_serve(serve_env)
    try:
        _send(("127.0.0.1", int(serve_env["TICKETGW_SMTP_LISTEN"].rpartition(":")[2])),
              mails, malformed)  # fmt: skip
        wait_until(lambda: _settled(serve_runtime, len(mails) + 1), timeout=120,
                   what="every accepted mail processed")  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    _assert_threaded(serve_runtime, mails)


def test_a_burst_through_the_in_process_gateway(listener_env: dict[str, str]) -> None:
    mails, malformed = _burst()
    runtime = open_runtime(load_settings(listener_env), migrate=True)
    try:
        with BackgroundGateway(runtime, sweep_seconds=0.5) as gw:
            _send(gw.smtp_address, mails, malformed)
            assert gw.processor.wait_idle(60)
            assert _settled(runtime, len(mails) + 1), "wait_idle returned with mail pending"
        _assert_threaded(runtime, mails)
    finally:
        runtime.close()


def test_ids_queued_while_busy_go_in_one_batch_in_order(runtime: Runtime) -> None:
    """A lone id is taken at once; the ids queued behind a batch become the next, sorted."""
    batches: list[list[tuple[int, str]]] = []
    busy, release = threading.Event(), threading.Event()

    def hold_first(outcomes: Sequence[ItemOutcome]) -> None:
        batches.append([(o.item_id, o.status) for o in outcomes])
        if len(batches) == 1:
            busy.set()
            release.wait(60)

    def accept(n: int) -> int:
        raw = new_request(subject=f"queued {n}").as_bytes()
        with runtime.transaction() as s:
            return inbox.accept(
                s, raw, channel="email", source="smtp", dedupe_key=inbox.mail_dedupe_key(raw)
            ).item_id

    processor = InboxProcessor(runtime, sweep_seconds=3600, on_batch=hold_first)
    processor.start()
    try:
        assert processor.wait_idle(30), "the sweep on start, of an empty inbox"
        first = accept(0)
        processor.submit(first)
        assert busy.wait(60), "the lone mail is processed without waiting for more"
        rest = [accept(n) for n in range(1, 6)]
        for item_id in reversed(rest):
            processor.submit(item_id)
        release.set()
        assert processor.wait_idle(60)
    finally:
        release.set()
        processor.stop()
    assert batches == [[(first, "done")], [(i, "done") for i in sorted(rest)]]
