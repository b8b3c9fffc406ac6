"""Inbound SMS turned into tickets: the processor draining a backlog of SMS, on PostgreSQL.

Each run gets a database of its own (migrated, three agents in the default queue, dropped
at the end). ``--sms`` inbound-SMS webhooks' forms, each with a new MessageSid, from one
of ``--senders`` numbers to our number, are accepted into the inbox the way the HTTP
listener's writer commits webhooks (``inbox.accept_all``, 200 per transaction), untimed.
Then ``process_pending`` drains the inbox as the processor does (200 SMS per
transaction, through the ``sms`` pipeline): that is timed, as wall clock and as this
process's CPU (the database's own CPU is not counted). Every sender's first SMS opens a
ticket, the others are replies to it; the run checks that every SMS was done and that
there is one ticket per sender.

    .venv/bin/python bench/sms_processing.py [--sms 3000] [--senders 500] [--runs 3]

Prints each run, then the medians: SMS processed per second and CPU milliseconds per SMS.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.common import create_pg_database, drop_pg_database  # noqa: E402
from gateway.agents import add_agent  # noqa: E402
from gateway.config import load_settings  # noqa: E402
from gateway.inbound.inbox import Incoming, accept_all  # noqa: E402
from gateway.pipeline.batch import process_pending  # noqa: E402
from gateway.queues import DEFAULT_QUEUE, add_member  # noqa: E402
from gateway.runtime import Runtime, open_runtime  # noqa: E402
from schema.models import InboxItem, Ticket  # noqa: E402

OUR_NUMBER = "+14155550100"
ACCEPT_PER_COMMIT = 200  # the listener's writer: gateway.inbound.inbox_writer


def form(i: int, sender: str) -> tuple[bytes, str]:
    """The body Twilio posts for one inbound SMS, and its MessageSid."""
    sid = f"SM{secrets.token_hex(12)}{i:08x}"
    fields = [
        ("ToCountry", "US"),
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("Body", f"Hello, my order {i} has not arrived yet. Can you check? Thanks"),
        ("To", OUR_NUMBER),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", "AC" + "b" * 32),
        ("From", sender),
        ("ApiVersion", "2010-04-01"),
    ]
    return urlencode(fields).encode(), sid


def open_seeded(url: str, workdir: Path) -> Runtime:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETGW_")}
    env.update(
        TICKETGW_DATABASE_URL=url,
        TICKETGW_DATA_DIR=str(workdir / "data"),
        TICKETGW_SUPPORT_ADDRESS="support@example.com",
        TICKETGW_SECRET_KEY="bench-secret-0123456789abcdef0123456789",
        TICKETGW_TWILIO_FROM=OUR_NUMBER,
    )
    rt = open_runtime(load_settings(env), migrate=True)
    with rt.transaction() as session:
        for who in ("ann", "bob", "cem"):
            add_agent(session, f"{who}@example.com", who.title())
            add_member(session, DEFAULT_QUEUE, f"{who}@example.com")
    return rt


def accept(rt: Runtime, count: int, senders: int) -> None:
    items = []
    for i in range(count):
        sender = f"+1415{2000000 + i % senders:07d}"
        raw, sid = form(i, sender)
        items.append(
            Incoming(
                raw,
                channel="sms",
                source="twilio",
                dedupe_key=f"sms:{sid}",
                envelope_sender=sender,
                envelope_recipients=(OUR_NUMBER,),
            )
        )
    for start in range(0, count, ACCEPT_PER_COMMIT):
        with rt.transaction() as session:
            accept_all(session, items[start : start + ACCEPT_PER_COMMIT])


def run(count: int, senders: int) -> dict[str, float]:
    url = create_pg_database()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-sms-") as tmp:
            rt = open_seeded(url, Path(tmp))
            try:
                accept(rt, count, senders)
                wall, cpu = time.perf_counter(), time.process_time()
                outcomes = process_pending(rt.sessions, rt.settings, limit=count)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                with rt.transaction() as session:
                    done = session.scalar(select(func.count()).where(InboxItem.status == "done"))
                    tickets = session.scalar(select(func.count()).select_from(Ticket))
            finally:
                rt.close()
    finally:
        drop_pg_database(url)
    if len(outcomes) != count or done != count or tickets != min(senders, count):
        raise SystemExit(f"wrong result: {len(outcomes)} processed, {done} done, {tickets} tickets")
    return {"rate": count / wall, "cpu_ms": 1000 * cpu / count, "seconds": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sms", type=int, default=3000)
    parser.add_argument("--senders", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = []
    for n in range(1, args.runs + 1):
        load = os.getloadavg()[0]
        result = run(args.sms, args.senders)
        results.append(result)
        print(
            f"run {n}: {args.sms} SMS in {result['seconds']:.1f} s: {result['rate']:.0f} SMS/s, "
            f"{result['cpu_ms']:.2f} ms CPU per SMS (load before: {load:.1f})",
            flush=True,
        )
    rate = statistics.median(r["rate"] for r in results)
    cpu = statistics.median(r["cpu_ms"] for r in results)
    print(f"median of {len(results)}: {rate:.0f} SMS/s, {cpu:.2f} ms CPU per SMS")


if __name__ == "__main__":
    main()
