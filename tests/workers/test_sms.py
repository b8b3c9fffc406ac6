"""SMS delivery through real workers and the real Twilio client, into the local stand-in."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from aiosmtpd.controller import Controller
from sqlalchemy import update

from gateway import agents, tickets
from gateway.outbox.relay import relay_pending
from gateway.runtime import Runtime
from gateway.sms import optout
from gateway.sms.segments import measure
from gateway.template_vars import sample_vars
from gateway.tickets import NewMessage
from schema.models import ContactIdentity, OutboxItem
from schema.models.base import utcnow
from tests.cli.conftest import make_ticket
from tests.waiting import wait_until
from tests.workers.conftest import Ticketgw, Workers, row
from tests.workers.sink import Recorder
from workers.enqueue import to_broker
from workers.transports.base import OutgoingSms
from workers.transports.twilio import TwilioTransport
from workers.transports.twilio_standin import TwilioStandIn

NUMBER = "+14155552671"
SERVICE = "MG" + "0123456789abcdef" * 2


def _sms_row(
    runtime: Runtime,
    *,
    vars: dict[str, Any] | None = None,
    sender: str = "",
    to: str = NUMBER,
    ticket_id: int | None = None,
    due: datetime | None = None,
) -> int:
    with runtime.transaction() as session:
        item = OutboxItem(
            channel="sms",
            recipient=to,
            template="sms_agent_reply",
            context={"vars": vars or sample_vars("sms_agent_reply"), "from": sender},
            idempotency_key=uuid.uuid4().hex,
            ticket_id=ticket_id,
            next_attempt_at=due,
        )
        session.add(item)
        session.flush()
        return item.id


def _with_text(text: str) -> dict[str, Any]:
    values = sample_vars("sms_agent_reply")
    values["message"] = {**values["message"], "text": text}
    return values


def _status(runtime: Runtime, row_id: int, status: str) -> OutboxItem:
    wait_until(lambda: row(runtime, row_id).status == status, what=f"row {row_id} {status}")
    return row(runtime, row_id)


def test_an_sms_row_is_sent_and_its_sid_recorded(
    runtime: Runtime, workers: Workers, twilio: TwilioStandIn, ticketgw: Ticketgw
) -> None:
    row_id = _sms_row(runtime)
    env = twilio.settings_env("+15005550006")
    broker = workers(**env, TICKETGW_PUBLIC_URL="https://help.example.com/")
    relay_pending(runtime.sessions, to_broker(broker))
    sent = _status(runtime, row_id, "sent")

    [message] = twilio.messages
    assert sent.provider_id == message.sid
    assert message.sid.startswith("SM")
    assert sent.attempts == 1
    assert message.to == NUMBER
    assert message.from_ == "+15005550006"
    assert message.messaging_service_sid is None
    assert message.body.startswith("Hi Carol,")
    assert message.body.endswith("- Ann Agent, ticket T-000123")
    assert message.status_callback == "https://help.example.com/twilio/status"

    assert (sent.segments, sent.encoding) == (1, "GSM-7")
    # What the CLI shows is the SMS as it was sent, whatever the row would render to now.
    with runtime.transaction() as session:
        session.execute(
            update(OutboxItem).values(context={"vars": _with_text("Привет " * 100), "from": ""})
        )
    listed = ticketgw("outbox", "list", "--json", **env)
    assert listed.exit_code == 0
    [record] = json.loads(listed.stdout)
    assert (record["provider_id"], record["segments"], record["encoding"]) == (
        message.sid,
        1,
        "GSM-7",
    )
    table = ticketgw("outbox", "list", **env, COLUMNS="250").stdout
    assert message.sid in table


def test_the_row_sender_goes_first_and_a_service_sid_is_sent_as_such(
    runtime: Runtime, workers: Workers, twilio: TwilioStandIn
) -> None:
    by_service = _sms_row(runtime, sender=SERVICE)
    by_number = _sms_row(runtime, sender="+15005550001")
    relay_pending(runtime.sessions, to_broker(workers(**twilio.settings_env("+15005550006"))))
    _status(runtime, by_service, "sent")
    _status(runtime, by_number, "sent")

    messages = {m.sid: m for m in twilio.messages}
    service = messages[row(runtime, by_service).provider_id or ""]
    assert service.messaging_service_sid == SERVICE
    assert service.from_ is None
    assert "From" not in service.form
    assert messages[row(runtime, by_number).provider_id or ""].from_ == "+15005550001"
    # No TICKETGW_PUBLIC_URL: no callback URL Twilio could not reach.
    assert all(m.status_callback is None for m in twilio.messages)


@pytest.mark.parametrize("status", [429, 500])
def test_twilio_busy_is_retried_until_sent(
    runtime: Runtime, workers: Workers, twilio: TwilioStandIn, status: int
) -> None:
    twilio.fail_next(status=status, times=2)
    row_id = _sms_row(runtime)
    relay_pending(runtime.sessions, to_broker(workers(**twilio.settings_env())))
    sent = _status(runtime, row_id, "sent")
    assert sent.attempts == 3
    assert twilio.requests == 3
    assert len(twilio.messages) == 1
    assert sent.provider_id == twilio.messages[0].sid


def test_an_invalid_number_fails_at_once(
    runtime: Runtime, workers: Workers, twilio: TwilioStandIn
) -> None:
    row_id = _sms_row(runtime, to="+15005550001")
    twilio.refuse("+15005550001", 21211)
    relay_pending(runtime.sessions, to_broker(workers(**twilio.settings_env())))
    failed = _status(runtime, row_id, "failed")
    assert failed.attempts == 1
    assert twilio.requests == 1
    assert failed.last_error == (
        "Twilio 400 (error 21211): The 'To' number +15005550001 is not a valid phone number."
    )


def test_an_unsubscribed_recipient_fails_and_is_recorded_as_opted_out(
    runtime: Runtime, workers: Workers, twilio: TwilioStandIn
) -> None:
    reference = make_ticket(runtime, NUMBER, "SMS from +14155552671", text="Where is it?")
    with runtime.sessions() as session:
        ticket_id = tickets.get_ticket(session, reference).id
        [ack] = session.query(OutboxItem).filter_by(ticket_id=ticket_id).all()
    # Queued before Twilio refused, and waiting for a retry then.
    waiting = _sms_row(runtime, ticket_id=ticket_id, due=utcnow() + timedelta(hours=1))
    twilio.refuse(NUMBER, 21610)
    relay_pending(runtime.sessions, to_broker(workers(**twilio.settings_env())))
    refused = _status(runtime, ack.id, "failed")
    assert refused.attempts == 1
    assert "(error 21610): Attempt to send to unsubscribed recipient" in (refused.last_error or "")
    # The same opt-out as a STOP: recorded on the number, the SMS still waiting fail with it.
    other = _status(runtime, waiting, "failed")
    assert (other.last_error or "").startswith(f"not sent: {NUMBER} opted out of SMS on ")
    assert twilio.requests == 1
    with runtime.sessions() as session:
        identity = session.query(ContactIdentity).filter_by(kind="phone", value=NUMBER).one()
        assert identity.sms_opted_out_at is not None
        ticket = tickets.get_ticket(session, reference)
        notes = [m.visible_text for m in tickets.messages_of(session, ticket) if m.internal]
    assert notes == [
        f"SMS sms_ack not sent: Twilio says {NUMBER} opted out of SMS (error 21610); "
        "no SMS goes to them until they text START."
    ]


def test_a_row_claimed_before_the_opt_out_is_not_sent(
    runtime: Runtime, workers: Workers, twilio: TwilioStandIn
) -> None:
    row_id = _sms_row(runtime)  # queued while SMS were still allowed
    with runtime.transaction() as session:
        optout.opt_out(session, NUMBER)
        session.execute(update(OutboxItem).values(status="pending", last_error=None))
    relay_pending(runtime.sessions, to_broker(workers(**twilio.settings_env())))
    failed = _status(runtime, row_id, "failed")
    assert (failed.last_error or "").startswith(f"not sent: {NUMBER} opted out of SMS on ")
    assert twilio.requests == 0


SIGNATURE = "\n- Ann Agent, ticket T-000123"  # what sms_agent_reply adds: 29 characters


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("Your parcel is on its way. {Ref: 5521}", "GSM-7", 38 + 2 + 29, 1),
        # 93 characters: one GSM-7 segment, but two in UCS-2 (70, then 67 a part).
        ("Ваша посылка уже в пути, номер отслеживания придёт завтра утром.", "UCS-2", 93, 2),
        # 69 characters, but each emoji is a surrogate pair: 109 UTF-16 units.
        ("🎉" * 40, "UCS-2", 109, 2),
    ],
    ids=["gsm-with-extension", "cyrillic", "emoji"],
)
def test_non_gsm_text_is_counted_in_ucs2_segments(
    runtime: Runtime,
    workers: Workers,
    twilio: TwilioStandIn,
    ticketgw: Ticketgw,
    text: str,
    encoding: str,
    units: int,
    segments: int,
) -> None:
    row_id = _sms_row(runtime, vars=_with_text(text))
    relay_pending(runtime.sessions, to_broker(workers(**twilio.settings_env())))
    sent = _status(runtime, row_id, "sent")
    [message] = twilio.messages
    assert message.body == text + SIGNATURE
    assert (measure(message.body).encoding, measure(message.body).units) == (encoding, units)
    assert message.num_segments == segments
    assert (sent.segments, sent.encoding) == (segments, encoding)
    shown = ticketgw("outbox", "show", str(row_id), **twilio.settings_env())
    assert shown.exit_code == 0
    assert f"segments: {segments} (" in shown.stdout
    assert encoding in shown.stdout
    assert f"provider_id: {message.sid}" in shown.stdout


def test_curly_quotes_from_a_mail_client_do_not_make_an_sms_ucs2(
    runtime: Runtime, workers: Workers, twilio: TwilioStandIn
) -> None:
    typed = "It\u2019s on its way \u2013 \u201cexpress\u201d\u2026 " * 3
    row_id = _sms_row(runtime, vars=_with_text(typed.strip()))
    relay_pending(runtime.sessions, to_broker(workers(**twilio.settings_env())))
    _status(runtime, row_id, "sent")
    [message] = twilio.messages
    assert message.body.startswith("It's on its way - \"express\"... It's")
    assert measure(message.body).encoding == "GSM-7"
    assert message.num_segments == 1


def _agent_replies(runtime: Runtime, text: str, *, email: str | None) -> str:
    """An SMS ticket whose customer has ``email`` too, and Ann's reply to it; its reference."""
    reference = make_ticket(runtime, NUMBER, "SMS from +14155552671", text="Where is it?")
    with runtime.transaction() as session:
        ann = agents.add_agent(session, "ann@example.com", "Ann Agent")
        ticket = tickets.get_ticket(session, reference)
        if email:
            ticket.contact.identities.append(ContactIdentity(kind="email", value=email))
        tickets.add_message(
            session,
            ticket,
            NewMessage(
                author_kind="agent",
                channel="email",
                visible_text=text,
                sender=ann.email,
                agent=ann,
            ),
        )
    return reference


