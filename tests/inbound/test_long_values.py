"""Long values (addresses, Message-IDs, file names, subjects) through ``serve`` and ``mail ingest``.

A From address of about 250 characters is legal (RFC 5321 allows 254); a Message-ID,
a file name or a subject can be as long as a sender likes. None of them may make a write
fail: keys and stored strings are bounded by construction, and every write that belongs
to a mail happens inside that mail's savepoint. Checked as a user would: every mail is
processed (none pending or failed), a reply to the mail with the long Message-ID lands on
its ticket, and the long address gets its acknowledgement.
"""

from __future__ import annotations

import json
import signal
import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from admin_cli.main import cli
from gateway.config import load_settings
from gateway.runtime import Runtime, open_runtime
from schema.models import Attachment, InboxItem, Message, OutboxItem, Ticket
from tests.waiting import free_port, start_serve, wait_until

SUPPORT = "support@example.com"
# 64 + 1 + 185 = 250 characters: under RFC 5321's 254.
LONG_ADDRESS = "l" * 64 + "@" + ".".join(["d" * 60, "e" * 60, "f" * 55]) + ".example.org"
LONG_NAME = "Name " * 100
# SMTP carries lines of up to 1,000 characters, and a Message-ID cannot be folded; a file
# has no such limit.
SMTP_MID = "m" * 960 + "@long.example.org"
FILE_MID = "m" * 1100 + "@long.example.org"
LONG_SUBJECT = "\r\n ".join(["Subject " * 10] * 40)  # folded, as mailers write it
LONG_FILENAME = "report-" + "x" * 700 + ".pdf"


def _mail(sender: str, subject: str, mid: str, *, name: str = "", extra: str = "") -> bytes:
    head = (
        f"From: {name} <{sender}>\r\n" if name else f"From: {sender}\r\n"
    ) + f"To: {SUPPORT}\r\nSubject: {subject}\r\nMessage-ID: <{mid}>\r\n{extra}"
    return (head + "Content-Type: text/plain\r\n\r\nPlease help.\r\n").encode()


def _with_attachment(sender: str) -> bytes:
    # RFC 2231 continuations, as mailers write long names.
    pieces = [LONG_FILENAME[i : i + 60] for i in range(0, len(LONG_FILENAME), 60)]
    params = "".join(f';\r\n filename*{n}="{p}"' for n, p in enumerate(pieces))
    return (
        f"From: {sender}\r\nTo: {SUPPORT}\r\nSubject: with a file\r\n"
        "Message-ID: <file.1@example.org>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nSee the file.\r\n"
        f"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment{params}\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n"
    ).encode()


def _mails(long_mid: str) -> list[tuple[str, bytes]]:
    """(envelope sender, raw mail), in sending order: four new tickets and one reply."""
    return [
        (LONG_ADDRESS, _mail(LONG_ADDRESS, "long address", "addr.1@example.org", name=LONG_NAME)),
        ("carol@example.org", _mail("carol@example.org", "long Message-ID", long_mid)),
        ("dave@example.org", _mail("dave@example.org", LONG_SUBJECT, "subject.1@example.org")),
        ("erin@example.org", _with_attachment("erin@example.org")),
        (
            "carol@example.org",
            _mail(
                "carol@example.org",
                "Re: long Message-ID",
                "reply.1@example.org",
                extra=f"In-Reply-To: <{long_mid}>\r\nReferences:\r\n <{long_mid}>\r\n",
            ),
        ),
    ]


def _settled(rt: Runtime, expected: int) -> bool:
    with rt.sessions() as s:
        total = s.scalar(select(func.count()).select_from(InboxItem)) or 0
        pending = s.scalar(select(func.count()).where(InboxItem.status == "pending")) or 0
    return total == expected and pending == 0


def _assert_stored(rt: Runtime) -> None:
    with rt.sessions() as s:
        items = s.scalars(select(InboxItem).order_by(InboxItem.id)).all()
        assert [(i.status, i.failed_step, i.reason) for i in items] == [("done", None, None)] * 5
        assert s.scalar(select(func.count()).select_from(Ticket)) == 4
        ticket_of = {
            m.subject: m.ticket_id for m in s.scalars(select(Message)).all() if m.direction == "in"
        }
        assert ticket_of["Re: long Message-ID"] == ticket_of["long Message-ID"]
        # The long address's acknowledgement is written, exactly once.
        acks = select(OutboxItem).where(OutboxItem.recipient == LONG_ADDRESS)
        assert [row.template for row in s.scalars(acks)] == ["ack"]
        [attachment] = s.scalars(select(Attachment)).all()
        assert attachment.filename.startswith("report-xxxx")
        subjects = s.scalars(select(Ticket.subject)).all()
        assert any(subject.startswith("Subject Subject") for subject in subjects)


@pytest.fixture
def serve_env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "TICKETGW_SMTP_LISTEN": f"127.0.0.1:{free_port()}"}


@pytest.fixture
def serve_runtime(serve_env: dict[str, str]) -> Iterator[Runtime]:
    rt = open_runtime(load_settings(serve_env), migrate=True)
    yield rt
    rt.close()


def test_long_values_through_serve(serve_env: dict[str, str], serve_runtime: Runtime) -> None:
    server = start_serve(serve_env)
    try:
        port = int(serve_env["TICKETGW_SMTP_LISTEN"].rpartition(":")[2])
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
            for sender, raw in _mails(SMTP_MID):
                assert client.sendmail(sender, [SUPPORT], raw) == {}
        wait_until(lambda: _settled(serve_runtime, 5), timeout=120, what="every mail processed")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    _assert_stored(serve_runtime)


def test_long_values_through_mail_ingest(
    env: dict[str, str], runtime: Runtime, tmp_path: Path
) -> None:
    # A folder path far longer than the inbox's ``source`` column.
    folder = tmp_path.joinpath(*["a-rather-long-folder-name-" + "n" * 60] * 8)
    folder.mkdir(parents=True)
    for n, (_, raw) in enumerate(_mails(FILE_MID)):
        (folder / f"{n:02d}-{'f' * 200}.eml").write_bytes(raw)
    run = CliRunner().invoke(cli, ["mail", "ingest", str(folder), "--json"], env=env)
    assert "Traceback" not in run.stdout + run.stderr
    assert run.exception is None or isinstance(run.exception, SystemExit), run.exception
    assert run.exit_code == 0, run.stderr
    counts = json.loads(run.stdout)
    assert counts["mails"] == 5
    assert counts["failed"] == 0
    assert counts["new_tickets"] == 4
    assert counts["replies"] == 1
    _assert_stored(runtime)
