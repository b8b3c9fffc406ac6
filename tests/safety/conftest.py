"""Fixtures for the safety promises: a running gateway with two agents, delivering into a sink."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live import Live, live_gateway

ANN = "ann@support.test"
BOB = "bob@support.test"
CUSTOMER = "carol@example.org"


@pytest.fixture
def live(env: dict[str, str]) -> Iterator[Live]:
    with live_gateway(env, {ANN: "Ann Agent", BOB: "Bob Builder"}) as running:
        yield running
