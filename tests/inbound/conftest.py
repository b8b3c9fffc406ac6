"""Fixtures for the inbound side: feed a mail through the pipeline, or run the listener."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from email.message import EmailMessage

import pytest

from gateway.config import load_settings
from gateway.inbound.process import Outcome, ingest_batch
from gateway.runtime import Runtime, open_runtime
from gateway.server import BackgroundGateway, Gateway

Ingest = Callable[..., Outcome]


@pytest.fixture
def ingest(runtime: Runtime) -> Ingest:
    """Store and process one mail (bytes or EmailMessage) in its own transaction."""

    def run(mail: bytes | EmailMessage, source: str = "test") -> Outcome:
        raw = mail if isinstance(mail, bytes) else mail.as_bytes()
        with runtime.transaction() as session:
            [outcome] = ingest_batch(session, runtime.settings, [(raw, source)])
        return outcome

    return run


@pytest.fixture
def listener_env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "TICKETGW_SMTP_LISTEN": "127.0.0.1:0", "TICKETGW_MAX_MESSAGE_BYTES": "200000"}


@pytest.fixture
def gateway(listener_env: dict[str, str]) -> Iterator[Gateway]:
    """The real SMTP listener and processor on a free loopback port."""
    runtime = open_runtime(load_settings(listener_env), migrate=True)
    with BackgroundGateway(runtime, sweep_seconds=0.5) as gw:
        yield gw
    runtime.close()
