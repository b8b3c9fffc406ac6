"""``ticketgw worker``: Dramatiq worker processes on Redis, with the outbox sweep and the
SLA scheduler (``--no-scheduler`` leaves the scheduler to other worker processes).

``--processes N`` runs N processes: one runs in this process, more are spawned children
supervised from here (restarted if one dies; all stopped on SIGTERM or Ctrl-C; a child
whose parent vanished stops on its own). Each process has ``--threads`` worker threads and
a sweep loop; a Redis lease makes only one of them sweep in each period. Spawning our own
processes instead of the ``dramatiq`` command keeps one entry point and lets the actors be
bound to the broker built from settings (see ``workers.broker``).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from typing import Any

import click
from sqlalchemy import text

from gateway.backoff import Backoff
from gateway.config import Settings, load_settings
from gateway.errors import ConfigError
from gateway.runtime import Runtime, open_runtime
from schema import db
from workers.broker import NAMESPACE, setup_broker, start_workers
from workers.middleware import DeliveryOptions, LogContextFilter

log = logging.getLogger("ticketgw.worker")
NO_REDIS = (
    "TICKETGW_REDIS_URL is not set: the embedded default runs workers inside `ticketgw serve`"
)


@click.command()
@click.option("--processes", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--threads", type=click.IntRange(min=1), default=8, show_default=True)
@click.option(
    "--lease",
    type=click.FloatRange(min=0.1),
    default=300.0,
    show_default=True,
    help="Seconds a row may stay `sending` before the sweep presumes its worker dead.",
)
@click.option("--sweep-every", type=click.FloatRange(min=0.05), default=30.0, show_default=True)
@click.option(
    "--backoff-base",
    type=click.FloatRange(min=0.01),
    default=10.0,
    show_default=True,
    help="Seconds before the first retry of a temporary failure; doubles each attempt.",
)
@click.option(
    "--sla-scan-every",
    type=click.FloatRange(min=1),
    default=30.0,
    show_default=True,
    help="Seconds between SLA safety scans.",
)
@click.option(
    "--no-scheduler",
    is_flag=True,
    help="Do not run the SLA scheduler here (extra worker processes).",
)
@click.option("--namespace", default=NAMESPACE, show_default=True, help="Redis key prefix.")
def worker(
    processes: int,
    threads: int,
    lease: float,
    sweep_every: float,
    backoff_base: float,
    sla_scan_every: float,
    no_scheduler: bool,
    namespace: str,
) -> None:
    """Deliver notifications and escalate SLAs: worker processes on TICKETGW_REDIS_URL.

    Each process also runs the SLA scheduler: a safety scan every --sla-scan-every seconds
    and delayed checks at each ticket's next moment; several can run at once.
    Stops on SIGTERM or Ctrl-C; rows being sent then are finished or found by the sweep.
    """
    settings = load_settings()
    if not settings.redis_url:
        raise ConfigError(NO_REDIS)
    options = DeliveryOptions(
        backoff=Backoff(base=backoff_base),
        lease=lease,
        sweep_every=sweep_every,
        sla_scan_every=sla_scan_every,
        send_timeout=min(30.0, lease / 2),  # a send must end before its lease does
    )
    _log_setup()
    _check_connections(settings, processes * pool_size(threads))
    args = (settings, options, threads, namespace, not no_scheduler)
    if processes == 1:
        run_process(*args)
    else:
        _supervise(processes, args)


def pool_size(threads: int) -> int:
    """Database connections one worker process may hold: its threads, recorder, sweep and
    SLA scan."""
    return threads + 3


def _check_connections(settings: Settings, wanted: int) -> None:
    """Warn when the workers could take more than half of PostgreSQL's connections."""
    if not settings.database_url.startswith("postgresql"):
        return
    runtime = open_runtime(settings)  # also fails here, once, if the database is unusable
    try:
        with runtime.engine.connect() as conn:
            limit = int(conn.execute(text("SHOW max_connections")).scalar_one())
    finally:
        runtime.close()
    if wanted > limit // 2:
        log.warning(
            "workers may open %d database connections of the server's max_connections=%d: "
            "use fewer --processes or --threads",
            wanted,
            limit,
        )


def run_process(
    settings: Settings,
    options: DeliveryOptions,
    threads: int,
    namespace: str,
    scheduler: bool = True,
    parent: int | None = None,
) -> None:
    """One worker process: threads and sweep until SIGTERM/SIGINT (or ``parent`` is gone)."""
    _log_setup()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    open_runtime(settings).close()  # fails here, once, if the database is unusable
    # The worker's own pool: one connection per thread plus the outcome recorder and the
    # sweep, and no overflow, so `--processes` x `pool_size` is the most this can open
    # (checked against the server's limit in _check_connections). No pre-ping, which cost
    # a round trip per transaction; a dropped connection fails one message, which Dramatiq
    # retries and the claim keeps harmless.
    engine = db.make_engine(
        settings.database_url,
        pool_pre_ping=False,
        pool_size=pool_size(threads),
        max_overflow=0,
        pool_timeout=60,
    )
    runtime = Runtime(settings, engine, db.make_sessionmaker(engine))
    broker = setup_broker(settings, options=options, runtime=runtime, namespace=namespace)
    running = start_workers(broker, threads=threads, scheduler=scheduler)
    log.info(
        "worker %d: %d threads, namespace %s, SLA scheduler %s",
        os.getpid(),
        threads,
        namespace,
        "on" if scheduler else "off",
    )
    while not stop.wait(0.5):
        if parent is not None and os.getppid() != parent:
            break
    running.stop()
    broker.close()
    runtime.close()


def _supervise(processes: int, args: tuple[Any, ...]) -> None:
    spawn = multiprocessing.get_context("spawn")
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())

    def start() -> Any:
        proc = spawn.Process(target=run_process, args=(*args, os.getpid()), daemon=False)
        proc.start()
        return proc

    children = [start() for _ in range(processes)]
    while not stopping.wait(0.5):
        for i, proc in enumerate(children):
            if not proc.is_alive():
                log.warning("worker %d exited with %s; starting another", proc.pid, proc.exitcode)
                time.sleep(1)  # do not spin when every start fails (database down...)
                children[i] = start()
    for proc in children:
        proc.terminate()
    for proc in children:
        proc.join(timeout=60)


def _log_setup() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(process)d %(levelname)s %(name)s [%(ticketgw)s] %(message)s",
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(LogContextFilter())
    logging.getLogger("dramatiq").setLevel(logging.WARNING)
