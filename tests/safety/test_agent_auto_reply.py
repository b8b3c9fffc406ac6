"""An agent's auto-responder is never relayed to the customer as the agent's answer, even
without automatic-mail headers, and never stops the first-response clock; the agent is told,
once per ticket, so a responder answering our notice cannot start a loop."""

from __future__ import annotations

import json
from email.message import EmailMessage

from click.testing import CliRunner

from admin_cli.main import cli
from tests.inbound.mails import new_request
from tests.live import Live, mails_to, received, send, settled, text_of
from tests.safety.conftest import ANN, CUSTOMER

HELD = "not sent to the customer"


def responder(to_mail: EmailMessage, body: str, subject: str | None = None) -> EmailMessage:
    """What a home-made vacation script sends: no Auto-Submitted, no Precedence, no quote."""
    mail = EmailMessage()
    mail["From"] = f"Ann Agent <{ANN}>"
    mail["To"] = str(to_mail["Reply-To"])
    mail["Subject"] = subject or f"Re: {to_mail['Subject']}"
    mail["In-Reply-To"] = str(to_mail["Message-ID"])
    mail.set_content(body)
    return mail


def open_ticket(live: Live) -> EmailMessage:
    send(
        live.gateway,
        new_request(sender=CUSTOMER, name="Carol Jones", subject="Login fails", body="Help!"),
    )
    received(live.sink, CUSTOMER, "Login fails")
    return received(live.sink, ANN, "New ticket")


def ticket(env: dict[str, str]) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["tickets", "show", "T-000001", "--json"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def assert_not_relayed(live: Live, env: dict[str, str], words: str) -> EmailMessage:
    """Only the acknowledgement reached the customer; the clock runs; the agent was told."""
    told = received(live.sink, ANN, HELD)
    settled(live)
    assert [str(m["Subject"]) for m in mails_to(live.sink, CUSTOMER)] == [
        "[T-000001] We received your request: Login fails"
    ]
    record = ticket(env)
    assert record["first_responded_at"] is None
    assert record["status"] == "new"
    messages = record["messages"]
    assert isinstance(messages, list)
    [kept] = [m for m in messages if words in m["visible_text"]]
    assert kept["internal"] is True
    assert kept["held_reason"]
    return told


def test_an_out_of_office_body_without_headers_is_not_relayed(
    live: Live, env: dict[str, str]
) -> None:
    notice = open_ticket(live)
    body = (
        "Thank you for your message. I am currently out of the office with no access to "
        "e-mail and will be back on 14 December. For urgent matters please write to "
        "support@example.com."
    )
    send(live.gateway, responder(notice, body))
    told = assert_not_relayed(live, env, "currently out of the office")
    assert "automatic" in str(told["Subject"])
    assert "out of the office" in text_of(told)


def test_a_german_absence_note_without_headers_is_not_relayed(
    live: Live, env: dict[str, str]
) -> None:
    notice = open_ticket(live)
    body = "Guten Tag,\n\nich bin bis zum 14.12. nicht im Büro. In dringenden Fällen ..."
    send(live.gateway, responder(notice, body))
    assert_not_relayed(live, env, "nicht im Büro")


def test_a_vacation_subject_from_an_agent_is_not_relayed_and_the_agent_is_told(
    live: Live, env: dict[str, str]
) -> None:
    notice = open_ticket(live)
    subject = f"Out of Office: {notice['Subject']}"
    send(live.gateway, responder(notice, "Back on Monday.", subject=subject))
    assert_not_relayed(live, env, "Back on Monday.")


def test_an_echo_with_no_words_of_its_own_is_not_relayed(live: Live, env: dict[str, str]) -> None:
    notice = open_ticket(live)
    quoted = "\n".join("> " + line for line in text_of(notice).splitlines())
    echo = responder(notice, f"On Mon, Mar 2, 2026 at 10:00 AM {notice['From']} wrote:\n{quoted}")
    send(live.gateway, echo)
    told = assert_not_relayed(live, env, "New ticket T-000001 from Carol Jones")
    assert "no words of its own" in str(told["Subject"])


def test_the_responder_answering_our_notice_gets_no_second_one(
    live: Live, env: dict[str, str]
) -> None:
    notice = open_ticket(live)
    body = "I am out of the office until Monday and will answer on my return."
    send(live.gateway, responder(notice, body))
    told = received(live.sink, ANN, HELD)
    send(live.gateway, responder(told, body))
    settled(live)
    assert len([m for m in mails_to(live.sink, ANN) if HELD in str(m["Subject"])]) == 1
    messages = ticket(env)["messages"]
    assert isinstance(messages, list)
    assert len([m for m in messages if "out of the office" in m["visible_text"]]) == 2


def test_an_agent_mentioning_a_vacation_in_an_answer_is_relayed(live: Live) -> None:
    notice = open_ticket(live)
    words = (
        "Hello Carol, I reset your password; try again now. I am out of the office from "
        "tomorrow, so my colleague Bob will follow up if it still fails."
    )
    send(live.gateway, responder(notice, words))
    relayed = received(live.sink, CUSTOMER, "Login fails", saying="I reset your password")
    assert "my colleague Bob" in text_of(relayed)