LONG_REPLY = " ".join(
    f"Step {n}: open the app, go to Orders, pick order 5521 and check the tracking page."
    for n in range(1, 12)
)


def test_a_long_reply_is_cut_to_fit_and_the_rest_follows_by_email(
    runtime: Runtime,
    workers: Workers,
    twilio: TwilioStandIn,
    sink: tuple[Recorder, Controller],
) -> None:
    reference = _agent_replies(runtime, LONG_REPLY, email="carol@example.org")
    relay_pending(runtime.sessions, to_broker(workers(**twilio.settings_env())))
    [sms] = twilio.wait_for(2)[1:]  # the acknowledgement came first

    assert measure(sms.body).segments <= 4 < measure(LONG_REPLY).segments
    assert sms.num_segments == measure(sms.body).segments
    kept = sms.body.split("... (the rest follows by email)")[0]
    assert LONG_REPLY.startswith(kept)
    assert LONG_REPLY[len(kept)] == " "
    assert sms.body.endswith(f"- Ann Agent, ticket {reference}")

    recorder = sink[0]
    wait_until(lambda: len(recorder.messages) == 2, what="the mails that follow the SMS")
    to = {str(m["To"]): m for m in recorder.messages}
    whole = to["carol@example.org"]
    assert reference in str(whole["Subject"])
    assert LONG_REPLY in " ".join(whole.get_body(("plain",)).get_content().split())
    notice = next(m for m in recorder.messages if "shortened" in str(m["Subject"]))
    body = notice.get_body(("plain",)).get_content()
    assert str(notice["To"]) == "ann@example.com"
    assert f"{NUMBER} got the first {measure(sms.body).segments} segment(s)" in body
    assert "The whole reply also went by email to carol@example.org." in body


