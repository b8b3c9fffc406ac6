"""The SMS channel's fixtures (live gateway) and the CLI's, for the survey's tests."""

from tests.cli.conftest import gw, ticketgw
from tests.sms.conftest import sms_env, sms_gateway, sms_runtime

__all__ = ["gw", "sms_env", "sms_gateway", "sms_runtime", "ticketgw"]
