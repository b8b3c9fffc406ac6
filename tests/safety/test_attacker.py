"""What docs/security.md promises about an attacker, through the real listener and workers."""

from __future__ import annotations

from email.message import EmailMessage

from tests.inbound.mails import new_request
from tests.live import Live, live_gateway, mails_to, received, send, settled, text_of
from tests.safety.conftest import ANN, BOB, CUSTOMER

ATTACKER = "mallory@elsewhere.example"
MX = "mx.support.test"


def open_ticket(live: Live) -> EmailMessage:
    """Carol's ticket T-000001; Bob's notification of it (whose Reply-To may leak)."""
    send(
        live.gateway,
        new_request(sender=CUSTOMER, name="Carol Jones", subject="Invoice 4711", body="Wrong."),
    )
    received(live.sink, CUSTOMER, "Invoice 4711")
    return received(live.sink, BOB, "New ticket")


def forged_agent_reply(notice: EmailMessage, *auth_results: str) -> EmailMessage:
    """A mail to Bob's leaked reply-token address, From forged as Bob."""
    mail = EmailMessage()
    for value in auth_results:  # the first is the topmost, as the MTA in front prepends
        mail["Authentication-Results"] = value
    mail["From"] = f"Bob Builder <{BOB}>"
    mail["To"] = str(notice["Reply-To"])
    mail["Subject"] = f"Re: {notice['Subject']}"
    mail.set_content("Please pay the invoice to IBAN XX00 ATTACKER instead.")
    return mail


def test_a_ticket_number_in_the_subject_gives_a_stranger_nothing(live: Live) -> None:
    open_ticket(live)
    send(
        live.gateway,
        new_request(sender=ATTACKER, subject="Re: [T-000001] Invoice 4711", body="Mine now."),
    )
    ack = received(live.sink, ATTACKER, "T-000002")
    settled(live)
    assert "Wrong." not in text_of(ack)
    assert [m["Subject"] for m in mails_to(live.sink, ATTACKER)] == [ack["Subject"]]
    assert not [m for m in mails_to(live.sink, CUSTOMER) if "Mine now" in text_of(m)]


def test_a_leaked_agent_token_with_a_forged_from_acts_without_trusted_results(
    live: Live,
) -> None:
    """The risk TICKETGW_TRUSTED_AUTHSERV_IDS closes: unset, From is all there is to check."""
    notice = open_ticket(live)
    send(live.gateway, forged_agent_reply(notice))
    relayed = received(live.sink, CUSTOMER, "Invoice 4711", saying="IBAN")
    assert "ATTACKER" in text_of(relayed)


def test_trusted_authentication_results_stop_a_leaked_agent_token(env: dict[str, str]) -> None:
    with live_gateway(
        {**env, "TICKETGW_TRUSTED_AUTHSERV_IDS": MX}, {ANN: "Ann Agent", BOB: "Bob Builder"}
    ) as live:
        notice = open_ticket(live)
        # The attacker's own "pass" sits below the header the MTA in front prepended.
        send(
            live.gateway,
            forged_agent_reply(
                notice,
                f"{MX}; dmarc=fail header.from=support.test; dkim=none",
                f"{MX}; dkim=pass header.d=support.test; dmarc=pass",
            ),
        )
        warning = received(live.sink, ANN, "not a participant")
        assert "IBAN" in text_of(warning)
        settled(live)
        assert not [m for m in mails_to(live.sink, CUSTOMER) if "IBAN" in text_of(m)]
