"""A real crash: `ticketgw serve` killed with SIGKILL right after accepting mail.

Whatever it had accepted (250 given) must be processed after the restart, exactly once;
mail the client sends again because it never saw the 250 must not be doubled.
"""

from __future__ import annotations

import os
import signal
import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.config import load_settings
from gateway.runtime import Runtime, open_runtime
from schema.models import InboxItem, Message
from tests.inbound.mails import new_request
from tests.waiting import free_port, start_serve, wait_until


@pytest.fixture
def serve_env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "TICKETGW_SMTP_LISTEN": f"127.0.0.1:{free_port()}"}


def _children(pid: int) -> list[int]:
    """Child process ids (Linux /proc), once serve has started its processing child."""

    def read() -> list[int]:
        path = Path(f"/proc/{pid}/task/{pid}/children")
        return [int(x) for x in path.read_text().split()] if path.exists() else []

    found: list[int] = wait_until(read, timeout=20, what="serve's processing child")
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")  # a zombie is gone


@pytest.fixture
def runtime_of(serve_env: dict[str, str]) -> Iterator[Runtime]:
    rt = open_runtime(load_settings(serve_env), migrate=True)
    yield rt
    rt.close()


def _counts(rt: Runtime) -> tuple[int, int, int]:
    with rt.sessions() as s:
        pending = s.scalar(select(func.count()).where(InboxItem.status == "pending")) or 0
        done = s.scalar(select(func.count()).where(InboxItem.status == "done")) or 0
        messages = s.scalar(select(func.count()).select_from(Message)) or 0
    return pending, done, messages


def test_sigkill_after_accepting_loses_and_doubles_nothing(
    serve_env: dict[str, str], runtime_of: Runtime
) -> None:
    port = int(serve_env["TICKETGW_SMTP_LISTEN"].rpartition(":")[2])
    mails = [new_request(sender=f"c{i}@d{i}.example.org", subject=f"crash {i}") for i in range(30)]
    server = start_serve(serve_env)
    children = _children(server.pid)  # fails the test unless serve has a processing child
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            for mail in mails:
                client.send_message(mail)
            os.kill(server.pid, signal.SIGKILL)  # right after the last 250
    finally:
        server.kill()
        server.wait(timeout=10)
    # The orphaned processing child notices its parent is gone and exits on its own.
    wait_until(lambda: not any(_alive(pid) for pid in children), timeout=20,
               what="the processing child of the killed serve to exit")  # fmt: skip
    accepted = len(mails)
    server = start_serve(serve_env)
    try:
        wait_until(lambda: _counts(runtime_of)[:2] == (0, accepted), timeout=60,
                   what="every accepted mail processed after the restart")  # fmt: skip
        # The client never saw some 250s, say, and sends the last ten again.
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            for mail in mails[-10:]:
                client.send_message(mail)
        # Duplicates are answered at DATA ("already have it"): no new inbox item appears.
        assert _counts(runtime_of) == (0, accepted, accepted)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
