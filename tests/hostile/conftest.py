"""Fixtures for the hostile-input regression suite: the real listener, the CLI, the
workers with their SMTP sink, as the other suites have them."""

from tests.cli.conftest import ticketgw
from tests.inbound.conftest import gateway, listener_env
from tests.workers.conftest import add_rows, namespace, sink, worker_env

__all__ = ["add_rows", "gateway", "listener_env", "namespace", "sink", "ticketgw", "worker_env"]
