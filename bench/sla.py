"""Benchmark: the SLA safety scan and deadline computation on 100,000 open tickets.

Run: ``.venv/bin/python bench/sla.py [--tickets 100000] [--due 1000] [--runs 3]``.
Creates its own PostgreSQL database (on ``TICKETGW_TEST_PG_URL``, default the local socket)
and drops it at the end. Prints, median of ``--runs``:

1. deadline computation: both deadlines of every ticket with the pure
   ``gateway.sla.plans.compute_deadlines`` on an office-hours policy (Mon-Fri 09:00-17:00
   Berlin), in tickets/s (target: at least 50,000);
   and per CPU-second (on a loaded machine the wall-clock rate says more about the
   load than about the code);
2. finding what is due: the scan's claim query (``gateway.sla.scan.due_query``, with
   ``FOR UPDATE SKIP LOCKED``) locking all ``--due`` due tickets among the 100,000
   (target: under 1 s), with the EXPLAIN of one claim batch to show the index at work;
3. a whole scan pass over the due tickets: claims, checks and writes the escalations
   and their outbox rows (reset between runs).

The tickets are written with COPY, their next moments planned with
``gateway.sla.levels.moments`` as the scan would.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import create_pg_database, drop_pg_database  # noqa: E402
from gateway.agents import add_agent  # noqa: E402
from gateway.config import load_settings  # noqa: E402
from gateway.contacts import contact_for_email  # noqa: E402
from gateway.queues import DEFAULT_QUEUE, get_queue  # noqa: E402
from gateway.runtime import Runtime, open_runtime  # noqa: E402
from gateway.sla.levels import moments  # noqa: E402
from gateway.sla.plans import SlaPlan, compute_deadlines, plan_from  # noqa: E402
from gateway.sla.policies import set_policy  # noqa: E402
from gateway.sla.scan import TICKETS_PER_CLAIM, due_query, scan  # noqa: E402
from schema.models import SlaPolicy  # noqa: E402

NOW = datetime(2026, 12, 9, 14, 0, tzinfo=UTC)  # a Wednesday afternoon in Berlin
SPREAD = timedelta(days=14)  # tickets opened over the last two weeks


def _created(i: int, n: int) -> datetime:
    # Spread evenly, at odd minutes, so the calendar sees every day and time of day.
    return NOW - SPREAD + SPREAD * i / n + timedelta(seconds=(i * 7919) % 3600)


def time_deadlines(plan: SlaPlan, n: int) -> tuple[float, float]:
    """Wall and CPU seconds to compute both deadlines of ``n`` tickets.

    The results are not kept: holding 100,000 of them made the garbage collector's
    passes grow with the list, which a scan that computes and writes never pays.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        created = _created(i, n)
        compute_deadlines(created, plan)
    return time.perf_counter() - wall, time.process_time() - cpu


def deadlines_of(plan: SlaPlan, n: int) -> list[tuple[datetime, ...]]:
    """``(created, first response due, resolution due)`` of ``n`` tickets, to load."""
    rows = []
    for i in range(n):
        created = _created(i, n)
        rows.append((created, *compute_deadlines(created, plan)))
    return rows


def next_moments(
    plan: SlaPlan, rows: list[tuple[datetime, ...]], due: int
) -> list[datetime | None]:
    """Each ticket's next moment as the scan plans it; ``due`` of them at or before NOW."""
    calendar = plan.calendar
    planned: list[datetime | None] = []
    for i, (created, first, resolution) in enumerate(rows):
        if i < due:  # due now: its moment has just come
            planned.append(NOW - timedelta(seconds=1 + i % 60))
            continue
        levels = moments("first_response", created, first, 80, calendar) + moments(
            "resolution", created, resolution, 80, calendar
        )
        future = [m.at for m in levels if m.at > NOW]
        planned.append(min(future) if future else None)
    return planned


def load(
    runtime: Runtime, rows: list[tuple[datetime, ...]], planned: list[datetime | None]
) -> None:
    """COPY the tickets in, and keep their plan to reset between scan runs."""
    with runtime.transaction() as session:
        queue = get_queue(session, DEFAULT_QUEUE)
        contact = contact_for_email(session, "carol@example.org", "Carol Customer")
        policy = session.query(SlaPolicy).filter_by(priority="normal").one()
        queue_id, contact_id, policy_id = queue.id, contact.id, policy.id
    raw = runtime.engine.raw_connection()
    try:
        cursor = raw.cursor()
        columns = (
            "id, queue_id, subject, status, priority, channel, contact_id, sla_policy_id, "
            "first_response_due_at, resolution_due_at, sla_next_check_at, created_at, updated_at"
        )
        with cursor.copy(f"COPY tickets ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for i, ((created, first, resolution), next_at) in enumerate(
                zip(rows, planned, strict=True), 1
            ):
                copy.write_row(
                    (
                        i,
                        queue_id,
                        f"Case {i}",
                        "open",
                        "normal",
                        "email",
                        contact_id,
                        policy_id,
                        first,
                        resolution,
                        next_at,
                        created,
                        created,
                    )
                )
        cursor.execute("SELECT setval(pg_get_serial_sequence('tickets', 'id'), %s)", (len(rows),))
        cursor.execute("CREATE TABLE bench_plan AS SELECT id, sla_next_check_at FROM tickets")
        cursor.execute("ANALYZE tickets")
        raw.commit()
    finally:
        raw.close()


