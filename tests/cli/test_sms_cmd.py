"""``ticketgw sms send-test``: one SMS through the configured account, or one clear error."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Ticketgw, assert_fails, assert_ok
from tests.waiting import free_port
from workers.transports.twilio_standin import TwilioStandIn

NUMBER = "+14155552671"


@pytest.fixture
def configured(env: dict[str, str], twilio: TwilioStandIn) -> TwilioStandIn:
    env.update(twilio.settings_env("+15005550006"))
    env["TICKETGW_PUBLIC_URL"] = "https://help.example.com"
    return twilio


def test_send_test_sends_one_sms_and_prints_its_sid(
    ticketgw: Ticketgw, configured: TwilioStandIn
) -> None:
    out = assert_ok(ticketgw("sms", "send-test", "+1 (415) 555-2671"))
    [message] = configured.messages
    assert out.stdout == f"sent {message.sid} to {NUMBER} from +15005550006 (1 segment(s))\n"
    assert message.to == NUMBER
    assert message.body == "Test SMS from ticket-gateway: your Twilio settings work."
    assert message.status_callback == "https://help.example.com/twilio/status"

    record = assert_ok(ticketgw("sms", "send-test", NUMBER, "--text", "Привет", "--json")).json()
    assert record == {
        "sid": configured.messages[1].sid,
        "to": NUMBER,
        "from": "+15005550006",
        "segments": 1,
    }


def test_send_test_refuses_a_bad_number_before_calling_twilio(
    ticketgw: Ticketgw, configured: TwilioStandIn
) -> None:
    assert_fails(ticketgw("sms", "send-test", "12"), 2, "not a phone number: '12'")
    assert configured.requests == 0


def test_send_test_without_settings_names_them(ticketgw: Ticketgw) -> None:
    assert_fails(
        ticketgw("sms", "send-test", NUMBER),
        2,
        "SMS not configured: set TICKETGW_TWILIO_ACCOUNT_SID, TICKETGW_TWILIO_AUTH_TOKEN",
    )


@pytest.mark.parametrize(
    ("code", "exit_code", "message"),
    [
        (21610, 1, "Twilio 400 (error 21610): Attempt to send to unsubscribed recipient"),
        (21211, 2, f"Twilio 400 (error 21211): The 'To' number {NUMBER} is not a valid"),
        (20003, 1, "Twilio 401 (error 20003): Authenticate"),
    ],
)
def test_send_test_shows_twilio_refusals_in_one_line(
    ticketgw: Ticketgw, configured: TwilioStandIn, code: int, exit_code: int, message: str
) -> None:
    configured.fail_next(code=code)
    assert_fails(ticketgw("sms", "send-test", NUMBER), exit_code, message)


def test_send_test_says_when_twilio_is_unreachable(
    ticketgw: Ticketgw, env: dict[str, str], configured: TwilioStandIn
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    env["TICKETGW_TWILIO_API_BASE"] = nobody
    message = f"Twilio unreachable at {nobody}: Connection refused"
    assert_fails(ticketgw("sms", "send-test", NUMBER), 1, message)
