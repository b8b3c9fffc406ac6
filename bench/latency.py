"""End-to-end latency: customer mail accepted -> acknowledgement received, at a steady rate.

The production layout on one machine: PostgreSQL, Redis, `ticketgw serve` (SMTP listener
and inbox processor) and `ticketgw worker --processes 2` as separate processes, delivering
into an SMTP sink in this process. Mails are sent at a steady rate from many senders on
many domains (so neither the acknowledgement rate limit nor the circuit breaker applies).
Latency is measured on one clock: from the moment the listener's 250 reached our client to
the moment the sink received the acknowledgement carrying that mail's token.

    .venv/bin/python bench/latency.py [--rate 20] [--seconds 30]

Prints median, p90, p99 and max, and the target (median < 200 ms, p99 < 1 s at 20/s).
"""

from __future__ import annotations

import argparse
import os
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import redis
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import create_pg_database, drop_pg_database, free_port  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/7"  # a database of its own, flushed by this script


class Sink:
    """Records when each acknowledgement arrives, keyed by the token in its subject."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.monotonic()
        head = envelope.content.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        for token in _tokens(head):
            with self.lock:
                self.arrived.setdefault(token, now)
        return "250 OK"


def _tokens(head: str) -> list[str]:
    return [w.strip("()[]:") for w in head.replace("\r\n", " ").split() if w.startswith("(bench-")]


def _wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nothing listens on port {port} after {timeout} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="mails per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()

    url = create_pg_database()
    redis.Redis.from_url(REDIS_URL).flushdb()
    sink = Sink()
    sink_port, smtp_port = free_port(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink_port)
    controller.start()
    data = Path(tempfile.mkdtemp(prefix="ticketgw-bench-"))
    env = {
        **os.environ,
        "TICKETGW_DATABASE_URL": url,
        "TICKETGW_REDIS_URL": REDIS_URL,
        "TICKETGW_DATA_DIR": str(data),
        "TICKETGW_SMTP_LISTEN": f"127.0.0.1:{smtp_port}",
        "TICKETGW_HTTP_LISTEN": "127.0.0.1:0",
        "TICKETGW_SMTP_RELAY": f"127.0.0.1:{sink_port}",
        "TICKETGW_SECRET_KEY": "bench",
    }
    ticketgw = [sys.executable, "-m", "admin_cli.main"]
    subprocess.run([*ticketgw, "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    procs = [
        subprocess.Popen([*ticketgw, "serve"], env=env, cwd=ROOT, start_new_session=True,
                         stderr=subprocess.DEVNULL),
        subprocess.Popen([*ticketgw, "worker", "--processes", "2", "--threads", "8"], env=env,
                         cwd=ROOT, start_new_session=True, stderr=subprocess.DEVNULL),
    ]  # fmt: skip
    try:
        _wait_port(smtp_port)
        time.sleep(2)  # let the workers connect to Redis
        accepted = _send_steadily(smtp_port, args.rate, args.seconds)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(sink.arrived) < len(accepted):
            time.sleep(0.1)
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
        controller.stop()
        drop_pg_database(url)
        subprocess.run(["rm", "-rf", str(data)], check=False)

    latencies = sorted(
        (sink.arrived[token] - at) * 1000 for token, at in accepted.items() if token in sink.arrived
    )
    missing = len(accepted) - len(latencies)
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else latencies * 99
    print(f"sent {len(accepted)} mails at {args.rate:g}/s for {args.seconds:g} s; "
          f"acknowledgements received: {len(latencies)} (missing {missing})")  # fmt: skip
    print(f"latency ms: median {statistics.median(latencies):.0f}  p90 {q[89]:.0f}  "
          f"p99 {q[98]:.0f}  max {latencies[-1]:.0f}")  # fmt: skip
    print("target: median < 200 ms, p99 < 1000 ms")
    return 0 if missing == 0 else 1


def _send_steadily(port: int, rate: float, seconds: float) -> dict[str, float]:
    """Send one new request every 1/rate seconds; returns token -> time its 250 arrived."""
    accepted: dict[str, float] = {}
    interval, start = 1.0 / rate, time.monotonic()
    count = int(rate * seconds)
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        for i in range(count):
            due = start + i * interval
            if (pause := due - time.monotonic()) > 0:
                time.sleep(pause)
            token = f"bench-{i:06d}"
            mail = EmailMessage()
            mail["From"] = f"Customer {i} <c{i}@d{i}.example.org>"
            mail["To"] = "support@example.com"
            mail["Subject"] = f"Order question ({token})"
            mail["Message-ID"] = f"<{token}@d{i}.example.org>"
            mail.set_content(f"Hello, where is my order {i}? ({token})")
            client.send_message(mail)
            accepted[token] = time.monotonic()
    return accepted


if __name__ == "__main__":
    sys.exit(main())
