"""Peak memory of the processing child for big plain-text mails, through ``ticketgw serve``.

For each size, a fresh ``ticketgw serve`` (SQLite, or PostgreSQL with ``--pg``) with three
agents and an SMTP sink as its relay takes one mail of that size over SMTP; once the mail is
processed and every notification delivered, the child's peak RSS (``VmHWM``) is read and
reported against its RSS when idle (after a small warm-up mail). Then one more gateway takes
``--row`` large mails in a row, and reports the peak and the RSS left after the last one.
Also printed: the largest outbox context and the largest mail the sink received.

    .venv/bin/python -m bench.big_mail_memory [--pg] [--sizes 1,10,25] [--row 20]
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, func, select, text

from bench.common import create_pg_database, drop_pg_database, free_port
from schema.models import InboxItem, OutboxItem

MB = 1_000_000
AGENTS = ("ann@support.test", "bob@support.test", "cid@support.test")


class Sink:
    """The relay: counts mails and keeps only the largest size."""

    def __init__(self) -> None:
        self.count = 0
        self.largest = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.count += 1
            self.largest = max(self.largest, len(envelope.content))
        return "250 2.0.0 Ok"


def big_mail(size: int, tag: str) -> bytes:
    """A plain-text mail of about ``size`` bytes: 76-character lines of words."""
    head = (
        f"From: Bob Jones <bob@example.org>\r\nTo: support@example.com\r\n"
        f"Subject: big log {tag}\r\nMessage-ID: <big.{tag}.{time.time_ns()}@example.org>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    ).encode()
    line = b"2026-12-06 01:00:00 worker[42]: request served in 12 ms, status ok, id 9\r\n"
    return head + line * (max(0, size - len(head)) // len(line))


def _kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def _child_of(pid: int) -> int:
    """The processing child of ``serve`` (not multiprocessing's resource tracker)."""
    for _ in range(200):
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
                if b"resource_tracker" not in cmdline:
                    return int(child)
        time.sleep(0.05)
    raise RuntimeError("no processing child")


class Gateway:
    """``ticketgw serve`` in a subprocess on a fresh database, relaying into a sink."""

    def __init__(self, pg: bool) -> None:
        self.dir = tempfile.TemporaryDirectory()
        self.url = create_pg_database() if pg else f"sqlite:///{self.dir.name}/bench.sqlite3"
        self.sink = Sink()
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=free_port())
        self.controller.start()
        self.port = free_port()
        self.env = {
            **os.environ,
            "TICKETGW_DATA_DIR": self.dir.name,
            "TICKETGW_DATABASE_URL": self.url,
            "TICKETGW_SMTP_LISTEN": f"127.0.0.1:{self.port}",
            "TICKETGW_SMTP_RELAY": f"127.0.0.1:{self.controller.port}",
            "TICKETGW_SUPPORT_ADDRESS": "support@example.com",
            "TICKETGW_INBOUND_RATE": "1000",
        }
        self.env.pop("TICKETGW_REDIS_URL", None)
        self._cli("db", "upgrade")
        for agent in AGENTS:
            self._cli("agents", "add", agent, "--name", agent.split("@")[0].title())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "admin_cli.main", "serve"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait_listening()
        self.child = _child_of(self.proc.pid)
        self.engine = create_engine(self.url)

    def _cli(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "admin_cli.main", *args],
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def _wait_listening(self) -> None:
        for _ in range(600):
            try:
                smtplib.SMTP("127.0.0.1", self.port, timeout=5).quit()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("serve did not start")

    def send(self, raw: bytes) -> None:
        with smtplib.SMTP("127.0.0.1", self.port, timeout=300) as client:
            client.sendmail("bob@example.org", ["support@example.com"], raw)

    def settle(self) -> None:
        """Wait until every item is processed and every notification delivered."""
        while True:
            with self.engine.connect() as conn:
                pending = conn.scalar(
                    select(func.count()).select_from(InboxItem).where(InboxItem.status == "pending")
                )
                unsent = conn.scalar(
                    select(func.count())
                    .select_from(OutboxItem)
                    .where(OutboxItem.status.in_(("pending", "sending")))
                )
            if pending == 0 and unsent == 0:
                return
            time.sleep(0.2)

    def largest_context(self) -> int:
        with self.engine.connect() as conn:
            contexts = conn.execute(text("SELECT context FROM outbox")).scalars()
            return max(
                (len(c if isinstance(c, str) else json.dumps(c)) for c in contexts), default=0
            )

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)
        self.engine.dispose()
        self.controller.stop()
        if self.url.startswith("postgresql"):
            drop_pg_database(self.url)
        self.dir.cleanup()


def _warm(gw: Gateway) -> int:
    """Process one small mail, so that every import and cache is in place; idle RSS in kB."""
    gw.send(big_mail(2000, "warm-up"))
    gw.settle()
    return _kb(gw.child, "VmRSS")


def one_mail(size_mb: int, pg: bool) -> None:
    gw = Gateway(pg)
    try:
        idle = _warm(gw)
        gw.send(big_mail(size_mb * MB, f"{size_mb}mb"))
        gw.settle()
        peak = _kb(gw.child, "VmHWM")
        print(
            f"{size_mb:>3} MB mail: idle {idle / 1024:6.0f} MB, peak {peak / 1024:6.0f} MB, "
            f"peak - idle {(peak - idle) / 1024:6.0f} MB; largest outbox context "
            f"{gw.largest_context() / MB:.2f} MB, largest mail sent {gw.sink.largest / MB:.2f} MB",
            flush=True,
        )
    finally:
        gw.close()


def in_a_row(count: int, size_mb: int, pg: bool) -> None:
    gw = Gateway(pg)
    try:
        idle = _warm(gw)
        for n in range(count):
            gw.send(big_mail(size_mb * MB, f"row{n}"))
        gw.settle()
        peak, after = _kb(gw.child, "VmHWM"), _kb(gw.child, "VmRSS")
        print(
            f"{count} x {size_mb} MB in a row: idle {idle / 1024:.0f} MB, peak {peak / 1024:.0f} "
            f"MB (+{(peak - idle) / 1024:.0f}), RSS after {after / 1024:.0f} MB "
            f"(+{(after - idle) / 1024:.0f})",
            flush=True,
        )
    finally:
        gw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--sizes", default="1,10,25", help="mail sizes in MB (10^6 bytes)")
    parser.add_argument("--row", type=int, default=20, help="large mails in a row (0: skip)")
    parser.add_argument("--row-size", type=int, default=10, help="their size in MB")
    args = parser.parse_args()
    print(
        f"processing child of ticketgw serve, {'PostgreSQL' if args.pg else 'SQLite'}", flush=True
    )
    for size in (int(s) for s in args.sizes.split(",")):
        one_mail(size, args.pg)
    if args.row:
        in_a_row(args.row, args.row_size, args.pg)


if __name__ == "__main__":
    main()
