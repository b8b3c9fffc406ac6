"""``ticketgw outbox`` and ``ticketgw worker`` as an admin uses them."""

from __future__ import annotations

import json

from aiosmtpd.controller import Controller

from gateway.runtime import Runtime
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