def reset(runtime: Runtime) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(text("DELETE FROM sla_escalations"))
        conn.execute(text("DELETE FROM known_message_ids WHERE outbound"))
        conn.execute(text("DELETE FROM outbox"))
        conn.execute(
            text(
                "UPDATE tickets t SET sla_next_check_at = p.sla_next_check_at FROM bench_plan p"
                " WHERE p.id = t.id AND t.sla_next_check_at IS DISTINCT FROM p.sla_next_check_at"
            )
        )


def find_due(runtime: Runtime) -> tuple[float, int]:
    """Seconds for the claim query to lock every due ticket at once (rolled back); how many."""
    with runtime.sessions() as session, session.begin():
        started = time.perf_counter()
        ids = list(session.scalars(due_query(NOW, 10**9).with_for_update(skip_locked=True)))
        seconds = time.perf_counter() - started
        session.rollback()
    return seconds, len(ids)


def explain(runtime: Runtime) -> str:
    query = due_query(NOW, TICKETS_PER_CLAIM).with_for_update(skip_locked=True)
    compiled = query.compile(runtime.engine, compile_kwargs={"literal_binds": True})
    with runtime.engine.connect() as conn:
        lines = conn.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).scalars()
        return "\n".join(f"    {line}" for line in lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    url = create_pg_database()
    env = {"TICKETGW_DATABASE_URL": url, "TICKETGW_SUPPORT_ADDRESS": "support@example.com"}
    runtime = open_runtime(load_settings(env), migrate=True)
    try:
        with runtime.transaction() as session:
            set_policy(
                session,
                "normal",
                priority="normal",
                first_response="4h",
                resolution="2d",
                hours="Mon-Fri 09:00-17:00",
                tz="Europe/Berlin",
            )
            add_agent(session, "ann@example.com", "Ann Agent")
            policy = session.query(SlaPolicy).filter_by(priority="normal").one()
            texts = (policy.business_hours, policy.timezone, policy.first_response)
            texts += (policy.resolution,)

        walls, cpus = [], []
        for run in range(args.runs):
            # A fresh plan each run: its calendar starts with no days worked out.
            plan_from.cache_clear()
            wall, cpu = time_deadlines(plan_from(*texts, frozenset()), args.tickets)
            walls.append(args.tickets / wall)
            cpus.append(args.tickets / cpu)
            print(
                f"deadlines, run {run + 1}: {walls[-1]:,.0f} tickets/s"
                f" ({cpus[-1]:,.0f} per CPU-second)"
            )
        print(
            f"deadline computation, median: {statistics.median(walls):,.0f} tickets/s,"
            f" {statistics.median(cpus):,.0f} per CPU-second (target >= 50,000)"
        )
        plan = plan_from(*texts, frozenset())
        rows = deadlines_of(plan, args.tickets)

        started = time.perf_counter()
        load(runtime, rows, next_moments(plan, rows, args.due))
        print(f"\nloaded {args.tickets:,} open tickets in {time.perf_counter() - started:.1f} s")

        finds = []
        for run in range(args.runs):
            seconds, found = find_due(runtime)
            finds.append(seconds)
            print(
                f"finding what is due, run {run + 1}: {found} of {args.tickets:,} tickets"
                f" in {seconds * 1000:.1f} ms"
            )
        print(
            f"finding what is due, median: {statistics.median(finds) * 1000:.1f} ms (target < 1 s)"
        )
        print("\nEXPLAIN ANALYZE of one claim (a batch of the due tickets):")
        print(explain(runtime))

        passes = []
        for run in range(args.runs):
            reset(runtime)
            started = time.perf_counter()
            report = scan(runtime, NOW)
            passes.append(time.perf_counter() - started)
            print(
                f"\nscan pass, run {run + 1}: {report.checked} tickets checked,"
                f" {len(report.raised)} levels raised in {passes[-1]:.2f} s"
            )
        print(f"scan pass, median: {statistics.median(passes):.2f} s for {args.due} due tickets")
    finally:
        runtime.close()
        drop_pg_database(url)


if __name__ == "__main__":
    main()
