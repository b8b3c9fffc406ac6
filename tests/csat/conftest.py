"""The SMS channel's fixtures (live gateway, signed clients) for the survey's tests."""

from tests.sms.conftest import sms_env, sms_gateway, sms_runtime

__all__ = ["sms_env", "sms_gateway", "sms_runtime"]
