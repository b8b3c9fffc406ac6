"""Exactly once under concurrency: racing workers, and a worker killed mid-send."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from gateway.agents import add_agent
from gateway.outbox.relay import relay_pending
from gateway.runtime import Runtime
from gateway.sla.policies import set_policy
from schema.models import Ticket
from schema.models.base import utcnow
from tests.cli.conftest import make_ticket
from tests.conftest import BACKEND
from tests.waiting import wait_until
from tests.workers.conftest import AddRows, Workers, statuses
from tests.workers.sink import Recorder
from workers.enqueue import to_broker

ROOT = Path(__file__).resolve().parents[2]
Sink = tuple[Recorder, Controller]


def test_two_workers_racing_over_200_rows_send_each_once(
    runtime: Runtime, add_rows: AddRows, workers: Workers, sink: Sink
) -> None:
    recorder, _ = sink
    add_rows(200)
    one, two = workers(threads=4), workers(threads=4)
    for broker in (one, two):
        # Both relays enqueue every row: 400 messages for 200 rows, on two brokers.
        relay_pending(runtime.sessions, to_broker(broker))
    wait_until(lambda: statuses(runtime) == {"sent": 200}, 60, "200 rows sent")
    counts = recorder.message_ids()
    assert len(counts) == 200
    assert set(counts.values()) == {1}


@pytest.fixture
def spawn_worker(worker_env: dict[str, str], namespace: str) -> Iterator[object]:
    """Start ``ticketgw worker`` subprocesses in their own process groups; kill them at the end."""
    procs: list[subprocess.Popen[bytes]] = []

    def spawn(*extra: str) -> subprocess.Popen[bytes]:
        args = ["worker", "--threads", "4", "--namespace", namespace, "--lease", "3"]
        args += ["--sweep-every", "0.2", "--backoff-base", "0.1", *extra]
        proc = subprocess.Popen(
            [sys.executable, "-m", "admin_cli.main", *args],
            cwd=ROOT,
            env={**os.environ, **worker_env},
            start_new_session=True,
        )
        procs.append(proc)
        return proc

    yield spawn
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.mark.skipif(
    BACKEND == "sqlite", reason="several writer processes on one SQLite file: PostgreSQL only"
)
def test_a_worker_killed_mid_send_loses_and_doubles_nothing(
    runtime: Runtime, add_rows: AddRows, sink: Sink, spawn_worker: object
) -> None:
    recorder, controller = sink
    recorder.accept_before_hold = 10  # then the sink holds mails at DATA, unanswered
    add_rows(40)
    first = spawn_worker()  # type: ignore[operator]
    wait_until(lambda: len(recorder.messages) == 10 and recorder.held >= 2, 30, "sends held")
    assert statuses(runtime).get("sending", 0) >= 2
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    # The dead worker's connections drop; the sink never answered them, so no mail.
    wait_until(lambda: recorder.held == 0, 10, "held sends to be dropped")
    recorder.release(controller)
    spawn_worker()  # type: ignore[operator]
    wait_until(lambda: statuses(runtime) == {"sent": 40}, 60, "all 40 rows sent")
    counts = recorder.message_ids()
    assert len(counts) == 40
    assert set(counts.values()) == {1}


@pytest.mark.skipif(
    BACKEND == "sqlite", reason="several writer processes on one SQLite file: PostgreSQL only"
)
def test_two_worker_processes_schedule_slas_and_escalate_each_level_once(
    runtime: Runtime, sink: Sink, spawn_worker: object
) -> None:
    recorder, _ = sink
    with runtime.transaction() as session:
        set_policy(session, "normal", priority="normal", first_response="1h", resolution="8h")
        add_agent(session, "mia@example.com", "Mia Manager", role="manager")
    # On the real clock: opened 100 minutes ago, so its first response is 167% late.
    make_ticket(runtime, subject="Late one", now=utcnow() - timedelta(minutes=100))
    for _ in range(2):
        spawn_worker("--sla-scan-every", "1")  # type: ignore[operator]
    wait_until(lambda: _escalations(recorder), 60, "the escalation mail")
    # A second late ticket: by the time its mail is in, both schedulers scanned again.
    make_ticket(runtime, subject="Later one", now=utcnow() - timedelta(minutes=100))
    wait_until(lambda: len(_escalations(recorder)) >= 2, 60, "the second escalation")
    assert sorted(_escalations(recorder)) == [
        "[T-000001] SLA breached at 150%: first response was due "
        + _due_text(runtime, 1)
        + " (normal)",
        "[T-000002] SLA breached at 150%: first response was due "
        + _due_text(runtime, 2)
        + " (normal)",
    ]


def _escalations(recorder: Recorder) -> list[str]:
    return [str(m["Subject"]) for m in recorder.messages if "] SLA " in str(m["Subject"])]


def _due_text(runtime: Runtime, ticket_id: int) -> str:
    with runtime.sessions() as session:
        due = session.get_one(Ticket, ticket_id).first_response_due_at
    assert due is not None
    return due.strftime("%Y-%m-%d %H:%M UTC")