def test_a_long_reply_to_a_customer_without_email_says_so(
    runtime: Runtime,
    workers: Workers,
    twilio: TwilioStandIn,
    sink: tuple[Recorder, Controller],
) -> None:
    _agent_replies(runtime, LONG_REPLY, email=None)
    relay_pending(runtime.sessions, to_broker(workers(**twilio.settings_env())))
    [sms] = twilio.wait_for(2)[1:]
    assert "... (shortened for SMS)" in sms.body
    assert measure(sms.body).segments <= 4

    recorder = sink[0]
    wait_until(lambda: recorder.messages, what="the agent's notice")
    [notice] = [m for m in recorder.messages if "shortened" in str(m["Subject"])]
    assert "the rest did not reach them" in notice.get_body(("plain",)).get_content()
    assert all("carol" not in str(m["To"]) for m in recorder.messages)


def test_the_cap_is_a_setting(runtime: Runtime, workers: Workers, twilio: TwilioStandIn) -> None:
    row_id = _sms_row(runtime, vars=_with_text(LONG_REPLY))
    env = {**twilio.settings_env(), "TICKETGW_SMS_MAX_SEGMENTS": "2"}
    relay_pending(runtime.sessions, to_broker(workers(**env)))
    _status(runtime, row_id, "sent")
    [message] = twilio.messages
    assert message.num_segments == 2
    assert message.body.count("... (shortened for SMS)") == 1


