"""Fixtures for the hostile-input regression suite: the real listener and the CLI."""

from tests.cli.conftest import ticketgw
from tests.inbound.conftest import gateway, listener_env

__all__ = ["gateway", "listener_env", "ticketgw"]
