"""Fixtures for delivery: a Redis namespace per test, an SMTP sink, outbox rows, workers.

Workers run against real Redis (a fresh key namespace per test, deleted afterwards; other
Redis users are never touched) and a real SMTP server; waits poll for a condition with a
deadline instead of sleeping.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import dramatiq
import pytest
import redis
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from admin_cli.main import cli
from gateway.backoff import Backoff
from gateway.config import load_settings
from gateway.runtime import Runtime
from gateway.template_vars import sample_vars
from schema.models import OutboxItem
from tests.workers.sink import Recorder, running_sink
from workers.broker import setup_broker, start_workers
from workers.middleware import DeliveryOptions

REDIS_URL = "redis://127.0.0.1:6379/0"
FAST = DeliveryOptions(
    backoff=Backoff(base=0.05, cap=0.2), lease=300.0, sweep_every=0.2, send_timeout=2.0
)


@pytest.fixture
def namespace() -> Iterator[str]:
    """A Redis key prefix of our own; its keys are deleted at the end."""
    ns = f"ticketgw-test-{uuid.uuid4().hex[:12]}"
    yield ns
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{ns}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def sink() -> Iterator[tuple[Recorder, Controller]]:
    with running_sink() as pair:
        yield pair


@pytest.fixture
def worker_env(env: dict[str, str], sink: tuple[Recorder, Controller]) -> dict[str, str]:
    """Settings with Redis and the sink as the SMTP relay."""
    port = sink[1].port
    return {**env, "TICKETGW_REDIS_URL": REDIS_URL, "TICKETGW_SMTP_RELAY": f"127.0.0.1:{port}"}


def email_context(key: str, **headers: str) -> dict[str, Any]:
    """A row context as gateway/notify.py writes it (docs/notifications.md)."""
    return {
        "from": "Support <support@example.com>",
        "headers": {
            "Message-ID": f"<{key}@example.com>",
            "Reply-To": f"reply+{key}@example.com",
            "In-Reply-To": "<c1@example.org>",
            "References": "<c0@example.org> <c1@example.org>",
            "Auto-Submitted": "auto-replied",
            "X-Loop": "ticket-gateway",
            **headers,
        },
        "vars": sample_vars("ack"),
    }


AddRows = Callable[..., list[int]]


@pytest.fixture
def add_rows(runtime: Runtime) -> AddRows:
    """Insert ``n`` pending email rows (or ``channel``/``template``/``recipient`` rows); ids."""

    def add(
        n: int = 1, *, channel: str = "email", template: str = "ack", **fields: Any
    ) -> list[int]:
        items = []
        default = "carol@example.org" if channel == "email" else "+14155552671"
        recipient = fields.pop("recipient", default)
        with runtime.transaction() as session:
            for _ in range(n):
                key = uuid.uuid4().hex
                context = email_context(key) if channel == "email" else {"vars": {}}
                item = OutboxItem(
                    channel=channel,
                    recipient=recipient,
                    template=template,
                    context=context,
                    email_message_id=f"{key}@example.com" if channel == "email" else None,
                    idempotency_key=key,
                    **fields,
                )
                session.add(item)
                items.append(item)
            session.flush()
            return [i.id for i in items]

    return add


def row(runtime: Runtime, row_id: int) -> OutboxItem:
    with runtime.sessions() as session:
        return session.get_one(OutboxItem, row_id)


def statuses(runtime: Runtime) -> dict[str, int]:
    from sqlalchemy import func, select

    with runtime.sessions() as session:
        counted = session.execute(
            select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
        )
        return dict(counted.all())  # type: ignore[arg-type]


Workers = Callable[..., dramatiq.Broker]


@pytest.fixture
def workers(runtime: Runtime, worker_env: dict[str, str], namespace: str) -> Iterator[Workers]:
    """Start worker threads on Redis (``redis=False``: the in-process broker); stop at the end."""
    running: list[Any] = []

    def start(
        *, threads: int = 4, options: DeliveryOptions = FAST, redis: bool = True, **env: str
    ) -> dramatiq.Broker:
        settings = load_settings({**worker_env, **env})
        if not redis:
            settings = replace(settings, redis_url=None)
        broker = setup_broker(settings, options=options, runtime=runtime, namespace=namespace)
        running.append((broker, start_workers(broker, threads=threads)))
        return broker

    yield start
    for broker, handle in running:
        handle.stop()
        broker.close()


@dataclass(frozen=True, slots=True)
class Run:
    exit_code: int
    stdout: str
    stderr: str


Ticketgw = Callable[..., Run]


@pytest.fixture
def ticketgw(env: dict[str, str]) -> Ticketgw:
    """``ticketgw ARGS...`` in-process on the test database (no Redis: nothing enqueued)."""

    def run(*args: str, input: str | None = None, **extra_env: str) -> Run:
        result = CliRunner().invoke(cli, list(args), input=input, env={**env, **extra_env})
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Run(result.exit_code, result.stdout, result.stderr)

    return run
