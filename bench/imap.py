"""IMAP end to end: a Dovecot folder into tickets on PostgreSQL, and the latency under IDLE.

The production layout on one machine: a real Dovecot (the tests' unprivileged set-up,
``tests/dovecot.py``), PostgreSQL, and ``ticketgw imap`` as its own process (the poller,
with the inbox processor in its child process, as ``serve`` runs them).

1. Throughput: ``--mails`` mails (default 5,000, each from its own sender, so neither the
   acknowledgement limit nor the circuit breaker applies) are appended to the folder
   first; then ``ticketgw imap`` starts. Clock: from its start until every mail is a
   stored ticket (start-up included), and until every mail is in the inbox table.
2. Latency: with the poller idle in IDLE, ``--latency-mails`` mails are appended one at a
   time, one every 0.5 s; for each, from the moment APPEND returned to the moment its
   ticket is stored (the inbox item ``done``), polled every 5 ms.

    .venv/bin/python bench/imap.py [--mails 5000] [--latency-mails 40]

Prints mails/s (target >= 250) and the latency's median, p90 and max (target: median
under 500 ms).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import redis
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = "redis://127.0.0.1:6379/9"  # a database of its own, flushed by this script
sys.path.insert(0, str(ROOT))

from bench.common import create_pg_database, drop_pg_database  # noqa: E402
from gateway.config import load_settings  # noqa: E402
from gateway.imap.mailboxes import MailboxChanges, add_mailbox  # noqa: E402
from gateway.runtime import open_runtime  # noqa: E402
from schema.models import InboxItem, Ticket  # noqa: E402
from tests.dovecot import Dovecot, dovecot_binary  # noqa: E402


def _mail(n: int, tag: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"customer{n}@c{n % 97}.example.org"
    msg["To"] = "support@example.com"
    msg["Subject"] = f"Order {n} has not arrived"
    msg["Message-ID"] = f"<{tag}-{n}@bench.example.org>"
    msg.set_content(f"Hello,\n\nmy order {n} has not arrived yet. Can you help?\n\nThanks\n")
    return msg.as_bytes()


def _count(runtime, model) -> int:  # type: ignore[no-untyped-def]
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _done(runtime, mid: str) -> bool:  # type: ignore[no-untyped-def]
    with runtime.sessions() as session:
        status = session.scalar(
            select(InboxItem.status).where(InboxItem.dedupe_key == f"mid:{mid}")
        )
    return status == "done"


def _watch(observer, runtime, mid: str, appended: float) -> tuple[float, float | None]:  # type: ignore[no-untyped-def]
    """When the mail was stored as a ticket, and when Dovecot told the IDLE observer of it
    (None if the announcement was missed), watched together so neither wait delays the
    other's timestamp."""
    exists: float | None = None
    while time.monotonic() - appended < 60:
        if exists is None and any(
            r[1:2] == (b"EXISTS",) for r in observer.idle_check(timeout=0.005)
        ):
            exists = time.monotonic()
        if _done(runtime, mid):
            return time.monotonic(), exists
        if exists is not None:
            time.sleep(0.005)
    raise RuntimeError(f"{mid} not stored within 60 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=5000)
    parser.add_argument("--latency-mails", type=int, default=40)
    args = parser.parse_args()
    binary = dovecot_binary()
    if binary is None:
        print("dovecot is not installed: apt-get install dovecot-imapd", file=sys.stderr)
        return 1
    dovecot = Dovecot(binary)
    dovecot.start()
    url = create_pg_database()
    data = tempfile.mkdtemp(prefix="ticketgw-bench-imap-")
    # Redis as the broker, as in production: `ticketgw imap` only queues the
    # acknowledgements; without it the in-process workers would share its CPU.
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        "TICKETGW_REDIS_URL": REDIS_URL,
        "TICKETGW_DATA_DIR": data,
        "TICKETGW_DATABASE_URL": url,
        "TICKETGW_SUPPORT_ADDRESS": "support@example.com",
        "TICKETGW_SECRET_KEY": "bench-secret",
    }
    runtime = open_runtime(load_settings(env), migrate=True)
    proc: subprocess.Popen[bytes] | None = None
    try:
        user = dovecot.add_user("bench")
        with runtime.transaction() as session:
            changes = MailboxChanges(
                host="127.0.0.1",
                port=dovecot.port,
                tls="none",
                username=user,
                password="secret",
            )
            add_mailbox(session, "bench", changes, runtime.settings.secret_key)
        client = dovecot.client(user)
        mails = [_mail(n, "t") for n in range(args.mails)]
        for start in range(0, len(mails), 500):
            client.multiappend("INBOX", mails[start : start + 500])
        load = os.getloadavg()[0]
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "admin_cli.main", "imap"],
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stored_at = None
        while (tickets := _count(runtime, Ticket)) < args.mails:
            if stored_at is None and _count(runtime, InboxItem) >= args.mails:
                stored_at = time.monotonic()
            if proc.poll() is not None:
                raise RuntimeError(f"ticketgw imap exited with {proc.returncode}")
            time.sleep(0.1)
        finished = time.monotonic()
        stored_at = stored_at or finished
        total = finished - started
        print(f"machine load before the run: {load:.2f}")
        print(
            f"{args.mails} mails: in the inbox after {stored_at - started:.1f} s "
            f"({args.mails / (stored_at - started):.0f} mails/s); "
            f"{tickets} tickets after {total:.1f} s: {args.mails / total:.0f} mails/s "
            "end to end (target >= 250)"
        )

        # A second connection in IDLE tells when Dovecot announces each mail: Dovecot
        # waits 500 ms after a change before it notifies IDLE clients (NOTIFY_DELAY_MSECS
        # in its mailbox-watch.c, not configurable), so that part is the server's.
        observer = dovecot.client(user)
        observer.select_folder("INBOX")
        totals: list[float] = []
        announced: list[float] = []  # only the mails whose announcement the observer saw
        ours: list[float] = []
        for n in range(args.latency_mails):
            observer.idle()
            time.sleep(0.5)
            mid = f"latency-{n}@bench.example.org"
            client.append("INBOX", _mail(n, "latency"))
            appended = time.monotonic()
            stored, exists = _watch(observer, runtime, mid, appended)
            observer.idle_done()
            totals.append((stored - appended) * 1000)
            if exists is not None:
                announced.append((exists - appended) * 1000)
                ours.append((stored - exists) * 1000)
        observer.logout()
        for name, values in (
            ("APPEND -> stored ticket under IDLE", totals),
            ("  of which APPEND -> Dovecot's IDLE announcement", announced),
            ("  of which announcement -> stored ticket (the gateway)", ours),
        ):
            values = sorted(values)
            print(
                f"{name}, {len(values)} mails: median {statistics.median(values):.0f} ms, "
                f"p90 {values[int(len(values) * 0.9) - 1]:.0f} ms, max {values[-1]:.0f} ms"
            )
        print("target: median APPEND -> stored ticket under 500 ms")
        client.logout()
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        runtime.close()
        drop_pg_database(url)
        dovecot.stop()
        redis.Redis.from_url(REDIS_URL).flushdb()
    return 0


if __name__ == "__main__":
    sys.exit(main())
