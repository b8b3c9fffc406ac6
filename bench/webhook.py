"""Signed Twilio inbound-SMS webhooks at the live HTTP listener, on PostgreSQL.

`ticketgw serve` runs as in production (PostgreSQL, Redis as the broker, processing in its
child process) with its HTTP listener on a free loopback port. An asyncio client (aiohttp)
in this process posts inbound-SMS webhooks, each a new MessageSid from one of 500 numbers,
signed beforehand with twilio's RequestValidator (the client's signing is not timed).

- throughput: CONCURRENCY connections post REQUESTS webhooks as fast as they are answered;
  the figure is webhooks answered 200 (committed to the inbox) per second.
- latency: webhooks at a steady RATE for SECONDS, each on its own schedule (open loop: a
  slow answer does not delay the next request); median, p99 and max of request -> 200.
  It starts once the processing child has turned the burst into tickets (the inbox has
  no pending item), so that it measures 200/s and not the burst's backlog; the time that
  took is printed too.

    .venv/bin/python bench/webhook.py [--requests 6000] [--concurrency 32]
                                      [--rate 200] [--seconds 20] [--runs 3]

Prints each run and the medians, and the targets (>= 600/s; p99 < 50 ms at 200/s).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import redis
import sqlalchemy
from multidict import MultiDict
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import create_pg_database, drop_pg_database, free_port  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/8"  # a database of its own, flushed by this script
TOKEN = "bench0123456789abcdef0123456789ab"
PUBLIC_URL = "https://support.example.com"
PATH = "/twilio/sms"

Request = tuple[bytes, str]  # body, X-Twilio-Signature


def signed_requests(count: int, run: int) -> list[Request]:
    validator = RequestValidator(TOKEN)
    out = []
    for i in range(count):
        sid = f"SM{run:02x}{secrets.token_hex(11)}{i:08x}"
        fields = [
            ("ToCountry", "US"),
            ("SmsMessageSid", sid),
            ("NumMedia", "0"),
            ("SmsSid", sid),
            ("SmsStatus", "received"),
            ("Body", f"Hello, my order {i} has not arrived yet. Can you check? Thanks"),
            ("To", "+14155550100"),
            ("NumSegments", "1"),
            ("MessageSid", sid),
            ("AccountSid", "AC" + "b" * 32),
            ("From", f"+1415{2000000 + i % 500:07d}"),
            ("ApiVersion", "2010-04-01"),
        ]
        signature = validator.compute_signature(PUBLIC_URL + PATH, MultiDict(fields))
        out.append((urlencode(fields).encode(), signature))
    return out


async def post(session: aiohttp.ClientSession, url: str, request: Request) -> int:
    body, signature = request
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
    }
    async with session.post(url, data=body, headers=headers) as response:
        await response.read()
        return response.status


async def throughput(url: str, requests: list[Request], concurrency: int) -> tuple[float, int]:
    """Accepted webhooks per second with ``concurrency`` connections; and the refusals."""
    queue = iter(requests)
    statuses: list[int] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            for request in queue:
                statuses.append(await post(session, url, request))

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    accepted = statuses.count(200)
    return accepted / elapsed, len(statuses) - accepted


async def steady(url: str, requests: list[Request], rate: float) -> tuple[list[float], int]:
    """Latencies in ms at ``rate`` requests a second; and how many were not 200."""
    latencies: list[float] = []
    refused = 0
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(request: Request) -> None:
            nonlocal refused
            sent = time.perf_counter()
            status = await post(session, url, request)
            latencies.append((time.perf_counter() - sent) * 1000)
            refused += status != 200

        start = time.perf_counter()
        tasks = []
        for i, request in enumerate(requests):
            pause = start + i / rate - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
            tasks.append(asyncio.create_task(one(request)))
        await asyncio.gather(*tasks)
    return latencies, refused


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (``/proc``; 0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def wait_processed(db_url: str) -> float:
    """Seconds until no inbox item is pending (the processing child caught up)."""
    engine = sqlalchemy.create_engine(db_url)
    start = time.perf_counter()
    query = sqlalchemy.text("SELECT count(*) FROM inbox WHERE status = 'pending'")
    try:
        while True:
            with engine.connect() as conn:
                if not conn.execute(query).scalar():
                    return time.perf_counter() - start
            time.sleep(0.1)
    finally:
        engine.dispose()


def wait_http(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"ticketgw serve exited {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing answers on port {port} after {timeout} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    db_url = create_pg_database()
    redis.Redis.from_url(REDIS_URL).flushdb()
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="ticketgw-bench-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TICKETGW_")},
        "TICKETGW_DATABASE_URL": db_url,
        "TICKETGW_REDIS_URL": REDIS_URL,
        "TICKETGW_DATA_DIR": str(data),
        "TICKETGW_SMTP_LISTEN": f"127.0.0.1:{free_port()}",
        "TICKETGW_HTTP_LISTEN": f"127.0.0.1:{port}",
        "TICKETGW_TWILIO_AUTH_TOKEN": TOKEN,
        "TICKETGW_PUBLIC_URL": PUBLIC_URL,
        "TICKETGW_SECRET_KEY": "bench",
    }
    ticketgw = [sys.executable, "-m", "admin_cli.main"]
    subprocess.run([*ticketgw, "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    proc = subprocess.Popen([*ticketgw, "serve"], env=env, cwd=ROOT, start_new_session=True,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}{PATH}"
    rates: list[float] = []
    p99s: list[float] = []
    try:
        wait_http(port, proc)
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        child = children(proc.pid)
        for run in range(args.runs):
            burst = signed_requests(args.requests, 2 * run)
            before = cpu_seconds(proc.pid), sum(cpu_seconds(c) for c in child)
            rate, refused = asyncio.run(throughput(url, burst, args.concurrency))
            listener = (cpu_seconds(proc.pid) - before[0]) / args.requests * 1000
            processing = (sum(cpu_seconds(c) for c in child) - before[1]) / args.requests * 1000
            paced = signed_requests(int(args.rate * args.seconds), 2 * run + 1)
            caught_up = wait_processed(db_url)
            before = cpu_seconds(proc.pid), sum(cpu_seconds(c) for c in child)
            latencies, late_refused = asyncio.run(steady(url, paced, args.rate))
            steady_listener = (cpu_seconds(proc.pid) - before[0]) / len(paced) * 1000
            steady_processing = (sum(cpu_seconds(c) for c in child) - before[1]) / len(paced) * 1000
            q = statistics.quantiles(latencies, n=100)
            rates.append(rate)
            p99s.append(q[98])
            print(f"run {run + 1}: {rate:.0f} accepted/s ({args.requests} at concurrency "
                  f"{args.concurrency}, {refused} not 200); at {args.rate:g}/s: median "
                  f"{statistics.median(latencies):.1f} ms, p99 {q[98]:.1f} ms, max "
                  f"{max(latencies):.1f} ms ({late_refused} not 200); CPU per webhook "
                  f"during the burst: listener {listener:.2f} ms, processing (so far) "
                  f"{processing:.2f} ms; processing caught up {caught_up:.1f} s after the "
                  f"burst; CPU per webhook at {args.rate:g}/s: listener {steady_listener:.2f} "
                  f"ms, processing {steady_processing:.2f} ms")  # fmt: skip
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        drop_pg_database(db_url)
        redis.Redis.from_url(REDIS_URL).flushdb()
        subprocess.run(["rm", "-rf", str(data)], check=False)
    print(f"median of {args.runs}: {statistics.median(rates):.0f} accepted webhooks/s; "
          f"p99 {statistics.median(p99s):.1f} ms at {args.rate:g}/s")  # fmt: skip
    print("target: >= 600 accepted webhooks/s; p99 < 50 ms at 200/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
