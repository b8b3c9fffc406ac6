"""Fixtures for the inbound side: the real listener on a free port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from admin_cli.app import BackgroundGateway, Gateway
from gateway.config import load_settings
from gateway.runtime import open_runtime


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