def test_mms_media_is_fetched_by_twilio_and_served_back(twilio: TwilioStandIn) -> None:
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    hosted = twilio.add_media(picture, "image/png")
    auth = (twilio.account_sid, twilio.auth_token)
    fetched = requests.get(hosted, auth=auth, timeout=10)
    assert fetched.status_code == 200
    assert fetched.headers["Content-Type"] == "image/png"
    assert fetched.content == picture
    assert requests.get(hosted, auth=(twilio.account_sid, "wrong"), timeout=10).status_code == 401

    transport = TwilioTransport(twilio.account_sid, twilio.auth_token, twilio.base_url, 10)
    sid = transport.send(OutgoingSms(NUMBER, "+15005550006", "The label", media_urls=(hosted,)))
    [message] = twilio.messages
    assert sid.startswith("MM")
    assert message.media_urls == [hosted]
    resource = requests.get(f"{twilio.base_url}{message.resource()['uri']}", auth=auth, timeout=10)
    assert resource.json()["num_media"] == "1"
    [media] = message.media
    messages = f"{twilio.base_url}/2010-04-01/Accounts/{twilio.account_sid}/Messages"
    served = requests.get(f"{messages}/{sid}/Media/{media.sid}", auth=auth, timeout=10)
    assert served.content == picture
    assert served.headers["Content-Type"] == "image/png"
