"""``ticketgw outbox`` and ``ticketgw worker`` as an admin uses them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from gateway.runtime import Runtime
from schema.models.base import utcnow
from tests.waiting import wait_until
from tests.workers.conftest import AddRows, Ticketgw, Workers, row
from tests.workers.sink import Recorder


def test_list_filters_by_status_and_prints_json(
    runtime: Runtime, add_rows: AddRows, ticketgw: Ticketgw
) -> None:
    pending = add_rows(2)
    [dead] = add_rows(1, status="dead", attempts=8, last_error="gave up: 451 busy")
    table = ticketgw("outbox", "list")
    assert table.exit_code == 0
    assert "gave up: 451 busy" in table.stdout
    records = json.loads(ticketgw("outbox", "list", "--status", "dead", "--json").stdout)
    assert [r["id"] for r in records] == [dead]
    assert records[0]["attempts"] == 8
    everything = json.loads(ticketgw("outbox", "list", "--json").stdout)
    assert [r["id"] for r in everything] == [dead, *reversed(pending)]


def test_list_refuses_an_unknown_status(ticketgw: Ticketgw, runtime: Runtime) -> None:
    run = ticketgw("outbox", "list", "--status", "lost")
    assert run.exit_code == 2
    assert run.stderr.startswith("error: unknown outbox status 'lost'")


def test_show_prints_the_row_and_a_rendered_preview(
    runtime: Runtime, add_rows: AddRows, ticketgw: Ticketgw
) -> None:
    [row_id] = add_rows(1, status="failed", last_error="550 no such mailbox", attempts=1)
    record = json.loads(ticketgw("outbox", "show", str(row_id), "--json").stdout)
    assert record["status"] == "failed"
    assert record["last_error"] == "550 no such mailbox"
    assert "Subject: [T-000123]" in record["preview"]
    text = ticketgw("outbox", "show", str(row_id)).stdout
    assert "last_error: 550 no such mailbox" in text
    assert "X-Loop: ticket-gateway" in text


def test_show_explains_a_row_that_cannot_render(
    runtime: Runtime, add_rows: AddRows, ticketgw: Ticketgw
) -> None:
    [row_id] = add_rows(1, template="gone")
    record = json.loads(ticketgw("outbox", "show", str(row_id), "--json").stdout)
    assert record["preview"] is None
    assert "gone" in record["preview_error"]


def test_show_and_retry_refuse_unknown_or_live_rows(
    runtime: Runtime, add_rows: AddRows, ticketgw: Ticketgw
) -> None:
    [pending] = add_rows(1)
    missing = ticketgw("outbox", "show", "999")
    assert (missing.exit_code, missing.stderr) == (2, "error: no outbox row 999\n")
    live = ticketgw("outbox", "retry", str(pending))
    assert live.exit_code == 2
    assert "only failed or dead rows are retried" in live.stderr
    assert ticketgw("outbox", "retry").exit_code == 2


def test_retry_brings_a_dead_row_back_and_it_is_delivered(
    runtime: Runtime,
    add_rows: AddRows,
    ticketgw: Ticketgw,
    workers: Workers,
    sink: tuple[Recorder, Controller],
) -> None:
    [dead] = add_rows(1, status="dead", attempts=8, last_error="gave up")
    [failed] = add_rows(1, status="failed", attempts=1, last_error="550")
    workers()  # sweeps every 0.2 s: finds what the CLI put back
    assert ticketgw("outbox", "retry", str(failed)).stdout == (
        f"outbox row {failed} back to pending\n"
    )
    assert ticketgw("outbox", "retry", "--all-dead").stdout == "1 dead rows back to pending\n"
    wait_until(lambda: {row(runtime, dead).status, row(runtime, failed).status} == {"sent"})
    assert row(runtime, dead).attempts == 1
    assert len(sink[0].messages) == 2


def test_worker_without_redis_is_refused(ticketgw: Ticketgw) -> None:
    run = ticketgw("worker")
    assert run.exit_code == 2
    assert run.stderr == (
        "error: TICKETGW_REDIS_URL is not set: the embedded default runs workers inside"
        " `ticketgw serve`\n"
    )


def test_bulk_retry_counts_asks_and_sends_at_once_without_redis(
    runtime: Runtime,
    add_rows: AddRows,
    ticketgw: Ticketgw,
    sink: tuple[Recorder, Controller],
) -> None:
    recorder, controller = sink
    relay = {"TICKETGW_SMTP_RELAY": f"127.0.0.1:{controller.port}"}  # no Redis, no workers
    parked = {"status": "failed", "attempts": 1, "last_error": "550 relay misconfigured"}
    chosen = add_rows(3, **parked)
    other_address = add_rows(1, recipient="dave@example.org", **parked)
    long_ago = add_rows(1, updated_at=utcnow() - timedelta(hours=3), **parked)
    dead = add_rows(1, status="dead", attempts=8)
    args = ("outbox", "retry", "--status", "failed", "--since", "2h", "--to", "Carol@example.org")

    declined = ticketgw(*args, input="n\n", **relay)
    assert declined.exit_code == 1
    assert "Retry 3 failed rows from the last 2h to Carol@example.org? [y/N]" in declined.stdout
    assert {row(runtime, i).status for i in chosen} == {"failed"}

    run = ticketgw(*args, input="y\n", **relay)
    assert run.exit_code == 0, run.stderr
    assert run.stdout.endswith("3 failed rows back to pending\nsent from here: 3 sent\n")
    assert [row(runtime, i).status for i in chosen] == ["sent"] * 3
    assert len(recorder.messages) == 3
    untouched = [row(runtime, i).status for i in (*other_address, *long_ago, *dead)]
    assert untouched == ["failed", "failed", "dead"]

    scripted = ticketgw("outbox", "retry", "--status", "failed", "--yes", **relay)
    assert scripted.stdout == "2 failed rows back to pending\nsent from here: 2 sent\n"
    nothing = ticketgw("outbox", "retry", "--status", "failed", "--to", "x@example.org")
    assert (nothing.exit_code, nothing.stdout) == (
        0,
        "no failed rows to x@example.org: nothing to retry\n",
    )


def test_one_retried_row_goes_out_at_once_without_redis(
    runtime: Runtime, add_rows: AddRows, ticketgw: Ticketgw, sink: tuple[Recorder, Controller]
) -> None:
    [failed] = add_rows(1, status="failed", attempts=1, last_error="550")
    run = ticketgw("outbox", "retry", str(failed), TICKETGW_SMTP_RELAY=f"127.0.0.1:{sink[1].port}")
    assert run.stdout == f"outbox row {failed} back to pending\nsent from here: 1 sent\n"
    assert row(runtime, failed).status == "sent"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--status", "sent"), "Invalid value for '--status'"),
        (("--status", "failed", "--since", "soon"), "bad duration 'soon'"),
        (("1", "--status", "failed"), "give either ID, or --status"),
        (("1", "--to", "a@example.org"), "--since and --to go with --status"),
        ((), "give either ID, or --status"),
    ],
)
def test_bulk_retry_refuses_bad_usage(
    runtime: Runtime, ticketgw: Ticketgw, args: tuple[str, ...], error: str
) -> None:
    run = ticketgw("outbox", "retry", *args)
    assert run.exit_code == 2
    assert error in run.stderr
