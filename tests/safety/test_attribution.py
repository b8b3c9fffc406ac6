"""Every message is shown with its own sender: a stranger who threads in by naming the
customer's Message-ID is marked as not a participant, in the agents' notification and in
``tickets show``, and is not taken for the customer answering (the SLA clock stays put)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from admin_cli.main import cli
from tests.inbound.mails import new_request
from tests.live import Live, answer, html_of, mails_to, received, send, settled, text_of
from tests.safety.conftest import ANN, CUSTOMER

STRANGER = "mallory@elsewhere.example"


def tickets_show(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(cli, ["tickets", "show", "T-000001", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_stranger_threading_in_is_shown_as_themself(live: Live, env: dict[str, str]) -> None:
    original = new_request(
        sender=CUSTOMER, name="Carol Jones", subject="Printer jams", body="Paper jams at once."
    )
    send(live.gateway, original)
    ack = received(live.sink, CUSTOMER, "Printer jams")
    ann_new = received(live.sink, ANN, "New ticket")
    # Ann asks a question and waits on the customer: the clock stops.
    send(live.gateway, answer(ann_new, f"Ann Agent <{ANN}>", "#pending\nWhich paper do you use?"))
    received(live.sink, CUSTOMER, "Printer jams", saying="Which paper")
    settled(live)
    assert json.loads(tickets_show(env, "--json"))["status"] == "pending"

    intrusion = new_request(
        sender=STRANGER,
        name="Mallory Stranger",
        subject="Re: Printer jams",
        body="Please send the replacement printer to my address instead.",
        In_Reply_To=str(original["Message-ID"]),
        References=str(original["Message-ID"]),
    )
    send(live.gateway, intrusion)
    notice = received(live.sink, ANN, "Mallory Stranger")
    subject, text, page = str(notice["Subject"]), text_of(notice), html_of(notice)
    assert "Carol Jones" not in subject, subject
    assert "not a participant" in subject
    assert "Carol Jones wrote" not in text
    assert "Carol Jones replied" not in text
    assert f"Mallory Stranger <{STRANGER}>" in text
    assert "not a participant" in text
    assert "not a participant" in page
    assert "Please send the replacement printer" in text

    settled(live)
    assert mails_to(live.sink, STRANGER) == [], "nothing of the ticket goes to a stranger"
    record = json.loads(tickets_show(env, "--json"))
    [theirs] = [m for m in record["messages"] if m["author"] == STRANGER]
    assert theirs["participant"] is False
    assert theirs["author_kind"] == "customer"
    assert all(m["participant"] for m in record["messages"] if m["author"] != STRANGER)
    assert record["status"] == "pending", "a stranger is not the customer answering"
    assert record["contact"]["email"] == CUSTOMER
    table = tickets_show(env)
    assert f"{STRANGER} via email (not a participant of this ticket)" in table

    # The customer's own answer still counts: the ticket reopens.
    send(live.gateway, answer(ack, f"Carol Jones <{CUSTOMER}>", "Plain A4, 80 g."))
    notice = received(live.sink, ANN, "New reply from Carol Jones")
    assert "not a participant" not in text_of(notice)
    settled(live)
    assert json.loads(tickets_show(env, "--json"))["status"] == "open"
