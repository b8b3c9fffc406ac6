"""The ``ticketgw`` fixtures of the CLI tests: reports are read through the command."""

from tests.cli.conftest import gw, ticketgw

__all__ = ["gw", "ticketgw"]
