"""Benchmark: ``sla report``, ``stats`` and ``tickets list --breached`` on many tickets.

Run: ``.venv/bin/python bench/reports.py [--tickets 100000] [--runs 3]``.
Creates its own PostgreSQL database (on ``TICKETGW_TEST_PG_URL``, default the local socket)
and drops it at the end. The tickets are spread over 30 days, across 10 agents and the
four default policies (``normal`` on office hours, so its times are business-hours
arithmetic); a third are still open, a quarter of the resolved ones asked for a rating.
Prints the seconds each report took per run, and the median.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import create_pg_database, drop_pg_database  # noqa: E402
from gateway.config import load_settings  # noqa: E402
from gateway.export import find_tickets  # noqa: E402
from gateway.reports.sla_report import sla_report  # noqa: E402
from gateway.reports.stats import stats  # noqa: E402
from gateway.runtime import Runtime, open_runtime  # noqa: E402
from gateway.sla.policies import set_policy  # noqa: E402
from schema.models import Agent, Contact, Queue, SlaPolicy, Ticket  # noqa: E402

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
_BATCH = 5000


def populate(runtime: Runtime, count: int) -> None:
    rng = random.Random(11)
    with runtime.transaction() as s:
        set_policy(s, "normal", priority="normal", first_response="4h", resolution="2d",
                   hours="Mon-Fri 09:00-17:00")  # fmt: skip
        s.execute(insert(Agent), [
            {"email": f"agent{n}@example.com", "name": f"Agent {n}", "role": "agent",
             "active": True, "created_at": NOW} for n in range(10)
        ])  # fmt: skip
        s.execute(insert(Contact), [{"name": f"C{n}", "created_at": NOW} for n in range(1000)])
        agents = list(s.scalars(select(Agent.id)))
        contacts = list(s.scalars(select(Contact.id)))
        policies = {p.priority: p.id for p in s.scalars(select(SlaPolicy))}
        queue = s.scalars(select(Queue.id)).first()
    priorities = list(policies)
    rows: list[dict[str, Any]] = []
    for n in range(count):
        created = NOW - timedelta(minutes=rng.randrange(30 * 24 * 60))
        priority = rng.choice(priorities)
        responded = created + timedelta(minutes=rng.randrange(600)) if rng.random() < 0.8 else None
        status = rng.choice(("new", "open", "pending", "resolved", "resolved", "closed"))
        resolved = (
            created + timedelta(minutes=rng.randrange(60, 5000))
            if status in ("resolved", "closed")
            else None
        )
        asked = resolved if resolved is not None and rng.random() < 0.25 else None
        rows.append({
            "id": n + 1, "queue_id": queue, "subject": "bench", "status": status,
            "priority": priority, "channel": rng.choice(("email", "email", "sms")),
            "contact_id": rng.choice(contacts), "assignee_id": rng.choice([*agents, None]),
            "sla_policy_id": policies[priority],
            "first_response_due_at": created + timedelta(hours=rng.choice((1, 4, 8))),
            "first_responded_at": responded if status != "new" else None,
            "resolution_due_at": created + timedelta(hours=rng.choice((8, 48, 120))),
            "resolved_at": resolved, "closed_at": resolved if status == "closed" else None,
            "sla_paused_at": created + timedelta(hours=1) if status == "pending" else None,
            "csat_asked_at": asked,
            "satisfaction_rating": rng.randint(1, 5) if asked and rng.random() < 0.4 else None,
            "merged_into_id": None, "follows_up_id": None,
            "created_at": created, "updated_at": created,
        })  # fmt: skip
        if len(rows) == _BATCH:
            _write(runtime, rows)
            rows = []
    if rows:
        _write(runtime, rows)


def _write(runtime: Runtime, rows: list[dict[str, Any]]) -> None:
    with runtime.transaction() as s:
        s.execute(insert(Ticket), rows)


def timed(runtime: Runtime, what: Callable[[Any], object]) -> float:
    with runtime.transaction() as s:
        start = time.perf_counter()
        what(s)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    url = create_pg_database()
    try:
        with tempfile.TemporaryDirectory() as data:
            env = {"TICKETGW_DATABASE_URL": url, "TICKETGW_DATA_DIR": data,
                   "TICKETGW_SECRET_KEY": "bench"}  # fmt: skip
            runtime = open_runtime(load_settings(env), migrate=True)
            start = time.perf_counter()
            populate(runtime, args.tickets)
            print(f"{args.tickets} tickets written in {time.perf_counter() - start:.1f} s")
            reports: dict[str, Callable[[Any], object]] = {
                "sla report --since 7d": lambda s: sla_report(s, NOW - timedelta(days=7), NOW),
                "sla report --since 30d": lambda s: sla_report(s, NOW - timedelta(days=30), NOW),
                "stats --since 30d": lambda s: stats(s, NOW - timedelta(days=30), NOW),
                "tickets list --breached": lambda s: find_tickets(s, breached=True),
                "tickets list --at-risk": lambda s: find_tickets(s, at_risk=True),
            }
            for name, report in reports.items():
                runs = [timed(runtime, report) for _ in range(args.runs)]
                shown = " ".join(f"{r:.3f}" for r in runs)
                print(f"{name}: {shown} s, median {statistics.median(runs):.3f} s")
            runtime.close()
    finally:
        drop_pg_database(url)


if __name__ == "__main__":
    main()
