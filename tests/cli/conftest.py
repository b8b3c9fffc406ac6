"""Fixtures for the ``ticketgw`` command: run it in-process on the test database.

``ticketgw`` runs the real click entry point with the test's ``TICKETGW_*`` settings in
the environment (CliRunner merges them into ``os.environ``, where the command reads its
settings), and hands back what a user would see: exit code, stdout and stderr.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from click.testing import CliRunner

from admin_cli.main import cli
from gateway import audit, queues, tickets
from gateway.contacts import contact_for_email, contact_for_phone
from gateway.runtime import Runtime
from gateway.tickets import NewMessage


@dataclass(frozen=True, slots=True)
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


Ticketgw = Callable[..., Run]


@pytest.fixture
def ticketgw(env: dict[str, str]) -> Ticketgw:
    """Run ``ticketgw ARGS...`` in-process; exceptions that escape click fail the test."""
    runner = CliRunner()

    def run(*args: str) -> Run:
        result = runner.invoke(cli, list(args), env=env, catch_exceptions=False)
        return Run(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture
def gw(runtime: Runtime, ticketgw: Ticketgw) -> Ticketgw:
    """``ticketgw`` on a database seeded like a fresh install (default queue, policies)."""
    return ticketgw


def assert_ok(run: Run) -> Run:
    assert run.exit_code == 0, run.stderr
    assert run.stderr == ""
    return run


def assert_fails(run: Run, exit_code: int, message: str) -> None:
    """One line on stderr, ``error: ...`` containing ``message``, the right exit code."""
    assert "Traceback" not in run.stdout + run.stderr
    assert run.exit_code == exit_code, (run.exit_code, run.stderr)
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0], lines[0]


def make_ticket(
    runtime: Runtime,
    sender: str = "carol@example.org",
    subject: str = "Cannot log in",
    *,
    text: str = "Please help.",
    message_id: str | None = None,
    now: datetime | None = None,
) -> str:
    """Open a ticket with one customer message, as the gateway would; return its reference."""
    sms = sender.startswith("+")
    with runtime.transaction() as session:
        contact = (contact_for_phone if sms else contact_for_email)(session, sender)
        ticket = tickets.open_ticket(
            session,
            queue=queues.get_queue(session, queues.DEFAULT_QUEUE),
            contact=contact,
            subject=subject,
            channel="sms" if sms else "email",
            actor=audit.customer_actor(sender),
            now=now,
        )
        tickets.add_message(
            session,
            ticket,
            NewMessage(
                author_kind="customer",
                channel="sms" if sms else "email",
                visible_text=text,
                subject=subject,
                sender=sender,
                contact=contact,
                email_message_id=message_id,
            ),
            now=now,
        )
        return ticket.reference
