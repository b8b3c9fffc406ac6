"""Benchmark: 5,000 outbox rows delivered by two worker processes on Redis into an SMTP sink.

Run: ``.venv/bin/python bench/dispatch.py [--rows 5000] [--runs 3] [--threads 8]``.
Creates its own PostgreSQL database (on ``TICKETGW_TEST_PG_URL``, default the local socket)
and Redis namespace, and drops both at the end. The sink is an aiosmtpd server in its own
process that only counts. Prints mails/s per run, the CPU (in cores) the sink, each worker
process and the whole machine used during the run, and the median.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import create_pg_database, drop_pg_database, free_port  # noqa: E402
from gateway.config import load_settings  # noqa: E402
from gateway.outbox.relay import relay_pending  # noqa: E402
from gateway.runtime import open_runtime  # noqa: E402
from gateway.template_vars import sample_vars  # noqa: E402
from schema.models import OutboxItem  # noqa: E402
from workers.broker import setup_broker  # noqa: E402
from workers.enqueue import to_broker  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/0"


def _sink(port: int, count: Any, ready: Any) -> None:
    from aiosmtpd.controller import Controller

    class Counter:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with count.get_lock():
                count.value += 1
            return "250 2.0.0 Ok: queued"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    signal.sigwait({signal.SIGTERM})
    controller.stop()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (Linux ``/proc``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _processes(sink: Any, worker: subprocess.Popen[bytes]) -> list[tuple[str, int]]:
    """The sink and each worker process, to see where the CPU goes."""
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    workers = [
        int(pid)
        for pid in children  # multiprocessing's resource tracker is a child too
        if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    return [("sink", sink.pid)] + [(f"worker{i + 1}", pid) for i, pid in enumerate(workers)]


def _busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle so far (``/proc/stat``)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _rows(n: int) -> list[dict[str, Any]]:
    rows = []
    for _ in range(n):
        key = uuid.uuid4().hex
        context = {
            "from": "Support <support@example.com>",
            "headers": {
                "Message-ID": f"<{key}@example.com>",
                "Reply-To": f"reply+{key}@example.com",
                "Auto-Submitted": "auto-replied",
                "X-Loop": "ticket-gateway",
            },
            "vars": sample_vars("ack"),
        }
        rows.append(
            {
                "channel": "email",
                "recipient": "carol@example.org",
                "template": "ack",
                "context": context,
                "email_message_id": f"{key}@example.com",
                "idempotency_key": key,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    namespace = f"ticketgw-bench-{uuid.uuid4().hex[:8]}"
    url = create_pg_database()
    spawn = multiprocessing.get_context("spawn")
    count, ready = spawn.Value("i", 0), spawn.Event()
    port = free_port()
    sink = spawn.Process(target=_sink, args=(port, count, ready), daemon=True)
    sink.start()
    ready.wait(10)
    env = {
        "TICKETGW_DATABASE_URL": url,
        "TICKETGW_REDIS_URL": REDIS_URL,
        "TICKETGW_SMTP_RELAY": f"127.0.0.1:{port}",
        "TICKETGW_SECRET_KEY": "bench",
        "TICKETGW_DATA_DIR": tempfile.mkdtemp(prefix="ticketgw-bench-"),
    }
    runtime = open_runtime(load_settings(env), migrate=True)
    broker = setup_broker(runtime.settings, runtime=runtime, namespace=namespace)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "admin_cli.main",
            "worker",
            "--processes",
            "2",
            "--threads",
            str(args.threads),
            "--namespace",
            namespace,
            "--sweep-every",
            "60",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        start_new_session=True,
    )
    rates = []
    try:
        time.sleep(3)  # let both processes connect before the clock starts
        for run in range(args.runs):
            with runtime.transaction() as session:
                # Keep the id sequence: the relay marks rows enqueued per (id, version) for
                # the lease, so reused ids would not be enqueued again for 5 minutes.
                session.execute(text("TRUNCATE outbox"))
                session.execute(insert(OutboxItem), _rows(args.rows))
            start_count = count.value
            cpu_before = {name: _cpu_seconds(pid) for name, pid in _processes(sink, worker)}
            busy_before = _busy_seconds()
            started = time.perf_counter()
            relay_pending(runtime.sessions, to_broker(broker))
            while count.value - start_count < args.rows:
                time.sleep(0.01)
            elapsed = time.perf_counter() - started
            rates.append(args.rows / elapsed)
            print(f"run {run + 1}: {args.rows} mails in {elapsed:.2f} s = {rates[-1]:.0f} mails/s")
            cpu = {
                name: (_cpu_seconds(pid) - cpu_before.get(name, 0.0)) / elapsed
                for name, pid in _processes(sink, worker)
            }
            cpu["machine"] = (_busy_seconds() - busy_before) / elapsed
            print(
                "  CPU (cores): "
                + ", ".join(f"{n} {c:.2f}" for n, c in cpu.items())
                + f" of {os.cpu_count()}"
            )
            time.sleep(1)  # the last `sent` commits land before the next TRUNCATE
        print(
            f"median: {statistics.median(rates):.0f} mails/s (2 processes x {args.threads} threads)"
        )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(60)
        broker.close()
        runtime.close()
        sink.terminate()
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{namespace}:*", count=1000))
        if keys:
            client.delete(*keys)
        drop_pg_database(url)


if __name__ == "__main__":
    main()
